//! A kube client for a configured host, built in one place.

use std::time::Duration;

use kube::Client;
use kube::config::KubeConfigOptions;

use super::{PROBE_TIMEOUT, ProbeFailure};
use crate::config::{HostCredentials, HostSpec};

pub(crate) fn server_url(host: &HostSpec) -> Option<String> {
    match &host.credentials {
        HostCredentials::InCluster => Some("in-cluster".into()),
        HostCredentials::Kubeconfig {
            context,
            kubeconfig,
            ..
        } => {
            let ctx_name = context
                .as_deref()
                .or(kubeconfig.current_context.as_deref())?;
            let ctx = kubeconfig.contexts.iter().find(|c| c.name == ctx_name)?;
            let cluster_name = &ctx.context.as_ref()?.cluster;
            let cluster = kubeconfig
                .clusters
                .iter()
                .find(|c| &c.name == cluster_name)?;
            cluster.cluster.as_ref()?.server.clone()
        }
    }
}

/// A client for `host`. `read_timeout` is the probe's for probes, and `None` for clients that
/// hold watches open and keep kube's default (a watch reads nothing for minutes when nothing
/// changes).
pub(crate) async fn client_for(
    host: &HostSpec,
    read_timeout: Option<Duration>,
) -> Result<Client, ProbeFailure> {
    let mut config = match &host.credentials {
        HostCredentials::InCluster => kube::Config::incluster()
            .map_err(|e| ProbeFailure::Client(format!("not running in a cluster: {e}")))?,
        HostCredentials::Kubeconfig {
            context,
            kubeconfig,
            ..
        } => {
            let options = KubeConfigOptions {
                context: context.clone(),
                ..Default::default()
            };
            kube::Config::from_custom_kubeconfig((**kubeconfig).clone(), &options)
                .await
                .map_err(|e| ProbeFailure::Client(e.to_string()))?
        }
    };
    config.connect_timeout = Some(PROBE_TIMEOUT);
    if read_timeout.is_some() {
        config.read_timeout = read_timeout;
    }
    Client::try_from(config).map_err(|e| ProbeFailure::Client(e.to_string()))
}

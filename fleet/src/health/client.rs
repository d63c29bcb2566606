//! A kube client for a configured host, built in one place.

use std::sync::Arc;

use kube::Client;
use kube::config::KubeConfigOptions;

use super::{PROBE_TIMEOUT, ProbeFailure};
use crate::config::{ConsoleConfig, HostCredentials, HostSpec};

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

/// The client for `host`: every call but a watch bounded by [`PROBE_TIMEOUT`]
/// ([`super::deadline`]), so the probe, the IAM watches and cluster writes can share it.
pub(crate) async fn client_for(host: &HostSpec) -> Result<Client, ProbeFailure> {
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
    let builder = kube::client::ClientBuilder::try_from(config)
        .map_err(|e| ProbeFailure::Client(e.to_string()))?;
    Ok(builder
        .with_layer(&super::deadline::CallDeadline(PROBE_TIMEOUT))
        .build())
}

/// One client per configured host, in configuration order, built once: the probe, the IAM
/// watches and cluster writes of a host share its connections.
#[derive(Clone, Default)]
pub struct HostClients(Arc<Vec<(String, Result<Client, ProbeFailure>)>>);

impl HostClients {
    pub async fn connect(config: &ConsoleConfig) -> Self {
        let mut clients = Vec::with_capacity(config.hosts.len());
        for host in &config.hosts {
            clients.push((host.name.clone(), client_for(host).await));
        }
        Self(Arc::new(clients))
    }

    /// Each host's name and client, or why none could be built.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Result<Client, ProbeFailure>)> {
        self.0.iter().map(|(name, client)| (name.as_str(), client))
    }
}

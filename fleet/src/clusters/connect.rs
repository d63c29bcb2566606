//! Reaching a candidate member with the kubeconfig the person gave, and explaining failures.

use std::sync::Arc;
use std::time::Duration;

use kube::Client;
use kube::config::KubeConfigOptions;

use super::address_policy::MemberAddressPolicy;
use crate::clusters::kubeconfig::CheckedKubeconfig;
use crate::health::ProbeFailure;

/// Longest wait for one answer from a candidate member.
pub const MEMBER_TIMEOUT: Duration = Duration::from_secs(4);

/// A client for the checked kubeconfig's context, with [`MEMBER_TIMEOUT`] on connect and
/// read, that connects only where `policy` allows (the kubeconfig's address is checked here,
/// every address it resolves to at connect time). `insecure-skip-tls-verify: true` gives a
/// client that does not verify the server, never an error.
pub async fn member_client(
    checked: &CheckedKubeconfig,
    policy: &Arc<MemberAddressPolicy>,
) -> Result<Client, ProbeFailure> {
    policy
        .check_server(&checked.server)
        .map_err(ProbeFailure::AddressRefused)?;
    let options = KubeConfigOptions {
        context: Some(checked.context.clone()),
        ..Default::default()
    };
    let mut config = kube::Config::from_custom_kubeconfig(checked.kubeconfig().clone(), &options)
        .await
        .map_err(|e| ProbeFailure::Client(e.to_string()))?;
    config.connect_timeout = Some(MEMBER_TIMEOUT);
    config.read_timeout = Some(MEMBER_TIMEOUT);
    config.write_timeout = Some(MEMBER_TIMEOUT);
    super::guarded_connect::member_client_with_policy(config, policy.clone())
        .map_err(|e| ProbeFailure::Client(e.to_string()))
}

/// A kube error, as a [`ProbeFailure`] for the messages above.
pub fn explain(err: &kube::Error) -> ProbeFailure {
    crate::health::classify(err)
}

//! Reaching a candidate member with the kubeconfig the person gave, and explaining failures.

use std::sync::Arc;
use std::time::Duration;

use kube::Client;
use kube::config::KubeConfigOptions;

use super::address_policy::MemberAddressPolicy;
use crate::health::ProbeFailure;
use crate::kubeconfig_check::CheckedKubeconfig;

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

/// What to do about a failed connection.
pub fn connection_fix(failure: &ProbeFailure, server: &str) -> String {
    match failure {
        ProbeFailure::Timeout(_) => format!(
            "nothing answered at {server}: check that this console's network reaches that address (same network, VPN or a public address) and that no firewall drops the port"
        ),
        ProbeFailure::Refused => format!(
            "the machine at {server} refused the connection: check the address and port, and that kube-apiserver is running"
        ),
        ProbeFailure::UnknownCa => "the kubeconfig's certificate-authority-data is not the CA that signed the API server's certificate: export the kubeconfig again from the cluster (`kubectl config view --raw --minify --flatten`)".into(),
        ProbeFailure::CertificateExpired => "the API server's serving certificate has expired: renew it on the cluster (`kubeadm certs renew apiserver` on kubeadm clusters)".into(),
        ProbeFailure::HostnameMismatch => format!(
            "the API server's certificate does not name {server}: use an address listed in its SANs, or add this one to the certificate (kubeadm: `apiServer.certSANs`)"
        ),
        ProbeFailure::Tls(_) => "the TLS handshake failed: check that the address is the API server's HTTPS port".into(),
        ProbeFailure::Unauthorized => "the API server rejected the credentials (401): the token or certificate is wrong, expired or revoked; create a new one (`kubectl create token`) or export the kubeconfig again".into(),
        ProbeFailure::Forbidden => "the credentials were accepted but may not read the cluster (403): use an identity bound to cluster-admin".into(),
        ProbeFailure::Client(_) => "the kubeconfig cannot be turned into a client: export it again with `kubectl config view --raw --minify --flatten`".into(),
        ProbeFailure::Other(_) => format!("check that {server} is a Kubernetes API server"),
        ProbeFailure::AddressRefused(refusal) => refusal.fix(),
    }
}

/// A kube error, as a [`ProbeFailure`] for the messages above.
pub fn explain(err: &kube::Error) -> ProbeFailure {
    crate::health::classify(err)
}

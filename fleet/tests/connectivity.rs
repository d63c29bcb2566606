//! The add-cluster wizard's connectivity step tells each failure apart, against sandbox
//! clusters broken in each way a real one can be.

use fleet::health::probe_kubeconfig;
use fleet::kubeconfig_check::check_kubeconfig;
use fleet::{HostState, ProbeFailure};
use sandbox::{SandboxCluster, ServingCertificate};

async fn probe_yaml(yaml: &str) -> HostState {
    probe_kubeconfig(&check_kubeconfig(yaml, None).unwrap()).await
}

fn failure(state: HostState) -> ProbeFailure {
    match state {
        HostState::Unreachable(f) => f,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test]
async fn each_connectivity_failure_has_its_own_reason() {
    let good = SandboxCluster::start("good").await.unwrap();
    assert!(matches!(
        probe_yaml(&good.kubeconfig_yaml()).await,
        HostState::Reachable { .. }
    ));

    let expired = SandboxCluster::start_with_certificate("expired", ServingCertificate::Expired)
        .await
        .unwrap();
    assert_eq!(
        failure(probe_yaml(&expired.kubeconfig_yaml()).await),
        ProbeFailure::CertificateExpired
    );

    let wrong_host = SandboxCluster::start_with_certificate("wrong", ServingCertificate::WrongHost)
        .await
        .unwrap();
    assert_eq!(
        failure(probe_yaml(&wrong_host.kubeconfig_yaml()).await),
        ProbeFailure::HostnameMismatch
    );

    // Another cluster's CA for this server.
    let other = SandboxCluster::start("other").await.unwrap();
    let crossed = other
        .kubeconfig_yaml()
        .replace(&other.server_url(), &good.server_url());
    assert_eq!(failure(probe_yaml(&crossed).await), ProbeFailure::UnknownCa);

    let token_line = good
        .kubeconfig_yaml()
        .lines()
        .find(|l| l.contains("token:"))
        .unwrap()
        .to_string();
    let forged = good
        .kubeconfig_yaml()
        .replace(&token_line, "    token: forged");
    assert_eq!(
        failure(probe_yaml(&forged).await),
        ProbeFailure::Unauthorized
    );

    let gone = SandboxCluster::start("gone").await.unwrap();
    let gone_yaml = gone.kubeconfig_yaml();
    drop(gone);
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert_eq!(failure(probe_yaml(&gone_yaml).await), ProbeFailure::Refused);
}

#[tokio::test]
async fn insecure_skip_tls_verify_connects_without_crashing() {
    // KubeSphere's join crashed on such kubeconfigs; ours must simply connect.
    let expired = SandboxCluster::start_with_certificate("expired", ServingCertificate::Expired)
        .await
        .unwrap();
    let yaml = expired.kubeconfig_yaml();
    let ca_line = yaml
        .lines()
        .find(|l| l.contains("certificate-authority-data"))
        .unwrap()
        .to_string();
    let insecure = yaml.replace(&ca_line, "    insecure-skip-tls-verify: true");
    let checked = check_kubeconfig(&insecure, None).unwrap();
    assert!(checked.insecure_skip_tls_verify);
    assert!(matches!(
        probe_kubeconfig(&checked).await,
        HostState::Reachable { .. }
    ));
}

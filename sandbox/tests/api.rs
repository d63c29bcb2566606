//! The sandbox answers kube-rs exactly as a real API server would for what it serves.

mod common;

use common::{client_with, with_token};
use sandbox::SandboxCluster;

#[tokio::test]
async fn kube_client_reads_version_over_tls_with_the_written_kubeconfig() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = SandboxCluster::start("host").await.unwrap();
    let path = cluster.write_kubeconfig(dir.path()).unwrap();
    assert_eq!(path, dir.path().join("host.kubeconfig"));
    let client = client_with(&std::fs::read_to_string(&path).unwrap()).await;
    let info = client.apiserver_version().await.unwrap();
    assert_eq!(info.git_version, sandbox::GIT_VERSION);
    assert_eq!(info.major, "1");
}

#[cfg(unix)]
#[tokio::test]
async fn kubeconfig_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let cluster = SandboxCluster::start("member").await.unwrap();
    let path = cluster.write_kubeconfig(dir.path()).unwrap();
    let mode = std::fs::metadata(path).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "kubeconfig readable by others: {mode:o}");
}

#[tokio::test]
async fn wrong_token_gets_401_status() {
    let cluster = SandboxCluster::start("host").await.unwrap();
    let yaml = cluster.kubeconfig_yaml();
    let forged = with_token(&yaml, "not-the-token");
    let client = client_with(&forged).await;
    match client.apiserver_version().await.unwrap_err() {
        kube::Error::Api(status) => assert_eq!(status.code, 401),
        other => panic!("expected a 401 Status, got {other:?}"),
    }
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_ca_is_refused() {
    let a = SandboxCluster::start("a").await.unwrap();
    let b = SandboxCluster::start("b").await.unwrap();
    // b's CA and token, pointed at a's address: the TLS handshake must fail.
    let crossed = b
        .kubeconfig_yaml()
        .replace(&b.server_url(), &a.server_url());
    let client = client_with(&crossed).await;
    let err = client.apiserver_version().await.unwrap_err();
    assert!(!matches!(err, kube::Error::Api(_)), "{err:?}");
}

#[tokio::test]
async fn a_service_account_token_secret_gets_a_working_token() {
    use k8s_openapi::api::core::v1::{Namespace, Secret, ServiceAccount};
    use kube::api::{Api, ListParams, PostParams};

    let cluster = SandboxCluster::start("member").await.unwrap();
    let admin = client_with(&cluster.kubeconfig_yaml()).await;
    let sa: ServiceAccount =
        serde_json::from_value(serde_json::json!({"metadata": {"name": "host-kubesphere"}}))
            .unwrap();
    Api::<ServiceAccount>::namespaced(admin.clone(), "kube-system")
        .create(&PostParams::default(), &sa)
        .await
        .unwrap();
    let secret: Secret = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "host-kubesphere-token", "annotations": {"kubernetes.io/service-account.name": "host-kubesphere"}},
        "type": "kubernetes.io/service-account-token"
    }))
    .unwrap();
    let secrets: Api<Secret> = Api::namespaced(admin, "kube-system");
    let created = secrets
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    let data = created.data.unwrap();
    let token = String::from_utf8(data["token"].0.clone()).unwrap();
    assert!(data.contains_key("ca.crt"));
    assert_eq!(data["namespace"].0, b"kube-system");

    let as_sa = client_with(&with_token(&cluster.kubeconfig_yaml(), &token)).await;
    let namespaces = Api::<Namespace>::all(as_sa.clone())
        .list(&ListParams::default())
        .await
        .unwrap();
    assert!(!namespaces.items.is_empty());

    // Deleting the secret revokes the token.
    secrets
        .delete("host-kubesphere-token", &Default::default())
        .await
        .unwrap();
    let err = Api::<Namespace>::all(as_sa)
        .list(&ListParams::default())
        .await
        .unwrap_err();
    assert!(matches!(err, kube::Error::Api(s) if s.code == 401));
}

#[tokio::test]
async fn broken_serving_certificates_fail_the_handshake_with_the_reason() {
    use sandbox::ServingCertificate;
    for (shape, reason) in [
        (ServingCertificate::Expired, "certificate expired"),
        (ServingCertificate::WrongHost, "not valid for name"),
    ] {
        let cluster = SandboxCluster::start_with_certificate("broken", shape)
            .await
            .unwrap();
        let client = client_with(&cluster.kubeconfig_yaml()).await;
        let err = client.apiserver_version().await.unwrap_err();
        let mut chain = String::new();
        let mut current: Option<&dyn std::error::Error> = Some(&err);
        while let Some(e) = current {
            chain.push_str(&format!("{e}: "));
            current = e.source();
        }
        assert!(
            chain.to_lowercase().contains(reason),
            "{shape:?}: expected {reason} in {chain}"
        );
    }
    let good = SandboxCluster::start_with_certificate("fine", ServingCertificate::Valid)
        .await
        .unwrap();
    client_with(&good.kubeconfig_yaml())
        .await
        .apiserver_version()
        .await
        .unwrap();
}

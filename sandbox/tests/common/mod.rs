//! Shared set-up: a sandbox cluster and a kube-rs client for it.
#![allow(dead_code)]

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use sandbox::SandboxCluster;

pub async fn client_with(kubeconfig_yaml: &str) -> Client {
    let kubeconfig = Kubeconfig::from_yaml(kubeconfig_yaml).unwrap();
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap();
    Client::try_from(config).unwrap()
}

pub async fn cluster() -> (SandboxCluster, Client) {
    let cluster = SandboxCluster::start("test").await.unwrap();
    let client = client_with(&cluster.kubeconfig_yaml()).await;
    (cluster, client)
}

/// A cluster with KubeSphere installed as a host (admin password `Admin-Pass-1`).
pub async fn kubesphere_host() -> (SandboxCluster, Client) {
    let (cluster, client) = cluster().await;
    cluster
        .install_kubesphere(&sandbox::KubeSphereInstall {
            role: sandbox::ClusterRole::Host,
            jwt_secret: "secret".into(),
            admin_password: Some("Admin-Pass-1".into()),
        })
        .unwrap();
    (cluster, client)
}

/// The same kubeconfig with another bearer token.
pub fn with_token(kubeconfig_yaml: &str, token: &str) -> String {
    let line = kubeconfig_yaml
        .lines()
        .find(|l| l.contains("token:"))
        .unwrap();
    kubeconfig_yaml.replace(line, &format!("    token: {token}"))
}

pub fn status_code(err: kube::Error) -> u16 {
    match err {
        kube::Error::Api(status) => status.code,
        other => panic!("expected a Kubernetes Status error, got {other:?}"),
    }
}

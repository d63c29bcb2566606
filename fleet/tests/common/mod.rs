//! What the IAM integration tests share: a client for a sandbox cluster, Tandem's IAM pointed
//! at a sandbox host, and waiting for the host's controllers.

// Each test binary uses its own part of these.
#![allow(dead_code)]

use fleet::federation::KindResources;
use std::time::Duration;

use fleet::ConsoleConfig;
use fleet::iam::Iam;
use kube::Client;
use sandbox::SandboxCluster;

/// An admin client for the cluster, as kubectl with its kubeconfig would be.
pub async fn client(cluster: &SandboxCluster) -> Client {
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&cluster.kubeconfig_yaml()).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap();
    Client::try_from(config).unwrap()
}

/// Tandem's IAM with `host` as its one host named "host", caches listed. The directory holds
/// the configuration and must live as long as the IAM.
pub async fn iam_on(host: &SandboxCluster) -> (tempfile::TempDir, Iam) {
    let dir = tempfile::tempdir().unwrap();
    let path = host.write_kubeconfig(dir.path()).unwrap();
    let file = dir.path().join("tandem.yaml");
    std::fs::write(
        &file,
        format!(
            "hosts:\n  - name: host\n    kubeconfig: {}\n",
            path.display()
        ),
    )
    .unwrap();
    let iam =
        Iam::start(&fleet::HostClients::connect(&ConsoleConfig::load(&file).unwrap()).await).await;
    tokio::time::timeout(Duration::from_secs(10), iam.ready())
        .await
        .expect("IAM caches ready");
    (dir, iam)
}

/// Polls `check` for up to `secs` seconds.
pub async fn eventually<T>(secs: u64, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..secs * 10 {
        if let Some(v) = check().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("condition not met within {secs} s");
}

/// A sandbox cluster with KubeSphere 3.4 installed in `role`, with `jwt_secret`.
pub async fn kubesphere(
    name: &str,
    role: sandbox::ClusterRole,
    jwt_secret: &str,
) -> SandboxCluster {
    let cluster = SandboxCluster::start(name).await.unwrap();
    cluster
        .install_kubesphere(&sandbox::KubeSphereInstall {
            role,
            jwt_secret: jwt_secret.into(),
            admin_password: None,
        })
        .unwrap();
    cluster
}

/// The cluster as a host Tandem writes to, named after it.
pub async fn host_link(cluster: &SandboxCluster) -> fleet::clusters::HostLink {
    fleet::clusters::HostLink::new(cluster.name(), client(cluster).await)
}

/// A cluster with KubeSphere's CRDs but no host controllers, holding FederatedUser `ghost`
/// deleted but kept by kubefed's finalizer, which nothing will release: the stuck delete a
/// coordinated delete clears. Returns the cluster, a client and the FederatedUser API.
pub async fn stuck_federated_user() -> (SandboxCluster, Client, kube::Api<kube::api::DynamicObject>)
{
    use kube::api::{DeleteParams, DynamicObject, PostParams};
    let cluster = SandboxCluster::start("host").await.unwrap();
    cluster
        .install_kubesphere(&sandbox::KubeSphereInstall {
            role: sandbox::ClusterRole::Member,
            jwt_secret: "test".into(),
            admin_password: None,
        })
        .unwrap();
    let client = client(&cluster).await;
    let federated = kube::Api::<DynamicObject>::all_with(
        client.clone(),
        &fleet::federation::FederatedKind::User.federated(),
    );
    let ghost: DynamicObject = serde_json::from_value(serde_json::json!({
        "apiVersion": "types.kubefed.io/v1beta1", "kind": "FederatedUser",
        "metadata": {"name": "ghost", "finalizers": [fleet::federation::SYNC_FINALIZER]},
        "spec": {"template": {"spec": {"email": "ghost@example.com"}}, "placement": {"clusterSelector": {}}},
    }))
    .unwrap();
    federated
        .create(&PostParams::default(), &ghost)
        .await
        .unwrap();
    federated
        .delete("ghost", &DeleteParams::default())
        .await
        .unwrap();
    (cluster, client, federated)
}

/// One cluster of a demo fleet, by name.
pub fn demo_cluster<'f>(fleet: &'f sandbox::demo::DemoFleet, name: &str) -> &'f SandboxCluster {
    &fleet
        .clusters
        .iter()
        .find(|(c, _)| c.name() == name)
        .unwrap_or_else(|| panic!("no cluster {name} in the demo fleet"))
        .0
}

/// The demo fleet's two hosts, `host` and `host2`, as a sync group.
pub async fn demo_group(fleet: &sandbox::demo::DemoFleet) -> Vec<fleet::sync::engine::GroupHost> {
    let mut group = Vec::new();
    for host in ["host", "host2"] {
        group.push(fleet::sync::engine::GroupHost {
            name: host.into(),
            client: client(demo_cluster(fleet, host)).await,
        });
    }
    group
}

/// The demo fleet with `scenario` seeded, its two hosts as a sync group, and the console's
/// sync service over them (its record in `kube-system` on `host`), off. `dir` keeps the fleet.
pub async fn demo_sync(
    dir: &std::path::Path,
    scenario: sandbox::demo::Scenario,
) -> (
    sandbox::demo::DemoFleet,
    Vec<fleet::sync::engine::GroupHost>,
    fleet::sync::service::SyncService,
    fleet::sync::service::Home,
) {
    let fleet = sandbox::demo::start_demo_fleet(dir, scenario)
        .await
        .unwrap();
    let group = demo_group(&fleet).await;
    let home = fleet::sync::service::Home {
        client: group[0].client.clone(),
        namespace: "kube-system".into(),
    };
    let service = fleet::sync::service::SyncService::start(
        group.clone(),
        home.clone(),
        fleet::replicas::Leadership::alone("test".into()),
    );
    (fleet, group, service, home)
}

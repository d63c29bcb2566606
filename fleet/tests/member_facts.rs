//! The KubeSphere checks of the add-cluster wizard against sandbox clusters installed in each
//! of the shapes a real candidate member can have.

use fleet::clusters::member_facts::{
    JwtComparison, compare_jwt_secrets, existing_cluster_with_uid, existing_joins, kube_system_uid,
    kubesphere_version, read_kubesphere_config,
};
use kube::config::{KubeConfigOptions, Kubeconfig};
use sandbox::{ClusterRole, KubeSphereInstall, SandboxCluster};

async fn client(cluster: &SandboxCluster) -> kube::Client {
    let kc = Kubeconfig::from_yaml(&cluster.kubeconfig_yaml()).unwrap();
    kube::Client::try_from(
        kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
            .await
            .unwrap(),
    )
    .unwrap()
}

fn install(role: ClusterRole, secret: &str) -> KubeSphereInstall {
    KubeSphereInstall {
        role,
        jwt_secret: secret.into(),
        admin_password: None,
    }
}

#[tokio::test]
async fn kubesphere_presence_role_and_jwt_secret() {
    let host = SandboxCluster::start("host").await.unwrap();
    host.install_kubesphere(&install(ClusterRole::Host, "shared"))
        .unwrap();
    let member = SandboxCluster::start("member").await.unwrap();
    member
        .install_kubesphere(&install(ClusterRole::Member, "shared"))
        .unwrap();
    let stranger = SandboxCluster::start("stranger").await.unwrap();
    stranger
        .install_kubesphere(&install(ClusterRole::Member, "other"))
        .unwrap();
    let plain = SandboxCluster::start("plain").await.unwrap();
    let (host_c, member_c, stranger_c, plain_c) = (
        client(&host).await,
        client(&member).await,
        client(&stranger).await,
        client(&plain).await,
    );

    assert_eq!(
        kubesphere_version(&member_c).await.unwrap().as_deref(),
        Some("v3.4.1")
    );
    assert_eq!(kubesphere_version(&plain_c).await.unwrap(), None);
    assert!(read_kubesphere_config(&plain_c).await.unwrap().is_none());

    let host_cfg = read_kubesphere_config(&host_c).await.unwrap().unwrap();
    let member_cfg = read_kubesphere_config(&member_c).await.unwrap().unwrap();
    assert_eq!(host_cfg.cluster_role, "host");
    assert_eq!(member_cfg.cluster_role, "member");
    assert_eq!(
        compare_jwt_secrets(&host_cfg, &member_cfg),
        JwtComparison::Same
    );
    let stranger_cfg = read_kubesphere_config(&stranger_c).await.unwrap().unwrap();
    assert_eq!(
        compare_jwt_secrets(&host_cfg, &stranger_cfg),
        JwtComparison::Different
    );
}

#[tokio::test]
async fn a_cluster_already_on_the_host_is_found_by_its_identity() {
    let host = SandboxCluster::start("host").await.unwrap();
    host.install_kubesphere(&install(ClusterRole::Host, "s"))
        .unwrap();
    let member = SandboxCluster::start("member").await.unwrap();
    member
        .install_kubesphere(&install(ClusterRole::Member, "s"))
        .unwrap();
    let (host_c, member_c) = (client(&host).await, client(&member).await);
    let uid = kube_system_uid(&member_c).await.unwrap();
    assert_eq!(uid.len(), 36);
    assert_eq!(
        existing_cluster_with_uid(&host_c, &uid).await.unwrap(),
        None
    );
    host.join_member(&member, "prod").unwrap();
    assert_eq!(
        existing_cluster_with_uid(&host_c, &uid)
            .await
            .unwrap()
            .as_deref(),
        Some("prod")
    );
    // The host itself is on the host too, as KubeSphere registers it.
    let host_uid = kube_system_uid(&host_c).await.unwrap();
    assert_eq!(
        existing_cluster_with_uid(&host_c, &host_uid)
            .await
            .unwrap()
            .as_deref(),
        Some("host")
    );
}

#[tokio::test]
async fn a_member_another_host_joined_says_so() {
    let host = SandboxCluster::start("host").await.unwrap();
    host.install_kubesphere(&install(ClusterRole::Host, "s"))
        .unwrap();
    let member = SandboxCluster::start("member").await.unwrap();
    member
        .install_kubesphere(&install(ClusterRole::Member, "s"))
        .unwrap();
    let member_c = client(&member).await;
    assert!(existing_joins(&member_c).await.unwrap().is_empty());
    host.join_member(&member, "prod").unwrap();
    assert_eq!(existing_joins(&member_c).await.unwrap(), ["prod"]);
    let plain = SandboxCluster::start("plain").await.unwrap();
    assert!(
        existing_joins(&client(&plain).await)
            .await
            .unwrap()
            .is_empty()
    );
}

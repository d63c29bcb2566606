//! KubeSphere 3.4 as installed on a sandbox cluster: what a KubeSphere host (and Tandem's
//! add-cluster checks) read from a member.

mod common;

use common::{client_with, status_code};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use sandbox::{ClusterRole, KubeSphereInstall, SandboxCluster};

fn install(role: ClusterRole) -> KubeSphereInstall {
    KubeSphereInstall {
        role,
        jwt_secret: "shared-secret-0123456789".into(),
        admin_password: Some("P@88w0rd-Demo".into()),
    }
}

async fn proxy_get(client: &kube::Client, path: &str) -> Result<String, kube::Error> {
    let request = http::Request::get(format!(
        "/api/v1/namespaces/kubesphere-system/services/:ks-apiserver:/proxy{path}"
    ))
    .body(Vec::new())
    .unwrap();
    client.request_text(request).await
}

#[tokio::test]
async fn a_host_has_the_config_the_crds_the_roles_and_an_admin() {
    let cluster = SandboxCluster::start("host").await.unwrap();
    cluster
        .install_kubesphere(&install(ClusterRole::Host))
        .unwrap();
    // A second install (every start of the demo) changes nothing.
    cluster
        .install_kubesphere(&install(ClusterRole::Host))
        .unwrap();
    let client = client_with(&cluster.kubeconfig_yaml()).await;

    let config = Api::<ConfigMap>::namespaced(client.clone(), "kubesphere-system")
        .get("kubesphere-config")
        .await
        .unwrap();
    let yaml = &config.data.unwrap()["kubesphere.yaml"];
    assert!(
        yaml.contains("jwtSecret: \"shared-secret-0123456789\""),
        "{yaml}"
    );
    assert!(yaml.contains("clusterRole: host"), "{yaml}");

    let version: serde_json::Value =
        serde_json::from_str(&proxy_get(&client, "/kapis/version").await.unwrap()).unwrap();
    assert_eq!(version["gitVersion"], "v3.4.1");
    let configz: serde_json::Value = serde_json::from_str(
        &proxy_get(
            &client,
            "/kapis/config.kubesphere.io/v1alpha2/configs/configz",
        )
        .await
        .unwrap(),
    )
    .unwrap();
    assert_eq!(configz["multicluster"], true);

    let gvk = |g: &str, v: &str, k: &str, plural: &str| {
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(g, v, k), plural)
    };
    let users: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &gvk("iam.kubesphere.io", "v1alpha2", "User", "users"),
    );
    let admin = users.get("admin").await.unwrap();
    assert_eq!(admin.data["status"]["state"], "Active");
    let hash = admin.data["spec"]["password"].as_str().unwrap();
    assert!(
        hash.starts_with("$2") && hash.len() == 60,
        "a bcrypt hash, not {hash}"
    );
    assert!(bcrypt::verify("P@88w0rd-Demo", hash).unwrap());
    assert!(!bcrypt::verify("wrong", hash).unwrap());
    let roles: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &gvk("iam.kubesphere.io", "v1alpha2", "GlobalRole", "globalroles"),
    );
    for role in [
        "platform-admin",
        "platform-regular",
        "platform-self-provisioner",
    ] {
        roles.get(role).await.unwrap();
    }
    let binding: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &gvk(
            "iam.kubesphere.io",
            "v1alpha2",
            "GlobalRoleBinding",
            "globalrolebindings",
        ),
    );
    assert_eq!(
        binding.get("admin").await.unwrap().data["roleRef"]["name"],
        "platform-admin"
    );
    let ftcs: Api<DynamicObject> = Api::namespaced_with(
        client,
        "kube-federation-system",
        &gvk(
            "core.kubefed.io",
            "v1beta1",
            "FederatedTypeConfig",
            "federatedtypeconfigs",
        ),
    );
    assert_eq!(
        ftcs.get("users.iam.kubesphere.io").await.unwrap().data["spec"]["federatedType"]["kind"],
        "FederatedUser"
    );
}

#[tokio::test]
async fn a_member_has_no_admin_and_says_member() {
    let cluster = SandboxCluster::start("member").await.unwrap();
    cluster
        .install_kubesphere(&install(ClusterRole::Member))
        .unwrap();
    let client = client_with(&cluster.kubeconfig_yaml()).await;
    let config = Api::<ConfigMap>::namespaced(client.clone(), "kubesphere-system")
        .get("kubesphere-config")
        .await
        .unwrap();
    let yaml = &config.data.unwrap()["kubesphere.yaml"];
    assert!(yaml.contains("clusterRole: member"));
    assert!(
        yaml.contains("accessTokenMaxAge: 0s"),
        "members verify host tokens without a cache: {yaml}"
    );
    let users: Api<DynamicObject> = Api::all_with(
        client,
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("iam.kubesphere.io", "v1alpha2", "User"),
            "users",
        ),
    );
    assert_eq!(status_code(users.get("admin").await.unwrap_err()), 404);
}

#[tokio::test]
async fn a_cluster_without_kubesphere_has_no_ks_apiserver() {
    let cluster = SandboxCluster::start("plain").await.unwrap();
    let client = client_with(&cluster.kubeconfig_yaml()).await;
    assert_eq!(
        status_code(proxy_get(&client, "/kapis/version").await.unwrap_err()),
        404
    );
}

fn global_role_binding(name: &str, user: &str, role: &str) -> DynamicObject {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "GlobalRoleBinding",
        "metadata": {"name": name, "labels": {"iam.kubesphere.io/user-ref": user}},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
        "roleRef": {"apiGroup": "iam.kubesphere.io", "kind": "GlobalRole", "name": role},
    }))
    .unwrap()
}

/// The sandbox's model of a member refusing a user's second platform role (the seed's
/// experiment 2), and hosts not doing so.
#[tokio::test]
async fn a_member_refuses_a_second_platform_role_for_a_user_and_a_host_does_not() {
    let member = SandboxCluster::start("member").await.unwrap();
    member
        .install_kubesphere(&install(ClusterRole::Member))
        .unwrap();
    let host = SandboxCluster::start("host").await.unwrap();
    host.install_kubesphere(&install(ClusterRole::Host))
        .unwrap();
    let bindings = |client: kube::Client| -> Api<DynamicObject> {
        Api::all_with(
            client,
            &ApiResource::from_gvk_with_plural(
                &GroupVersionKind::gvk("iam.kubesphere.io", "v1alpha2", "GlobalRoleBinding"),
                "globalrolebindings",
            ),
        )
    };
    let post = kube::api::PostParams::default();

    let on_member = bindings(client_with(&member.kubeconfig_yaml()).await);
    on_member
        .create(
            &post,
            &global_role_binding("xxr-platform-admin", "xxr", "platform-admin"),
        )
        .await
        .unwrap();
    let refused = on_member
        .create(
            &post,
            &global_role_binding("xxr-platform-regular", "xxr", "platform-regular"),
        )
        .await
        .unwrap_err();
    let kube::Error::Api(status) = refused else {
        panic!("expected a Kubernetes Status, got {refused:?}")
    };
    assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"));
    assert!(
        status.message.contains("xxr-platform-admin") && status.message.contains("platform-admin"),
        "{}",
        status.message
    );
    assert!(
        on_member
            .get_opt("xxr-platform-regular")
            .await
            .unwrap()
            .is_none()
    );
    // The same role again, or another user's binding, is fine.
    on_member
        .create(
            &post,
            &global_role_binding("xxr-admin-again", "xxr", "platform-admin"),
        )
        .await
        .unwrap();
    on_member
        .create(
            &post,
            &global_role_binding("yyr-platform-regular", "yyr", "platform-regular"),
        )
        .await
        .unwrap();

    let on_host = bindings(client_with(&host.kubeconfig_yaml()).await);
    on_host
        .create(
            &post,
            &global_role_binding("xxr-platform-admin", "xxr", "platform-admin"),
        )
        .await
        .unwrap();
    on_host
        .create(
            &post,
            &global_role_binding("xxr-platform-regular", "xxr", "platform-regular"),
        )
        .await
        .unwrap();
}

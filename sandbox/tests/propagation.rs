//! A host's kubefed carries users to its members, as KubeSphere 3.4 with kubefed does.

mod common;

use std::time::Duration;

use common::client_with;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use sandbox::SandboxCluster;
use serde_json::{Value, json};

fn resource(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
}

fn users(client: &kube::Client) -> Api<DynamicObject> {
    Api::all_with(
        client.clone(),
        &resource("iam.kubesphere.io", "v1alpha2", "User", "users"),
    )
}

fn federated_users(client: &kube::Client) -> Api<DynamicObject> {
    Api::all_with(
        client.clone(),
        &resource(
            "types.kubefed.io",
            "v1beta1",
            "FederatedUser",
            "federatedusers",
        ),
    )
}

/// Polls `check` until it returns `Some`, for up to 15 s.
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..150 {
        if let Some(v) = check().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn fleet() -> (SandboxCluster, SandboxCluster, kube::Client, kube::Client) {
    let (host, member) = sandbox::demo::start_joined_pair("member").await.unwrap();
    let host_client = client_with(&host.kubeconfig_yaml()).await;
    let member_client = client_with(&member.kubeconfig_yaml()).await;
    (host, member, host_client, member_client)
}

fn user(name: &str, email: &str) -> DynamicObject {
    let mut u = DynamicObject::new(
        name,
        &resource("iam.kubesphere.io", "v1alpha2", "User", "users"),
    );
    u.data = json!({"spec": {"email": email, "password": "P@88w0rd-Alice", "lang": "en"}});
    u
}

#[tokio::test]
async fn a_user_created_on_the_host_appears_on_the_member() {
    let (_host, _member, host_client, member_client) = fleet().await;
    users(&host_client)
        .create(&PostParams::default(), &user("alice", "alice@example.com"))
        .await
        .unwrap();

    let copy = eventually("alice on the member", || async {
        users(&member_client).get_opt("alice").await.unwrap()
    })
    .await;
    let labels = copy.metadata.labels.clone().unwrap_or_default();
    assert_eq!(
        labels.get("kubefed.io/managed").map(String::as_str),
        Some("true")
    );
    assert_eq!(copy.data["spec"]["email"], "alice@example.com");
    let hash = copy.data["spec"]["password"].as_str().unwrap();
    assert!(
        hash.starts_with("$2"),
        "only bcrypt hashes reach members, got {hash}"
    );

    let host_user = users(&host_client).get("alice").await.unwrap();
    assert_eq!(
        host_user.metadata.labels.unwrap()["kubefed.io/managed"],
        "false"
    );
    assert!(
        host_user
            .metadata
            .finalizers
            .unwrap()
            .contains(&"finalizers.kubesphere.io/users".to_string())
    );
    assert_eq!(host_user.data["status"]["state"], "Active");

    let status = eventually("FederatedUser status", || async {
        let fed = federated_users(&host_client)
            .get_opt("alice")
            .await
            .unwrap()?;
        let clusters = fed.data["status"]["clusters"].clone();
        (clusters != Value::Null).then_some(fed.data["status"].clone())
    })
    .await;
    // As on a real KubeSphere host: success is an entry without status; the host, joined to
    // itself, refuses its own source object, which is what makes Propagation False.
    assert_eq!(
        status["clusters"],
        json!([{"name": "host", "status": "ManagedLabelFalse"}, {"name": "member"}])
    );
    assert_eq!(status["conditions"][0]["type"], "Propagation");
    assert_eq!(status["conditions"][0]["status"], "False");
    assert_eq!(status["conditions"][0]["reason"], "CheckClusters");
}

#[tokio::test]
async fn a_placement_change_removes_the_member_copy() {
    let (_host, _member, host_client, member_client) = fleet().await;
    users(&host_client)
        .create(&PostParams::default(), &user("carol", "carol@example.com"))
        .await
        .unwrap();
    eventually("carol on the member", || async {
        users(&member_client).get_opt("carol").await.unwrap()
    })
    .await;
    let patch = json!({"spec": {"placement": {"clusters": []}}});
    federated_users(&host_client)
        .patch("carol", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    eventually("carol gone from the member", || async {
        users(&member_client)
            .get_opt("carol")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_member_that_is_down_shows_cluster_not_ready() {
    let (_host, member, host_client, _member_client) = fleet().await;
    drop(member);
    users(&host_client)
        .create(&PostParams::default(), &user("bob", "bob@example.com"))
        .await
        .unwrap();
    let clusters = eventually("ClusterNotReady", || async {
        let fed = federated_users(&host_client)
            .get_opt("bob")
            .await
            .unwrap()?;
        let clusters = fed.data["status"]["clusters"].clone();
        (clusters != Value::Null).then_some(clusters)
    })
    .await;
    assert_eq!(
        clusters,
        json!([{"name": "host", "status": "ManagedLabelFalse"}, {"name": "member", "status": "ClusterNotReady"}])
    );
}

#[tokio::test]
async fn deleting_a_user_on_the_host_cleans_the_member_and_releases_the_federated_user() {
    let (_host, _member, host_client, member_client) = fleet().await;
    users(&host_client)
        .create(&PostParams::default(), &user("dave", "dave@example.com"))
        .await
        .unwrap();
    eventually("dave on the member", || async {
        users(&member_client).get_opt("dave").await.unwrap()
    })
    .await;
    users(&host_client)
        .delete("dave", &Default::default())
        .await
        .unwrap();
    eventually("dave gone from the member", || async {
        users(&member_client)
            .get_opt("dave")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    eventually("FederatedUser dave gone", || async {
        federated_users(&host_client)
            .get_opt("dave")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    eventually("User dave gone", || async {
        users(&host_client)
            .get_opt("dave")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn global_roles_and_workspaces_are_federated() {
    let (_host, _member, host_client, member_client) = fleet().await;
    let global_roles = |c: &kube::Client| {
        Api::<DynamicObject>::all_with(
            c.clone(),
            &resource("iam.kubesphere.io", "v1alpha2", "GlobalRole", "globalroles"),
        )
    };
    let mut role = DynamicObject::new(
        "auditor",
        &resource("iam.kubesphere.io", "v1alpha2", "GlobalRole", "globalroles"),
    );
    role.data =
        json!({"rules": [{"apiGroups": [""], "resources": ["events"], "verbs": ["get", "list"]}]});
    global_roles(&host_client)
        .create(&PostParams::default(), &role)
        .await
        .unwrap();
    let copy = eventually("auditor on the member", || async {
        global_roles(&member_client)
            .get_opt("auditor")
            .await
            .unwrap()
    })
    .await;
    assert_eq!(copy.data["rules"][0]["resources"][0], "events");
    global_roles(&host_client)
        .delete("auditor", &Default::default())
        .await
        .unwrap();
    eventually("auditor gone from the member", || async {
        global_roles(&member_client)
            .get_opt("auditor")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;

    let templates = Api::<DynamicObject>::all_with(
        host_client.clone(),
        &resource(
            "tenant.kubesphere.io",
            "v1alpha2",
            "WorkspaceTemplate",
            "workspacetemplates",
        ),
    );
    let mut ws = DynamicObject::new(
        "team-a",
        &resource(
            "tenant.kubesphere.io",
            "v1alpha2",
            "WorkspaceTemplate",
            "workspacetemplates",
        ),
    );
    ws.data = json!({"spec": {"template": {"spec": {"manager": "admin"}}, "placement": {"clusters": [{"name": "member"}]}}});
    templates.create(&PostParams::default(), &ws).await.unwrap();
    let workspaces = Api::<DynamicObject>::all_with(
        member_client.clone(),
        &resource(
            "tenant.kubesphere.io",
            "v1alpha1",
            "Workspace",
            "workspaces",
        ),
    );
    let workspace = eventually("workspace on the member", || async {
        workspaces.get_opt("team-a").await.unwrap()
    })
    .await;
    assert_eq!(workspace.data["spec"]["manager"], "admin");
    let roles = Api::<DynamicObject>::all_with(
        member_client.clone(),
        &resource(
            "iam.kubesphere.io",
            "v1alpha2",
            "WorkspaceRole",
            "workspaceroles",
        ),
    );
    for name in [
        "team-a-admin",
        "team-a-regular",
        "team-a-viewer",
        "team-a-self-provisioner",
    ] {
        let role = eventually(name, || async { roles.get_opt(name).await.unwrap() }).await;
        assert_eq!(
            role.metadata.labels.unwrap()["kubesphere.io/workspace"],
            "team-a"
        );
    }
    let bindings = Api::<DynamicObject>::all_with(
        member_client,
        &resource(
            "iam.kubesphere.io",
            "v1alpha2",
            "WorkspaceRoleBinding",
            "workspacerolebindings",
        ),
    );
    let binding = eventually("manager binding on the member", || async {
        bindings.get_opt("team-a-admin").await.unwrap()
    })
    .await;
    assert_eq!(binding.data["subjects"][0]["name"], "admin");
}

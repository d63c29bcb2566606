//! Role changes never leave a person without a role: the new binding comes first, an
//! unchanged role writes nothing, and a fault half-way keeps the previous role. On a real
//! cluster the old order (delete, then create) once locked `admin` out of the console.

use fleet::iam::host_write::HostWriteError;
use fleet::iam::resources::{GlobalRoleBinding, WorkspaceRoleBinding, binds_user};
use fleet::iam::role_change::RoleChangeError;
use fleet::iam::user_admin::{self, NewUser, UserError};
use fleet::iam::workspaces::{self, NewWorkspace, WorkspaceError};
use kube::{Api, Client, ResourceExt};
use sandbox::SandboxCluster;

mod common;

/// The names and roles of `user`'s platform bindings.
async fn platform_roles(client: &Client, user: &str) -> Vec<(String, String)> {
    let mut roles: Vec<(String, String)> = Api::<GlobalRoleBinding>::all(client.clone())
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|b| binds_user(&b.subjects, user))
        .map(|b| (b.name_any(), b.role_ref.name))
        .collect();
    roles.sort();
    roles
}

async fn workspace_roles(client: &Client, workspace: &str, user: &str) -> Vec<String> {
    let mut roles: Vec<String> = Api::<WorkspaceRoleBinding>::all(client.clone())
        .list(
            &kube::api::ListParams::default()
                .labels(&format!("kubesphere.io/workspace={workspace}")),
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|b| binds_user(&b.subjects, user))
        .map(|b| b.role_ref.name)
        .collect();
    roles.sort();
    roles
}

fn user(name: &str) -> NewUser {
    NewUser {
        name: name.into(),
        email: format!("{name}@example.com"),
        password: "Some-Pass-1".into(),
        global_role: "platform-regular".into(),
        description: String::new(),
    }
}

async fn host() -> (SandboxCluster, tempfile::TempDir, fleet::iam::Iam, Client) {
    let host = SandboxCluster::start("host").await.unwrap();
    host.install_kubesphere(&sandbox::KubeSphereInstall {
        role: sandbox::ClusterRole::Host,
        jwt_secret: "secret".into(),
        admin_password: Some("Admin-Pass-1".into()),
    })
    .unwrap();
    let (dir, iam) = common::iam_on(&host).await;
    let client = common::client(&host).await;
    (host, dir, iam, client)
}

#[tokio::test]
async fn platform_role_changes_keep_a_role_at_every_step() {
    let (host, _dir, iam, client) = host().await;
    let cache = iam.host("host").unwrap().cache().unwrap().clone();

    // ks-installer's own binding for admin is named `admin`, not `admin-platform-admin`:
    // saving admin's unchanged role must leave it exactly as it is.
    let before = platform_roles(&client, "admin").await;
    assert_eq!(before, vec![("admin".into(), "platform-admin".into())]);
    user_admin::assign_global_role(&client, &cache, "admin", "platform-admin")
        .await
        .unwrap();
    assert_eq!(platform_roles(&client, "admin").await, before);

    iam.create_user("host", &user("alice")).await.unwrap();
    let regular = vec![("alice-platform-regular".into(), "platform-regular".into())];
    assert_eq!(platform_roles(&client, "alice").await, regular);

    // The new binding is refused: the previous role stays, nothing else changed.
    host.fail_next("POST", "/globalrolebindings");
    let refused =
        user_admin::assign_global_role(&client, &cache, "alice", "platform-self-provisioner").await;
    assert!(
        matches!(
            refused,
            Err(UserError::Host(HostWriteError::RoleChange(
                RoleChangeError::NotGiven(_)
            )))
        ),
        "{refused:?}"
    );
    assert_eq!(platform_roles(&client, "alice").await, regular);

    // The old binding cannot be removed: both roles for now, never none.
    host.fail_next("DELETE", "/globalrolebindings/alice-platform-regular");
    let half =
        user_admin::assign_global_role(&client, &cache, "alice", "platform-self-provisioner").await;
    assert!(
        matches!(&half, Err(UserError::Host(HostWriteError::RoleChange(RoleChangeError::OldKept { binding, .. }))) if binding == "alice-platform-regular"),
        "{half:?}"
    );
    assert_eq!(platform_roles(&client, "alice").await.len(), 2);

    // Trying again finishes the change.
    user_admin::assign_global_role(&client, &cache, "alice", "platform-self-provisioner")
        .await
        .unwrap();
    assert_eq!(
        platform_roles(&client, "alice").await,
        vec![(
            "alice-platform-self-provisioner".into(),
            "platform-self-provisioner".into()
        )]
    );
}

#[tokio::test]
async fn workspace_role_changes_keep_a_role_at_every_step() {
    let (host, _dir, iam, client) = host().await;
    let cache = iam.host("host").unwrap().cache().unwrap().clone();
    iam.create_workspace(
        "host",
        &NewWorkspace {
            name: "team-a".into(),
            alias: String::new(),
            manager: "admin".into(),
            description: String::new(),
            clusters: Vec::new(),
            creator: "admin".into(),
        },
        &[],
    )
    .await
    .unwrap();
    common::eventually(20, async || {
        let roles = Api::<fleet::iam::resources::WorkspaceRole>::all(client.clone());
        roles.get_opt("team-a-viewer").await.ok().flatten()
    })
    .await;
    iam.create_user("host", &user("bob")).await.unwrap();
    common::eventually(10, async || cache.user("bob")).await;
    workspaces::set_workspace_member(&client, &cache, "team-a", "bob", "viewer")
        .await
        .unwrap();
    let viewer = vec!["team-a-viewer".to_string()];
    assert_eq!(workspace_roles(&client, "team-a", "bob").await, viewer);

    // Unchanged: nothing is written (the fault planted on the next create stays planted).
    host.fail_next("POST", "/workspacerolebindings");
    workspaces::set_workspace_member(&client, &cache, "team-a", "bob", "viewer")
        .await
        .unwrap();
    // So the change that follows meets it: refused, and the previous role stays.
    let refused =
        workspaces::set_workspace_member(&client, &cache, "team-a", "bob", "regular").await;
    assert!(
        matches!(
            refused,
            Err(WorkspaceError::Host(HostWriteError::RoleChange(
                RoleChangeError::NotGiven(_)
            )))
        ),
        "{refused:?}"
    );
    assert_eq!(workspace_roles(&client, "team-a", "bob").await, viewer);

    host.fail_next("DELETE", "/workspacerolebindings/bob-team-a-viewer");
    let half = workspaces::set_workspace_member(&client, &cache, "team-a", "bob", "regular").await;
    assert!(
        matches!(
            half,
            Err(WorkspaceError::Host(HostWriteError::RoleChange(
                RoleChangeError::OldKept { .. }
            )))
        ),
        "{half:?}"
    );
    assert_eq!(
        workspace_roles(&client, "team-a", "bob").await,
        vec!["team-a-regular".to_string(), "team-a-viewer".to_string()]
    );
    workspaces::set_workspace_member(&client, &cache, "team-a", "bob", "regular")
        .await
        .unwrap();
    assert_eq!(
        workspace_roles(&client, "team-a", "bob").await,
        vec!["team-a-regular".to_string()]
    );
}

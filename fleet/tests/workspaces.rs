//! Workspaces on a sandbox host with a joined member: created through Tandem, placed on the
//! member, members added, re-roled and removed, deleted; read back from the cache and from the
//! member cluster.

use fleet::iam::propagation::PropagationStatus;
use fleet::iam::user_admin::NewUser;
use fleet::iam::workspaces::{self, NewWorkspace, WorkspaceError, WorkspaceMember};
use kube::Api;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind};

mod common;

fn user(name: &str) -> NewUser {
    NewUser {
        name: name.into(),
        email: format!("{name}@example.com"),
        password: "Some-Pass-1".into(),
        global_role: "platform-regular".into(),
        description: String::new(),
    }
}

#[tokio::test]
async fn workspace_lifecycle_on_host_and_member() {
    let (host, member) = sandbox::demo::start_joined_pair("member").await.unwrap();
    let (_dir, iam) = common::iam_on(&host).await;
    iam.create_user("host", &user("alice")).await.unwrap();
    iam.create_user("host", &user("bob")).await.unwrap();
    let cache = iam.host("host").unwrap().cache().unwrap().clone();
    common::eventually(10, async || {
        (cache.user("alice").is_some() && cache.user("bob").is_some()).then_some(())
    })
    .await;

    let known = vec!["member".to_string()];
    let new = NewWorkspace {
        name: "team-a".into(),
        alias: "Team A".into(),
        manager: "alice".into(),
        description: "payments".into(),
        clusters: vec!["member".into()],
        creator: "admin".into(),
    };
    let unknown_cluster = NewWorkspace {
        clusters: vec!["elsewhere".into()],
        ..new.clone()
    };
    assert!(matches!(
        iam.create_workspace("host", &unknown_cluster, &known).await,
        Err(WorkspaceError::UnknownCluster(c)) if c == "elsewhere"
    ));
    iam.create_workspace("host", &new, &known).await.unwrap();
    assert!(matches!(
        iam.create_workspace("host", &new, &known).await,
        Err(WorkspaceError::NameTaken(_))
    ));

    // The host's controller makes the manager's binding; kubefed places the workspace.
    let row = common::eventually(20, async || {
        cache.workspaces().into_iter().find(|w| {
            w.name == "team-a"
                && !w.members.is_empty()
                && w.propagation
                    .iter()
                    .any(|p| p.status == PropagationStatus::Propagated)
        })
    })
    .await;
    assert_eq!(row.alias.as_deref(), Some("Team A"));
    assert_eq!(row.manager.as_deref(), Some("alice"));
    assert_eq!(row.clusters, Some(vec!["member".to_string()]));
    assert_eq!(
        row.members,
        vec![WorkspaceMember {
            user: "alice".into(),
            role: "admin".into()
        }]
    );
    let on_member: Api<DynamicObject> = Api::all_with(
        common::client(&member).await,
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("tenant.kubesphere.io", "v1alpha1", "Workspace"),
            "workspaces",
        ),
    );
    common::eventually(20, async || on_member.get_opt("team-a").await.unwrap()).await;

    let c = common::client(&host).await;
    workspaces::set_workspace_member(&c, &cache, "team-a", "bob", "regular")
        .await
        .unwrap();
    workspaces::set_workspace_member(&c, &cache, "team-a", "bob", "viewer")
        .await
        .unwrap();
    assert!(matches!(
        workspaces::set_workspace_member(&c, &cache, "team-a", "bob", "owner").await,
        Err(WorkspaceError::UnknownRole(_))
    ));
    common::eventually(10, async || {
        let members = cache.workspace_members("team-a");
        (members.contains(&WorkspaceMember {
            user: "bob".into(),
            role: "viewer".into(),
        }) && !members
            .iter()
            .any(|m| m.user == "bob" && m.role == "regular"))
        .then_some(())
    })
    .await;
    // Workspace roles decide inside the workspace, whatever the platform role: the manager
    // (bound to team-a-admin by the host's controller) manages members, a viewer only looks.
    use fleet::iam::workspace_access::WorkspaceAction::{Delete, ManageMembers, View};
    common::eventually(10, async || {
        cache
            .may_in_workspace("alice", "team-a", ManageMembers)
            .then_some(())
    })
    .await;
    assert!(cache.may_in_workspace("alice", "team-a", Delete));
    assert!(cache.may_in_workspace("bob", "team-a", View));
    assert!(!cache.may_in_workspace("bob", "team-a", ManageMembers));
    assert!(!cache.may_in_workspace("bob", "team-a", Delete));
    assert!(!cache.may_in_workspace("bob", "other-ws", View));
    assert!(cache.workspaces_of("bob").contains("team-a"));

    workspaces::remove_workspace_member(&c, "team-a", "bob")
        .await
        .unwrap();
    common::eventually(10, async || {
        (!cache
            .workspace_members("team-a")
            .iter()
            .any(|m| m.user == "bob"))
        .then_some(())
    })
    .await;

    workspaces::delete_workspace(&c, "team-a").await.unwrap();
    common::eventually(20, async || {
        cache
            .workspaces()
            .iter()
            .all(|w| w.name != "team-a")
            .then_some(())
    })
    .await;
    common::eventually(30, async || {
        on_member
            .get_opt("team-a")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
}

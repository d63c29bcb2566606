//! Workspaces on a sandbox host with a joined member: created through Tandem, placed on the
//! member, members added, re-roled and removed, deleted; read back from the cache and from the
//! member cluster.

use std::time::Duration;

use fleet::ConsoleConfig;
use fleet::iam::Iam;
use fleet::iam::propagation::PropagationStatus;
use fleet::iam::user_admin::NewUser;
use fleet::iam::workspaces::{self, NewWorkspace, WorkspaceError, WorkspaceMember};
use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use kube::{Api, Client};
use sandbox::SandboxCluster;

async fn client(cluster: &SandboxCluster) -> Client {
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&cluster.kubeconfig_yaml()).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap();
    Client::try_from(config).unwrap()
}

async fn eventually<T>(secs: u64, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..secs * 10 {
        if let Some(v) = check().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("condition not met within {secs} s");
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

#[tokio::test]
async fn workspace_lifecycle_on_host_and_member() {
    let (host, member) = sandbox::demo::start_joined_pair("member").await.unwrap();
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
    let iam = Iam::start(&ConsoleConfig::load(&file).unwrap()).await;
    iam.ready().await;
    iam.create_user("host", &user("alice")).await.unwrap();
    iam.create_user("host", &user("bob")).await.unwrap();
    let cache = iam.host("host").unwrap().cache().unwrap().clone();
    eventually(10, async || {
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
    let row = eventually(20, async || {
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
        client(&member).await,
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("tenant.kubesphere.io", "v1alpha1", "Workspace"),
            "workspaces",
        ),
    );
    eventually(20, async || on_member.get_opt("team-a").await.unwrap()).await;

    let c = client(&host).await;
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
    eventually(10, async || {
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
    workspaces::remove_workspace_member(&c, "team-a", "bob")
        .await
        .unwrap();
    eventually(10, async || {
        (!cache
            .workspace_members("team-a")
            .iter()
            .any(|m| m.user == "bob"))
        .then_some(())
    })
    .await;

    workspaces::delete_workspace(&c, "team-a").await.unwrap();
    eventually(20, async || {
        cache
            .workspaces()
            .iter()
            .all(|w| w.name != "team-a")
            .then_some(())
    })
    .await;
    eventually(30, async || {
        on_member
            .get_opt("team-a")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
}

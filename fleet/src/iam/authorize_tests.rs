//! Role × action, on the roles ks-installer creates (as the sandbox installs them).

use std::collections::HashMap;

use super::*;
use crate::iam::resources::GlobalRole;

fn installed_global_roles() -> HashMap<String, RoleRules> {
    sandbox::builtin_roles()
        .into_iter()
        .filter(|r| r["kind"] == "GlobalRole")
        .map(|r| {
            let role: GlobalRole = serde_json::from_value(r).unwrap();
            (role.metadata.name.clone().unwrap(), role.role_rules())
        })
        .collect()
}

fn bound(user: &str, role: &str) -> Binding {
    Binding {
        name: format!("{user}-{role}"),
        subjects: vec![k8s_openapi::api::rbac::v1::Subject {
            kind: "User".into(),
            name: user.into(),
            api_group: Some("rbac.authorization.k8s.io".into()),
            namespace: None,
        }],
        role: role.into(),
        workspace: None,
    }
}

#[test]
fn role_by_action_table() {
    use Action::*;
    let roles = installed_global_roles();
    // (role, actions allowed); every other action is denied.
    let table: &[(&str, &[Action])] = &[
        ("platform-admin", &Action::ALL),
        ("platform-regular", &[ViewHosts]),
        ("platform-self-provisioner", &[ViewHosts, CreateWorkspaces]),
        ("role-template-view-users", &[ViewHosts, ViewUsers]),
        (
            "role-template-manage-users",
            &[ViewHosts, ViewUsers, ManageUsers],
        ),
        (
            "role-template-view-clusters",
            &[ViewHosts, ViewClusters, ViewWorkspaces, ViewFederation],
        ),
        (
            "role-template-manage-clusters",
            &[
                ViewHosts,
                ViewClusters,
                ManageClusters,
                ViewFederation,
                ManageFederation,
            ],
        ),
        // Workspace managers list clusters to choose a workspace's placement.
        (
            "role-template-view-workspaces",
            &[ViewHosts, ViewClusters, ViewWorkspaces],
        ),
        (
            "role-template-manage-workspaces",
            &[
                ViewHosts,
                ViewClusters,
                ViewWorkspaces,
                CreateWorkspaces,
                ManageWorkspaces,
            ],
        ),
        ("anonymous", &[ViewHosts]),
    ];
    for (role, allowed) in table {
        let p = Permissions::resolve("alice", &[bound("alice", role)], &roles);
        for action in Action::ALL {
            assert_eq!(
                p.allows(action),
                allowed.contains(&action),
                "{role} × {action:?}"
            );
        }
    }
}

#[test]
fn aggregated_templates_count_and_unbound_users_get_nothing() {
    let mut roles = installed_global_roles();
    // A custom role with no rules of its own, built only from templates, as the console's
    // role editor makes them.
    roles.insert(
        "user-managers".into(),
        RoleRules {
            rules: vec![],
            aggregation_roles: vec!["role-template-manage-users".into()],
        },
    );
    let p = Permissions::resolve("bob", &[bound("bob", "user-managers")], &roles);
    assert!(p.allows(Action::ManageUsers));
    assert!(!p.allows(Action::ManageClusters));
    assert_eq!(p.roles, vec!["user-managers".to_string()]);

    let nobody = Permissions::resolve("carol", &[bound("bob", "platform-admin")], &roles);
    assert_eq!(nobody.allowed_actions(), vec![Action::ViewHosts]);
    let dangling = Permissions::resolve("dave", &[bound("dave", "deleted-role")], &roles);
    assert_eq!(dangling.allowed_actions(), vec![Action::ViewHosts]);
}

//! The roles ks-installer 3.4.1 creates (`roles/ks-core/prepare/files/ks-init/role-templates.yaml`,
//! docs/KUBESPHERE.md 1.6): the platform roles, the global role templates they aggregate, and the
//! workspace role bases with the workspace role templates. Template rules keep the groups and
//! resources the console's actions touch; ks-installer's lists of monitoring, DevOps and
//! service-mesh groups are left out.

use serde_json::{Value, json};

const IAM_V1ALPHA2: &str = "iam.kubesphere.io/v1alpha2";

fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> Value {
    json!({"apiGroups": groups, "resources": resources, "verbs": verbs})
}

fn role(kind: &str, name: &str, template: bool, aggregation: &[&str], rules: Vec<Value>) -> Value {
    let mut annotations = json!({"kubesphere.io/creator": "system"});
    if !aggregation.is_empty() {
        annotations["iam.kubesphere.io/aggregation-roles"] =
            json!(serde_json::to_string(aggregation).unwrap_or_default());
    }
    let mut labels = json!({"kubefed.io/managed": "false"});
    if template {
        labels["iam.kubesphere.io/role-template"] = json!("true");
    }
    json!({
        "apiVersion": IAM_V1ALPHA2, "kind": kind,
        "metadata": {"name": name, "labels": labels, "annotations": annotations},
        "rules": rules,
    })
}

const CLUSTER_GROUPS: &[&str] = &[
    "",
    "apps",
    "batch",
    "networking.k8s.io",
    "storage.k8s.io",
    "cluster.kubesphere.io",
    "types.kubefed.io",
];
const READ: &[&str] = &["get", "list", "watch"];

/// Every role object ks-installer creates that Tandem reads.
pub fn builtin_roles() -> Vec<Value> {
    let global = |name, template, aggregation: &[&str], rules| {
        role("GlobalRole", name, template, aggregation, rules)
    };
    let mut roles = vec![
        global(
            "platform-admin",
            false,
            &[
                "role-template-manage-clusters",
                "role-template-view-clusters",
                "role-template-view-roles",
                "role-template-manage-roles",
                "role-template-view-workspaces",
                "role-template-manage-workspaces",
                "role-template-manage-users",
                "role-template-view-users",
                "role-template-manage-app-templates",
                "role-template-view-app-templates",
                "role-template-manage-platform-settings",
            ],
            vec![
                rule(&["*"], &["*"], &["*"]),
                json!({"nonResourceURLs": ["*"], "verbs": ["*"]}),
            ],
        ),
        global(
            "platform-regular",
            false,
            &["role-template-view-app-templates"],
            vec![],
        ),
        global(
            "platform-self-provisioner",
            false,
            &["role-template-create-workspaces"],
            vec![rule(
                &["tenant.kubesphere.io"],
                &["workspaces", "workspacetemplates"],
                &["create", "watch"],
            )],
        ),
        global("anonymous", false, &[], vec![rule(&["*"], &["*"], &[])]),
        global(
            "authenticated",
            false,
            &[],
            vec![
                json!({"nonResourceURLs": ["/kapis/iam.kubesphere.io/v1alpha2/users/*"], "verbs": ["get"]}),
            ],
        ),
        global("pre-registration", false, &[], vec![]),
        // Templates (label role-template "true"), and the four ks-installer labels "false".
        global("role-template-view-basic", true, &[], vec![]),
        global(
            "role-template-view-clusters",
            true,
            &[],
            vec![
                rule(CLUSTER_GROUPS, &["*"], READ),
                rule(
                    &["tenant.kubesphere.io"],
                    &["workspaces", "workspacetemplates"],
                    READ,
                ),
            ],
        ),
        global(
            "role-template-manage-clusters",
            true,
            &[],
            vec![
                rule(CLUSTER_GROUPS, &["*"], &["*"]),
                rule(
                    &["tenant.kubesphere.io"],
                    &["workspaces", "workspacetemplates"],
                    &["update", "patch"],
                ),
            ],
        ),
        global(
            "role-template-view-workspaces",
            true,
            &[],
            vec![
                rule(
                    &["*"],
                    &[
                        "workspaces",
                        "workspacetemplates",
                        "workspaceroles",
                        "workspacerolebindings",
                        "workspacemembers",
                        "federatedworkspaces",
                    ],
                    READ,
                ),
                rule(&["*"], &["clusters"], &["list"]),
            ],
        ),
        global(
            "role-template-manage-workspaces",
            false,
            &[],
            vec![
                rule(
                    &["*"],
                    &[
                        "workspaces",
                        "workspacetemplates",
                        "workspaceroles",
                        "workspacerolebindings",
                        "workspacemembers",
                        "federatedworkspaces",
                    ],
                    &["*"],
                ),
                rule(&["*"], &["clusters"], &["list"]),
            ],
        ),
        global(
            "role-template-create-workspaces",
            false,
            &[],
            vec![rule(
                &["tenant.kubesphere.io"],
                &["workspaces", "workspacetemplates"],
                &["create", "watch"],
            )],
        ),
        global(
            "role-template-view-users",
            true,
            &[],
            vec![rule(&["*"], &["users", "users/loginrecords"], READ)],
        ),
        global(
            "role-template-manage-users",
            false,
            &[],
            vec![rule(
                &["*"],
                &["users", "users/password", "users/loginrecords"],
                &["*"],
            )],
        ),
        global(
            "role-template-view-roles",
            true,
            &[],
            vec![rule(&["iam.kubesphere.io"], &["globalroles"], READ)],
        ),
        global(
            "role-template-manage-roles",
            false,
            &[],
            vec![rule(&["*"], &["globalroles"], &["*"])],
        ),
        global(
            "role-template-view-app-templates",
            true,
            &[],
            vec![rule(
                &["openpitrix.io"],
                &["apps", "apps/versions", "categories"],
                &["get", "list"],
            )],
        ),
        global(
            "role-template-manage-app-templates",
            true,
            &[],
            vec![rule(&["openpitrix.io"], &["*"], &["*"])],
        ),
        global(
            "role-template-manage-platform-settings",
            true,
            &[],
            vec![rule(
                &["logging.kubesphere.io", "notification.kubesphere.io"],
                &["*"],
                &["*"],
            )],
        ),
    ];
    let workspace = |name, template, rules| role("WorkspaceRole", name, template, &[], rules);
    roles.extend([
        workspace(
            "role-template-view-basic",
            true,
            vec![
                rule(&["*"], &["workspaces"], &["get"]),
                rule(&["iam.kubesphere.io"], &["workspacemembers"], READ),
            ],
        ),
        workspace(
            "role-template-view-members",
            false,
            vec![rule(&["*"], &["workspacemembers"], READ)],
        ),
        workspace(
            "role-template-manage-members",
            false,
            vec![
                rule(&["*"], &["workspacemembers"], &["*"]),
                rule(&["*"], &["workspaceroles"], READ),
            ],
        ),
        workspace(
            "role-template-view-roles",
            true,
            vec![rule(&["*"], &["workspaceroles"], READ)],
        ),
        workspace(
            "role-template-manage-roles",
            false,
            vec![rule(&["*"], &["workspaceroles"], &["*"])],
        ),
        workspace(
            "role-template-view-workspace-settings",
            true,
            vec![rule(&["*"], &["workspaces"], READ)],
        ),
        workspace(
            "role-template-manage-workspace-settings",
            true,
            vec![rule(&["*"], &["workspaces"], &["*"])],
        ),
    ]);
    for (base, name, aggregation) in [
        (
            "workspace-admin",
            "admin",
            &[
                "role-template-manage-workspace-settings",
                "role-template-view-workspace-settings",
                "role-template-view-members",
                "role-template-manage-members",
                "role-template-manage-roles",
                "role-template-view-roles",
            ][..],
        ),
        (
            "workspace-regular",
            "regular",
            &["role-template-view-workspace-settings"][..],
        ),
        (
            "workspace-viewer",
            "viewer",
            &[
                "role-template-view-members",
                "role-template-view-roles",
                "role-template-view-workspace-settings",
            ][..],
        ),
        (
            "workspace-self-provisioner",
            "self-provisioner",
            &["role-template-view-workspace-settings"][..],
        ),
    ] {
        let mut embedded = role("WorkspaceRole", name, false, aggregation, vec![]);
        if let Some(meta) = embedded["metadata"].as_object_mut() {
            meta.remove("labels");
        }
        if name == "admin" {
            embedded["rules"] = json!([rule(&["*"], &["*"], &["*"])]);
        }
        roles.push(json!({
            "apiVersion": IAM_V1ALPHA2, "kind": "RoleBase",
            "metadata": {"name": base},
            "role": embedded,
        }));
    }
    roles
}

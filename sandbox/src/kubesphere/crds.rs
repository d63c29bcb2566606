//! The CustomResourceDefinitions KubeSphere 3.4 and kubefed install, with the names, scopes,
//! short names, subresources and schemas (`crd_schemas`) of the real ones.

use serde_json::{Value, json};

/// One CRD as the installers define it.
pub struct CrdSpec {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub status: bool,
}

const fn crd(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
    status: bool,
) -> CrdSpec {
    CrdSpec {
        group,
        version,
        kind,
        plural,
        namespaced,
        short_names,
        status,
    }
}

pub const IAM: &str = "iam.kubesphere.io";
pub const TENANT: &str = "tenant.kubesphere.io";
pub const CLUSTER: &str = "cluster.kubesphere.io";
pub const KUBEFED_CORE: &str = "core.kubefed.io";
pub const KUBEFED_TYPES: &str = "types.kubefed.io";

/// ks-core's CRDs (ks-installer `roles/ks-core/prepare/files/ks-init/`).
pub const KUBESPHERE: &[CrdSpec] = &[
    crd(
        CLUSTER,
        "v1alpha1",
        "Cluster",
        "clusters",
        false,
        &[],
        false,
    ),
    crd(IAM, "v1alpha2", "User", "users", false, &[], false),
    crd(
        IAM,
        "v1alpha2",
        "LoginRecord",
        "loginrecords",
        false,
        &[],
        false,
    ),
    crd(
        IAM,
        "v1alpha2",
        "GlobalRole",
        "globalroles",
        false,
        &[],
        false,
    ),
    crd(
        IAM,
        "v1alpha2",
        "GlobalRoleBinding",
        "globalrolebindings",
        false,
        &[],
        false,
    ),
    crd(
        IAM,
        "v1alpha2",
        "WorkspaceRole",
        "workspaceroles",
        false,
        &[],
        false,
    ),
    crd(
        IAM,
        "v1alpha2",
        "WorkspaceRoleBinding",
        "workspacerolebindings",
        false,
        &[],
        false,
    ),
    crd(IAM, "v1alpha2", "RoleBase", "rolebases", false, &[], false),
    crd(
        TENANT,
        "v1alpha2",
        "WorkspaceTemplate",
        "workspacetemplates",
        false,
        &[],
        false,
    ),
    crd(
        TENANT,
        "v1alpha1",
        "Workspace",
        "workspaces",
        false,
        &[],
        false,
    ),
    crd(
        "installer.kubesphere.io",
        "v1alpha1",
        "ClusterConfiguration",
        "clusterconfigurations",
        true,
        &["cc"],
        false,
    ),
];

/// kubefed v0.8's CRDs, and the federated types KubeSphere registers.
pub const KUBEFED: &[CrdSpec] = &[
    crd(
        KUBEFED_CORE,
        "v1beta1",
        "KubeFedCluster",
        "kubefedclusters",
        true,
        &["kfc"],
        true,
    ),
    crd(
        KUBEFED_CORE,
        "v1beta1",
        "FederatedTypeConfig",
        "federatedtypeconfigs",
        true,
        &["ftc"],
        true,
    ),
    crd(
        KUBEFED_TYPES,
        "v1beta1",
        "FederatedUser",
        "federatedusers",
        false,
        &[],
        true,
    ),
    crd(
        KUBEFED_TYPES,
        "v1beta1",
        "FederatedWorkspace",
        "federatedworkspaces",
        false,
        &[],
        true,
    ),
    crd(
        KUBEFED_TYPES,
        "v1beta1",
        "FederatedWorkspaceRole",
        "federatedworkspaceroles",
        false,
        &[],
        true,
    ),
    crd(
        KUBEFED_TYPES,
        "v1beta1",
        "FederatedWorkspaceRoleBinding",
        "federatedworkspacerolebindings",
        false,
        &[],
        true,
    ),
    crd(
        KUBEFED_TYPES,
        "v1beta1",
        "FederatedGlobalRole",
        "federatedglobalroles",
        false,
        &[],
        true,
    ),
    crd(
        KUBEFED_TYPES,
        "v1beta1",
        "FederatedGlobalRoleBinding",
        "federatedglobalrolebindings",
        false,
        &[],
        true,
    ),
    crd(
        KUBEFED_TYPES,
        "v1beta1",
        "FederatedClusterRole",
        "federatedclusterroles",
        false,
        &[],
        true,
    ),
    crd(
        KUBEFED_TYPES,
        "v1beta1",
        "FederatedClusterRoleBinding",
        "federatedclusterrolebindings",
        false,
        &[],
        true,
    ),
    crd(
        KUBEFED_TYPES,
        "v1beta1",
        "FederatedNamespace",
        "federatednamespaces",
        true,
        &["fns"],
        true,
    ),
];

/// Target types of the federated types above, for their FederatedTypeConfigs:
/// (federated kind, target group, target version, target kind, target plural, namespaced).
pub const FEDERATED_TARGETS: &[(&str, &str, &str, &str, &str, bool)] = &[
    ("FederatedUser", IAM, "v1alpha2", "User", "users", false),
    (
        "FederatedWorkspace",
        TENANT,
        "v1alpha1",
        "Workspace",
        "workspaces",
        false,
    ),
    (
        "FederatedWorkspaceRole",
        IAM,
        "v1alpha2",
        "WorkspaceRole",
        "workspaceroles",
        false,
    ),
    (
        "FederatedWorkspaceRoleBinding",
        IAM,
        "v1alpha2",
        "WorkspaceRoleBinding",
        "workspacerolebindings",
        false,
    ),
    (
        "FederatedGlobalRole",
        IAM,
        "v1alpha2",
        "GlobalRole",
        "globalroles",
        false,
    ),
    (
        "FederatedGlobalRoleBinding",
        IAM,
        "v1alpha2",
        "GlobalRoleBinding",
        "globalrolebindings",
        false,
    ),
    (
        "FederatedClusterRole",
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "clusterroles",
        false,
    ),
    (
        "FederatedClusterRoleBinding",
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        false,
    ),
    (
        "FederatedNamespace",
        "",
        "v1",
        "Namespace",
        "namespaces",
        false,
    ),
];

impl CrdSpec {
    pub fn to_object(&self) -> Value {
        let mut version = json!({
            "name": self.version,
            "served": true,
            "storage": true,
            "schema": {"openAPIV3Schema": super::crd_schemas::schema_of(self.kind)},
        });
        if self.status {
            version["subresources"] = json!({"status": {}});
        }
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": format!("{}.{}", self.plural, self.group)},
            "spec": {
                "group": self.group,
                "scope": if self.namespaced { "Namespaced" } else { "Cluster" },
                "names": {
                    "kind": self.kind,
                    "listKind": format!("{}List", self.kind),
                    "plural": self.plural,
                    "singular": self.kind.to_lowercase(),
                    "shortNames": self.short_names,
                },
                "versions": [version],
            }
        })
    }
}

/// The FederatedTypeConfig kubefed keeps for a federated type, in `kube-federation-system`.
pub fn federated_type_config(federated_kind: &str) -> Option<Value> {
    let (_, group, version, kind, plural, namespaced) =
        FEDERATED_TARGETS.iter().find(|t| t.0 == federated_kind)?;
    let federated = KUBEFED.iter().find(|c| c.kind == federated_kind)?;
    let name = if group.is_empty() {
        plural.to_string()
    } else {
        format!("{plural}.{group}")
    };
    let scope = |n: bool| if n { "Namespaced" } else { "Cluster" };
    Some(json!({
        "apiVersion": "core.kubefed.io/v1beta1",
        "kind": "FederatedTypeConfig",
        "metadata": {"name": name, "namespace": "kube-federation-system"},
        "spec": {
            "federatedType": {"group": KUBEFED_TYPES, "version": "v1beta1", "kind": federated_kind, "pluralName": federated.plural, "scope": scope(federated.namespaced)},
            "targetType": {"group": group, "version": version, "kind": kind, "pluralName": plural, "scope": scope(*namespaced)},
            "propagation": "Enabled",
        }
    }))
}

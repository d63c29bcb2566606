//! The kinds KubeSphere federates from a host to its members, each as three resources: the
//! object people edit on the host, its `Federated*` twin kubefed propagates, and the copy on
//! the member.

use kube::api::{ApiResource, GroupVersionKind};

/// A kind of federated object, as it appears in the console's addresses (`user`, `workspace`,
/// ...).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum FederatedKind {
    User,
    GlobalRole,
    GlobalRoleBinding,
    Workspace,
    WorkspaceRole,
    WorkspaceRoleBinding,
}

const IAM: &str = "iam.kubesphere.io";
const TENANT: &str = "tenant.kubesphere.io";
const KUBEFED_TYPES: &str = "types.kubefed.io";

fn resource(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
}

impl FederatedKind {
    pub const ALL: [FederatedKind; 6] = [
        Self::User,
        Self::GlobalRole,
        Self::GlobalRoleBinding,
        Self::Workspace,
        Self::WorkspaceRole,
        Self::WorkspaceRoleBinding,
    ];

    /// The identifier used in addresses and filters.
    pub fn key(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::GlobalRole => "globalrole",
            Self::GlobalRoleBinding => "globalrolebinding",
            Self::Workspace => "workspace",
            Self::WorkspaceRole => "workspacerole",
            Self::WorkspaceRoleBinding => "workspacerolebinding",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.key() == key)
    }

    /// The kind's name as Kubernetes spells it on the host.
    pub fn kind_name(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::GlobalRole => "GlobalRole",
            Self::GlobalRoleBinding => "GlobalRoleBinding",
            Self::Workspace => "WorkspaceTemplate",
            Self::WorkspaceRole => "WorkspaceRole",
            Self::WorkspaceRoleBinding => "WorkspaceRoleBinding",
        }
    }

    /// What people edit on a host (ks-apiserver writes these; KubeSphere's controllers keep
    /// the federated twin in step with it).
    pub fn source(self) -> ApiResource {
        match self {
            Self::User => resource(IAM, "v1alpha2", "User", "users"),
            Self::GlobalRole => resource(IAM, "v1alpha2", "GlobalRole", "globalroles"),
            Self::GlobalRoleBinding => {
                resource(IAM, "v1alpha2", "GlobalRoleBinding", "globalrolebindings")
            }
            Self::Workspace => resource(
                TENANT,
                "v1alpha2",
                "WorkspaceTemplate",
                "workspacetemplates",
            ),
            Self::WorkspaceRole => resource(IAM, "v1alpha2", "WorkspaceRole", "workspaceroles"),
            Self::WorkspaceRoleBinding => resource(
                IAM,
                "v1alpha2",
                "WorkspaceRoleBinding",
                "workspacerolebindings",
            ),
        }
    }

    /// The host's `Federated*` object kubefed propagates.
    pub fn federated(self) -> ApiResource {
        let (kind, plural) = match self {
            Self::User => ("FederatedUser", "federatedusers"),
            Self::GlobalRole => ("FederatedGlobalRole", "federatedglobalroles"),
            Self::GlobalRoleBinding => {
                ("FederatedGlobalRoleBinding", "federatedglobalrolebindings")
            }
            Self::Workspace => ("FederatedWorkspace", "federatedworkspaces"),
            Self::WorkspaceRole => ("FederatedWorkspaceRole", "federatedworkspaceroles"),
            Self::WorkspaceRoleBinding => (
                "FederatedWorkspaceRoleBinding",
                "federatedworkspacerolebindings",
            ),
        };
        resource(KUBEFED_TYPES, "v1beta1", kind, plural)
    }

    /// The copy kubefed writes on a member (a workspace lands as a `Workspace`).
    pub fn member(self) -> ApiResource {
        match self {
            Self::Workspace => resource(TENANT, "v1alpha1", "Workspace", "workspaces"),
            other => other.source(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_name_three_resources() {
        for kind in FederatedKind::ALL {
            assert_eq!(FederatedKind::from_key(kind.key()), Some(kind));
            assert!(kind.federated().kind.starts_with("Federated"));
        }
        assert_eq!(FederatedKind::from_key("secret"), None);
        assert_eq!(FederatedKind::Workspace.member().plural, "workspaces");
        assert_eq!(
            FederatedKind::Workspace.source().plural,
            "workspacetemplates"
        );
    }
}

//! The kinds KubeSphere federates from a host to its members, each as three resources: the
//! object people edit on the host, its `Federated*` twin kubefed propagates, and the copy on
//! the member.

use kube::api::{ApiResource, GroupVersionKind};

pub use wire::federation::FederatedKind;

const IAM: &str = "iam.kubesphere.io";
const TENANT: &str = "tenant.kubesphere.io";
const KUBEFED_TYPES: &str = "types.kubefed.io";

fn resource(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
}

/// The three resources of a kind: on the host, its federated twin, the member's copy.
pub trait KindResources {
    /// What people edit on a host (ks-apiserver writes these; KubeSphere's controllers keep
    /// the federated twin in step with it).
    fn source(self) -> ApiResource;
    /// The host's `Federated*` object kubefed propagates.
    fn federated(self) -> ApiResource;
    /// The copy kubefed writes on a member (a workspace lands as a `Workspace`).
    fn member(self) -> ApiResource;
}

impl KindResources for FederatedKind {
    fn source(self) -> ApiResource {
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

    fn federated(self) -> ApiResource {
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

    fn member(self) -> ApiResource {
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

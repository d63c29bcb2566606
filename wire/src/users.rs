//! KubeSphere's users and roles as the pages show them, and what a signed-in person may do.

use serde::{Deserialize, Serialize};

/// Everything a person can ask the console to do. Each action stands for one API request
/// (verb, group, resource) that KubeSphere's roles grant or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Action {
    /// See the host clusters and whether they answer: every signed-in user.
    ViewHosts,
    ViewClusters,
    ManageClusters,
    ViewUsers,
    ManageUsers,
    ViewRoles,
    ViewWorkspaces,
    CreateWorkspaces,
    ManageWorkspaces,
    ViewFederation,
    ManageFederation,
}

impl Action {
    pub const ALL: [Action; 11] = [
        Action::ViewHosts,
        Action::ViewClusters,
        Action::ManageClusters,
        Action::ViewUsers,
        Action::ManageUsers,
        Action::ViewRoles,
        Action::ViewWorkspaces,
        Action::CreateWorkspaces,
        Action::ManageWorkspaces,
        Action::ViewFederation,
        Action::ManageFederation,
    ];

    /// The API request this action amounts to; `None` for actions every signed-in user has.
    pub fn request(self) -> Option<(&'static str, &'static str, &'static str)> {
        Some(match self {
            Action::ViewHosts => return None,
            Action::ViewClusters => ("list", "cluster.kubesphere.io", "clusters"),
            Action::ManageClusters => ("create", "cluster.kubesphere.io", "clusters"),
            Action::ViewUsers => ("list", "iam.kubesphere.io", "users"),
            Action::ManageUsers => ("create", "iam.kubesphere.io", "users"),
            Action::ViewRoles => ("list", "iam.kubesphere.io", "globalroles"),
            Action::ViewWorkspaces => ("list", "tenant.kubesphere.io", "workspacetemplates"),
            Action::CreateWorkspaces => ("create", "tenant.kubesphere.io", "workspacetemplates"),
            Action::ManageWorkspaces => ("delete", "tenant.kubesphere.io", "workspacetemplates"),
            Action::ViewFederation => ("list", "types.kubefed.io", "federatedusers"),
            Action::ManageFederation => ("update", "types.kubefed.io", "federatedusers"),
        })
    }
}

/// The platform role a new user gets unless another is chosen: KubeSphere's least
/// privileged.
pub const DEFAULT_PLATFORM_ROLE: &str = "platform-regular";

/// The workspace roles every workspace gets, least privileged last.
pub const WORKSPACE_ROLES: [&str; 4] = ["admin", "self-provisioner", "regular", "viewer"];

/// The role a new workspace member gets unless another is chosen.
pub const DEFAULT_WORKSPACE_ROLE: &str = "regular";

/// `status.state` of a `User`, as ks-apiserver sets it. A user without a state yet (its
/// controller has not run) or with one this console does not know is `Unknown`, never shown
/// as active.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum UserState {
    Active,
    Disabled,
    /// Locked after too many failed logins, until the lock ends.
    AuthLimitExceeded,
    Unknown,
}

impl UserState {
    /// From the object's `status.state`.
    pub fn from_status(state: Option<&str>) -> Self {
        match state {
            Some("Active") => Self::Active,
            Some("Disabled") => Self::Disabled,
            Some("AuthLimitExceeded") => Self::AuthLimitExceeded,
            _ => Self::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_states_are_told_apart() {
        assert_eq!(UserState::from_status(Some("Active")), UserState::Active);
        assert_eq!(
            UserState::from_status(Some("AuthLimitExceeded")),
            UserState::AuthLimitExceeded
        );
        assert_eq!(UserState::from_status(Some("active")), UserState::Unknown);
        assert_eq!(UserState::from_status(None), UserState::Unknown);
    }
}

/// How the users list is ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UserSort {
    #[default]
    Name,
    Created,
    LastLogin,
    State,
}

impl UserSort {
    pub const ALL: [UserSort; 4] = [Self::Name, Self::Created, Self::LastLogin, Self::State];

    /// A stable identifier, for the page's address.
    pub fn key(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Created => "created",
            Self::LastLogin => "last-login",
            Self::State => "state",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key() == key)
    }
}

/// A user as the users list shows them, on the host and in the page alike (never the password
/// hash).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserProfile {
    pub name: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub state: UserState,
    /// Why the state is what it is (KubeSphere's `status.reason`).
    pub reason: Option<String>,
    pub global_role: Option<String>,
}

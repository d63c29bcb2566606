//! KubeSphere's users and roles as the users and workspaces pages show them.

use serde::{Deserialize, Serialize};

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

//! How a change to users or workspaces failed on the host's side, the same for both: the
//! request itself was fine, but the host refused a write, did not answer, or left a role
//! change half done.

use super::SessionError;
use super::role_change::RoleChangeError;

#[derive(Debug, thiserror::Error)]
pub enum HostWriteError {
    #[error(transparent)]
    RoleChange(#[from] RoleChangeError),
    #[error("the host cluster refused or did not answer: {0}")]
    Cluster(#[from] kube::Error),
    /// The console could not reach the host (what it knows).
    #[error("{0}")]
    Unavailable(String),
}

impl From<SessionError> for HostWriteError {
    fn from(e: SessionError) -> Self {
        Self::Unavailable(e.to_string())
    }
}

/// `From` each host-side failure for an error enum with a `Host(HostWriteError)` variant, so
/// that `?` works on kube calls, role changes and host lookups alike.
macro_rules! from_host_write {
    ($error:ty) => {
        impl From<kube::Error> for $error {
            fn from(e: kube::Error) -> Self {
                Self::Host(e.into())
            }
        }
        impl From<$crate::iam::role_change::RoleChangeError> for $error {
            fn from(e: $crate::iam::role_change::RoleChangeError) -> Self {
                Self::Host(e.into())
            }
        }
        impl From<$crate::iam::SessionError> for $error {
            fn from(e: $crate::iam::SessionError) -> Self {
                Self::Host(e.into())
            }
        }
    };
}
pub(crate) use from_host_write;

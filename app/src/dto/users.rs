//! The users page's data: what a row shows, never a password hash.

use serde::{Deserialize, Serialize};
pub use wire::users::{UserProfile, UserSort, UserState};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRowView {
    pub profile: UserProfile,
    pub last_login_secs_ago: Option<u64>,
    pub created_secs_ago: Option<u64>,
    /// One entry per member the user is placed on.
    pub propagation: Vec<super::PropagationEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserListView {
    pub host: String,
    pub rows: Vec<UserRowView>,
    pub matching: usize,
    pub total: usize,
    pub page: usize,
    pub page_size: usize,
    /// The signed-in user may create, change and delete users.
    pub may_manage: bool,
    /// The signed-in user (their own row offers no disable or delete).
    pub me: String,
    /// Platform roles that can be given, for the role pickers.
    pub roles: Vec<String>,
}

#[cfg(feature = "ssr")]
impl UserRowView {
    /// `troubled`: the federation monitor's verdicts for this user's member copies.
    pub fn from_row(
        row: fleet::iam::users::UserRow,
        now: std::time::SystemTime,
        troubled: Vec<(String, fleet::federation::FederatedState)>,
    ) -> Self {
        let ago = |t: Option<std::time::SystemTime>| {
            t.map(|t| now.duration_since(t).map(|d| d.as_secs()).unwrap_or(0))
        };
        Self {
            profile: row.profile,
            last_login_secs_ago: ago(row.last_login),
            created_secs_ago: ago(row.created),
            propagation: super::propagation_view(row.propagation, troubled),
        }
    }
}

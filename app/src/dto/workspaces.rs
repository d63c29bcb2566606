//! The workspaces page's data.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkspaceRowView {
    pub name: String,
    pub alias: Option<String>,
    pub description: Option<String>,
    pub manager: Option<String>,
    /// Named clusters; `None` for "every cluster".
    pub clusters: Option<Vec<String>>,
    /// (user, workspace role).
    pub members: Vec<(String, String)>,
    pub propagation: Vec<super::PropagationEntry>,
    pub deleting: bool,
    /// The signed-in user may add and remove members (platform role or workspace role).
    pub may_manage_members: bool,
    pub may_delete: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkspaceListView {
    pub host: String,
    pub rows: Vec<WorkspaceRowView>,
    pub may_create: bool,
    pub me: String,
    /// Users of the host, for the administrator and member pickers.
    pub users: Vec<String>,
    /// The member clusters the host manages, for the placement.
    pub clusters: Vec<String>,
}

#[cfg(feature = "ssr")]
impl WorkspaceRowView {
    /// `may(action)` answers for the signed-in user in this workspace.
    /// `troubled`: the federation monitor's verdicts for this workspace's member copies.
    pub fn from_row(
        row: fleet::iam::workspaces::WorkspaceRow,
        may: impl Fn(&str, fleet::iam::workspace_access::WorkspaceAction) -> bool,
        troubled: Vec<(String, fleet::federation::FederatedState)>,
    ) -> Self {
        use fleet::iam::workspace_access::WorkspaceAction;
        let may_manage_members = may(&row.name, WorkspaceAction::ManageMembers);
        let may_delete = may(&row.name, WorkspaceAction::Delete);
        Self {
            name: row.name,
            alias: row.alias,
            description: row.description,
            manager: row.manager,
            clusters: row.clusters,
            members: row.members.into_iter().map(|m| (m.user, m.role)).collect(),
            propagation: super::propagation_view(row.propagation, troubled),
            deleting: row.deleting,
            may_manage_members,
            may_delete,
        }
    }
}

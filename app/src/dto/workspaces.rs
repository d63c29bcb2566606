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
    /// (cluster, kubefed's failure reason if any).
    pub propagation: Vec<(String, Option<String>)>,
    pub deleting: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkspaceListView {
    pub host: String,
    pub rows: Vec<WorkspaceRowView>,
    pub may_create: bool,
    pub may_manage: bool,
    pub me: String,
    /// Users of the host, for the administrator and member pickers.
    pub users: Vec<String>,
    /// The member clusters the host manages, for the placement.
    pub clusters: Vec<String>,
}

#[cfg(feature = "ssr")]
impl WorkspaceRowView {
    pub fn from_row(row: fleet::iam::workspaces::WorkspaceRow) -> Self {
        Self {
            name: row.name,
            alias: row.alias,
            description: row.description,
            manager: row.manager,
            clusters: row.clusters,
            members: row.members.into_iter().map(|m| (m.user, m.role)).collect(),
            propagation: super::propagation_view(row.propagation),
            deleting: row.deleting,
        }
    }
}

//! What the federation pages show of repairs.

use serde::{Deserialize, Serialize};

/// A kind of federated object, as it appears in the console's addresses (`user`, `workspace`,
/// ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FederatedKind {
    User,
    GlobalRole,
    GlobalRoleBinding,
    Workspace,
    WorkspaceRole,
    WorkspaceRoleBinding,
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
}

/// A federated object's state across hosts and members, by name, worst first (fleet's
/// `FederatedState` carries what each one names: the hosts, the reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StateKey {
    /// The member's copy alternates between versions written by different hosts.
    Flapping,
    /// A host deletes it while another recreates it: kubefed's finalizer holds the delete.
    StuckDeleting,
    /// kubefed reports a failure for the member.
    SyncFailing,
    /// Placed on the member, but not there.
    NotOnMember,
    /// The hosts' templates differ.
    Differs,
    /// Some hosts of the member do not have it.
    Missing,
    /// On its way to the member.
    Propagating,
    InSync,
    /// No host holds it any more (shown while its repair can still be read).
    Gone,
}

impl StateKey {
    /// The states the monitor gives objects it sees, worst first.
    pub const SEEN: [StateKey; 8] = [
        Self::Flapping,
        Self::StuckDeleting,
        Self::SyncFailing,
        Self::NotOnMember,
        Self::Differs,
        Self::Missing,
        Self::Propagating,
        Self::InSync,
    ];

    /// As addresses (`/federation?state=…`), metrics and the pages' `data-state` name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Flapping => "flapping",
            Self::StuckDeleting => "stuck-deleting",
            Self::SyncFailing => "sync-failing",
            Self::NotOnMember => "not-on-member",
            Self::Differs => "differs",
            Self::Missing => "missing",
            Self::Propagating => "propagating",
            Self::InSync => "in-sync",
            Self::Gone => "gone",
        }
    }
}

/// What a repair was doing on a host when the host refused or did not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostTask {
    Reading,
    Writing,
    Deleting,
    ClearingFinalizer,
}

impl std::fmt::Display for HostTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Reading => "reading it",
            Self::Writing => "writing it",
            Self::Deleting => "deleting it",
            Self::ClearingFinalizer => "clearing kubefed's finalizer",
        })
    }
}

/// What a repair did, as the audit log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditAction {
    /// One host's version was kept and written to the others.
    PickWinner,
    /// The object was deleted on every host at once.
    CoordinatedDelete,
}

impl AuditAction {
    /// As the audit log and the page's `data-action` name it.
    pub fn key(self) -> &'static str {
        match self {
            Self::PickWinner => "pick-winner",
            Self::CoordinatedDelete => "coordinated-delete",
        }
    }
}

/// One line of the audit log of multi-host repairs (kept in a `ConfigMap` on each host).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// RFC 3339.
    pub at: String,
    /// The signed-in user who confirmed it.
    pub actor: String,
    pub action: AuditAction,
    pub kind: String,
    pub name: String,
    pub hosts: Vec<String>,
    /// What was done, in a sentence (never any object content).
    pub detail: String,
    pub succeeded: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_sent_by_their_names() {
        for state in StateKey::SEEN.into_iter().chain([StateKey::Gone]) {
            assert_eq!(serde_json::to_value(state).unwrap(), state.as_str());
        }
        assert!(StateKey::Flapping < StateKey::InSync, "worst first");
    }

    #[test]
    fn actions_are_stored_by_their_keys() {
        for action in [AuditAction::PickWinner, AuditAction::CoordinatedDelete] {
            assert_eq!(serde_json::to_value(action).unwrap(), action.key());
        }
    }
}

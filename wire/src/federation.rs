//! What the federation pages show of repairs.

use serde::{Deserialize, Serialize};

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
    fn actions_are_stored_by_their_keys() {
        for action in [AuditAction::PickWinner, AuditAction::CoordinatedDelete] {
            assert_eq!(serde_json::to_value(action).unwrap(), action.key());
        }
    }
}

//! What the federation pages receive: every federated object's state across hosts and
//! members, the fleet's topology, one object's competing versions, the audit log. Contents
//! are fingerprints and field values a platform engineer may see; never a password hash.

use serde::{Deserialize, Serialize};

pub use super::StateKey;
pub use wire::federation::FederatedKind;

/// How many rows one page of the list holds.
pub const PAGE_SIZE: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FederationListView {
    pub hosts: Vec<String>,
    pub members: Vec<String>,
    /// Every state with its count, worst first (all objects, before filtering).
    pub counts: Vec<(StateKey, usize)>,
    pub rows: Vec<FederatedRowView>,
    /// Rows matching the filter (all pages).
    pub matching: usize,
    pub page: usize,
    pub topology: TopologyView,
    pub may_manage: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FederatedRowView {
    pub kind: FederatedKind,
    pub name: String,
    pub state: StateView,
    pub hosts: Vec<HostCellView>,
    pub members: Vec<MemberCellView>,
}

impl FederatedRowView {
    /// The row of an object deleted from every host.
    pub fn gone(kind: FederatedKind, name: String) -> Self {
        Self {
            kind,
            name,
            state: StateView {
                key: StateKey::Gone,
                hosts: Vec::new(),
                reason: None,
            },
            hosts: Vec::new(),
            members: Vec::new(),
        }
    }

    pub fn is_gone(&self) -> bool {
        self.state.key == StateKey::Gone
    }
}

/// A state with what it names: the hosts taking turns, the host stuck deleting or failing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StateView {
    pub key: StateKey,
    pub hosts: Vec<String>,
    /// kubefed's reason, for sync failures.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HostCellView {
    pub host: String,
    /// `None`: not on this host.
    pub fingerprint: Option<String>,
    pub deleting: bool,
    /// The host's objects of this kind were not read yet.
    pub unknown: bool,
    pub changed_secs_ago: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MemberCellView {
    pub member: String,
    pub fingerprint: Option<String>,
    pub written_by: Option<String>,
    pub changed_secs_ago: Option<u64>,
    /// kubefed's status for this member on each host ("" = propagated).
    pub propagation: Vec<(String, String)>,
    /// (host, reason) where that status is a failure (`fleet::federation::is_sync_failure`).
    pub failures: Vec<(String, String)>,
    pub state: StateView,
}

/// Hosts, members and the links between them, for the topology picture.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TopologyView {
    pub hosts: Vec<TopologyHost>,
    pub members: Vec<TopologyMember>,
    pub links: Vec<TopologyLink>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopologyHost {
    pub name: String,
    pub reachable: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopologyMember {
    pub name: String,
    /// How many of the console's hosts manage it.
    pub hosts: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopologyLink {
    pub host: String,
    pub member: String,
    /// The host's `Cluster` for it is Ready.
    pub ready: bool,
    /// Objects flapping on this member with this host among the writers.
    pub flapping: usize,
    /// Objects this host fails to sync to it, or is stuck deleting there.
    pub failing: usize,
}

/// One object opened up: its row, the hosts' versions compared, and what may be done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FederatedObjectView {
    pub row: FederatedRowView,
    pub differences: Vec<FieldDiffView>,
    pub equal_fields: usize,
    pub may_manage: bool,
    /// Recent repairs of this object.
    pub audit: Vec<AuditEntry>,
    /// The repair running now, or the last one if it ended a short while ago.
    pub repair: Option<super::repair::RepairView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDiffView {
    pub path: String,
    pub person_made: bool,
    pub values: Vec<(String, Option<String>)>,
}

pub use wire::federation::{AuditAction, AuditEntry};

#[cfg(feature = "ssr")]
mod from_fleet {
    use std::time::SystemTime;

    use fleet::federation::{FederatedState, HostCell, MemberCell, ObjectRow};

    use super::*;

    fn secs_ago(at: Option<SystemTime>, now: SystemTime) -> Option<u64> {
        at.map(|t| now.duration_since(t).unwrap_or_default().as_secs())
    }

    impl From<&FederatedState> for StateView {
        fn from(state: &FederatedState) -> Self {
            let (hosts, reason) = match state {
                FederatedState::Flapping { hosts } | FederatedState::MissingOnHost { hosts } => {
                    (hosts.clone(), None)
                }
                FederatedState::StuckDeleting { host } => (vec![host.clone()], None),
                FederatedState::SyncFailing { host, reason } => {
                    (vec![host.clone()], Some(reason.clone()))
                }
                FederatedState::NotOnMember
                | FederatedState::DiffersBetweenHosts
                | FederatedState::Propagating
                | FederatedState::InSync => (Vec::new(), None),
            };
            Self {
                key: state.key(),
                hosts,
                reason,
            }
        }
    }

    impl FederatedRowView {
        pub fn from_row(row: &ObjectRow, now: SystemTime) -> Self {
            let host = |c: &HostCell| HostCellView {
                host: c.host.clone(),
                fingerprint: c.fingerprint.as_ref().map(|f| f.0.clone()),
                deleting: c.deleting_since.is_some(),
                unknown: !c.known && c.fingerprint.is_none(),
                changed_secs_ago: secs_ago(c.changed_at, now),
            };
            let member = |c: &MemberCell| MemberCellView {
                member: c.member.clone(),
                fingerprint: c.fingerprint.as_ref().map(|f| f.0.clone()),
                written_by: c.written_by.clone(),
                changed_secs_ago: secs_ago(c.changed_at, now),
                propagation: c.propagation.clone(),
                failures: c
                    .propagation
                    .iter()
                    .filter(|(_, status)| fleet::federation::is_sync_failure(status))
                    .cloned()
                    .collect(),
                state: StateView::from(&c.state),
            };
            Self {
                kind: row.key.kind,
                name: row.key.name.clone(),
                state: StateView::from(&row.state),
                hosts: row.hosts.iter().map(host).collect(),
                members: row.members.iter().map(member).collect(),
            }
        }
    }
}

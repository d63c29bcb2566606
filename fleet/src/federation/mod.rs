//! Two hosts over one member: what state each federated object is in across them (issue #8).
//! Pure functions over what the hosts and the member hold, so the rules are testable without
//! clusters; watches feed them.
//!
//! The rules follow what real KubeSphere 3.4.1 with kubefed was seen doing
//! (docs/KUBESPHERE.md, "two hosts over one member"): kubefed's own status reports success while
//! the member copy flips, so flapping is detected from the member's copies over time, each
//! matched to the host whose template it equals.

pub mod audit;
pub mod diff;
pub(crate) mod fingerprint;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod hold;
mod kinds;
mod monitor;
pub mod published;
mod query;
mod repair;
mod resolve;
pub mod sharing;
mod timeline;
mod view;
mod watches;

pub use fingerprint::{Fingerprint, propagated_fingerprint};
pub use kinds::{FederatedKind, KindResources};
pub use monitor::FederationMonitor;
pub use query::{FederationPage, FederationQuery, member_names, state_counts};
pub use repair::{
    HostTask, REPAIR_KEPT_FOR, RepairAction, RepairOutcome, RepairRecord, RepairRefused,
    RepairStep, Resolution, ResolveError, Unsettled,
};
pub use resolve::{SETTLE_TIMEOUT, SYNC_FINALIZER};
pub use sharing::Sharing;
pub use timeline::{FLAPPING_ALTERNATIONS, MemberTimeline};
pub use view::{
    FederationView, HostCell, HostLinks, HostObject, MemberCell, MemberLink, ObjectKey, ObjectRow,
    STUCK_AFTER, is_sync_failure,
};
pub use watches::TOPOLOGY_INTERVAL;
pub use wire::federation::StateKey;

/// One host's federated object (e.g. its `FederatedUser`) for one name.
#[derive(Debug, Clone, PartialEq)]
pub struct HostCopy {
    pub host: String,
    /// Fingerprint of what kubefed propagates (the template); `None` when the host has no
    /// such object.
    pub fingerprint: Option<Fingerprint>,
    /// Deletion requested and held by kubefed's finalizer.
    pub deleting: bool,
    /// kubefed's failure reason for the member in `status.clusters[]`, if any.
    pub sync_failure: Option<String>,
    /// The host's placement names the member (or selects every cluster).
    pub placed: bool,
    /// Its content changed within [`PROPAGATION_GRACE`]: kubefed may not have carried it yet.
    pub settling: bool,
}

/// How long kubefed gets to carry a new or changed object to a member before its absence
/// there is trouble (it takes seconds; a resync is every 10 s on the sandbox, 30 s on KubeSphere).
pub const PROPAGATION_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// What the object is across the hosts and the member, worst first.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FederatedState {
    /// The member's copy alternates between versions written by different hosts.
    Flapping {
        hosts: Vec<String>,
    },
    /// A host deletes it while another recreates it: kubefed's finalizer holds the delete.
    StuckDeleting {
        host: String,
    },
    /// kubefed reports a failure for the member on these hosts.
    SyncFailing {
        host: String,
        reason: String,
    },
    /// A host places it on the member, but the member holds no copy (kubefed has not
    /// propagated it, or could not; kubefed's own status may still say nothing).
    NotOnMember,
    /// Placed on the member, not there yet, and changed on its host(s) moments ago: kubefed
    /// is carrying it.
    Propagating,
    /// The hosts' templates differ (the member follows whichever wrote last).
    DiffersBetweenHosts,
    /// Some hosts of the member do not have it.
    MissingOnHost {
        hosts: Vec<String>,
    },
    InSync,
}

impl FederatedState {
    /// Its name, for filters, counts and the pages.
    pub fn key(&self) -> StateKey {
        match self {
            Self::Flapping { .. } => StateKey::Flapping,
            Self::StuckDeleting { .. } => StateKey::StuckDeleting,
            Self::SyncFailing { .. } => StateKey::SyncFailing,
            Self::NotOnMember => StateKey::NotOnMember,
            Self::Propagating => StateKey::Propagating,
            Self::DiffersBetweenHosts => StateKey::Differs,
            Self::MissingOnHost { .. } => StateKey::Missing,
            Self::InSync => StateKey::InSync,
        }
    }
}

/// The state of one object from the hosts' copies and the member's recent history.
pub fn classify(hosts: &[HostCopy], member: &MemberTimeline) -> FederatedState {
    let writers = member.flapping_writers();
    // Hosts that now agree cannot fight any more: the alternations are history (after a
    // winner was picked, say).
    let agree = {
        let mut present = hosts
            .iter()
            .filter(|h| !h.deleting)
            .filter_map(|h| h.fingerprint.as_ref());
        let first = present.next();
        present.all(|f| Some(f) == first)
    };
    if writers.len() >= 2 && !agree {
        return FederatedState::Flapping { hosts: writers };
    }
    if let Some(host) = hosts.iter().find(|h| h.deleting) {
        let others_keep_it = hosts.iter().any(|h| !h.deleting && h.fingerprint.is_some());
        if others_keep_it || member.present() {
            return FederatedState::StuckDeleting {
                host: host.host.clone(),
            };
        }
    }
    if let Some(h) = hosts.iter().find(|h| h.sync_failure.is_some()) {
        return FederatedState::SyncFailing {
            host: h.host.clone(),
            reason: h.sync_failure.clone().unwrap_or_default(),
        };
    }
    let present: Vec<&HostCopy> = hosts
        .iter()
        .filter(|h| h.fingerprint.is_some() && !h.deleting)
        .collect();
    if !member.present() && present.iter().any(|h| h.placed) {
        // Just created or changed: not there *yet* is no fault.
        if present.iter().filter(|h| h.placed).all(|h| h.settling) {
            return FederatedState::Propagating;
        }
        return FederatedState::NotOnMember;
    }
    if present
        .windows(2)
        .any(|w| w[0].fingerprint != w[1].fingerprint)
    {
        return FederatedState::DiffersBetweenHosts;
    }
    let missing: Vec<String> = hosts
        .iter()
        .filter(|h| h.fingerprint.is_none() && !h.deleting)
        .map(|h| h.host.clone())
        .collect();
    if !missing.is_empty() && !present.is_empty() {
        return FederatedState::MissingOnHost { hosts: missing };
    }
    FederatedState::InSync
}

#[cfg(test)]
mod tests;

//! How each managed cluster's state changed while this console watched: ready, not ready
//! (KubeSphere's condition) or unreachable (the console's own call), with when and why. A
//! `Cluster` only keeps its latest conditions; people chasing a flaky member want the
//! sequence.

use std::collections::{HashMap, VecDeque};
use std::time::SystemTime;

use crate::health::{HostHealth, HostState, ManagedCluster};
use crate::member_reach::MemberReach;

/// Changes kept per cluster, newest last.
pub const KEEP: usize = 20;

#[derive(Debug, Clone, PartialEq)]
pub struct StateChange {
    pub at: SystemTime,
    /// `ready`, `not-ready` or `unreachable`.
    pub state: &'static str,
    pub reason: Option<String>,
}

impl StateChange {
    /// When, as `2026-11-26 10:00:00` (UTC).
    pub fn at_text(&self) -> String {
        k8s_openapi::jiff::Timestamp::try_from(self.at)
            .map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default()
    }
}

/// The changes seen so far, per host and cluster.
#[derive(Default)]
pub struct ClusterHistory {
    changes: HashMap<(String, String), VecDeque<StateChange>>,
}

fn state_of(cluster: &ManagedCluster) -> (&'static str, Option<String>) {
    match &cluster.reach {
        Some(MemberReach::Unreachable(why)) => ("unreachable", Some(why.to_string())),
        _ if cluster.ready => ("ready", None),
        _ => ("not-ready", cluster.not_ready_reason.clone()),
    }
}

impl ClusterHistory {
    /// Records what changed in this round of probes and gives every cluster its history.
    pub fn record(&mut self, round: &mut [HostHealth]) {
        for host in round.iter_mut() {
            let at = host.checked_at.unwrap_or_else(SystemTime::now);
            let HostState::Reachable {
                clusters: Some(clusters),
                ..
            } = &mut host.state
            else {
                continue; // an unreachable host tells nothing new about its clusters
            };
            for cluster in clusters.iter_mut() {
                let (state, reason) = state_of(cluster);
                let changes = self
                    .changes
                    .entry((host.name.clone(), cluster.name.clone()))
                    .or_default();
                let changed = changes
                    .back()
                    .is_none_or(|last| last.state != state || last.reason != reason);
                if changed {
                    changes.push_back(StateChange { at, state, reason });
                    if changes.len() > KEEP {
                        changes.pop_front();
                    }
                }
                cluster.history = changes.iter().cloned().collect();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::ProbeFailure;
    use std::time::Duration;

    fn round(at: u64, ready: bool, reach: Option<MemberReach>) -> Vec<HostHealth> {
        vec![HostHealth {
            name: "host".into(),
            server: None,
            checked_at: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(at)),
            state: HostState::Reachable {
                version: "v1".into(),
                platform: "linux".into(),
                round_trip: Duration::ZERO,
                clusters: Some(vec![ManagedCluster {
                    name: "member".into(),
                    ready,
                    not_ready_reason: (!ready).then(|| "join failed".into()),
                    reach,
                    ..Default::default()
                }]),
            },
        }]
    }

    fn history(round: &[HostHealth]) -> Vec<(u64, &'static str)> {
        match &round[0].state {
            HostState::Reachable {
                clusters: Some(c), ..
            } => c[0]
                .history
                .iter()
                .map(|h| {
                    (
                        h.at.duration_since(SystemTime::UNIX_EPOCH)
                            .unwrap()
                            .as_secs(),
                        h.state,
                    )
                })
                .collect(),
            _ => unreachable!(),
        }
    }

    #[test]
    fn only_changes_are_kept_in_order() {
        let mut h = ClusterHistory::default();
        let ok = Some(MemberReach::Reachable { round_trip_ms: 1 });
        let mut r = round(1, true, ok.clone());
        h.record(&mut r);
        let mut r = round(2, true, ok.clone());
        h.record(&mut r);
        let mut r = round(
            3,
            true,
            Some(MemberReach::Unreachable(ProbeFailure::Refused)),
        );
        h.record(&mut r);
        let mut r = round(4, false, ok.clone());
        h.record(&mut r);
        assert_eq!(
            history(&r),
            vec![(1, "ready"), (3, "unreachable"), (4, "not-ready")]
        );
        for at in 5..40 {
            let mut r = round(at, at % 2 == 0, ok.clone());
            h.record(&mut r);
            assert!(history(&r).len() <= KEEP);
        }
    }
}

//! How each managed cluster's state changed while the console watched: ready, not ready
//! (KubeSphere's condition) or unreachable (the console's own call), with when and why. A
//! `Cluster` only keeps its latest conditions; people chasing a flaky member want the
//! sequence. Kept on each host too (ConfigMap `tandem-cluster-history`, a key per cluster),
//! so a restarted console, or another replica, goes on from where it was.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, SystemTime};

use kube::Client;

use crate::kept_data;
pub use wire::clusters::ClusterState;

use crate::clusters::ManagedCluster;
use crate::clusters::reach::MemberReach;
use crate::health::{HostHealth, HostState};

/// Changes kept per cluster, newest last.
pub const KEEP: usize = 20;
pub const HISTORY_CONFIGMAP: &str = "tandem-cluster-history";

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StateChange {
    pub at: SystemTime,
    pub state: ClusterState,
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

fn state_of(cluster: &ManagedCluster) -> (ClusterState, Option<String>) {
    match &cluster.reach {
        Some(MemberReach::Unreachable(why)) => (ClusterState::Unreachable, Some(why.to_string())),
        _ if cluster.ready => (ClusterState::Ready, None),
        _ => (ClusterState::NotReady, cluster.not_ready_reason.clone()),
    }
}

/// A change as the host keeps it: one JSON object a line.
fn to_line(change: &StateChange) -> String {
    let at = change
        .at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    serde_json::json!({"at": at, "state": change.state, "reason": change.reason}).to_string()
}

/// The changes a host kept; lines that are not one are skipped.
fn parse(text: &str) -> VecDeque<StateChange> {
    text.lines()
        .filter_map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).ok()?;
            let state: ClusterState = serde_json::from_value(v["state"].clone()).ok()?;
            Some(StateChange {
                at: SystemTime::UNIX_EPOCH + Duration::from_secs(v["at"].as_u64()?),
                state,
                reason: v["reason"].as_str().map(str::to_string),
            })
        })
        .collect()
}

/// What `client`'s host kept, per cluster name.
pub async fn load(client: &Client) -> Result<BTreeMap<String, String>, kube::Error> {
    kept_data::read_all(client, HISTORY_CONFIGMAP).await
}

/// Adds `change` to what `client`'s host keeps for `cluster`, unless the last kept change
/// already says the same (another console saw it first).
pub async fn keep(client: &Client, cluster: &str, change: &StateChange) -> Result<(), kube::Error> {
    kept_data::update(client, HISTORY_CONFIGMAP, cluster, |old| {
        let mut changes = parse(old);
        if changes
            .back()
            .is_none_or(|last| last.state != change.state || last.reason != change.reason)
        {
            changes.push_back(change.clone());
        }
        while changes.len() > KEEP {
            changes.pop_front();
        }
        changes.iter().map(|c| to_line(c) + "\n").collect()
    })
    .await
}

/// Forgets what `client`'s host kept for `cluster` (it was removed from the host).
pub async fn forget(client: &Client, cluster: &str) -> Result<(), kube::Error> {
    kept_data::remove_key(client, HISTORY_CONFIGMAP, cluster).await
}

impl ClusterHistory {
    /// Starts from what `host` kept (`load`), per cluster name.
    pub fn seed(&mut self, host: &str, kept: &BTreeMap<String, String>) {
        for (cluster, text) in kept {
            let mut changes = parse(text);
            while changes.len() > KEEP {
                changes.pop_front();
            }
            self.changes
                .insert((host.to_string(), cluster.clone()), changes);
        }
    }

    /// Records what changed in this round of probes and gives every cluster its history;
    /// returns the new changes as (host, cluster, change), for the hosts to keep.
    pub fn record(&mut self, round: &mut [HostHealth]) -> Vec<(String, String, StateChange)> {
        let mut new = Vec::new();
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
                    let change = StateChange { at, state, reason };
                    new.push((host.name.clone(), cluster.name.clone(), change.clone()));
                    changes.push_back(change);
                    if changes.len() > KEEP {
                        changes.pop_front();
                    }
                }
                cluster.history = changes.iter().cloned().collect();
            }
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::ProbeFailure;

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

    fn history(round: &[HostHealth]) -> Vec<(u64, ClusterState)> {
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
    fn kept_changes_read_back_the_same_and_bad_lines_are_skipped() {
        let change = StateChange {
            at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
            state: ClusterState::NotReady,
            reason: Some("join failed".into()),
        };
        let text = format!(
            "{}\nnot json\n{{\"at\":1,\"state\":\"gone\"}}\n",
            to_line(&change)
        );
        assert_eq!(parse(&text), VecDeque::from([change.clone()]));
        // Seeded, the same state seen again is not a change.
        let mut h = ClusterHistory::default();
        h.seed("host", &BTreeMap::from([("member".to_string(), text)]));
        let mut r = round(1_800_000_100, false, None);
        assert!(h.record(&mut r).is_empty());
        assert_eq!(history(&r), vec![(1_800_000_000, ClusterState::NotReady)]);
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
            vec![
                (1, ClusterState::Ready),
                (3, ClusterState::Unreachable),
                (4, ClusterState::NotReady)
            ]
        );
        for at in 5..40 {
            let mut r = round(at, at % 2 == 0, ok.clone());
            h.record(&mut r);
            assert!(history(&r).len() <= KEEP);
        }
    }
}

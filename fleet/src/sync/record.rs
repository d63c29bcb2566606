//! What people see of a sync group, kept where every console replica can read it: whether
//! sync is on, the conflict log, the deletes replicated, the last round and the replication
//! lag. One ConfigMap (`tandem-sync`) beside the replicas' Lease on the first host; the
//! acting replica writes it, the others read it, and a restart or a new leader carries on
//! from it — the conflict log is never kept only in one process's memory.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Client;
use kube::api::Api;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::engine::{PlannedWrite, RoundReport};
use super::merge::{Conflict, Write};

pub const SYNC_CONFIGMAP: &str = "tandem-sync";
const KEY: &str = "state.json";
/// Conflicts and deletes kept, newest first: a ConfigMap holds at most 1 MiB.
pub const KEEP_CONFLICTS: usize = 300;
pub const KEEP_DELETES: usize = 200;
/// Plan rows and later-round reasons kept (their total is kept too).
pub const KEEP_PLAN: usize = 100;
/// A value longer than this is shown cut (a role's rules can be long).
const VALUE_CHARS: usize = 300;

/// One side of a logged conflict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedWrite {
    pub host: String,
    /// As shown: JSON text, a password hash only as "(a password hash)", `None` for removed.
    pub value: Option<String>,
    pub version: String,
}

/// A write that lost to another its writer had not seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedConflict {
    /// `Kind name`.
    pub object: String,
    pub field: String,
    pub kept: LoggedWrite,
    pub superseded: LoggedWrite,
    /// When the round that settled it ran (ms since the epoch).
    pub at_ms: u64,
}

/// A delete the engine carried to the other hosts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedDelete {
    pub object: String,
    /// The host it was deleted on.
    pub host: String,
    pub at_ms: u64,
}

/// The last round, in figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RoundFigures {
    pub at_ms: u64,
    pub objects: usize,
    pub writes: usize,
    /// Objects left for a later round, with why.
    pub deferred: Vec<(String, String)>,
    /// `host (Kind)` lists that did not answer.
    pub unreachable: Vec<String>,
}

/// Replication lag: from the engine's watch seeing a change to the change written on every
/// other host, over the latest writes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Lag {
    pub p50_ms: u64,
    pub p99_ms: u64,
    pub samples: usize,
}

impl Lag {
    pub fn of(samples: &[u64]) -> Lag {
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let at = |q: f64| {
            sorted
                .get(((sorted.len() as f64 * q).ceil() as usize).saturating_sub(1))
                .copied()
                .unwrap_or_default()
        };
        Lag {
            p50_ms: at(0.50),
            p99_ms: at(0.99),
            samples: sorted.len(),
        }
    }
}

/// The group's shared record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncRecord {
    /// Rounds write (on) or only plan (off).
    pub enabled: bool,
    /// Who turned it on or off last, and when.
    pub changed_by: Option<(String, u64)>,
    pub last_round: Option<RoundFigures>,
    /// While off: what turning it on would write (the first [`KEEP_PLAN`]).
    pub plan: Vec<PlannedWrite>,
    /// How many writes the plan holds in all.
    pub plan_total: usize,
    /// While off: the conflicts turning it on would settle (not yet in the log).
    pub plan_conflicts: Vec<LoggedConflict>,
    pub conflicts: Vec<LoggedConflict>,
    pub deletes: Vec<LoggedDelete>,
    pub lag: Lag,
    /// Copies written on each host since the record began.
    pub writes_per_host: BTreeMap<String, u64>,
    /// Changes seen by the watches and not yet settled by a round.
    pub pending: usize,
}

/// A field's value as people see it: a password hash never, long values cut.
pub fn shown(field: &str, value: Option<&Value>) -> Option<String> {
    let value = value?;
    if field == "/spec/password" {
        return Some("(a password hash)".into());
    }
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Some(if text.chars().count() > VALUE_CHARS {
        let cut: String = text.chars().take(VALUE_CHARS).collect();
        format!("{cut}…")
    } else {
        text
    })
}

fn logged(field: &str, write: &Write) -> LoggedWrite {
    LoggedWrite {
        host: write.host.clone(),
        value: shown(field, write.value.as_ref()),
        version: write.version.to_string(),
    }
}

/// A round's conflicts as the log keeps them.
pub fn conflicts_of(report: &RoundReport, at_ms: u64) -> Vec<LoggedConflict> {
    report
        .conflicts
        .iter()
        .map(|(object, c): &(String, Conflict)| LoggedConflict {
            object: object.clone(),
            field: c.field.clone(),
            kept: logged(&c.field, &c.kept),
            superseded: logged(&c.field, &c.superseded),
            at_ms,
        })
        .collect()
}

impl SyncRecord {
    /// Adds an applied round: its conflicts and deletes to the logs (newest first, bounded),
    /// its writes to the per-host counts.
    pub fn add_round(&mut self, report: &RoundReport, at_ms: u64) {
        let mut conflicts = conflicts_of(report, at_ms);
        conflicts.reverse();
        conflicts.append(&mut self.conflicts);
        conflicts.truncate(KEEP_CONFLICTS);
        self.conflicts = conflicts;
        let mut deletes: Vec<LoggedDelete> = report
            .deletes
            .iter()
            .rev()
            .map(|(object, tombstone)| LoggedDelete {
                object: object.clone(),
                host: tombstone.host.clone(),
                at_ms,
            })
            .collect();
        deletes.append(&mut self.deletes);
        deletes.truncate(KEEP_DELETES);
        self.deletes = deletes;
        for write in &report.planned {
            *self.writes_per_host.entry(write.host.clone()).or_default() += 1;
        }
        self.last_round = Some(figures(report, at_ms));
    }

    /// Keeps a plan round's result to show while sync is off.
    pub fn set_plan(&mut self, report: &RoundReport, at_ms: u64) {
        self.plan = report.planned.iter().take(KEEP_PLAN).cloned().collect();
        self.plan_total = report.planned.len();
        self.plan_conflicts = conflicts_of(report, at_ms);
        self.plan_conflicts.truncate(KEEP_PLAN);
        self.last_round = Some(figures(report, at_ms));
    }
}

fn figures(report: &RoundReport, at_ms: u64) -> RoundFigures {
    RoundFigures {
        at_ms,
        objects: report.objects,
        writes: report.writes,
        deferred: report.deferred.iter().take(KEEP_PLAN).cloned().collect(),
        unreachable: report.unreachable.clone(),
    }
}

/// The record on the home host; `Ok(None)` when none was written yet.
pub async fn load(client: &Client, namespace: &str) -> Result<Option<SyncRecord>, kube::Error> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let Some(map) = api.get_opt(SYNC_CONFIGMAP).await? else {
        return Ok(None);
    };
    let text = map.data.as_ref().and_then(|d| d.get(KEY));
    // An unreadable record (written by a newer Tandem, or edited by hand) reads as none
    // rather than stopping the page; the next write replaces it.
    Ok(text.and_then(|t| serde_json::from_str(t).ok()))
}

/// Writes the record (server-side apply, field manager `tandem`).
pub async fn save(
    client: &Client,
    namespace: &str,
    record: &SyncRecord,
) -> Result<(), kube::Error> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let text = serde_json::to_string(record).map_err(kube::Error::SerdeError)?;
    let body = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": SYNC_CONFIGMAP,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "tandem"},
        },
        "data": {KEY: text},
    });
    crate::writes::apply_owned(&api, SYNC_CONFIGMAP, &body)
        .await
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::hlc::Version;
    use crate::sync::merge::Tombstone;

    fn write(host: &str, value: Option<Value>, ms: u64) -> Write {
        Write {
            host: host.into(),
            value,
            version: Version {
                wall_ms: ms,
                counter: 0,
                host: host.into(),
            },
        }
    }

    #[test]
    fn the_log_keeps_the_newest_first_bounded_and_never_a_password() {
        let mut record = SyncRecord::default();
        for round in 0..(KEEP_CONFLICTS as u64 + 5) {
            let report = RoundReport {
                conflicts: vec![(
                    "User alice".into(),
                    Conflict {
                        field: "/spec/password".into(),
                        kept: write("host", Some(json!("$2a$10$secret-hash")), round),
                        superseded: write("host2", Some(json!("$2a$10$other-hash")), round),
                    },
                )],
                deletes: vec![(
                    "User bob".into(),
                    Tombstone {
                        host: "host2".into(),
                        version: Version::parse("1-0-host2").unwrap(),
                        had: Default::default(),
                    },
                )],
                ..Default::default()
            };
            record.add_round(&report, 1000 + round);
        }
        assert_eq!(record.conflicts.len(), KEEP_CONFLICTS);
        assert_eq!(
            record.conflicts[0].at_ms,
            1000 + KEEP_CONFLICTS as u64 + 4,
            "newest first"
        );
        assert_eq!(record.deletes.len(), KEEP_DELETES);
        let text = serde_json::to_string(&record).unwrap();
        assert!(!text.contains("$2a$"), "a password hash reached the record");
        assert!(text.contains("(a password hash)"));
    }

    #[test]
    fn lag_percentiles_and_long_values() {
        let samples: Vec<u64> = (1..=100).collect();
        let lag = Lag::of(&samples);
        assert_eq!((lag.p50_ms, lag.p99_ms, lag.samples), (50, 99, 100));
        assert_eq!(Lag::of(&[]), Lag::default());
        let long = json!("x".repeat(1000));
        let shown = shown("/spec/rules", Some(&long)).unwrap();
        assert_eq!(shown.chars().count(), VALUE_CHARS + 1);
        assert_eq!(super::shown("/spec/email", None), None);
    }
}

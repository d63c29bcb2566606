//! Background jobs kept on the home host (the first configured host), so that any console
//! replica can show a job another replica runs: one ConfigMap `tandem-job-<id>` per job, in
//! the configuration's `replicaNamespace`. The replica running a job rewrites its record as
//! steps end and beats every [`HEARTBEAT_EVERY`]; a record that stopped changing for
//! [`STALE_AFTER`] while "running" belongs to a replica that died, and is shown (and, by the
//! leader's sweep, written) as abandoned — never left running.
//!
//! Staleness is judged by how long *this* replica has seen the record unchanged (its
//! resourceVersion), not by comparing the writer's clock with ours.
//!
//! Records never hold a secret: the payloads are the reports pages show.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Client;
use kube::api::{Api, DeleteParams, ListParams, ObjectMeta};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

/// Label naming a record's job kind (`cluster-check`, `cluster-join`, …).
pub const JOB_LABEL: &str = "tandem.io/job";
pub(super) const NAME_PREFIX: &str = "tandem-job-";
/// The job kinds records are kept for (the `JOB_LABEL` values, and the metrics' `kind`).
const JOB_KINDS: [&str; 3] = ["cluster-check", "cluster-join", "repair"];
/// How often the running replica rewrites a record that did not otherwise change.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(2);
/// A running record unchanged for this long belongs to a replica that stopped.
pub const STALE_AFTER: Duration = Duration::from_secs(8);
/// How long a finished record stays readable.
pub const KEEP_FOR: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    Running,
    Finished,
    /// Asked of the leading replica, which has not taken it yet ([`super::job_requests`]).
    Requested,
    /// Its replica stopped before the job ended.
    Abandoned,
}

/// A job as kept on the host.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Stored {
    pub(super) owner: String,
    pub(super) replica: String,
    pub(super) phase: Phase,
    /// Changes on every heartbeat, so the resourceVersion does (an unchanged replace is not
    /// a write on a real API server).
    pub(super) beat: u64,
    /// Seconds since the epoch when the job ended (for retention only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) ended_at: Option<u64>,
    pub(super) payload: serde_json::Value,
}

/// Another replica's (or an earlier life's) job, as read from the host.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteJob<T> {
    pub payload: T,
    pub phase: Phase,
    /// The replica that ran (or runs) it.
    pub replica: String,
}

/// The job records of the fleet, as this replica reads and writes them.
#[derive(Clone)]
pub struct JobRecords {
    pub(super) home: Option<Client>,
    pub(super) namespace: String,
    pub(super) replica: String,
    /// Per record: the resourceVersion last seen and since when.
    seen: Arc<Mutex<HashMap<String, (String, Instant)>>>,
}

pub(super) fn record_name(id: &str) -> String {
    format!("{NAME_PREFIX}{id}")
}

fn epoch_seconds(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl JobRecords {
    /// `home`: the cluster records are kept on, in `namespace`; `None` keeps jobs on this
    /// replica only.
    pub fn new(home: Option<Client>, namespace: &str, replica: String) -> Self {
        Self {
            home,
            namespace: namespace.into(),
            replica,
            seen: Arc::default(),
        }
    }

    pub fn replica(&self) -> &str {
        &self.replica
    }

    /// Starts keeping the record of job `id` of this replica. Send each new payload to the
    /// keeper; [`RecordKeeper::finish`] writes the last one.
    pub fn keep<T: Serialize + Send + Sync + 'static>(
        &self,
        kind: &'static str,
        id: &str,
        owner: &str,
        first: &T,
    ) -> RecordKeeper {
        let (tx, rx) = watch::channel((to_value(first), Phase::Running));
        if let Some(client) = self.home.clone() {
            let api: Api<ConfigMap> = Api::namespaced(client, &self.namespace);
            let stored = Stored {
                owner: owner.into(),
                replica: self.replica.clone(),
                phase: Phase::Running,
                beat: 0,
                ended_at: None,
                payload: serde_json::Value::Null,
            };
            tokio::spawn(write_loop(api, kind, record_name(id), stored, None, rx));
        }
        RecordKeeper { tx }
    }

    /// Like [`Self::keep`] for a job whose id names what it works on (a repair of one
    /// object), claimed before it starts: the record is written first, replacing one that
    /// ended or whose replica stopped, and refused while another replica's job of the id
    /// runs — so two replicas never run it at once. Without a home host, always granted.
    pub async fn claim<T: Serialize + Send + Sync + 'static>(
        &self,
        kind: &'static str,
        id: &str,
        owner: &str,
        first: &T,
    ) -> Result<RecordKeeper, Claimed> {
        let (tx, rx) = watch::channel((to_value(first), Phase::Running));
        let Some(client) = self.home.clone() else {
            return Ok(RecordKeeper { tx });
        };
        let api: Api<ConfigMap> = Api::namespaced(client, &self.namespace);
        let name = record_name(id);
        let mut stored = Stored {
            owner: owner.into(),
            replica: self.replica.clone(),
            phase: Phase::Running,
            beat: 1,
            ended_at: None,
            payload: to_value(first),
        };
        let written = match self.write_unless_held(&api, kind, &name, &mut stored).await {
            Err(Unwritten::Held { owner }) => return Err(Claimed { owner }),
            Err(Unwritten::Failed(error)) => Err(error),
            Ok(map) => Ok(map),
        };
        match written {
            Ok(map) => {
                tokio::spawn(write_loop(
                    api,
                    kind,
                    name,
                    stored,
                    map.metadata.resource_version,
                    rx,
                ));
                Ok(RecordKeeper { tx })
            }
            // Another replica wrote it between our read and our write: it runs the job.
            Err(RecordError::Api(kube::Error::Api(s))) if s.code == 409 => {
                let owner = bounded(api.get_opt(&name))
                    .await
                    .ok()
                    .flatten()
                    .and_then(|m| self.decode(&m))
                    .map(|(held, _)| held.owner)
                    .unwrap_or_default();
                Err(Claimed { owner })
            }
            // The host does not answer: the job runs here, its record kept when it can be.
            Err(error) => {
                tracing::debug!(job = %name, %error, "job record not claimed; kept when the host answers");
                tokio::spawn(write_loop(api, kind, name, stored, None, rx));
                Ok(RecordKeeper { tx })
            }
        }
    }

    /// Writes `stored` as record `name`: created, or replacing at its resourceVersion a
    /// record whose job ended or whose replica stopped (or that no leader took); refused while
    /// a live job of the id is asked for or runs. What [`Self::claim`] and requests share.
    pub(super) async fn write_unless_held(
        &self,
        api: &Api<ConfigMap>,
        kind: &str,
        name: &str,
        stored: &mut Stored,
    ) -> Result<ConfigMap, Unwritten> {
        let existing = bounded(api.get_opt(name))
            .await
            .map_err(Unwritten::Failed)?;
        let version = match existing {
            None => None,
            Some(map) => {
                let Some((held, stale)) = self.decode(&map) else {
                    return Err(Unwritten::Held {
                        owner: String::new(),
                    });
                };
                if matches!(held.phase, Phase::Running | Phase::Requested) && !stale {
                    return Err(Unwritten::Held { owner: held.owner });
                }
                stored.beat = held.beat + 1;
                map.metadata.resource_version.clone()
            }
        };
        let map = record_map(name, kind, stored, version.clone());
        let params = crate::writes::post_params();
        match version {
            None => bounded(api.create(&params, &map)).await,
            Some(_) => bounded(api.replace(name, &params, &map)).await,
        }
        .map_err(Unwritten::Failed)
    }

    /// Job `id` as kept on the host, if `owner` started it. A record still "running" that
    /// this replica has seen unchanged for [`STALE_AFTER`] is reported abandoned.
    pub async fn read<T: DeserializeOwned>(&self, id: &str, owner: &str) -> Option<RemoteJob<T>> {
        self.read_where(id, |o| o == owner).await
    }

    /// Job `id` as kept on the host, whoever started it (a repair, which everyone who sees
    /// the object follows).
    pub async fn read_any<T: DeserializeOwned>(&self, id: &str) -> Option<RemoteJob<T>> {
        self.read_where(id, |_| true).await
    }

    async fn read_where<T: DeserializeOwned>(
        &self,
        id: &str,
        owner_ok: impl Fn(&str) -> bool,
    ) -> Option<RemoteJob<T>> {
        let client = self.home.clone()?;
        let api: Api<ConfigMap> = Api::namespaced(client, &self.namespace);
        let name = record_name(id);
        let Ok(found) = bounded(api.get_opt(&name)).await else {
            // Unanswered: how long the record looked unchanged starts again.
            self.seen
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&name);
            return None;
        };
        let map = found?;
        let (stored, stale) = self.decode(&map)?;
        if !owner_ok(&stored.owner) {
            return None;
        }
        let phase = if stale {
            Phase::Abandoned
        } else {
            stored.phase
        };
        Some(RemoteJob {
            payload: serde_json::from_value(stored.payload).ok()?,
            phase,
            replica: stored.replica,
        })
    }

    pub(super) fn decode(&self, map: &ConfigMap) -> Option<(Stored, bool)> {
        let name = map.metadata.name.clone()?;
        let stored = stored_in(map)?;
        let version = map.metadata.resource_version.clone().unwrap_or_default();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        // Records read once and never again (another replica's ended jobs) are forgotten.
        seen.retain(|_, (_, at)| at.elapsed() < KEEP_FOR * 2);
        let since = match seen.get(&name) {
            Some((v, at)) if *v == version => *at,
            _ => {
                seen.insert(name, (version, Instant::now()));
                Instant::now()
            }
        };
        let stale = match stored.phase {
            Phase::Running => stored.replica != self.replica && since.elapsed() >= STALE_AFTER,
            // No leader took it: there is none, or it cannot write.
            Phase::Requested => since.elapsed() >= super::job_requests::REQUEST_WAIT,
            Phase::Finished | Phase::Abandoned => false,
        };
        Some((stored, stale))
    }

    /// The leader's round: records of replicas that stopped are written abandoned, records
    /// that ended more than [`KEEP_FOR`] ago are deleted. Returns how many were abandoned.
    pub async fn sweep(&self) -> Result<usize, RecordError> {
        let Some(client) = self.home.clone() else {
            return Ok(0);
        };
        let api: Api<ConfigMap> = Api::namespaced(client, &self.namespace);
        let list = match bounded(api.list(&ListParams::default().labels(JOB_LABEL))).await {
            Ok(list) => list,
            Err(error) => {
                // After an outage nothing may look stale for having been out of sight.
                self.seen.lock().unwrap_or_else(|p| p.into_inner()).clear();
                return Err(error);
            }
        };
        let now = epoch_seconds(SystemTime::now());
        let mut abandoned = 0;
        let mut present = Vec::new();
        for mut map in list.items {
            let Some(name) = map.metadata.name.clone() else {
                continue;
            };
            present.push(name.clone());
            let Some((mut stored, stale)) = self.decode(&map) else {
                continue;
            };
            let ended_long_ago = stored
                .ended_at
                .is_some_and(|at| now.saturating_sub(at) > KEEP_FOR.as_secs());
            if ended_long_ago {
                let _ = bounded(api.delete(&name, &DeleteParams::default())).await;
            } else if stale {
                stored.phase = Phase::Abandoned;
                stored.ended_at = Some(now);
                map.data = Some(record_data(&stored));
                // At the resourceVersion read: a replica that came back and wrote wins.
                if bounded(api.replace(&name, &crate::writes::post_params(), &map))
                    .await
                    .is_ok()
                {
                    tracing::warn!(job = %name, replica = %stored.replica, "a job's replica stopped; the job is marked abandoned");
                    let label = map.metadata.labels.as_ref().and_then(|l| l.get(JOB_LABEL));
                    let kind = JOB_KINDS
                        .into_iter()
                        .find(|k| label.is_some_and(|l| l == k))
                        .unwrap_or("other");
                    crate::metrics::job_ended(kind, "abandoned");
                    abandoned += 1;
                }
            }
        }
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|name, _| present.contains(name));
        Ok(abandoned)
    }
}

/// The job a record ConfigMap holds.
pub(super) fn stored_in(map: &ConfigMap) -> Option<Stored> {
    serde_json::from_str(map.data.as_ref()?.get("record")?).ok()
}

pub(super) fn to_value<T: Serialize>(payload: &T) -> serde_json::Value {
    serde_json::to_value(payload).unwrap_or(serde_json::Value::Null)
}

fn record_data(stored: &Stored) -> BTreeMap<String, String> {
    BTreeMap::from([(
        "record".to_string(),
        serde_json::to_string(stored).unwrap_or_default(),
    )])
}

/// Longest wait for one call on the home host: a wizard's poll or the leader's sweep never
/// hangs on a host that stopped answering.
const CALL_TIMEOUT: Duration = Duration::from_secs(4);

/// Why a record call failed.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(transparent)]
    Api(#[from] kube::Error),
    #[error("the host did not answer within {CALL_TIMEOUT:?}")]
    TimedOut,
}

pub(super) async fn bounded<T>(
    call: impl std::future::Future<Output = Result<T, kube::Error>>,
) -> Result<T, RecordError> {
    match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Ok(result) => result.map_err(RecordError::Api),
        Err(_) => Err(RecordError::TimedOut),
    }
}

/// Why [`JobRecords::write_unless_held`] wrote nothing.
pub(super) enum Unwritten {
    /// A live job of the id, started by `owner`.
    Held {
        owner: String,
    },
    Failed(RecordError),
}

/// Another replica runs a job of this id (`owner` started it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("another replica runs this job (started by {owner})")]
pub struct Claimed {
    pub owner: String,
}

pub(super) fn record_map(
    name: &str,
    kind: &str,
    stored: &Stored,
    version: Option<String>,
) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            resource_version: version,
            labels: Some(BTreeMap::from([
                (
                    "app.kubernetes.io/managed-by".to_string(),
                    "tandem".to_string(),
                ),
                (JOB_LABEL.to_string(), kind.to_string()),
            ])),
            ..Default::default()
        },
        data: Some(record_data(stored)),
        ..Default::default()
    }
}

/// The running side of one record.
pub struct RecordKeeper {
    pub(super) tx: watch::Sender<(serde_json::Value, Phase)>,
}

impl RecordKeeper {
    pub fn update<T: Serialize>(&self, payload: &T) {
        self.tx.send_replace((to_value(payload), Phase::Running));
    }

    pub fn finish<T: Serialize>(&self, payload: &T) {
        self.tx.send_replace((to_value(payload), Phase::Finished));
    }
}

/// Writes the newest payload whenever it changes, and beats while the job runs. Writes are
/// replaces at the resourceVersion last written. A record the leader marked abandoned while
/// this replica was cut off is taken back (the job is alive); any other change by another
/// replica ends the keeping. The last payload is retried until it is written (for a while),
/// so a passing failure never leaves a finished job looking abandoned.
pub(super) async fn write_loop(
    api: Api<ConfigMap>,
    kind: &'static str,
    name: String,
    mut stored: Stored,
    mut version: Option<String>,
    mut rx: watch::Receiver<(serde_json::Value, Phase)>,
) {
    let mut closed = false;
    let mut failures_after_end = 0;
    // `claim` wrote the first version already; `keep` has written nothing yet.
    let mut write_now = version.is_none();
    loop {
        if !write_now {
            tokio::select! {
                changed = rx.changed(), if !closed => {
                    if changed.is_err() {
                        closed = true;
                        if stored.phase != Phase::Finished {
                            // The keeper is gone without finishing (a crash): stop beating,
                            // so the record is seen abandoned.
                            return;
                        }
                    }
                }
                _ = tokio::time::sleep(HEARTBEAT_EVERY) => {}
            }
        }
        write_now = false;
        // The newest payload (the sender may be gone: its last one).
        let (payload, phase) = rx.borrow_and_update().clone();
        stored.payload = payload;
        stored.phase = phase;
        if stored.phase == Phase::Finished && stored.ended_at.is_none() {
            stored.ended_at = Some(epoch_seconds(SystemTime::now()));
        }
        stored.beat += 1;
        let map = record_map(&name, kind, &stored, version.clone());
        let written = match &version {
            None => bounded(api.create(&crate::writes::post_params(), &map)).await,
            Some(_) => bounded(api.replace(&name, &crate::writes::post_params(), &map)).await,
        };
        match written {
            Ok(map) => {
                version = map.metadata.resource_version;
                if stored.phase == Phase::Finished {
                    return;
                }
            }
            Err(RecordError::Api(kube::Error::Api(s))) if s.code == 409 || s.code == 404 => {
                match taken_back(&api, &name, &stored.replica).await {
                    Some(current) => {
                        tracing::info!(job = %name, "the job's record was marked abandoned while this replica was cut off; taken back");
                        version = Some(current);
                        write_now = true;
                        continue;
                    }
                    None => {
                        tracing::warn!(job = %name, "the job's record was changed by another replica; no longer kept");
                        return;
                    }
                }
            }
            // The host is unreachable for now: the next change or beat tries again.
            Err(error) => {
                tracing::debug!(job = %name, %error, "job record not written");
                if stored.phase == Phase::Finished {
                    failures_after_end += 1;
                    if failures_after_end > 30 {
                        tracing::warn!(job = %name, "the job's last state could not be written; other replicas will show it abandoned");
                        return;
                    }
                }
            }
        }
    }
}

/// The current resourceVersion of record `name` when it is still this replica's job
/// (`replica`), marked abandoned by a leader that lost sight of it.
async fn taken_back(api: &Api<ConfigMap>, name: &str, replica: &str) -> Option<String> {
    let map = bounded(api.get_opt(name)).await.ok()??;
    let stored = stored_in(&map)?;
    (stored.replica == replica && stored.phase == Phase::Abandoned)
        .then_some(map.metadata.resource_version?)
}

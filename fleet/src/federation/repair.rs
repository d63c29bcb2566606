//! Repairs run in the background, one at a time per object: they wait up to a minute for
//! the hosts' controllers and kubefed, and every open page of the object follows them step by
//! step. What a repair did stays readable for a while after it ends, for whoever looks.
//!
//! Steps and failures are typed, so the console can say them in the reader's language; their
//! English `Display` is what the audit log records.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};

use super::{FederationMonitor, ObjectKey};
use crate::jobs::JobRecord;
use crate::replicas::{JobRecords, NotRequested, Phase, RecordKeeper};

/// Longest wait, before a repair's first step, for the watches to list the hosts.
const LISTED_WAIT: Duration = Duration::from_secs(20);

/// Why a repair was not started here.
enum Refusal {
    /// Repairs run on another replica: ask it.
    NotHere,
    Refused(RepairRefused),
}

/// What [`FederationMonitor::hold_locally`] found.
enum Hold {
    Held,
    Busy(String),
    NotHere,
}

/// How long a finished repair can still be read.
pub const REPAIR_KEPT_FOR: Duration = Duration::from_secs(15 * 60);

/// One thing a repair did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RepairStep {
    /// `host`'s object now carries `winner`'s version.
    Copied { host: String, winner: String },
    /// Every host federates the same content.
    HostsAgree,
    /// Deleted on `host`.
    Deleted { host: String },
    /// kubefed's finalizer cleared on `host`'s federated object, every member being clean.
    FinalizerCleared { host: String },
    /// No host or member holds the object any more.
    Gone,
}

impl fmt::Display for RepairStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Copied { host, winner } => write!(f, "{host}: now carries {winner}'s version"),
            Self::HostsAgree => f.write_str("every host now federates the same version"),
            Self::Deleted { host } => write!(f, "{host}: deleted"),
            Self::FinalizerCleared { host } => write!(
                f,
                "{host}: cleared kubefed's finalizer (every member was clean)"
            ),
            Self::Gone => f.write_str("no host or member holds it any more"),
        }
    }
}

pub use wire::federation::HostTask;

/// What had still not happened when a repair gave up waiting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unsettled {
    /// The hosts' federated objects still differ.
    HostsDiffer,
    /// Federated objects remain on `hosts`; `members` members were seen holding a copy,
    /// `unseen` more could not be seen (out of reach, not listed yet), and the Clusters of
    /// `unread` hosts could not be read (their members are not even known): each kept
    /// kubefed's finalizer.
    StillHeld {
        hosts: Vec<String>,
        members: usize,
        #[serde(default)]
        unseen: usize,
        #[serde(default)]
        unread: Vec<String>,
    },
}

impl fmt::Display for Unsettled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HostsDiffer => f.write_str("the hosts' federated objects still differ"),
            Self::StillHeld {
                hosts,
                members,
                unseen,
                unread,
            } => {
                let mut what = Vec::new();
                if !hosts.is_empty() {
                    what.push(format!("federated objects remain on {}", hosts.join(", ")));
                }
                if *members > 0 {
                    what.push(format!("{members} member(s) still hold a copy"));
                }
                if *unseen > 0 {
                    what.push(format!("{unseen} member(s) could not be seen"));
                }
                if !unread.is_empty() {
                    what.push(format!(
                        "the clusters of {} could not be read",
                        unread.join(", ")
                    ));
                }
                f.write_str(&what.join(" and "))
            }
        }
    }
}

/// Why a repair stopped. Clone and serializable, so a repair running in the background can
/// keep it, on the host too (any replica shows it).
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResolveError {
    #[error("host {0} is not one of this console's hosts")]
    UnknownHost(String),
    #[error("{} {name} does not exist on {host}", kind.kind_name())]
    NotOnHost {
        kind: super::FederatedKind,
        name: String,
        host: String,
    },
    /// `detail`: the API server's answer (or the connection's failure), as kube words it.
    #[error("{host} refused or did not answer while {task}: {detail}")]
    Host {
        host: String,
        task: HostTask,
        detail: String,
    },
    #[error("after {waited} s {unsettled}; what was done so far is in the audit log")]
    NotSettled { waited: u64, unsettled: Unsettled },
    /// No other host is known to share a member with the winner (the console has not read
    /// the hosts' clusters yet, or they share none): there is nobody to copy to, and saying
    /// "done" would be a lie.
    #[error("no other host is known to share a member with {0} yet; try again in a few seconds")]
    NoOtherHost(String),
}

/// Who hears of a repair's steps as they happen.
type StepObserver = Box<dyn Fn(&RepairStep) + Send + Sync>;

/// What a repair did, step by step; each step is also handed to the repair's observer as it
/// happens (the console shows repairs live).
#[derive(Default)]
pub struct Resolution {
    pub steps: Vec<RepairStep>,
    observer: Option<StepObserver>,
}

impl std::fmt::Debug for Resolution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolution")
            .field("steps", &self.steps)
            .finish()
    }
}

impl Resolution {
    /// A resolution whose steps are also reported to `observer`.
    pub fn observed(observer: impl Fn(&RepairStep) + Send + Sync + 'static) -> Self {
        Self {
            steps: Vec::new(),
            observer: Some(Box::new(observer)),
        }
    }

    pub(super) fn push(&mut self, step: RepairStep) {
        if let Some(observer) = &self.observer {
            observer(&step);
        }
        self.steps.push(step);
    }
}

/// Which repair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RepairAction {
    PickWinner { winner: String },
    DeleteEverywhere,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RepairOutcome {
    Running,
    Done,
    Failed(ResolveError),
    /// The repair stopped on an internal error.
    Crashed,
    /// The console replica running it stopped before it ended.
    Abandoned,
}

/// A repair of one object, running or recently ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RepairRecord {
    /// What it repairs (a leader taking a request learns it here). Records of versions
    /// before requests lack it.
    #[serde(default)]
    pub object: Option<ObjectKey>,
    pub action: RepairAction,
    pub actor: String,
    pub started: SystemTime,
    pub steps: Vec<RepairStep>,
    pub outcome: RepairOutcome,
}

impl crate::jobs::JobRecord for RepairRecord {
    fn running(&self) -> bool {
        matches!(self.outcome, RepairOutcome::Running)
    }

    fn crash(&mut self) {
        self.outcome = RepairOutcome::Crashed;
    }
}

/// Why a repair was not started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepairRefused {
    #[error("no host federates {kind} `{name}` (any more)")]
    Unknown { kind: &'static str, name: String },
    #[error("{host} holds no version of {kind} `{name}` to keep")]
    WinnerLacks {
        host: String,
        kind: &'static str,
        name: String,
    },
    #[error("a repair of {kind} `{name}` started by {actor} is still running; wait for it")]
    Busy {
        kind: &'static str,
        name: String,
        actor: String,
    },
    /// This replica does not lead, and the request for the leader could not be written on
    /// the home host (where the Lease and job records are).
    #[error("the repair could not be handed to the leading console replica: {reason}")]
    LeaderUnreachable { reason: String },
}

impl FederationMonitor {
    /// Starts `action` on `key` in the background for `actor`; `repair(key)` follows it.
    pub async fn start_repair(
        &self,
        key: &ObjectKey,
        action: RepairAction,
        actor: &str,
    ) -> Result<(), RepairRefused> {
        let kind = key.kind.kind_name();
        let name = key.name.clone();
        let row = self.row(key).ok_or_else(|| RepairRefused::Unknown {
            kind,
            name: name.clone(),
        })?;
        if let RepairAction::PickWinner { winner } = &action
            && !row
                .hosts
                .iter()
                .any(|h| &h.host == winner && h.fingerprint.is_some())
        {
            return Err(RepairRefused::WinnerLacks {
                host: winner.clone(),
                kind,
                name,
            });
        }
        let record = RepairRecord {
            object: Some(key.clone()),
            action: action.clone(),
            actor: actor.to_string(),
            started: SystemTime::now(),
            steps: Vec::new(),
            outcome: RepairOutcome::Running,
        };
        let Some(records) = self.shared.records.get().cloned() else {
            // Alone: always here.
            return match self.start_here(key, record, None).await {
                Err(Refusal::Refused(refused)) => Err(refused),
                _ => Ok(()),
            };
        };
        match self.start_here(key, record.clone(), Some(&records)).await {
            // Not the replica whose watches see every member now: asked of the leader.
            Err(Refusal::NotHere) => {}
            Err(Refusal::Refused(refused)) => return Err(refused),
            Ok(()) => return Ok(()),
        }
        match records
            .request("repair", &repair_id(key), actor, &record)
            .await
        {
            Ok(()) => Ok(()),
            Err(NotRequested::Held { owner }) => Err(RepairRefused::Busy {
                kind,
                name,
                actor: owner,
            }),
            Err(NotRequested::Unwritten(error)) => Err(RepairRefused::LeaderUnreachable {
                reason: error.to_string(),
            }),
        }
    }

    /// Runs `record` here, kept on the host (claimed first) when there are `records`; with
    /// records, only where repairs run ([`super::monitor::Shared::runs_repairs`]).
    async fn start_here(
        &self,
        key: &ObjectKey,
        record: RepairRecord,
        records: Option<&JobRecords>,
    ) -> Result<(), Refusal> {
        let (kind, name) = (key.kind.kind_name(), key.name.clone());
        match self.hold_locally(key, &record, records.is_some()) {
            Hold::Held => {}
            Hold::NotHere => return Err(Refusal::NotHere),
            Hold::Busy(actor) => {
                return Err(Refusal::Refused(RepairRefused::Busy { kind, name, actor }));
            }
        }
        // The record on the host is the lock across replicas: written before any work, and
        // refused while another replica's repair of the object runs.
        let keeper = match records {
            None => None,
            Some(records) => match records
                .claim("repair", &repair_id(key), &record.actor, &record)
                .await
            {
                Ok(keeper) => Some(Arc::new(keeper)),
                Err(held) => {
                    self.shared.repairs.lock().remove(key);
                    return Err(Refusal::Refused(RepairRefused::Busy {
                        kind,
                        name,
                        actor: held.owner,
                    }));
                }
            },
        };
        self.run(key.clone(), record, keeper);
        Ok(())
    }

    /// The leader's side of a request: takes it from the host and runs it.
    pub(crate) async fn run_requested(&self, records: &JobRecords, id: &str, record: RepairRecord) {
        // The id names the object: a record whose payload names another is not run.
        let Some(key) = record.object.clone().filter(|k| repair_id(k) == id) else {
            return;
        };
        if !matches!(self.hold_locally(&key, &record, true), Hold::Held) {
            return;
        }
        match records.take("repair", id).await {
            Some(keeper) => {
                tracing::info!(kind = key.kind.key(), name = %key.name, actor = %record.actor, "running a repair another replica asked for");
                self.run(key, record, Some(Arc::new(keeper)));
            }
            None => {
                self.shared.repairs.lock().remove(&key);
            }
        }
    }

    /// Enters `record` as this replica's repair of `key`, unless one runs here or (`shared`)
    /// repairs do not run here now. Decided under the repairs' lock, the one the watches
    /// are stopped under.
    fn hold_locally(&self, key: &ObjectKey, record: &RepairRecord, shared: bool) -> Hold {
        let mut repairs = self.shared.repairs.lock();
        if let Some(running) = repairs.running(key) {
            return Hold::Busy(running.owner.clone());
        }
        if shared && !self.shared.runs_repairs.load(Ordering::SeqCst) {
            return Hold::NotHere;
        }
        repairs.insert(key.clone(), &record.actor, record.clone());
        Hold::Held
    }

    /// Runs the repair `record` of `key` (entered locally already) in the background.
    fn run(&self, key: ObjectKey, record: RepairRecord, keeper: Option<Arc<RecordKeeper>>) {
        let monitor = self.clone();
        let (actor, action) = (record.actor, record.action);
        let (job, job_keeper) = (key.clone(), keeper.clone());
        let work = async move {
            // Every settle check reads the watches: not before they listed what the hosts
            // hold (a replica alone, just started). Unseen members count as holding anyway.
            let waiting = Instant::now();
            while !super::sharing::listed(&monitor) && waiting.elapsed() < LISTED_WAIT {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            let observer = {
                let (shared, key, keeper) = (monitor.shared.clone(), key.clone(), keeper.clone());
                move |step: &RepairStep| {
                    shared
                        .repairs
                        .update(&key, keeper.as_deref(), |r| r.steps.push(step.clone()));
                }
            };
            let mut resolution = Resolution::observed(observer);
            let result = match &action {
                RepairAction::PickWinner { winner } => {
                    monitor
                        .pick_winner_observed(&key, winner, &actor, &mut resolution)
                        .await
                }
                RepairAction::DeleteEverywhere => {
                    monitor
                        .coordinated_delete_observed(&key, &actor, &mut resolution)
                        .await
                }
            };
            let outcome = match result {
                Ok(()) => RepairOutcome::Done,
                Err(e) => RepairOutcome::Failed(e),
            };
            finish(&monitor, &key, outcome, keeper.as_deref());
        };
        // A repair that died (a bug) must not stay "running" and block the object.
        self.shared.repairs.spawn(job, job_keeper, work, |_| {
            crate::metrics::job_ended("repair", "crashed")
        });
    }

    /// The object's running or recently ended repair: this replica's, or another's from the
    /// host (shown abandoned when its replica stopped before it ended).
    pub async fn repair(&self, key: &ObjectKey) -> Option<RepairRecord> {
        let local = self.shared.repairs.get(key, None);
        if local.is_some() {
            return local;
        }
        let records = self.shared.records.get()?;
        let remote = records.read_any::<RepairRecord>(&repair_id(key)).await?;
        let mut record = remote.payload;
        if remote.phase == Phase::Abandoned && record.running() {
            record.outcome = RepairOutcome::Abandoned;
        }
        Some(record)
    }
}

/// The record name of `key`'s repair: one per object (a new repair replaces the last), with
/// the name hashed so that any object name makes a valid ConfigMap name.
fn repair_id(key: &ObjectKey) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(key.name.as_bytes());
    let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("repair-{}-{hash}", key.kind.key())
}

fn finish(
    monitor: &FederationMonitor,
    key: &ObjectKey,
    outcome: RepairOutcome,
    keeper: Option<&RecordKeeper>,
) {
    crate::metrics::job_ended(
        "repair",
        match &outcome {
            RepairOutcome::Running => "running",
            RepairOutcome::Done => "done",
            RepairOutcome::Failed(_) => "failed",
            RepairOutcome::Crashed => "crashed",
            RepairOutcome::Abandoned => "abandoned",
        },
    );
    monitor
        .shared
        .repairs
        .finish(key, keeper, |r| r.outcome = outcome);
}

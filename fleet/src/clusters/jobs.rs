//! Checks and joins run in the background while the wizard asks how far they got: each job
//! records its steps and actions as they end. A job holds no kubeconfig once it is done —
//! only what the reports say, which never includes a secret — and is readable by the person
//! who started it only.
//!
//! Each job is also kept on the home host ([`crate::replicas::JobRecords`]), so a wizard
//! served by another console replica follows it, and a job whose replica died shows failed.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::{
    ActionReport, BasicProblem, Candidate, CheckStep, HostLink, Side, StepReport, check_cluster,
    join_cluster,
};
use crate::jobs::JobTable;
use crate::replicas::{JobRecords, Phase};

/// How long a finished job can still be read.
const KEEP_FOR: Duration = Duration::from_secs(15 * 60);
/// Jobs one person may have running at once.
const RUNNING_PER_OWNER: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobKind {
    Check,
    Join,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobState {
    Running,
    /// Checks only: every step passed (warnings allowed).
    Passed,
    /// A step failed or the join could not finish, and why.
    Failed(JobFailure),
    Joined,
}

/// Why a job failed; the console words it in the reader's language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobFailure {
    /// These steps failed (their reports say why).
    Checks(Vec<CheckStep>),
    /// The basic information was refused.
    Invalid(BasicProblem),
    /// A write of the join failed: (side, object, the API server's words, what this attempt
    /// created and could not remove again).
    Write(Side, String, String, Vec<String>),
    /// The console replica running it stopped before it ended.
    Abandoned,
    /// It stopped on an internal error.
    Crashed,
}

impl JobFailure {
    fn of(e: super::JoinError) -> Self {
        use super::JoinError as E;
        match e {
            E::Invalid(problem) => Self::Invalid(problem),
            E::ChecksFailed(steps) => Self::checks(&steps),
            E::Write {
                side,
                object,
                message,
                left_behind,
            } => Self::Write(side, object, message, left_behind),
        }
    }

    fn checks(steps: &[StepReport]) -> Self {
        Self::Checks(
            steps
                .iter()
                .filter(|s| s.is_failure())
                .map(|s| s.step)
                .collect(),
        )
    }
}

impl std::fmt::Display for JobFailure {
    /// In English, for the host's Events and logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Checks(steps) => write!(
                f,
                "the checks did not pass: {}",
                steps
                    .iter()
                    .map(|s| s.title())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Self::Invalid(problem) => write!(f, "{problem}"),
            Self::Write(side, object, message, _) => write!(f, "{side} {object}: {message}"),
            Self::Abandoned => f.write_str("the console replica running it stopped"),
            Self::Crashed => f.write_str("it stopped on an internal error"),
        }
    }
}

/// What the wizard shows of a job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobView {
    pub id: String,
    pub kind: JobKind,
    pub host: String,
    pub cluster: String,
    pub steps: Vec<StepReport>,
    pub actions: Vec<ActionReport>,
    pub state: JobState,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum JobError {
    #[error("this console does not manage a host named `{0}`")]
    UnknownHost(String),
    #[error("{0} checks are already running for you; wait for one to finish")]
    TooMany(usize),
}

impl crate::jobs::JobRecord for JobView {
    fn running(&self) -> bool {
        self.state == JobState::Running
    }

    fn crash(&mut self) {
        self.state = JobState::Failed(JobFailure::Crashed);
    }
}

/// The running and recently finished jobs of this console.
#[derive(Clone)]
pub struct ClusterJobs {
    hosts: Arc<Vec<HostLink>>,
    jobs: JobTable<String, JobView>,
    records: JobRecords,
}

impl ClusterJobs {
    pub fn new(hosts: Vec<HostLink>, records: JobRecords) -> Self {
        Self {
            hosts: Arc::new(hosts),
            jobs: JobTable::new(KEEP_FOR),
            records,
        }
    }

    pub fn records(&self) -> &JobRecords {
        &self.records
    }

    pub fn host(&self, name: &str) -> Option<&HostLink> {
        self.hosts.iter().find(|h| h.name == name)
    }

    /// Every host but `name`.
    pub fn others(&self, name: &str) -> Vec<HostLink> {
        self.hosts
            .iter()
            .filter(|h| h.name != name)
            .cloned()
            .collect()
    }

    /// Starts checking (or checking and joining) `candidate` on `host` for `owner`.
    /// The job's record is on the home host before this returns, so a page served by any
    /// replica finds it from the first poll.
    pub async fn start(
        &self,
        kind: JobKind,
        owner: &str,
        host: &str,
        candidate: Candidate,
    ) -> Result<String, JobError> {
        let link = self
            .host(host)
            .cloned()
            .ok_or_else(|| JobError::UnknownHost(host.into()))?;
        let others = self.others(host);
        let id = job_id();
        let first = JobView {
            id: id.clone(),
            kind,
            host: host.into(),
            cluster: candidate.name.clone(),
            steps: Vec::new(),
            actions: Vec::new(),
            state: JobState::Running,
        };
        {
            let mut jobs = self.jobs.lock();
            let running = jobs.running_of(owner);
            if running >= RUNNING_PER_OWNER {
                return Err(JobError::TooMany(running));
            }
            jobs.insert(id.clone(), owner, first.clone());
        }
        // A fresh random id: nobody else holds it, so the claim only writes the record first.
        let keeper = Arc::new(
            match self
                .records
                .claim(record_kind(kind), &id, owner, &first)
                .await
            {
                Ok(keeper) => keeper,
                Err(_) => self.records.keep(record_kind(kind), &id, owner, &first),
            },
        );
        let (actor, replica) = (owner.to_string(), self.records.replica().to_string());
        let jobs = self.jobs.clone();
        let job = id.clone();
        let work_keeper = keeper.clone();
        let work = async move {
            let keeper = work_keeper;
            let update = |f: &mut dyn FnMut(&mut JobView)| jobs.update(&job, Some(&keeper), f);
            let mut on_step = |s: &StepReport| update(&mut |v| v.steps.push(s.clone()));
            let state = match kind {
                JobKind::Check => {
                    let outcome =
                        check_cluster(&link, &others, &candidate, SystemTime::now(), &mut on_step)
                            .await;
                    if outcome.passed() {
                        JobState::Passed
                    } else {
                        JobState::Failed(JobFailure::checks(&outcome.steps))
                    }
                }
                JobKind::Join => {
                    let mut on_action =
                        |a: &ActionReport| update(&mut |v| v.actions.push(a.clone()));
                    match join_cluster(
                        &link,
                        &others,
                        &candidate,
                        SystemTime::now(),
                        &mut on_step,
                        &mut on_action,
                    )
                    .await
                    {
                        Ok(_) => JobState::Joined,
                        Err(e) => JobState::Failed(JobFailure::of(e)),
                    }
                }
            };
            if kind == JobKind::Join {
                // A join changes the host (and the member): recorded as an Event on the host.
                let name = &candidate.name;
                let mut action = match &state {
                    JobState::Joined => crate::events::ConsoleAction::by(
                        &actor,
                        "ClusterJoined",
                        crate::events::ObjectKind::Cluster,
                        name,
                        format!("joined cluster {name}"),
                    ),
                    other => crate::events::ConsoleAction::by(
                        &actor,
                        "ClusterJoinFailed",
                        crate::events::ObjectKind::Cluster,
                        name,
                        format!(
                            "tried to join cluster {name}: {}",
                            match other {
                                JobState::Failed(why) => why.to_string(),
                                _ => "it did not finish".into(),
                            }
                        ),
                    ),
                };
                action.warning = state != JobState::Joined;
                crate::events::record(link.client.clone(), action, replica);
            }
            drop(candidate); // the kubeconfig goes with it
            crate::metrics::job_ended(record_kind(kind), outcome(&state));
            jobs.finish(&job, Some(&keeper), |v| v.state = state);
        };
        // A job that died (a bug) must not stay "running" and count against its owner.
        self.jobs.spawn(id.clone(), Some(keeper), work, |v| {
            crate::metrics::job_ended(record_kind(v.kind), "crashed")
        });
        Ok(id)
    }

    /// The job as it stands, if `owner` started it: this replica's own, or one another
    /// replica runs (or ran), from the home host.
    pub async fn view(&self, id: &str, owner: &str) -> Option<JobView> {
        let local = self.jobs.get(&id.to_string(), Some(owner));
        if local.is_some() {
            return local;
        }
        let remote = self.records.read::<JobView>(id, owner).await?;
        let mut view = remote.payload;
        if remote.phase == Phase::Abandoned && view.state == JobState::Running {
            view.state = JobState::Failed(JobFailure::Abandoned);
        }
        Some(view)
    }
}

fn outcome(state: &JobState) -> &'static str {
    match state {
        JobState::Running => "running",
        JobState::Passed => "passed",
        JobState::Failed(_) => "failed",
        JobState::Joined => "joined",
    }
}

fn record_kind(kind: JobKind) -> &'static str {
    match kind {
        JobKind::Check => "cluster-check",
        JobKind::Join => "cluster-join",
    }
}

/// 128 random bits: a job id cannot be guessed.
fn job_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        return format!("{nanos:x}");
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

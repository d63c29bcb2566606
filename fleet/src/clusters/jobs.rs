//! Checks and joins run in the background while the wizard asks how far they got: each job
//! records its steps and actions as they end. A job holds no kubeconfig once it is done —
//! only what the reports say, which never includes a secret — and is readable by the person
//! who started it only.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use super::{ActionReport, Candidate, HostLink, StepReport, check_cluster, join_cluster};

/// How long a finished job can still be read.
const KEEP_FOR: Duration = Duration::from_secs(15 * 60);
/// Jobs one person may have running at once.
const RUNNING_PER_OWNER: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    Check,
    Join,
}

#[derive(Debug, Clone, PartialEq)]
pub enum JobState {
    Running,
    /// Checks only: every step passed (warnings allowed).
    Passed,
    /// A step failed or the join could not finish; the reason in a sentence.
    Failed(String),
    Joined,
}

/// What the wizard shows of a job.
#[derive(Debug, Clone)]
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

struct Job {
    owner: String,
    view: JobView,
    finished: Option<Instant>,
}

/// The running and recently finished jobs of this console.
#[derive(Clone)]
pub struct ClusterJobs {
    hosts: Arc<Vec<HostLink>>,
    jobs: Arc<Mutex<HashMap<String, Job>>>,
}

impl ClusterJobs {
    pub fn new(hosts: Vec<HostLink>) -> Self {
        Self {
            hosts: Arc::new(hosts),
            jobs: Arc::default(),
        }
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
    pub fn start(
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
        {
            let mut jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
            jobs.retain(|_, j| j.finished.is_none_or(|at| at.elapsed() < KEEP_FOR));
            let running = jobs
                .values()
                .filter(|j| j.owner == owner && j.finished.is_none())
                .count();
            if running >= RUNNING_PER_OWNER {
                return Err(JobError::TooMany(running));
            }
            jobs.insert(
                id.clone(),
                Job {
                    owner: owner.into(),
                    view: JobView {
                        id: id.clone(),
                        kind,
                        host: host.into(),
                        cluster: candidate.name.clone(),
                        steps: Vec::new(),
                        actions: Vec::new(),
                        state: JobState::Running,
                    },
                    finished: None,
                },
            );
        }
        let jobs = self.jobs.clone();
        let job = id.clone();
        let watcher_jobs = self.jobs.clone();
        let watched = id.clone();
        let work = tokio::spawn(async move {
            let update = |f: &mut dyn FnMut(&mut JobView)| {
                if let Some(j) = jobs.lock().unwrap_or_else(|p| p.into_inner()).get_mut(&job) {
                    f(&mut j.view);
                }
            };
            let mut on_step = |s: &StepReport| update(&mut |v| v.steps.push(s.clone()));
            let state = match kind {
                JobKind::Check => {
                    let outcome =
                        check_cluster(&link, &others, &candidate, SystemTime::now(), &mut on_step)
                            .await;
                    if outcome.passed() {
                        JobState::Passed
                    } else {
                        JobState::Failed(failed_summary(&outcome.steps))
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
                        Err(e) => JobState::Failed(e.to_string()),
                    }
                }
            };
            drop(candidate); // the kubeconfig goes with it
            if let Some(j) = jobs.lock().unwrap_or_else(|p| p.into_inner()).get_mut(&job) {
                j.view.state = state;
                j.finished = Some(Instant::now());
            }
        });
        // A job that died (a bug) must not stay "running" and count against its owner.
        tokio::spawn(async move {
            if work.await.is_err()
                && let Some(j) = watcher_jobs
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get_mut(&watched)
            {
                j.view.state =
                    JobState::Failed("the check stopped on an internal error; run it again".into());
                j.finished = Some(Instant::now());
            }
        });
        Ok(id)
    }

    /// The job as it stands, if `owner` started it.
    pub fn view(&self, id: &str, owner: &str) -> Option<JobView> {
        let jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        jobs.get(id)
            .filter(|j| j.owner == owner)
            .map(|j| j.view.clone())
    }
}

fn failed_summary(steps: &[StepReport]) -> String {
    let failed: Vec<&str> = steps
        .iter()
        .filter(|s| s.is_failure())
        .map(|s| s.step.title())
        .collect();
    format!(
        "not joined: fix the failed {} above ({}) and run the checks again",
        if failed.len() == 1 { "step" } else { "steps" },
        failed.join(", ")
    )
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

//! A repair of a federated object as its page follows it: typed steps and failure, so the
//! page says them in the reader's language.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepairView {
    /// "pick-winner" or "delete-everywhere".
    pub action: String,
    pub winner: Option<String>,
    pub actor: String,
    pub started_secs_ago: u64,
    pub steps: Vec<RepairStepView>,
    /// "running", "done" or "failed".
    pub state: String,
    pub failure: Option<RepairFailureView>,
}

impl RepairView {
    pub fn running(&self) -> bool {
        self.state == "running"
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairStepView {
    /// "copied", "hosts-agree", "deleted", "finalizer-cleared" or "gone".
    pub key: String,
    pub host: Option<String>,
    pub winner: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairFailureView {
    /// "unknown-host", "not-on-host", "host", "hosts-differ", "still-held" or "crashed".
    pub key: String,
    pub host: Option<String>,
    /// What was being done on `host`: `fleet::multihost::HostTask::key`.
    pub task: Option<String>,
    /// The host's own words (English, from the API server).
    pub detail: Option<String>,
    pub waited_secs: u64,
    /// Hosts whose federated objects remain.
    pub hosts: Vec<String>,
    /// Members seen holding a copy.
    pub members: usize,
    /// Members that could not be seen (each may hold a copy).
    pub unseen: usize,
    /// Hosts whose Clusters could not be read.
    pub unread: Vec<String>,
}

#[cfg(feature = "ssr")]
mod from_fleet {
    use std::time::SystemTime;

    use fleet::multihost::Unsettled;
    use fleet::multihost::{RepairAction, RepairOutcome, RepairRecord, RepairStep, ResolveError};

    use super::*;

    impl From<&RepairStep> for RepairStepView {
        fn from(step: &RepairStep) -> Self {
            let (key, host, winner) = match step {
                RepairStep::Copied { host, winner } => {
                    ("copied", Some(host.clone()), Some(winner.clone()))
                }
                RepairStep::HostsAgree => ("hosts-agree", None, None),
                RepairStep::Deleted { host } => ("deleted", Some(host.clone()), None),
                RepairStep::FinalizerCleared { host } => {
                    ("finalizer-cleared", Some(host.clone()), None)
                }
                RepairStep::Gone => ("gone", None, None),
            };
            Self {
                key: key.into(),
                host,
                winner,
            }
        }
    }

    fn failure(key: &str) -> RepairFailureView {
        RepairFailureView {
            key: key.into(),
            host: None,
            task: None,
            detail: None,
            waited_secs: 0,
            hosts: Vec::new(),
            members: 0,
            unseen: 0,
            unread: Vec::new(),
        }
    }

    impl From<&ResolveError> for RepairFailureView {
        fn from(error: &ResolveError) -> Self {
            match error {
                ResolveError::UnknownHost(host) => RepairFailureView {
                    host: Some(host.clone()),
                    ..failure("unknown-host")
                },
                ResolveError::NoOtherHost(host) => RepairFailureView {
                    host: Some(host.clone()),
                    ..failure("no-other-host")
                },
                ResolveError::NotOnHost { host, .. } => RepairFailureView {
                    host: Some(host.clone()),
                    ..failure("not-on-host")
                },
                ResolveError::Host { host, task, detail } => RepairFailureView {
                    host: Some(host.clone()),
                    task: Some(task.key().into()),
                    detail: Some(detail.clone()),
                    ..failure("host")
                },
                ResolveError::NotSettled { waited, unsettled } => match unsettled {
                    Unsettled::HostsDiffer => RepairFailureView {
                        waited_secs: *waited,
                        ..failure("hosts-differ")
                    },
                    Unsettled::StillHeld {
                        hosts,
                        members,
                        unseen,
                        unread,
                    } => RepairFailureView {
                        waited_secs: *waited,
                        hosts: hosts.clone(),
                        members: *members,
                        unseen: *unseen,
                        unread: unread.clone(),
                        ..failure("still-held")
                    },
                },
            }
        }
    }

    impl RepairView {
        pub fn from_record(record: &RepairRecord, now: SystemTime) -> Self {
            let (action, winner) = match &record.action {
                RepairAction::PickWinner { winner } => ("pick-winner", Some(winner.clone())),
                RepairAction::DeleteEverywhere => ("delete-everywhere", None),
            };
            let (state, failure) = match &record.outcome {
                RepairOutcome::Running => ("running", None),
                RepairOutcome::Done => ("done", None),
                RepairOutcome::Failed(error) => ("failed", Some(RepairFailureView::from(error))),
                RepairOutcome::Crashed => ("failed", Some(self::failure("crashed"))),
                RepairOutcome::Abandoned => ("failed", Some(self::failure("abandoned"))),
            };
            Self {
                action: action.into(),
                winner,
                actor: record.actor.clone(),
                started_secs_ago: now
                    .duration_since(record.started)
                    .unwrap_or_default()
                    .as_secs(),
                steps: record.steps.iter().map(RepairStepView::from).collect(),
                state: state.into(),
                failure,
            }
        }
    }
}

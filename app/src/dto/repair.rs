//! A repair of a federated object as its page follows it: typed steps and failure, so the
//! page says them in the reader's language.

use serde::{Deserialize, Serialize};

pub use wire::federation::HostTask;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepairView {
    /// The host whose version is kept; `None`: a delete everywhere.
    pub winner: Option<String>,
    pub actor: String,
    pub started_secs_ago: u64,
    pub steps: Vec<RepairStepView>,
    pub state: RepairState,
}

impl RepairView {
    pub fn running(&self) -> bool {
        self.state == RepairState::Running
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RepairState {
    Running,
    Done,
    Failed(RepairFailureView),
}

impl RepairState {
    /// The page's `data-state`.
    pub fn key(&self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed(_) => "failed",
        }
    }
}

/// One step a repair took (`fleet::federation::RepairStep`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RepairStepView {
    /// (host, winner): the winner's version written to the host.
    Copied((String, String)),
    HostsAgree,
    Deleted(String),
    FinalizerCleared(String),
    Gone,
}

/// Why a repair stopped (`fleet::federation::ResolveError` and the outcomes of a repair whose
/// replica died).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RepairFailureReason {
    UnknownHost,
    NoOtherHost,
    NotOnHost,
    /// What the repair was doing when the host refused or did not answer.
    Host(HostTask),
    HostsDiffer,
    StillHeld,
    Crashed,
    Abandoned,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairFailureView {
    pub reason: RepairFailureReason,
    pub host: Option<String>,
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

    use fleet::federation::Unsettled;
    use fleet::federation::{RepairAction, RepairOutcome, RepairRecord, RepairStep, ResolveError};

    use super::*;

    impl From<&RepairStep> for RepairStepView {
        fn from(step: &RepairStep) -> Self {
            match step {
                RepairStep::Copied { host, winner } => Self::Copied((host.clone(), winner.clone())),
                RepairStep::HostsAgree => Self::HostsAgree,
                RepairStep::Deleted { host } => Self::Deleted(host.clone()),
                RepairStep::FinalizerCleared { host } => Self::FinalizerCleared(host.clone()),
                RepairStep::Gone => Self::Gone,
            }
        }
    }

    fn failure(reason: RepairFailureReason) -> RepairFailureView {
        RepairFailureView {
            reason,
            host: None,
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
                    ..failure(RepairFailureReason::UnknownHost)
                },
                ResolveError::NoOtherHost(host) => RepairFailureView {
                    host: Some(host.clone()),
                    ..failure(RepairFailureReason::NoOtherHost)
                },
                ResolveError::NotOnHost { host, .. } => RepairFailureView {
                    host: Some(host.clone()),
                    ..failure(RepairFailureReason::NotOnHost)
                },
                ResolveError::Host { host, task, detail } => RepairFailureView {
                    host: Some(host.clone()),
                    detail: Some(detail.clone()),
                    ..failure(RepairFailureReason::Host(*task))
                },
                ResolveError::NotSettled { waited, unsettled } => match unsettled {
                    Unsettled::HostsDiffer => RepairFailureView {
                        waited_secs: *waited,
                        ..failure(RepairFailureReason::HostsDiffer)
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
                        ..failure(RepairFailureReason::StillHeld)
                    },
                },
            }
        }
    }

    impl RepairView {
        pub fn from_record(record: &RepairRecord, now: SystemTime) -> Self {
            let winner = match &record.action {
                RepairAction::PickWinner { winner } => Some(winner.clone()),
                RepairAction::DeleteEverywhere => None,
            };
            let state = match &record.outcome {
                RepairOutcome::Running => RepairState::Running,
                RepairOutcome::Done => RepairState::Done,
                RepairOutcome::Failed(error) => RepairState::Failed(RepairFailureView::from(error)),
                RepairOutcome::Crashed => {
                    RepairState::Failed(failure(RepairFailureReason::Crashed))
                }
                RepairOutcome::Abandoned => {
                    RepairState::Failed(failure(RepairFailureReason::Abandoned))
                }
            };
            Self {
                winner,
                actor: record.actor.clone(),
                started_secs_ago: now
                    .duration_since(record.started)
                    .unwrap_or_default()
                    .as_secs(),
                steps: record.steps.iter().map(RepairStepView::from).collect(),
                state,
            }
        }
    }
}

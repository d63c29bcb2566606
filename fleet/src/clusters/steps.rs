//! What a cluster check reports: one [`StepReport`] per step, in the order they run, each
//! with what was found and, when something is wrong, what to do about it. The wizard shows
//! them live and `tandem clusters check` prints them; both read the same reports.

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use wire::clusters::{CheckStep, Verdict};

use super::findings::{Finding, SkipReason};

/// One step's result. Never holds a secret: findings name fields and objects, not values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    pub step: CheckStep,
    pub verdict: Verdict,
    /// What was found; the console words it, and what to do, in the reader's language.
    pub finding: Finding,
    #[serde(
        rename = "elapsedMs",
        serialize_with = "millis",
        deserialize_with = "from_millis"
    )]
    pub elapsed: Duration,
}

fn from_millis<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    u64::deserialize(d).map(Duration::from_millis)
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl StepReport {
    pub fn passed(step: CheckStep, finding: Finding) -> Self {
        Self::new(step, Verdict::Passed, finding)
    }

    pub fn warning(step: CheckStep, finding: Finding) -> Self {
        Self::new(step, Verdict::Warning, finding)
    }

    pub fn failed(step: CheckStep, finding: Finding) -> Self {
        Self::new(step, Verdict::Failed, finding)
    }

    pub fn skipped(step: CheckStep, because: SkipReason) -> Self {
        Self::new(step, Verdict::Skipped, Finding::Skipped(because))
    }

    fn new(step: CheckStep, verdict: Verdict, finding: Finding) -> Self {
        Self {
            step,
            verdict,
            finding,
            elapsed: Duration::ZERO,
        }
    }

    pub fn is_failure(&self) -> bool {
        self.verdict == Verdict::Failed
    }
}

/// The failed steps' names, in English: for logs and error messages.
pub(crate) fn failed_titles(steps: &[StepReport]) -> String {
    steps
        .iter()
        .filter(|s| s.is_failure())
        .map(|s| s.step.title())
        .collect::<Vec<_>>()
        .join(", ")
}

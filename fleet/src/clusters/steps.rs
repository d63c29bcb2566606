//! What a cluster check reports: one [`StepReport`] per step, in the order they run, each
//! with what was found and, when something is wrong, what to do about it. The wizard shows
//! them live and `tandem clusters check` prints them; both read the same reports.

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use wire::clusters::{CheckStep, Verdict};

/// One step's result. Never holds a secret: summaries name fields and objects, not values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    pub step: CheckStep,
    pub verdict: Verdict,
    /// What was found, in a sentence.
    pub summary: String,
    /// What to do about it, when there is something to do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    #[serde(
        rename = "elapsedMs",
        serialize_with = "millis",
        deserialize_with = "from_millis"
    )]
    pub elapsed: Duration,
    /// The member address policy's refusal, when that is why the step failed: the console
    /// words it in the reader's language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<super::AddressRefusal>,
}

fn from_millis<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    u64::deserialize(d).map(Duration::from_millis)
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl StepReport {
    pub fn passed(step: CheckStep, summary: impl Into<String>) -> Self {
        Self::new(step, Verdict::Passed, summary, None)
    }

    pub fn warning(step: CheckStep, summary: impl Into<String>, fix: impl Into<String>) -> Self {
        Self::new(step, Verdict::Warning, summary, Some(fix.into()))
    }

    pub fn failed(step: CheckStep, summary: impl Into<String>, fix: impl Into<String>) -> Self {
        Self::new(step, Verdict::Failed, summary, Some(fix.into()))
    }

    /// Failed because the member address policy forbids connecting there.
    pub fn refused(step: CheckStep, refusal: super::AddressRefusal) -> Self {
        Self {
            refusal: Some(refusal.clone()),
            ..Self::failed(step, refusal.to_string(), refusal.fix())
        }
    }

    pub fn skipped(step: CheckStep, because: impl Into<String>) -> Self {
        Self::new(step, Verdict::Skipped, because, None)
    }

    fn new(
        step: CheckStep,
        verdict: Verdict,
        summary: impl Into<String>,
        fix: Option<String>,
    ) -> Self {
        Self {
            step,
            verdict,
            summary: summary.into(),
            fix,
            elapsed: Duration::ZERO,
            refusal: None,
        }
    }

    pub fn is_failure(&self) -> bool {
        self.verdict == Verdict::Failed
    }
}

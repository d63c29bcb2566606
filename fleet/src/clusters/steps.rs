//! What a cluster check reports: one [`StepReport`] per step, in the order they run, each
//! with what was found and, when something is wrong, what to do about it. The wizard shows
//! them live and `tandem clusters check` prints them; both read the same reports.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The checks, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckStep {
    /// Valid YAML, one usable context, no exec plugin / auth-provider / file path.
    Kubeconfig,
    /// The API server answers over TLS within the timeout.
    Connection,
    /// The credentials are accepted (401) and may create the join objects (403).
    Permissions,
    /// Not already on this host: the same kube-system UID or the same name.
    Duplicate,
    /// KubeSphere answers through the service proxy and is configured as a member.
    KubeSphere,
    /// Whether another host already manages the cluster.
    OtherHosts,
    /// The member's jwtSecret equals the host's.
    JwtSecret,
    /// The client certificate's expiry.
    Certificate,
    /// No member workspace that the host's kubefed would delete (KubeSphere's check).
    Workspaces,
}

impl CheckStep {
    pub const ALL: [CheckStep; 9] = [
        Self::Kubeconfig,
        Self::Connection,
        Self::Permissions,
        Self::Duplicate,
        Self::KubeSphere,
        Self::OtherHosts,
        Self::JwtSecret,
        Self::Certificate,
        Self::Workspaces,
    ];

    /// A stable identifier, for JSON output and for the page's translations.
    pub fn key(self) -> &'static str {
        match self {
            Self::Kubeconfig => "kubeconfig",
            Self::Connection => "connection",
            Self::Permissions => "permissions",
            Self::Duplicate => "duplicate",
            Self::KubeSphere => "kubesphere",
            Self::OtherHosts => "other-hosts",
            Self::JwtSecret => "jwt-secret",
            Self::Certificate => "certificate",
            Self::Workspaces => "workspaces",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key() == key)
    }

    /// The step's name in English, for the command line.
    pub fn title(self) -> &'static str {
        match self {
            Self::Kubeconfig => "Kubeconfig",
            Self::Connection => "Connection",
            Self::Permissions => "Authentication and permissions",
            Self::Duplicate => "Not already on this host",
            Self::KubeSphere => "KubeSphere member",
            Self::OtherHosts => "Other hosts",
            Self::JwtSecret => "jwtSecret",
            Self::Certificate => "Certificate expiry",
            Self::Workspaces => "Workspaces",
        }
    }
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Passed,
    /// Passed, with something the person should know (an expiring certificate, TLS not
    /// verified, a second host on purpose).
    Warning,
    Failed,
    /// Not run because an earlier step failed.
    Skipped,
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        for step in CheckStep::ALL {
            assert_eq!(CheckStep::from_key(step.key()), Some(step));
        }
    }
}

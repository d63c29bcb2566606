//! The add-cluster checks and what a join, update or removal did, object by object.

use std::fmt;

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
    #[serde(rename = "kubesphere", alias = "kube-sphere")]
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

    /// A stable identifier, for JSON output and the page's `data-step`.
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

    /// The step's name in English, for the command line (the pages translate `key`).
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

/// What the add-cluster wizard asks for: the checks only, or the checks and then the join.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WizardMode {
    Check,
    Join,
}

impl WizardMode {
    /// As the wizard's form sends it.
    pub fn key(self) -> &'static str {
        match self {
            Self::Check => "check",
            Self::Join => "join",
        }
    }
}

/// How a host reaches a member: directly, with a kubeconfig, or through an agent (a proxy
/// connection, which Tandem does not offer yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConnectionKind {
    Direct,
    Agent,
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

impl Verdict {
    /// As the page's `data-verdict` and the command line's JSON name it.
    pub fn key(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Warning => "warning",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
        }
    }
}

/// Which cluster an object of a join or removal is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    Member,
    Host,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, so that `{:<6}` lines the command line's columns up.
        f.pad(match self {
            Self::Member => "member",
            Self::Host => "host",
        })
    }
}

/// What happened to one object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "result", content = "detail")]
pub enum ActionResult {
    Created,
    Updated,
    /// Already as wanted (a retried or repeated join).
    Unchanged,
    Deleted,
    /// Already gone.
    Absent,
    /// Kept on purpose, with the reason (e.g. another host still uses it).
    Kept(String),
    Failed(String),
    /// Created by this attempt and removed again after a later failure.
    RolledBack,
    /// Made by KubeSphere's own cluster controller (read back after its join).
    MadeByKubeSphere,
}

impl ActionResult {
    /// The reason that comes with it, if any.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Self::Kept(why) | Self::Failed(why) => Some(why),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_match_the_json() {
        for step in CheckStep::ALL {
            assert_eq!(CheckStep::from_key(step.key()), Some(step));
            assert_eq!(
                serde_json::to_value(step).unwrap(),
                serde_json::json!(step.key())
            );
        }
        for verdict in [
            Verdict::Passed,
            Verdict::Warning,
            Verdict::Failed,
            Verdict::Skipped,
        ] {
            assert_eq!(
                serde_json::to_value(verdict).unwrap(),
                serde_json::json!(verdict.key())
            );
        }
        let kept = ActionResult::Kept("another host uses it".into());
        assert_eq!(
            serde_json::to_value(&kept).unwrap(),
            serde_json::json!({"result": "kept", "detail": "another host uses it"})
        );
        assert_eq!(
            serde_json::to_value(ActionResult::RolledBack).unwrap()["result"],
            "rolled-back"
        );
        assert_eq!(format!("{:<6}|", Side::Host), "host  |");
        assert_eq!(serde_json::to_value(Side::Member).unwrap(), "member");
    }
}

/// A managed cluster's state as the console saw it change: KubeSphere's Ready condition, or
/// the console's own finding that it cannot reach the member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClusterState {
    Ready,
    NotReady,
    Unreachable,
}

impl ClusterState {
    pub const ALL: [ClusterState; 3] = [Self::Ready, Self::NotReady, Self::Unreachable];

    /// A stable identifier, for a page's select values.
    pub fn key(self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::NotReady => "not-ready",
            Self::Unreachable => "unreachable",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key() == key)
    }
}

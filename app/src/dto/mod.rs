//! Plain data the pages receive from server functions. Nothing secret ever goes in here:
//! no tokens, no kubeconfigs, only what an operator may see on screen.

use serde::{Deserialize, Serialize};

/// One host cluster as the Overview page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostStatus {
    pub name: String,
    /// API server URL (no credentials).
    pub server: Option<String>,
    pub health: HostHealthView,
    /// Seconds between the last probe and the moment this was read; `None` before any probe.
    pub checked_secs_ago: Option<u64>,
    /// The user's role may not list clusters: the managed clusters are left out.
    #[serde(default)]
    pub clusters_hidden: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum HostHealthView {
    Pending,
    Reachable {
        version: String,
        platform: String,
        round_trip_ms: f64,
        /// The clusters the host manages; `None` when it has no KubeSphere Cluster API.
        clusters: Option<Vec<ManagedClusterView>>,
    },
    Unreachable(ProbeFailureView),
}

/// A cluster a host manages, from its KubeSphere `Cluster` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManagedClusterView {
    pub name: String,
    pub ready: bool,
    pub is_host: bool,
}

/// Why a host is unreachable; each variant has its own translated explanation and fix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// Values ride in newtype variants: a struct variant costs a whole serde_json struct
/// deserializer in the first download.
pub enum ProbeFailureView {
    /// Seconds waited.
    Timeout(u64),
    Refused,
    UnknownCa,
    CertificateExpired,
    HostnameMismatch,
    Tls(String),
    Unauthorized,
    Forbidden,
    Client(String),
    /// The HTTP status and its reason word, if any: "503 ServiceUnavailable" (one string: a
    /// tuple costs the first download a deserializer of its own).
    Status(String),
    Other(String),
}

impl HostStatus {
    pub fn is_reachable(&self) -> bool {
        matches!(self.health, HostHealthView::Reachable { .. })
    }
}

#[cfg(feature = "ssr")]
mod from_fleet {
    use std::time::SystemTime;

    use fleet::{HostHealth, HostState, ProbeFailure};

    use super::*;

    impl HostStatus {
        pub fn from_health(health: &HostHealth, now: SystemTime) -> Self {
            Self {
                name: health.name.clone(),
                server: health.server.clone(),
                health: match &health.state {
                    HostState::Pending => HostHealthView::Pending,
                    HostState::Reachable {
                        version,
                        platform,
                        round_trip,
                        clusters,
                    } => HostHealthView::Reachable {
                        version: version.clone(),
                        platform: platform.clone(),
                        round_trip_ms: round_trip.as_secs_f64() * 1000.0,
                        clusters: clusters.as_ref().map(|list| {
                            list.iter()
                                .map(|c| ManagedClusterView {
                                    name: c.name.clone(),
                                    ready: c.ready,
                                    is_host: c.is_host,
                                })
                                .collect()
                        }),
                    },
                    HostState::Unreachable(failure) => {
                        HostHealthView::Unreachable(ProbeFailureView::from(failure))
                    }
                },
                checked_secs_ago: health
                    .checked_at
                    .map(|at| now.duration_since(at).map(|d| d.as_secs()).unwrap_or(0)),
                clusters_hidden: false,
            }
        }
    }

    impl From<&ProbeFailure> for ProbeFailureView {
        fn from(failure: &ProbeFailure) -> Self {
            match failure {
                ProbeFailure::Timeout(d) => Self::Timeout(d.as_secs()),
                ProbeFailure::Refused => Self::Refused,
                ProbeFailure::UnknownCa => Self::UnknownCa,
                ProbeFailure::CertificateExpired => Self::CertificateExpired,
                ProbeFailure::HostnameMismatch => Self::HostnameMismatch,
                ProbeFailure::Tls(detail) => Self::Tls(detail.clone()),
                ProbeFailure::Unauthorized => Self::Unauthorized,
                ProbeFailure::Forbidden => Self::Forbidden,
                ProbeFailure::Client(detail) => Self::Client(detail.clone()),
                ProbeFailure::Status(code, reason) => {
                    Self::Status(format!("{code} {reason}").trim_end().to_string())
                }
                ProbeFailure::Other(detail) => Self::Other(detail.clone()),
                // Only members are held to the address policy, never the hosts this view
                // shows (the wizard words a refusal in the reader's language); kept out of the
                // Overview's first download.
                ProbeFailure::AddressRefused(refusal) => Self::Other(refusal.to_string()),
            }
        }
    }
}
/// One member chip: (cluster, kubefed's failure reason if any, the console's own verdict
/// when the member's copy is in trouble — flapping, stuck deleting, …).
pub type PropagationEntry = (String, Option<String>, Option<StateKey>);

pub use wire::federation::StateKey;

/// The chips of an object: kubefed's status per member, with the federation monitor's
/// verdict put ahead of it where the console saw trouble (kubefed says "propagated" while two
/// hosts fight), and members kubefed does not mention but the monitor does.
#[cfg(feature = "ssr")]
pub fn propagation_view(
    propagation: Vec<fleet::iam::propagation::MemberPropagation>,
    troubled: Vec<(String, fleet::federation::FederatedState)>,
) -> Vec<PropagationEntry> {
    use fleet::iam::propagation::PropagationStatus;
    let verdict = |cluster: &str| {
        troubled
            .iter()
            .find(|(member, _)| member == cluster)
            .map(|(_, state)| state.key())
    };
    let mut entries: Vec<PropagationEntry> = propagation
        .into_iter()
        .map(|p| {
            let failure = match p.status {
                PropagationStatus::Propagated => None,
                PropagationStatus::Failed(reason) => Some(reason),
            };
            let seen = verdict(&p.cluster);
            (p.cluster, failure, seen)
        })
        .collect();
    for (member, state) in &troubled {
        if !entries.iter().any(|(cluster, ..)| cluster == member) {
            entries.push((member.clone(), None, Some(state.key())));
        }
    }
    entries
}

pub mod clusters;
pub mod federation;
pub mod repair;
pub mod users;
pub mod workspaces;

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use fleet::federation::FederatedState;
    use fleet::iam::propagation::{MemberPropagation, PropagationStatus};

    /// kubefed says "propagated" on both members; the console saw one of them flapping and a
    /// third stuck: the chips say what the console saw.
    #[test]
    fn the_consoles_verdict_comes_before_kubefeds_status() {
        let kubefed = vec![
            MemberPropagation {
                cluster: "a".into(),
                status: PropagationStatus::Propagated,
            },
            MemberPropagation {
                cluster: "b".into(),
                status: PropagationStatus::Propagated,
            },
        ];
        let troubled = vec![
            (
                "b".to_string(),
                FederatedState::Flapping {
                    hosts: vec!["host".into(), "host2".into()],
                },
            ),
            (
                "c".to_string(),
                FederatedState::StuckDeleting {
                    host: "host".into(),
                },
            ),
        ];
        assert_eq!(
            super::propagation_view(kubefed, troubled),
            [
                ("a".to_string(), None, None),
                ("b".to_string(), None, Some(super::StateKey::Flapping)),
                ("c".to_string(), None, Some(super::StateKey::StuckDeleting)),
            ]
        );
    }
}

//! What the cluster pages receive: the host's clusters, and the add-cluster jobs' progress.
//! Never a kubeconfig or a token.

use serde::{Deserialize, Serialize};
pub use wire::clusters::{ActionResult, CheckStep, ClusterState, Side, Verdict};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterListView {
    pub host: String,
    /// `None` while the host is not reachable or has no Cluster API.
    pub rows: Option<Vec<ClusterRowView>>,
    pub may_manage: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterRowView {
    pub name: String,
    pub is_host: bool,
    pub ready: bool,
    pub not_ready_reason: Option<String>,
    pub provider: Option<String>,
    pub group: Option<String>,
    pub description: Option<String>,
    pub kubernetes_version: Option<String>,
    pub kubesphere_version: Option<String>,
    pub node_count: Option<i64>,
    /// The client certificate's NotAfter as KubeSphere records it.
    pub certificate_expiry: Option<String>,
    pub certificate_expires_soon: bool,
    pub insecure: bool,
    /// RFC 3339.
    pub joined_at: Option<String>,
    pub api_endpoint: Option<String>,
    pub conditions: Vec<ConditionView>,
    /// This console could not reach the member itself: why, in the reader's language.
    pub unreachable: Option<String>,
    /// This console's last round trip to the member.
    pub round_trip_ms: Option<u64>,
    /// The host's kubefed: its KubeFedCluster Ready, and the reason.
    pub federation: Option<(bool, String)>,
    /// Federated users and workspaces that reached this member.
    pub propagated: usize,
    /// kubefed's reasons for those that did not, with their counts.
    pub propagation_failures: Vec<(String, usize)>,
    /// The console's own verdicts on federated objects in trouble on this member (a
    /// `FederatedState` key, worst first, with its count): shown ahead of kubefed's word.
    pub verdicts: Vec<(super::StateKey, usize)>,
    /// State changes seen by this console, oldest first: (time, state, reason).
    pub history: Vec<(String, ClusterState, Option<String>)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionView {
    pub kind: String,
    pub status: String,
    /// `fleet::kubesphere::ClusterCondition::is_healthy`.
    pub healthy: bool,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub since: Option<String>,
}

/// One step of a check, as the wizard lists it: what was found and the fix, worded by the
/// server in the reader's language (`crate::messages`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepView {
    pub key: CheckStep,
    pub verdict: Verdict,
    pub summary: String,
    pub fix: Option<String>,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionView {
    pub side: Side,
    pub object: String,
    pub result: ActionResult,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum JobStateView {
    Running,
    Passed,
    /// Why, in the reader's language.
    Failed(String),
    Joined,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobProgressView {
    pub id: String,
    pub join: bool,
    pub host: String,
    pub cluster: String,
    pub steps: Vec<StepView>,
    pub actions: Vec<ActionView>,
    pub state: JobStateView,
}

/// The groups a cluster can be in (ks-console's preset groups; `fleet` checks the same list).
pub const CLUSTER_GROUPS: [&str; 4] = ["production", "development", "testing", "demo"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemovalView {
    pub cluster: String,
    pub actions: Vec<ActionView>,
    pub member_reached: bool,
    pub left_on_member: Vec<String>,
}

#[cfg(feature = "ssr")]
mod from_fleet {
    use super::*;
    use fleet::clusters::jobs::{JobKind, JobState, JobView};
    use fleet::clusters::{ActionReport, StepReport};

    impl ClusterRowView {
        /// The cluster, its unreachable reason worded in `locale`.
        pub fn of(locale: crate::i18n::Locale, c: &fleet::ManagedCluster) -> Self {
            Self {
                name: c.name.clone(),
                is_host: c.is_host,
                ready: c.ready,
                not_ready_reason: c.not_ready_reason.clone(),
                provider: c.provider.clone(),
                group: c.group.clone(),
                description: c.description.clone(),
                kubernetes_version: c.kubernetes_version.clone(),
                kubesphere_version: c.kubesphere_version.clone(),
                node_count: c.node_count,
                certificate_expiry: c.certificate_expiry.clone(),
                certificate_expires_soon: c.certificate_expires_soon,
                insecure: c.insecure,
                joined_at: c.joined_at.clone(),
                api_endpoint: c.api_endpoint.clone(),
                conditions: c
                    .conditions
                    .iter()
                    .map(|x| ConditionView {
                        kind: x.kind.clone(),
                        status: x.status.clone(),
                        healthy: x.is_healthy(),
                        reason: x.reason.clone().filter(|r| !r.is_empty()),
                        message: x.message.clone().filter(|m| !m.is_empty()),
                        since: x.last_transition_time.clone(),
                    })
                    .collect(),
                unreachable: match &c.reach {
                    Some(fleet::clusters::reach::MemberReach::Unreachable(why)) => {
                        Some(crate::messages::probe_failure(locale, why))
                    }
                    _ => None,
                },
                federation: c.federation.clone(),
                propagated: 0,
                propagation_failures: Vec::new(),
                verdicts: Vec::new(),
                history: c
                    .history
                    .iter()
                    .map(|h| (h.at_text(), h.state, h.reason.clone()))
                    .collect(),
                round_trip_ms: match &c.reach {
                    Some(fleet::clusters::reach::MemberReach::Reachable { round_trip_ms }) => {
                        Some(*round_trip_ms)
                    }
                    _ => None,
                },
            }
        }
    }

    impl StepView {
        /// The report, worded in `locale`.
        pub fn of(locale: crate::i18n::Locale, s: &StepReport) -> Self {
            let words = crate::messages::step_words(locale, s);
            Self {
                key: s.step,
                verdict: s.verdict,
                summary: words.summary,
                fix: words.fix,
                elapsed_ms: u64::try_from(s.elapsed.as_millis()).unwrap_or(u64::MAX),
            }
        }
    }

    impl From<&ActionReport> for ActionView {
        fn from(a: &ActionReport) -> Self {
            Self {
                side: a.side,
                object: a.object.clone(),
                result: a.result.clone(),
            }
        }
    }

    impl JobProgressView {
        /// The job, worded in `locale`.
        pub fn of(locale: crate::i18n::Locale, j: JobView) -> Self {
            Self {
                id: j.id,
                join: j.kind == JobKind::Join,
                host: j.host,
                cluster: j.cluster,
                steps: j.steps.iter().map(|s| StepView::of(locale, s)).collect(),
                actions: j.actions.iter().map(ActionView::from).collect(),
                state: match j.state {
                    JobState::Running => JobStateView::Running,
                    JobState::Passed => JobStateView::Passed,
                    JobState::Failed(why) => {
                        JobStateView::Failed(crate::messages::job_failure(locale, &why))
                    }
                    JobState::Joined => JobStateView::Joined,
                },
            }
        }
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    #[test]
    fn cluster_groups_are_the_domains() {
        assert_eq!(
            super::CLUSTER_GROUPS,
            fleet::clusters::objects::PRESET_GROUPS
        );
    }
}

//! What Prometheus reads of the fleet (`/metrics`): counters of the domain's events (logins,
//! jobs), counted where they happen, and gauges of the fleet's state, read from the monitors'
//! snapshots at scrape time so that a scrape never calls a cluster. Names and labels follow
//! Prometheus' conventions (`tandem_…_total`, `_seconds`); README "Metrics" says what each
//! means.
//!
//! Counters are process-wide (each replica counts what it did; Prometheus sums replicas).

use std::sync::LazyLock;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::clusters::reach::MemberReach;
use crate::health::{HostHealth, HostState};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LoginLabels {
    /// `success`, `failure` (wrong password or unknown user), `locked`, `disabled`, `error`.
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobLabels {
    /// `cluster-check`, `cluster-join`, `repair`.
    pub kind: &'static str,
    /// `passed`, `joined`, `done`, `failed`, `crashed`, `abandoned`.
    pub outcome: &'static str,
}

/// The domain's event counters.
pub struct Counters {
    pub logins: Family<LoginLabels, Counter>,
    /// Accounts locked by a failed login (KubeSphere's `AuthLimitExceeded`).
    pub lockouts: Counter,
    pub jobs: Family<JobLabels, Counter>,
}

pub static COUNTERS: LazyLock<Counters> = LazyLock::new(|| Counters {
    logins: Family::default(),
    lockouts: Counter::default(),
    jobs: Family::default(),
});

/// Counts a login attempt's outcome.
pub fn login(outcome: &'static str) {
    COUNTERS
        .logins
        .get_or_create(&LoginLabels { outcome })
        .inc();
}

/// Counts a job that ended.
pub fn job_ended(kind: &'static str, outcome: &'static str) {
    COUNTERS
        .jobs
        .get_or_create(&JobLabels { kind, outcome })
        .inc();
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HostLabels {
    pub host: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MemberLabels {
    pub host: String,
    pub cluster: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabels {
    pub state: &'static str,
}

/// The fleet's state at scrape time, filled by [`FleetGauges::observe`].
#[derive(Default)]
pub struct FleetGauges {
    host_up: Family<HostLabels, Gauge>,
    host_rtt: Family<HostLabels, Gauge<f64, AtomicU64>>,
    member_up: Family<MemberLabels, Gauge>,
    member_ready: Family<MemberLabels, Gauge>,
    member_rtt: Family<MemberLabels, Gauge<f64, AtomicU64>>,
    federated: Family<StateLabels, Gauge>,
    leader: Gauge,
    federation_watching: Gauge,
}

/// What this replica does for the fleet now.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReplicaRole {
    /// It holds the Lease: probes, histories, the federation watches and repairs run here.
    pub leading: bool,
    /// It watches every host's and member's federated objects itself (the leader, or a
    /// follower whose leader stopped publishing).
    pub watching_federation: bool,
}

impl FleetGauges {
    /// Registers the gauges and the domain counters in `registry` (prefix `tandem_`).
    pub fn register(&self, registry: &mut Registry) {
        // Series that exist from the start, at 0: a rate over them works before the first
        // event, and a dashboard shows "none" rather than "no data".
        for outcome in ["success", "failure", "locked", "disabled", "error"] {
            let _ = COUNTERS.logins.get_or_create(&LoginLabels { outcome });
        }
        for (kind, outcome) in [
            ("cluster-check", "passed"),
            ("cluster-check", "failed"),
            ("cluster-join", "joined"),
            ("cluster-join", "failed"),
            ("repair", "done"),
            ("repair", "failed"),
        ] {
            let _ = COUNTERS.jobs.get_or_create(&JobLabels { kind, outcome });
        }
        registry.register(
            "tandem_logins",
            "Login attempts by outcome",
            COUNTERS.logins.clone(),
        );
        registry.register(
            "tandem_account_lockouts",
            "Accounts locked by too many failed logins",
            COUNTERS.lockouts.clone(),
        );
        registry.register(
            "tandem_jobs",
            "Background jobs (add-cluster checks and joins, repairs) that ended, by kind and outcome",
            COUNTERS.jobs.clone(),
        );
        registry.register(
            "tandem_host_up",
            "1 when the host answered its last probe",
            self.host_up.clone(),
        );
        registry.register(
            "tandem_host_round_trip_seconds",
            "The host's last /version round trip",
            self.host_rtt.clone(),
        );
        registry.register(
            "tandem_member_up",
            "1 when the console reached the member on its last probe",
            self.member_up.clone(),
        );
        registry.register(
            "tandem_member_ready",
            "1 when the host's Cluster object says Ready",
            self.member_ready.clone(),
        );
        registry.register(
            "tandem_member_round_trip_seconds",
            "The member's last round trip from the console",
            self.member_rtt.clone(),
        );
        registry.register(
            "tandem_federated_objects",
            "Federated IAM and tenant objects by their state across hosts and members",
            self.federated.clone(),
        );
        registry.register(
            "tandem_leader",
            "1 on the replica that runs the fleet's background work",
            self.leader.clone(),
        );
        registry.register(
            "tandem_federation_watching",
            "1 on a replica that watches every host's and member's federated objects itself",
            self.federation_watching.clone(),
        );
    }

    /// Sets every gauge from the latest snapshots. Series of hosts, members or states that
    /// are gone are dropped, not left at their last value.
    pub fn observe(
        &self,
        hosts: &[HostHealth],
        federated: &[crate::federation::ObjectRow],
        role: ReplicaRole,
    ) {
        self.host_up.clear();
        self.host_rtt.clear();
        self.member_up.clear();
        self.member_ready.clear();
        self.member_rtt.clear();
        self.federated.clear();
        for host in hosts {
            let labels = HostLabels {
                host: host.name.clone(),
            };
            let HostState::Reachable {
                round_trip,
                clusters,
                ..
            } = &host.state
            else {
                self.host_up.get_or_create(&labels).set(0);
                continue;
            };
            self.host_up.get_or_create(&labels).set(1);
            self.host_rtt
                .get_or_create(&labels)
                .set(round_trip.as_secs_f64());
            for cluster in clusters.iter().flatten().filter(|c| !c.is_host) {
                let labels = MemberLabels {
                    host: host.name.clone(),
                    cluster: cluster.name.clone(),
                };
                self.member_ready
                    .get_or_create(&labels)
                    .set(i64::from(cluster.ready));
                match &cluster.reach {
                    Some(MemberReach::Reachable { round_trip_ms }) => {
                        self.member_up.get_or_create(&labels).set(1);
                        self.member_rtt
                            .get_or_create(&labels)
                            .set(*round_trip_ms as f64 / 1000.0);
                    }
                    Some(MemberReach::Unreachable(_)) => {
                        self.member_up.get_or_create(&labels).set(0);
                    }
                    None => {}
                }
            }
        }
        for row in federated {
            self.federated
                .get_or_create(&StateLabels {
                    state: row.state.key().as_str(),
                })
                .inc();
        }
        self.leader.set(i64::from(role.leading));
        self.federation_watching
            .set(i64::from(role.watching_federation));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clusters::ManagedCluster;
    use std::time::Duration;

    fn text(gauges: &FleetGauges) -> String {
        let mut registry = Registry::default();
        gauges.register(&mut registry);
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &registry).unwrap();
        out
    }

    #[test]
    fn hosts_and_members_become_labelled_series_and_gone_ones_are_dropped() {
        let gauges = FleetGauges::default();
        let member = |name: &str, reach| ManagedCluster {
            name: name.into(),
            ready: true,
            reach,
            ..Default::default()
        };
        let hosts = vec![
            HostHealth {
                name: "prod".into(),
                server: None,
                checked_at: None,
                state: HostState::Reachable {
                    version: "v1.33.2".into(),
                    platform: "linux/amd64".into(),
                    round_trip: Duration::from_millis(25),
                    clusters: Some(vec![
                        member("eu-1", Some(MemberReach::Reachable { round_trip_ms: 40 })),
                        member(
                            "eu-2",
                            Some(MemberReach::Unreachable(
                                crate::health::ProbeFailure::Refused,
                            )),
                        ),
                    ]),
                },
            },
            HostHealth {
                name: "dr".into(),
                server: None,
                checked_at: None,
                state: HostState::Unreachable(crate::health::ProbeFailure::Refused),
            },
        ];
        let leader = ReplicaRole {
            leading: true,
            watching_federation: true,
        };
        gauges.observe(&hosts, &[], leader);
        let out = text(&gauges);
        assert!(out.contains("tandem_host_up{host=\"prod\"} 1\n"), "{out}");
        assert!(out.contains("tandem_host_up{host=\"dr\"} 0\n"), "{out}");
        assert!(out.contains("tandem_host_round_trip_seconds{host=\"prod\"} 0.025\n"));
        assert!(out.contains("tandem_member_up{host=\"prod\",cluster=\"eu-1\"} 1\n"));
        assert!(out.contains("tandem_member_up{host=\"prod\",cluster=\"eu-2\"} 0\n"));
        assert!(
            out.contains("tandem_member_round_trip_seconds{host=\"prod\",cluster=\"eu-1\"} 0.04\n")
        );
        assert!(out.contains("tandem_leader 1\n"));
        assert!(out.contains("tandem_federation_watching 1\n"));

        gauges.observe(&hosts[1..], &[], ReplicaRole::default());
        let out = text(&gauges);
        assert!(
            !out.contains("prod"),
            "a host gone from the snapshot: {out}"
        );
        assert!(out.contains("tandem_leader 0\n"));
        assert!(out.contains("tandem_federation_watching 0\n"));
    }

    #[test]
    fn counters_are_named_the_prometheus_way() {
        login("failure");
        job_ended("cluster-join", "joined");
        let out = text(&FleetGauges::default());
        assert!(out.contains("# TYPE tandem_logins counter"), "{out}");
        assert!(
            out.contains("tandem_logins_total{outcome=\"failure\"}"),
            "{out}"
        );
        assert!(
            out.contains("tandem_jobs_total{kind=\"cluster-join\",outcome=\"joined\"}"),
            "{out}"
        );
    }
}

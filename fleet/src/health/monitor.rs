//! The host monitor: every host (and, through it, every member) probed on an interval, the
//! results published to pages and `/readyz`. With several replicas only the leader probes
//! and keeps cluster histories; the others show its published rounds.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use kube::Client;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::{
    HostClients, HostHealth, HostState, PROBE_TIMEOUT, ProbeFailure, probe_version, reachable,
    server_url,
};
use crate::config::{ConsoleConfig, HostSpec};

/// Probes every host on an interval and publishes the results.
#[derive(Clone)]
pub struct HostMonitor {
    rx: watch::Receiver<Arc<Vec<HostHealth>>>,
}

impl HostMonitor {
    /// Starts probing in the background, as the only console replica; the first results
    /// arrive within [`PROBE_TIMEOUT`].
    pub fn start(config: &ConsoleConfig, clients: &HostClients) -> Self {
        Self::start_shared(
            config,
            crate::replicas::Leadership::alone(crate::replicas::replica_identity()),
            clients,
        )
    }

    /// Starts probing as one of several replicas: while `leadership` says this replica leads
    /// it probes, keeps the cluster history and publishes each round on the first host
    /// ([`crate::replicas::shared_health`]); otherwise it shows the leader's rounds, and
    /// probes by itself (keeping nothing) only while none arrive.
    pub fn start_shared(
        config: &ConsoleConfig,
        leadership: crate::replicas::Leadership,
        clients: &HostClients,
    ) -> Self {
        let initial: Vec<HostHealth> = config
            .hosts
            .iter()
            .map(|h| HostHealth {
                name: h.name.clone(),
                server: server_url(h),
                state: HostState::Pending,
                checked_at: None,
            })
            .collect();
        let (tx, rx) = watch::channel(Arc::new(initial));
        let hosts = config.hosts.clone();
        let clients: Vec<Result<Client, ProbeFailure>> =
            clients.iter().map(|(_, client)| client.clone()).collect();
        let interval = config.probe_interval;
        let namespace = config.replica_namespace.clone();
        let members = Arc::new(crate::clusters::reach::MemberClients::new(Arc::new(
            config.member_address_policy(),
        )));
        tokio::spawn(async move {
            let home = clients
                .first()
                .and_then(|c| c.as_ref().ok().cloned())
                .filter(|_| leadership.is_shared())
                .map(|client| (client, namespace));
            let mut history = crate::clusters::history::ClusterHistory::default();
            let mut was_leading = false;
            let mut follow = Following::default();
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                let leading = leadership.is_leader();
                if !leading {
                    was_leading = false;
                    let published = match &home {
                        Some(home) => follow.fresh(home, interval).await,
                        None => None,
                    };
                    let results = match published {
                        Some(hosts) => hosts,
                        // No leader publishes: show this replica's own probes, keep nothing.
                        None => {
                            let mut results = probe_all(&hosts, &clients, &members).await;
                            history.record(&mut results);
                            results
                        }
                    };
                    if tx.send(Arc::new(results)).is_err() {
                        return;
                    }
                    continue;
                }
                if !was_leading {
                    // Start from what the hosts kept (a previous run, the previous leader),
                    // and count rounds on from the last one published.
                    history = seeded_history(&hosts, &clients).await;
                    if let Some(home) = &home {
                        follow.round = read_published(home).await.map(|r| r.round).unwrap_or(0);
                    }
                    was_leading = true;
                }
                let mut results = probe_all(&hosts, &clients, &members).await;
                for (host, cluster, change) in history.record(&mut results) {
                    let client = hosts
                        .iter()
                        .zip(&clients)
                        .find(|(h, _)| h.name == host)
                        .and_then(|(_, c)| c.as_ref().ok().cloned());
                    if let Some(client) = client {
                        tokio::spawn(async move {
                            if let Err(error) =
                                crate::clusters::history::keep(&client, &cluster, &change).await
                            {
                                tracing::debug!(%host, %cluster, %error, "cluster history not kept on the host");
                            }
                        });
                    }
                }
                if let Some(home) = &home {
                    follow.round += 1;
                    let published = tokio::time::timeout(
                        PROBE_TIMEOUT,
                        crate::replicas::shared_health::publish(
                            &home.0,
                            &home.1,
                            follow.round,
                            leadership.identity(),
                            &results,
                        ),
                    )
                    .await;
                    if !matches!(published, Ok(Ok(()))) {
                        tracing::debug!(
                            "this round's host health was not published for the other replicas"
                        );
                    }
                }
                if tx.send(Arc::new(results)).is_err() {
                    return; // every reader is gone: the console is shutting down
                }
            }
        });
        Self { rx }
    }

    /// The latest health of every host, in configuration order.
    pub fn snapshot(&self) -> Arc<Vec<HostHealth>> {
        self.rx.borrow().clone()
    }

    /// True when at least one host answered its last probe.
    pub fn any_reachable(&self) -> bool {
        self.rx
            .borrow()
            .iter()
            .any(|h| matches!(h.state, HostState::Reachable { .. }))
    }

    /// Waits until the next round of probes has been published.
    pub async fn changed(&mut self) {
        // An error means the prober stopped; there is nothing more to wait for.
        if self.rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// The cluster history as the hosts kept it (a previous run, the previous leader).
async fn seeded_history(
    hosts: &[HostSpec],
    clients: &[Result<Client, ProbeFailure>],
) -> crate::clusters::history::ClusterHistory {
    let mut history = crate::clusters::history::ClusterHistory::default();
    for (host, client) in hosts.iter().zip(clients) {
        if let Ok(client) = client
            && let Ok(Ok(kept)) =
                tokio::time::timeout(PROBE_TIMEOUT, crate::clusters::history::load(client)).await
        {
            history.seed(&host.name, &kept);
        }
    }
    history
}

/// The first host's client and the replica namespace on it.
type Home = (Client, String);

async fn read_published(home: &Home) -> Option<crate::replicas::shared_health::PublishedRound> {
    tokio::time::timeout(
        PROBE_TIMEOUT,
        crate::replicas::shared_health::read(&home.0, &home.1),
    )
    .await
    .ok()?
    .ok()?
}

/// A follower's view of the leader's publications.
#[derive(Default)]
struct Following {
    /// The last round seen (or, leading, published) and since when it was the last.
    round: u64,
    since: Option<Instant>,
}

impl Following {
    /// The leader's latest round, unless it has not moved on for three rounds and a probe's
    /// wait (the leader stopped, or cannot write).
    async fn fresh(&mut self, home: &Home, interval: Duration) -> Option<Vec<HostHealth>> {
        let published = read_published(home).await?;
        if published.round != self.round || self.since.is_none() {
            self.round = published.round;
            self.since = Some(Instant::now());
        }
        let patience = interval * 3 + PROBE_TIMEOUT * 2;
        self.since
            .is_some_and(|at| at.elapsed() < patience)
            .then_some(published.hosts)
    }
}

async fn probe_all(
    hosts: &[HostSpec],
    clients: &[Result<Client, ProbeFailure>],
    members: &Arc<crate::clusters::reach::MemberClients>,
) -> Vec<HostHealth> {
    let mut set = JoinSet::new();
    for (i, client) in clients.iter().enumerate() {
        let client = client.clone();
        let members = members.clone();
        let host = hosts[i].name.clone();
        set.spawn(async move {
            let state = match client {
                // The monitor's own round: each host's Clusters listed once, with the
                // members' reachability and kubefed's view added.
                Ok(client) => match probe_version(&client).await {
                    Err(failure) => HostState::Unreachable(failure),
                    Ok(answer) => reachable(answer, members.managed_clusters(&host, &client).await),
                },
                Err(failure) => HostState::Unreachable(failure),
            };
            (i, state)
        });
    }
    let mut states = vec![HostState::Pending; hosts.len()];
    while let Some(joined) = set.join_next().await {
        if let Ok((i, state)) = joined {
            states[i] = state;
        }
    }
    let now = SystemTime::now();
    hosts
        .iter()
        .zip(states)
        .map(|(host, state)| HostHealth {
            name: host.name.clone(),
            server: server_url(host),
            state,
            checked_at: Some(now),
        })
        .collect()
}

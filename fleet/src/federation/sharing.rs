//! Who watches the federated objects when several console replicas run: the leader watches
//! every host and member, publishes what it sees on the home host, and runs the repairs the
//! others ask of it; the others show the publication. A follower whose leader stopped
//! publishing (none for [`STALE_AFTER`]) watches by itself until a leader publishes again,
//! so pages never go blank for long.
//!
//! Once a second: who leads, what was published, whether to watch, where pages read from.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use kube::Client;
use tokio::task::JoinSet;

use super::FederationMonitor;
use super::monitor::Source;
use super::published::{self, FederationSnapshot, Head, Read};
use super::repair::RepairRecord;
use super::watches::start_watches;
use crate::replicas::{JobRecords, Leadership};

const TICK: Duration = Duration::from_secs(1);
/// The leader publishes a changed view at most this often.
pub const PUBLISH_EVERY: Duration = Duration::from_secs(2);
/// ... and an unchanged one this often, so followers can tell it lives.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(10);
/// A publication unchanged (no heartbeat either) this long comes from a leader that stopped.
pub const STALE_AFTER: Duration = Duration::from_secs(30);
/// New watches are shown (and published) once every reachable host's objects are listed,
/// or after this long whatever they hold.
const READY_AFTER: Duration = Duration::from_secs(10);

/// How a replica shares the federation work: the Lease, the home host the leader publishes
/// to, and where jobs are kept.
#[derive(Clone)]
pub struct Sharing {
    pub leadership: Leadership,
    /// The home host and the namespace of the publication; `None`: this replica is alone.
    pub home: Option<(Client, String)>,
    pub records: Option<JobRecords>,
}

impl Sharing {
    pub fn alone(leadership: Leadership) -> Self {
        Self {
            leadership,
            home: None,
            records: None,
        }
    }

    pub(crate) fn is_shared(&self) -> bool {
        self.home.is_some() && self.leadership.is_shared()
    }
}

pub(crate) async fn run(
    monitor: FederationMonitor,
    member_addresses: Arc<crate::clusters::MemberAddressPolicy>,
    sharing: Sharing,
) {
    let home = sharing.home.clone().filter(|_| sharing.is_shared());
    let mut watches: Option<(JoinSet<()>, Instant)> = None;
    let mut follower = Follower::new();
    let mut publisher = Publisher::default();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let leading = home.is_none() || sharing.leadership.is_leader();
        if !leading {
            // A later term publishes its first view in full.
            publisher = Publisher::default();
        }
        let fresh = match &home {
            Some((client, namespace)) if !leading => follower.follow(client, namespace).await,
            _ => false,
        };
        let watch = leading || !fresh;
        match (&mut watches, watch) {
            (None, true) => {
                // Whatever an earlier term's watches left is not this term's knowledge.
                monitor.shared.update(|v| *v = Default::default());
                let tasks = start_watches(&monitor.shared, &monitor.hosts, &member_addresses);
                watches = Some((tasks, Instant::now()));
            }
            (Some((tasks, _)), false) => {
                // Under the repairs' lock: no repair starts here on a view being emptied, and
                // one running here keeps the watches it reads.
                let stopped = {
                    let repairs = monitor.shared.repairs.lock();
                    let running = repairs.any_running();
                    if !running {
                        monitor.shared.runs_repairs.store(false, Ordering::SeqCst);
                        tasks.abort_all();
                    }
                    !running
                };
                if stopped {
                    // Aborted tasks finish their current step first: only then is the view
                    // theirs no more.
                    if let Some((mut tasks, _)) = watches.take() {
                        tasks.shutdown().await;
                    }
                    monitor.shared.update(|v| *v = Default::default());
                }
            }
            _ => {}
        }
        monitor
            .shared
            .watching
            .store(watches.is_some(), Ordering::Relaxed);
        let ready = watches
            .as_ref()
            .is_some_and(|(_, since)| since.elapsed() >= READY_AFTER || listed(&monitor));
        // Repairs run where the watches are ready and no live leader publishes elsewhere: the
        // leader, a replica alone, a follower whose leader went quiet.
        monitor
            .shared
            .runs_repairs
            .store(ready && (leading || !fresh), Ordering::SeqCst);
        let source = match (&watches, &follower.snapshot) {
            (Some(_), published) if ready || published.is_none() || home.is_none() => Source::Local,
            (_, Some(snapshot)) => Source::Published(snapshot.clone()),
            (_, None) => Source::Published(Arc::default()),
        };
        monitor.shared.set_source(source);
        if let (Some((client, namespace)), true, true) = (&home, leading, ready) {
            publisher
                .publish(&monitor, client, namespace, &sharing.leadership)
                .await;
            if let Some(records) = &sharing.records {
                take_requests(&monitor, records).await;
            }
        }
    }
}

/// Every reachable host's objects listed at least once, and the topology read.
pub(super) fn listed(monitor: &FederationMonitor) -> bool {
    monitor
        .shared
        .view
        .lock()
        .map(|v| {
            let reachable: Vec<String> = v
                .topology()
                .iter()
                .filter(|h| h.reachable)
                .map(|h| h.host.clone())
                .collect();
            !v.topology().is_empty() && v.hosts_listed(&reachable)
        })
        .unwrap_or(false)
}

async fn take_requests(monitor: &FederationMonitor, records: &JobRecords) {
    for (id, record) in records.requests::<RepairRecord>("repair").await {
        monitor.run_requested(records, &id, record).await;
    }
}

/// A follower's copy of the leader's publication.
struct Follower {
    head: Option<(u64, String)>,
    /// When the round last changed; `None` until a publication was read.
    changed: Option<Instant>,
    snapshot: Option<Arc<FederationSnapshot>>,
}

impl Follower {
    fn new() -> Self {
        Self {
            head: None,
            changed: None,
            snapshot: None,
        }
    }

    /// Reads what is new; whether the publication is fresh.
    async fn follow(&mut self, client: &Client, namespace: &str) -> bool {
        let known = self.head.as_ref().map(|(r, d)| (*r, d.as_str()));
        match published::read(client, namespace, known).await {
            Ok(Read::New { head, snapshot }) => {
                self.head = Some((head.round, head.digest));
                self.snapshot = Some(Arc::new(snapshot));
                self.changed = Some(Instant::now());
            }
            Ok(Read::Same { round }) => {
                if let Some(head) = &mut self.head {
                    head.0 = round;
                }
                self.changed = Some(Instant::now());
            }
            Ok(Read::Unchanged | Read::Torn | Read::Nothing) => {}
            Err(error) => tracing::debug!(%error, "the leader's federation view could not be read"),
        }
        self.changed
            .is_some_and(|changed| changed.elapsed() < STALE_AFTER)
    }
}

/// The leader's side: what it last published, and when.
#[derive(Default)]
struct Publisher {
    digest: Option<String>,
    round: u64,
    parts: usize,
    at: Option<Instant>,
}

impl Publisher {
    /// Publishes the view if it changed (at most every [`PUBLISH_EVERY`]) or the heartbeat
    /// is due. Every write is made only while this replica still leads: a deposed leader
    /// finishing a slow round must not overwrite or delete what the new one wrote.
    async fn publish(
        &mut self,
        monitor: &FederationMonitor,
        client: &Client,
        namespace: &str,
        leadership: &Leadership,
    ) {
        if self.at.is_some_and(|at| at.elapsed() < PUBLISH_EVERY) {
            return;
        }
        let snapshot = {
            let Ok(view) = monitor.shared.view.lock() else {
                return;
            };
            FederationSnapshot {
                rows: view.rows(SystemTime::now()),
                topology: view.topology().to_vec(),
            }
        };
        let encoded = snapshot.encode();
        let digest = published::digest(&encoded);
        let changed = self.digest.as_deref() != Some(digest.as_str());
        if !changed && self.at.is_some_and(|at| at.elapsed() < HEARTBEAT_EVERY) {
            return;
        }
        // Milliseconds since the epoch: a new leader's rounds differ from the last one's.
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or_default();
        let round = now.max(self.round + 1);
        let parts = if changed {
            let leading = || leadership.is_leader();
            match published::write_parts(client, namespace, &digest, &encoded, leading).await {
                Ok(parts) => parts,
                Err(error) => {
                    tracing::debug!(%error, "the federation view could not be published");
                    return;
                }
            }
        } else {
            self.parts
        };
        let head = Head {
            round,
            leader: leadership.identity().to_string(),
            digest: digest.clone(),
            parts,
        };
        if !leadership.is_leader() {
            return;
        }
        if let Err(error) = published::write_head(client, namespace, &head).await {
            tracing::debug!(%error, "the federation view's head could not be published");
            return;
        }
        if changed && leadership.is_leader() {
            // Earlier rounds' parts, and any a stopped leader left.
            published::delete_other_parts(client, namespace, &digest).await;
        }
        *self = Self {
            digest: Some(digest),
            round,
            parts,
            at: Some(Instant::now()),
        };
    }
}

//! Sync running inside the console: watches on every host of the group tell the engine an
//! object changed; the replica holding the console's Lease ([`crate::replicas::leader`]) runs
//! a round soon after (and every [`PERIOD`] anyway, for what a round left for later). While
//! sync is off, rounds only plan, so the Sync page shows what turning it on would write.
//! Everything people see lives in the shared [`SyncRecord`]; the other replicas read it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use kube::Client;
use kube::api::{Api, DynamicObject};
use kube::runtime::{WatchStreamExt, watcher};
use tokio::sync::Notify;

use super::SYNCED_KINDS;
use super::engine::{GroupHost, RoundMode, copy_logins, settle, sync_round};
use super::record::{self, Lag, SyncRecord};
use super::stores::Stores;
use crate::federation::{FederatedKind, KindResources};
use crate::replicas::Leadership;

/// A round runs at least this often while this replica acts.
pub const PERIOD: Duration = Duration::from_secs(30);
/// Rounds between settle what the watches saw change; this often one lists and settles
/// everything, whatever a watch may have missed.
pub const FULL_EVERY: Duration = Duration::from_secs(600);
/// Changes arriving together are settled by one round.
const GATHER: Duration = Duration::from_millis(25);
/// A round after a change settles at most this many of the changed objects, those seen first
/// first: a change arriving during a long round waits for all of it. (Smaller caps cost a
/// burst more than they save: measured with `make bench`, 512 gave a 10,000-user burst p99
/// 5.6 s, 2,048 gave 3.3 s; a steady 1,000 changes a second never reaches the cap.)
const CHANGES_AT_ONCE: usize = 2048;
/// How often a replica that does not act reads the shared record.
const FOLLOW_EVERY: Duration = Duration::from_secs(3);
/// Lag samples kept for the percentiles.
const LAG_SAMPLES: usize = 2000;

/// Where the shared record lives: the first host, the replicas' namespace.
#[derive(Clone)]
pub struct Home {
    pub client: Client,
    pub namespace: String,
}

/// A handle on the running sync of one group; clones share it.
#[derive(Clone)]
pub struct SyncService {
    inner: Arc<Inner>,
}

struct Inner {
    hosts: Vec<String>,
    home: Home,
    leadership: Leadership,
    wake: Notify,
    state: Mutex<Local>,
    stores: Mutex<Stores>,
}

/// What this replica knows: the record as last written or read, and the changes its watches
/// saw that no round has settled yet.
#[derive(Default)]
struct Local {
    record: SyncRecord,
    /// `Kind name` → what a watch saw of its changes since a round settled it.
    dirty: BTreeMap<String, Dirty>,
    lag_samples: Vec<u64>,
    loaded: bool,
    /// When the last round that listed everything ran, and how many objects it saw.
    last_full: Option<(Instant, usize)>,
    /// A watch relisted or resumed, or a new leader begins: the next round lists everything.
    full_due: bool,
    /// A failed login was seen: the next round copies failed logins.
    logins_due: bool,
    /// uids of copies this replica's rounds deleted, and when (kept [`OWN_DELETES_KEPT`]).
    own_deletes: BTreeMap<String, Instant>,
    /// Copies this replica's rounds wrote over, until their watches bring the writes.
    replaced: super::snapshot::Replaced,
}

/// How long a delete this engine made is told apart from a new one by its twin (kubefed
/// deletes a twin within seconds, or keeps it for as long as a member holds it — then the
/// twin is released once the object lives on, see `twins`).
const OWN_DELETES_KEPT: Duration = Duration::from_secs(600);

/// What the watches saw of one object's changes since a round settled it.
struct Dirty {
    /// The first change (the lag counts from it).
    first: Instant,
    /// The last (a change during a round is for the next one).
    last: Instant,
    /// Its place in the queue of a round that cannot take every change: the first change,
    /// or when a round last left it for later.
    queued: Instant,
}

/// Why turning sync on or off did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SyncSwitchError {
    #[error("the sync record could not be written on the first host: {0}")]
    Write(#[source] kube::Error),
    #[error("the sync record could not be read on the first host: {0}")]
    Read(#[source] kube::Error),
}

impl SyncService {
    /// Starts watching `group` and, while this replica leads, running rounds over it.
    pub fn start(group: Vec<GroupHost>, home: Home, leadership: Leadership) -> Self {
        let inner = Arc::new(Inner {
            hosts: group.iter().map(|h| h.name.clone()).collect(),
            home,
            leadership,
            wake: Notify::new(),
            state: Mutex::new(Local::default()),
            stores: Mutex::new(Stores::default()),
        });
        for (i, host) in group.iter().enumerate() {
            for kind in SYNCED_KINDS {
                for (twin, resource) in [(false, kind.source()), (true, kind.federated())] {
                    let api = Api::all_with(host.client.clone(), &resource);
                    let watched = Watched {
                        host: i,
                        kind,
                        twin,
                    };
                    tokio::spawn(watch(Arc::downgrade(&inner), api, watched));
                }
            }
            // A failed login on one host is copied to the others at once (see `logins`).
            let records = kube::core::ApiResource::erase::<crate::iam::resources::LoginRecord>(&());
            let api = Api::all_with(host.client.clone(), &records);
            tokio::spawn(watch_logins(Arc::downgrade(&inner), api));
        }
        tokio::spawn(run(inner.clone(), group));
        Self { inner }
    }

    /// The hosts of the group, in configuration order.
    pub fn hosts(&self) -> &[String] {
        &self.inner.hosts
    }

    /// The group's record as this replica knows it.
    pub fn record(&self) -> SyncRecord {
        let state = self.inner.lock();
        let mut record = state.record.clone();
        if self.inner.leadership.is_leader() {
            record.pending = state.dirty.len();
        }
        record
    }

    /// Turns sync on (rounds write) or off (rounds plan), as `by` asked; the next round
    /// starts at once.
    pub async fn switch(&self, on: bool, by: &str) -> Result<SyncRecord, SyncSwitchError> {
        // Never from this replica's copy: a follower's may be stale, and saving it would
        // drop the conflict log the leader wrote since.
        let mut record = record::load(&self.inner.home.client, &self.inner.home.namespace)
            .await
            .map_err(SyncSwitchError::Read)?
            .unwrap_or_default();
        record.enabled = on;
        record.changed_by = Some((by.to_string(), now_ms()));
        if on {
            record.plan.clear();
            record.plan_conflicts.clear();
        }
        record::save(&self.inner.home.client, &self.inner.home.namespace, &record)
            .await
            .map_err(SyncSwitchError::Write)?;
        self.inner.lock().record = record.clone();
        tracing::info!(on, by, "sync switched");
        self.inner.wake.notify_one();
        Ok(record)
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, Local> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn stores(&self) -> std::sync::MutexGuard<'_, Stores> {
        self.stores.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Milliseconds since the epoch, as rounds version the changes they find.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

/// Which list a watch keeps.
struct Watched {
    host: usize,
    kind: FederatedKind,
    /// The kind's `Federated*` twins (only those being deleted are kept).
    twin: bool,
}

/// Keeps the host's copies in the stores, marks each changed object dirty and wakes the loop.
/// Kubefed's own copies on a host are not sources and wake nothing.
async fn watch(inner: std::sync::Weak<Inner>, api: Api<DynamicObject>, watched: Watched) {
    let mut events = watcher(api, watcher::Config::default())
        .default_backoff()
        .boxed();
    while let Some(event) = events.next().await {
        let Some(inner) = inner.upgrade() else { return };
        let Watched { host, kind, twin } = watched;
        let changed = match event {
            Ok(event) => inner.stores().apply(host, kind, twin, event),
            // A host without kubefed's types has no twins (as a round's list finds).
            // (Said once: the watch retries, and each retry would ask for a full round.)
            Err(watcher::Error::InitialListFailed(kube::Error::Api(status)))
                if twin && status.code == 404 =>
            {
                if !inner.stores().no_twins(host, kind) {
                    continue;
                }
                super::stores::Changed {
                    objects: Vec::new(),
                    reread: true,
                }
            }
            Err(error) => {
                tracing::debug!(host, ?kind, twin, %error, "sync watch");
                inner.stores().failed(host, kind, twin);
                continue;
            }
        };
        if changed.objects.is_empty() && !changed.reread {
            continue;
        }
        let mut state = inner.lock();
        for name in changed.objects {
            let now = Instant::now();
            state
                .dirty
                .entry(name)
                .and_modify(|d| d.last = now)
                .or_insert(Dirty {
                    first: now,
                    last: now,
                    queued: now,
                });
        }
        // The watch may have missed changes: the next round reads everything.
        state.full_due |= changed.reread;
        drop(state);
        inner.wake.notify_one();
    }
}

/// Wakes the loop for a failed login made on this host (copies wake nothing).
async fn watch_logins(inner: std::sync::Weak<Inner>, api: Api<DynamicObject>) {
    let mut events = watcher(api, watcher::Config::default())
        .default_backoff()
        .boxed();
    while let Some(event) = events.next().await {
        let Some(inner) = inner.upgrade() else { return };
        let Ok(watcher::Event::Apply(object)) = event else {
            continue;
        };
        let failed = object.data.pointer("/spec/success") == Some(&serde_json::json!(false));
        let copy = object
            .metadata
            .annotations
            .as_ref()
            .is_some_and(|a| a.contains_key(super::logins::FROM_ANNOTATION));
        if failed && !copy {
            inner.lock().logins_due = true;
            inner.wake.notify_one();
        }
    }
}

async fn run(inner: Arc<Inner>, group: Vec<GroupHost>) {
    loop {
        if !inner.leadership.is_leader() {
            follow(&inner).await;
            tokio::time::sleep(FOLLOW_EVERY).await;
            continue;
        }
        if !inner.lock().loaded {
            // Carry on from the shared record: the conflict log and the switch survive
            // restarts and a change of leader.
            match record::load(&inner.home.client, &inner.home.namespace).await {
                Ok(found) => {
                    let mut state = inner.lock();
                    state.record = found.unwrap_or_default();
                    state.loaded = true;
                }
                Err(error) => {
                    tracing::warn!(%error, "the sync record could not be read; trying again");
                    tokio::time::sleep(FOLLOW_EVERY).await;
                    continue;
                }
            }
        }
        round(&inner, &group).await;
        // Until something changes (gathering what arrives together), or the period ends.
        let _ = tokio::time::timeout(PERIOD, inner.wake.notified()).await;
        tokio::time::sleep(GATHER).await;
    }
}

/// A replica that does not act shows what the acting one wrote.
async fn follow(inner: &Inner) {
    if let Ok(Some(record)) = record::load(&inner.home.client, &inner.home.namespace).await {
        let mut state = inner.lock();
        state.record = record;
        // Taking over later, it reads the record afresh and the rounds read everything.
        state.loaded = false;
        state.full_due = true;
        state.dirty.clear();
    }
}

async fn round(inner: &Inner, group: &[GroupHost]) {
    // The switch may have been turned by another replica or `tandem sync apply --turn-on`.
    if let Ok(Some(stored)) = record::load(&inner.home.client, &inner.home.namespace).await {
        let mut state = inner.lock();
        state.record.enabled = stored.enabled;
        state.record.changed_by = stored.changed_by;
    }
    let (enabled, started) = (inner.lock().record.enabled, Instant::now());
    let mode = if enabled {
        RoundMode::Apply
    } else {
        RoundMode::Plan
    };
    let at = now_ms();
    // A plan is of everything; so is the first round, one after a relist, and one now and
    // then. The others settle what the watches saw change.
    let (full, dirty, logins, own_deletes) = {
        let mut state = inner.lock();
        // While a watch fails, its host is left out of the rounds from the stores: lists
        // (every PERIOD) let it back in as soon as it answers.
        let every = if inner.stores().failing() {
            PERIOD
        } else {
            FULL_EVERY
        };
        let full = mode == RoundMode::Plan
            || std::mem::take(&mut state.full_due)
            || state
                .last_full
                .is_none_or(|(when, _)| when.elapsed() >= every);
        state
            .own_deletes
            .retain(|_, when| when.elapsed() < OWN_DELETES_KEPT);
        let dirty: BTreeSet<String> = if full || state.dirty.len() <= CHANGES_AT_ONCE {
            state.dirty.keys().cloned().collect()
        } else {
            let mut oldest: Vec<(&String, &Instant)> = state
                .dirty
                .iter()
                .map(|(name, d)| (name, &d.queued))
                .collect();
            oldest.select_nth_unstable_by_key(CHANGES_AT_ONCE - 1, |(_, queued)| **queued);
            oldest[..CHANGES_AT_ONCE]
                .iter()
                .map(|(name, _)| (*name).clone())
                .collect()
        };
        let own_deletes: BTreeSet<String> = state.own_deletes.keys().cloned().collect();
        (
            full,
            dirty,
            std::mem::take(&mut state.logins_due),
            own_deletes,
        )
    };
    // Objects a copy of which the stores hold at a version this engine already replaced.
    let mut stale = BTreeSet::new();
    let report = if full {
        let report = sync_round(group, &own_deletes, at, mode).await;
        inner.lock().last_full = Some((started, report.objects));
        report
    } else {
        let mut snapshot = inner.stores().snapshot(group, &dirty);
        snapshot.own_deletes = own_deletes;
        stale = snapshot.set_aside_stale(&mut inner.lock().replaced);
        let mut report = settle(group, &snapshot, Some(&dirty), at, mode).await;
        if logins {
            copy_logins(group, mode, &mut report).await;
        }
        report.objects = inner.lock().last_full.map_or(0, |(_, objects)| objects);
        report
    };
    // Left for later, still to settle.
    let deferred: BTreeSet<&String> = report.deferred.iter().map(|(name, _)| name).collect();
    let record = {
        let mut state = inner.lock();
        let now = Instant::now();
        for uid in &report.deleted_uids {
            state.own_deletes.insert(uid.clone(), now);
        }
        for (host, object, rv) in &report.replaced {
            state
                .replaced
                .insert((*host, object.clone()), (rv.clone(), now));
        }
        // What an applied round wrote is logged even if sync was switched off meanwhile.
        if enabled {
            let written: Vec<u64> = report
                .planned
                .iter()
                .filter_map(|w| state.dirty.get(&w.object))
                .map(|d| d.first.elapsed().as_millis() as u64)
                .collect();
            state.lag_samples.extend(written);
            let excess = state.lag_samples.len().saturating_sub(LAG_SAMPLES);
            state.lag_samples.drain(..excess);
            state.record.lag = Lag::of(&state.lag_samples);
            state.record.add_round(&report, at);
        } else if !state.record.enabled {
            // (Not when switched on during the round: this plan is out of date already.)
            state.record.set_plan(&report, at);
        }
        // What last changed before the round began was read by it, unless it was left for
        // later. A change since (the echo of this round's own writes included) is settled by
        // the next round: a copy created here gets its own uid into its placement then.
        // A full round read everything; one after a change, the objects it took.
        state.dirty.retain(|name, d| {
            let taken = full || dirty.contains(name);
            if !taken || d.last > started {
                return true;
            }
            if deferred.contains(name) || stale.contains(name) {
                // To the back of the queue: what keeps failing must not hold back what
                // changed after it.
                d.queued = now;
                return true;
            }
            false
        });
        // Changes this round did not take (not those it left for later, nor those that came
        // during it — their watch woke the loop): the next round follows at once.
        if state
            .dirty
            .iter()
            .any(|(name, d)| !full && !dirty.contains(name) && d.last <= started)
        {
            inner.wake.notify_one();
        }
        state.record.pending = state.dirty.len();
        state.record.clone()
    };
    if let Err(error) = record::save(&inner.home.client, &inner.home.namespace, &record).await {
        tracing::warn!(%error, "the sync record could not be written; the next round tries again");
    }
}

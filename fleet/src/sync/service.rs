//! Sync running inside the console: watches on every host of the group tell the engine an
//! object changed; the replica holding the console's Lease ([`crate::replicas::leader`]) runs
//! a round soon after (and every [`PERIOD`] anyway, for what a round left for later). While
//! sync is off, rounds only plan, so the Sync page shows what turning it on would write.
//! Everything people see lives in the shared [`SyncRecord`]; the other replicas read it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use kube::Client;
use kube::api::{Api, DynamicObject};
use kube::runtime::{WatchStreamExt, watcher};
use tokio::sync::Notify;

use super::engine::{GroupHost, RoundMode, sync_round};
use super::record::{self, Lag, SyncRecord};
use super::{SYNCED_KINDS, written_by_kubefed};
use crate::federation::KindResources;
use crate::replicas::Leadership;

/// A round runs at least this often while this replica acts.
pub const PERIOD: Duration = Duration::from_secs(30);
/// Changes arriving together are settled by one round.
const GATHER: Duration = Duration::from_millis(100);
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
}

/// What this replica knows: the record as last written or read, and the changes its watches
/// saw that no round has settled yet.
#[derive(Default)]
struct Local {
    record: SyncRecord,
    /// `Kind name` → when a watch first saw it change since the last round.
    dirty: BTreeMap<String, Instant>,
    lag_samples: Vec<u64>,
    loaded: bool,
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
        });
        for host in &group {
            for kind in SYNCED_KINDS {
                let api = Api::all_with(host.client.clone(), &kind.source());
                let kind_name = kind.source().kind;
                tokio::spawn(watch(Arc::downgrade(&inner), api, kind_name));
            }
            // A failed login on one host is copied to the others at once (see `logins`).
            let records = kube::core::ApiResource::erase::<crate::iam::resources::LoginRecord>(&());
            let api = Api::all_with(host.client.clone(), &records);
            tokio::spawn(watch(Arc::downgrade(&inner), api, records.kind));
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
}

/// Milliseconds since the epoch, as rounds version the changes they find.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

/// Marks each changed object dirty and wakes the loop. Kubefed's own copies on a host are not
/// sources and wake nothing.
async fn watch(inner: std::sync::Weak<Inner>, api: Api<DynamicObject>, kind: String) {
    let mut events = watcher(api, watcher::Config::default())
        .default_backoff()
        .boxed();
    while let Some(event) = events.next().await {
        let Some(inner) = inner.upgrade() else { return };
        let object = match event {
            Ok(watcher::Event::Apply(o) | watcher::Event::Delete(o)) => o,
            // A relist: the next round reads everything anyway.
            Ok(watcher::Event::InitDone) => {
                inner.wake.notify_one();
                continue;
            }
            Ok(_) => continue,
            Err(error) => {
                tracing::debug!(%kind, %error, "sync watch");
                continue;
            }
        };
        if written_by_kubefed(&object.metadata) {
            continue;
        }
        if kind == "LoginRecord" {
            // Only a failed attempt made on this host is copied: nothing else to wake for.
            let failed = object.data.pointer("/spec/success") == Some(&serde_json::json!(false));
            let copy = object
                .metadata
                .annotations
                .as_ref()
                .is_some_and(|a| a.contains_key(super::logins::FROM_ANNOTATION));
            if failed && !copy {
                inner.wake.notify_one();
            }
            continue;
        }
        let name = format!("{kind} {}", object.metadata.name.unwrap_or_default());
        inner.lock().dirty.entry(name).or_insert_with(Instant::now);
        inner.wake.notify_one();
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
    let report = sync_round(group, at, mode).await;
    let record = {
        let mut state = inner.lock();
        // What an applied round wrote is logged even if sync was switched off meanwhile.
        if enabled {
            let written: Vec<u64> = report
                .planned
                .iter()
                .filter_map(|w| state.dirty.get(&w.object))
                .map(|seen| seen.elapsed().as_millis() as u64)
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
        // What changed before the round began was read by it.
        state.dirty.retain(|_, seen| *seen > started);
        state.record.pending = state.dirty.len();
        state.record.clone()
    };
    if let Err(error) = record::save(&inner.home.client, &inner.home.namespace, &record).await {
        tracing::warn!(%error, "the sync record could not be written; the next round tries again");
    }
}

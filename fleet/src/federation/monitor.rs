//! The console's view of its fleet's federated objects, and the questions pages ask of it.
//!
//! One replica watches (the leader, or the only one: [`super::watches`]); with several, the
//! others show what the leader publishes on the home host ([`super::published`]) and hand
//! repairs to it ([`super::sharing`]). Either way the answers come from one [`Source`].

use crate::federation::KindResources;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use kube::Client;
use kube::api::{Api, DynamicObject};
use serde_json::Value;

use super::published::FederationSnapshot;
use super::repair::RepairRecord;
use super::sharing::{self, Sharing};
use super::{FederatedKind, FederatedState, FederationView, HostLinks, ObjectKey, ObjectRow};

/// Where this replica's answers come from now.
#[derive(Clone)]
pub(crate) enum Source {
    /// Its own watches ([`Shared::view`]).
    Local,
    /// The leader's latest publication.
    Published(Arc<FederationSnapshot>),
}

pub(crate) struct Shared {
    pub(crate) view: Mutex<FederationView>,
    pub(crate) source: Mutex<Source>,
    /// This replica runs the watches now.
    pub(crate) watching: AtomicBool,
    /// Repairs run here, not asked of the leader: the watches are ready and no live leader
    /// publishes elsewhere. Cleared under the `repairs` lock before the view is emptied.
    pub(crate) runs_repairs: AtomicBool,
    /// The running or recently ended repair of each object run here.
    pub(crate) repairs: crate::jobs::JobTable<ObjectKey, RepairRecord>,
    /// Where repairs are also kept for the other replicas (set once, at start).
    pub(crate) records: std::sync::OnceLock<crate::replicas::JobRecords>,
}

impl Shared {
    pub(crate) fn update(&self, change: impl FnOnce(&mut FederationView)) {
        if let Ok(mut view) = self.view.lock() {
            change(&mut view);
        }
    }

    pub(crate) fn source(&self) -> Source {
        self.source
            .lock()
            .map(|s| s.clone())
            .unwrap_or(Source::Local)
    }

    pub(crate) fn set_source(&self, source: Source) {
        if let Ok(mut current) = self.source.lock() {
            *current = source;
        }
    }
}

/// The background work stops when the last clone holding this is dropped.
struct StopOnDrop(tokio::task::JoinHandle<()>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The federated objects of the given hosts, as watched here or published by the leader.
/// Clones share it; the background work stops when the last clone is dropped.
#[derive(Clone)]
pub struct FederationMonitor {
    pub(crate) shared: Arc<Shared>,
    pub(crate) hosts: Arc<Vec<(String, Client)>>,
    /// `None` in the handle the background work itself holds.
    _running: Option<Arc<StopOnDrop>>,
}

/// Longest wait for one host's object when a follower reads templates.
const TEMPLATE_TIMEOUT: Duration = Duration::from_secs(4);

impl FederationMonitor {
    /// Starts watching as the only console replica; the first state arrives as soon as the
    /// hosts answer. Members are reached with the kubeconfigs their hosts keep, where
    /// `member_addresses` allows.
    pub fn start(
        hosts: Vec<(String, Client)>,
        member_addresses: Arc<crate::clusters::MemberAddressPolicy>,
    ) -> Self {
        let alone = crate::replicas::Leadership::alone(crate::replicas::replica_identity());
        Self::start_shared(hosts, member_addresses, Sharing::alone(alone))
    }

    /// Starts as one of several replicas: the leader watches and publishes, the others show
    /// its publication and hand repairs to it ([`Sharing`]).
    pub fn start_shared(
        hosts: Vec<(String, Client)>,
        member_addresses: Arc<crate::clusters::MemberAddressPolicy>,
        sharing: Sharing,
    ) -> Self {
        let initial = if sharing.is_shared() {
            Source::Published(Arc::default())
        } else {
            Source::Local
        };
        let shared = Arc::new(Shared {
            view: Mutex::new(FederationView::default()),
            source: Mutex::new(initial),
            watching: AtomicBool::new(false),
            runs_repairs: AtomicBool::new(false),
            repairs: crate::jobs::JobTable::new(super::REPAIR_KEPT_FOR),
            records: std::sync::OnceLock::new(),
        });
        if let Some(records) = sharing.records.clone() {
            let _ = shared.records.set(records);
        }
        let handle = Self {
            shared,
            hosts: Arc::new(hosts),
            _running: None,
        };
        let work = tokio::spawn(sharing::run(handle.clone(), member_addresses, sharing));
        Self {
            _running: Some(Arc::new(StopOnDrop(work))),
            ..handle
        }
    }

    /// Whether this replica watches the fleet itself now (the leader, or a follower whose
    /// leader stopped publishing).
    pub fn watching(&self) -> bool {
        self.shared.watching.load(Ordering::Relaxed)
    }

    /// Every federated object with its state, as of now.
    pub fn rows(&self) -> Vec<ObjectRow> {
        match self.shared.source() {
            Source::Local => {
                let now = SystemTime::now();
                self.shared
                    .view
                    .lock()
                    .map(|v| v.rows(now))
                    .unwrap_or_default()
            }
            Source::Published(snapshot) => snapshot.rows.clone(),
        }
    }

    pub fn row(&self, key: &ObjectKey) -> Option<ObjectRow> {
        match self.shared.source() {
            Source::Local => self.shared.view.lock().ok()?.row(key, SystemTime::now()),
            Source::Published(snapshot) => snapshot.row(key).cloned(),
        }
    }

    pub fn topology(&self) -> Vec<HostLinks> {
        match self.shared.source() {
            Source::Local => self
                .shared
                .view
                .lock()
                .map(|v| v.topology().to_vec())
                .unwrap_or_default(),
            Source::Published(snapshot) => snapshot.topology.clone(),
        }
    }

    /// The console's own verdict for `kind`/`name` on each member of `host` whose copy is in
    /// trouble (flapping, stuck deleting, sync failing, not on the member, differing between
    /// hosts), by `host`'s name for the member: what pages show ahead of kubefed's status,
    /// which says "propagated" through a fight.
    pub fn troubled_members(
        &self,
        host: &str,
        kind: FederatedKind,
        name: &str,
    ) -> Vec<(String, FederatedState)> {
        let key = ObjectKey {
            kind,
            name: name.to_string(),
        };
        let Some(row) = self.row(&key) else {
            return Vec::new();
        };
        let names = member_names(&self.topology(), host);
        row.members
            .into_iter()
            .filter(|m| in_trouble(&m.state))
            .filter_map(|m| Some((names.get(&m.uid)?.clone(), m.state)))
            .collect()
    }

    /// Every object in trouble on the members `host` manages, by `host`'s name for each
    /// member: what the clusters page counts ahead of kubefed's "propagated".
    pub fn troubles_by_member(
        &self,
        host: &str,
    ) -> HashMap<String, Vec<(ObjectKey, FederatedState)>> {
        let mut out: HashMap<String, Vec<(ObjectKey, FederatedState)>> = HashMap::new();
        let names = member_names(&self.topology(), host);
        for row in self.rows() {
            for cell in row.members {
                if let Some(member) = names.get(&cell.uid)
                    && in_trouble(&cell.state)
                {
                    out.entry(member.clone())
                        .or_default()
                        .push((row.key.clone(), cell.state));
                }
            }
        }
        out
    }

    /// Each host's template of `key`: from the watches, or (a follower: templates are never
    /// published, they may carry password hashes) read from the hosts now.
    pub async fn templates(&self, key: &ObjectKey) -> Vec<(String, Value)> {
        if let Source::Local = self.shared.source() {
            return self
                .shared
                .view
                .lock()
                .map(|v| v.templates(key))
                .unwrap_or_default();
        }
        let mut out = Vec::new();
        for (host, client) in self.hosts.iter() {
            let api = Api::<DynamicObject>::all_with(client.clone(), &key.kind.federated());
            if let Ok(Ok(Some(object))) =
                tokio::time::timeout(TEMPLATE_TIMEOUT, api.get_opt(&key.name)).await
            {
                let template = object
                    .data
                    .pointer("/spec/template")
                    .cloned()
                    .unwrap_or(Value::Null);
                out.push((host.clone(), template));
            }
        }
        out
    }

    pub fn host_names(&self) -> Vec<String> {
        self.hosts.iter().map(|(h, _)| h.clone()).collect()
    }

    pub(crate) fn host_client(&self, host: &str) -> Option<&Client> {
        self.hosts.iter().find(|(h, _)| h == host).map(|(_, c)| c)
    }
}

/// A member copy's state that pages must show instead of kubefed's: everything but "in
/// sync", "propagating" (kubefed is at it) and "missing on a host" (another host's own
/// object, not a fault on the member).
fn in_trouble(state: &FederatedState) -> bool {
    !matches!(
        state,
        FederatedState::InSync | FederatedState::Propagating | FederatedState::MissingOnHost { .. }
    )
}

/// `host`'s name for each member it manages, by the member's kube-system UID.
fn member_names(topology: &[HostLinks], host: &str) -> HashMap<String, String> {
    topology
        .iter()
        .filter(|h| h.host == host)
        .flat_map(|h| &h.members)
        .map(|m| (m.uid.clone(), m.name.clone()))
        .collect()
}

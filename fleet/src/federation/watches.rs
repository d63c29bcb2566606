//! The watches behind a replica's own federation view: on every host, a watch per
//! `Federated*` kind; every few seconds, each host's `Cluster`s (which members it manages,
//! by kube-system UID); on every member, a watch per kind on the copies kubefed writes. A
//! member shared by two hosts is watched once.
//!
//! Watches, not polling: the losing version of a flapping object can last under a second.

use crate::federation::KindResources;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use kube::Client;
use kube::api::{Api, DynamicObject};
use kube::runtime::{WatchStreamExt, watcher};
use tokio::task::{AbortHandle, JoinSet};

use super::monitor::Shared;
use super::{FederatedKind, HostLinks, MemberLink};
use crate::clusters::objects::cluster_resource;
use crate::clusters::reach::{MemberClients, stored_kubeconfig};

/// How often the hosts' `Cluster`s are read again.
pub const TOPOLOGY_INTERVAL: Duration = Duration::from_secs(5);
const LIST_TIMEOUT: Duration = Duration::from_secs(4);

/// Starts every watch; they stop when the returned set is dropped.
pub(crate) fn start_watches(
    shared: &Arc<Shared>,
    hosts: &Arc<Vec<(String, Client)>>,
    member_addresses: &Arc<crate::clusters::MemberAddressPolicy>,
) -> JoinSet<()> {
    let mut tasks = JoinSet::new();
    for (host, client) in hosts.iter() {
        for kind in FederatedKind::ALL {
            tasks.spawn(watch_host(
                shared.clone(),
                host.clone(),
                client.clone(),
                kind,
            ));
        }
    }
    tasks.spawn(follow_topology(
        shared.clone(),
        hosts.clone(),
        member_addresses.clone(),
    ));
    tasks
}

async fn watch_host(shared: Arc<Shared>, host: String, client: Client, kind: FederatedKind) {
    let api = Api::<DynamicObject>::all_with(client, &kind.federated());
    follow(api, |seen, now| match seen {
        Seen::Relisting => {}
        Seen::Applied(object) => shared.update(|v| v.host_applied(&host, kind, &object, now)),
        Seen::Deleted(object) => {
            let name = object.metadata.name.unwrap_or_default();
            shared.update(|v| v.host_deleted(&host, kind, &name));
        }
        Seen::Listed(names) => shared.update(|v| v.host_listed(&host, kind, &names)),
        // A kind the host does not serve (no KubeSphere) keeps failing; the backoff spaces
        // the retries.
        Seen::Failed(error) => tracing::debug!(%host, kind = kind.key(), %error, "federated watch"),
    })
    .await;
}

async fn watch_member(shared: Arc<Shared>, uid: String, client: Client, kind: FederatedKind) {
    let api = Api::<DynamicObject>::all_with(client, &kind.member());
    let changed = |name: Option<String>, object: Option<serde_json::Value>, now| {
        if let Some(name) = name {
            shared.update(|v| v.member_changed(&uid, kind, &name, object.as_ref(), now));
        }
    };
    follow(api, |seen, now| match seen {
        Seen::Relisting => shared.update(|v| v.member_listing(&uid, kind)),
        Seen::Listed(names) => shared.update(|v| v.member_listed(&uid, kind, &names, now)),
        Seen::Applied(o) => changed(o.metadata.name.clone(), serde_json::to_value(&o).ok(), now),
        Seen::Deleted(o) => changed(o.metadata.name, None, now),
        Seen::Failed(error) => {
            tracing::debug!(member = %uid, kind = kind.key(), %error, "member watch")
        }
    })
    .await;
}

/// A watch's events as the view takes them.
enum Seen {
    /// A (re)list begins: what it does not list again is gone.
    Relisting,
    Applied(DynamicObject),
    Deleted(DynamicObject),
    /// The (re)list ended; these names are what it found.
    Listed(BTreeSet<String>),
    Failed(watcher::Error),
}

/// Follows a watch with back-off for as long as the task lives, collecting each relist's
/// names, and hands every event to `on` with the time it arrived.
async fn follow(api: Api<DynamicObject>, mut on: impl FnMut(Seen, SystemTime)) {
    let mut events = watcher(api, watcher::Config::default())
        .default_backoff()
        .boxed();
    let mut listing = BTreeSet::new();
    while let Some(event) = events.next().await {
        let seen = match event {
            Ok(watcher::Event::Init) => {
                listing.clear();
                Seen::Relisting
            }
            Ok(watcher::Event::InitApply(object)) => {
                if let Some(name) = object.metadata.name.clone() {
                    listing.insert(name);
                }
                Seen::Applied(object)
            }
            Ok(watcher::Event::InitDone) => Seen::Listed(std::mem::take(&mut listing)),
            Ok(watcher::Event::Apply(object)) => Seen::Applied(object),
            Ok(watcher::Event::Delete(object)) => Seen::Deleted(object),
            Err(error) => Seen::Failed(error),
        };
        on(seen, SystemTime::now());
    }
}

/// Reads every host's `Cluster`s on an interval and starts the watches of members not
/// watched yet, with the kubeconfig a host keeps for each; stops those of members that left.
async fn follow_topology(
    shared: Arc<Shared>,
    hosts: Arc<Vec<(String, Client)>>,
    member_addresses: Arc<crate::clusters::MemberAddressPolicy>,
) {
    let clients = MemberClients::new(member_addresses);
    let mut watched: HashMap<String, Vec<AbortHandle>> = HashMap::new();
    // Owned here: dropping this task (the monitor) stops the member watches too.
    let mut member_tasks = JoinSet::new();
    loop {
        let mut topology = Vec::with_capacity(hosts.len());
        let mut kubeconfigs: Vec<(String, String, String, String)> = Vec::new();
        for (host, client) in hosts.iter() {
            let api: Api<DynamicObject> = Api::all_with(client.clone(), &cluster_resource());
            let list = tokio::time::timeout(LIST_TIMEOUT, api.list(&Default::default())).await;
            let Ok(Ok(list)) = list else {
                topology.push(HostLinks {
                    host: host.clone(),
                    reachable: false,
                    members: Vec::new(),
                });
                continue;
            };
            let mut members = Vec::new();
            for object in &list.items {
                let Ok(cluster) = serde_json::to_value(object)
                    .and_then(serde_json::from_value::<crate::kubesphere::Cluster>)
                else {
                    continue;
                };
                let (Some(name), Some(uid)) = (
                    object.metadata.name.clone(),
                    cluster.status.as_ref().and_then(|s| s.uid.clone()),
                ) else {
                    continue;
                };
                if cluster.is_host() {
                    continue;
                }
                if let Some(text) = stored_kubeconfig(object) {
                    kubeconfigs.push((uid.clone(), host.clone(), name.clone(), text));
                }
                members.push(MemberLink {
                    uid,
                    name,
                    ready: cluster.is_ready(),
                });
            }
            members.sort_by(|a, b| a.name.cmp(&b.name));
            topology.push(HostLinks {
                host: host.clone(),
                reachable: true,
                members,
            });
        }
        let every_host_answered = topology.iter().all(|h| h.reachable);
        let present: HashSet<String> = topology
            .iter()
            .flat_map(|h| h.members.iter().map(|m| m.uid.clone()))
            .collect();
        shared.update(|v| v.set_topology(topology));
        // Only when every host answered is a member missing from all of them really gone.
        if every_host_answered {
            watched.retain(|uid, tasks| {
                if present.contains(uid) {
                    return true;
                }
                tasks.iter().for_each(AbortHandle::abort);
                shared.update(|v| v.forget_member(uid));
                false
            });
            while member_tasks.try_join_next().is_some() {}
        }
        for (uid, host, name, kubeconfig) in kubeconfigs {
            if watched.contains_key(&uid) {
                continue;
            }
            let Ok(client) = clients.client(&host, &name, &kubeconfig).await else {
                continue; // tried again next round
            };
            let tasks = FederatedKind::ALL
                .into_iter()
                .map(|kind| {
                    member_tasks.spawn(watch_member(
                        shared.clone(),
                        uid.clone(),
                        client.clone(),
                        kind,
                    ))
                })
                .collect();
            watched.insert(uid, tasks);
        }
        tokio::time::sleep(TOPOLOGY_INTERVAL).await;
    }
}

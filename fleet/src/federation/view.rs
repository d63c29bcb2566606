//! What the console knows of every federated object across its hosts and their members:
//! each host's `Federated*` object (fingerprint, template, deletion, kubefed's status per
//! member) and each member copy's recent versions, fed by watches. Rows are computed on
//! demand, so a page always sees the newest state.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, SystemTime};

use kube::api::DynamicObject;
use serde_json::Value;

use super::{
    FederatedKind, FederatedState, Fingerprint, HostCopy, MemberTimeline, classify,
    propagated_fingerprint,
};

/// kubefed's value for a host's own entry in `status.clusters[]`: not a failure.
const MANAGED_LABEL_FALSE: &str = "ManagedLabelFalse";

/// Whether kubefed's status for one member (`status.clusters[].status`) says its sync
/// failed: empty is propagated, and a member's own copy that kubefed leaves alone
/// (`ManagedLabelFalse`) is no failure either.
pub fn is_sync_failure(status: &str) -> bool {
    !status.is_empty() && status != MANAGED_LABEL_FALSE
}
/// A delete kubefed still holds after this long is stuck (a normal one ends within seconds).
pub const STUCK_AFTER: Duration = Duration::from_secs(15);

#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct ObjectKey {
    pub kind: FederatedKind,
    pub name: String,
}

/// One host's federated object.
#[derive(Debug, Clone, PartialEq)]
pub struct HostObject {
    pub fingerprint: Fingerprint,
    /// What kubefed propagates (`spec.template`), for the diff.
    pub template: Value,
    pub deleting_since: Option<SystemTime>,
    /// kubefed's status for each member, by the name this host gives it ("" = propagated).
    pub statuses: BTreeMap<String, String>,
    /// Where kubefed places it (`spec.placement`).
    pub placement: Placement,
    /// When this console saw its content change (or first saw it).
    pub changed_at: SystemTime,
}

/// kubefed's placement of a federated object: `clusters` when given (even empty), else
/// `clusterSelector` (taken as every cluster: the console does not evaluate label selectors
/// against the hosts' cluster labels), else nowhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    Named(BTreeSet<String>),
    Selector,
}

impl Placement {
    pub fn of(federated: &Value) -> Self {
        let placement = federated.pointer("/spec/placement");
        if let Some(clusters) = placement
            .and_then(|p| p.get("clusters"))
            .and_then(Value::as_array)
        {
            return Self::Named(
                clusters
                    .iter()
                    .filter_map(|c| c["name"].as_str().map(String::from))
                    .collect(),
            );
        }
        match placement.and_then(|p| p.get("clusterSelector")) {
            Some(selector) if !selector.is_null() => Self::Selector,
            _ => Self::Named(BTreeSet::new()),
        }
    }

    pub fn includes(&self, member: &str) -> bool {
        match self {
            Self::Named(names) => names.contains(member),
            Self::Selector => true,
        }
    }
}

/// A member a host manages: its identity (kube-system UID) and the host's name for it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MemberLink {
    pub uid: String,
    pub name: String,
    pub ready: bool,
}

/// A host and the members it manages, as its `Cluster` objects say.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HostLinks {
    pub host: String,
    /// Its Clusters could be listed in the last round.
    pub reachable: bool,
    pub members: Vec<MemberLink>,
}

/// One host's column in a row.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HostCell {
    pub host: String,
    /// `None`: the host has no such object (or its objects are not known yet: `known`).
    pub fingerprint: Option<Fingerprint>,
    pub deleting_since: Option<SystemTime>,
    pub changed_at: Option<SystemTime>,
    pub known: bool,
}

/// One member's column in a row.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MemberCell {
    pub member: String,
    pub uid: String,
    /// The copy's fingerprint as last seen; `None`: not there.
    pub fingerprint: Option<Fingerprint>,
    /// The host whose template the copy equals.
    pub written_by: Option<String>,
    pub changed_at: Option<SystemTime>,
    /// kubefed's status for this member on each host that manages it.
    pub propagation: Vec<(String, String)>,
    pub state: FederatedState,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ObjectRow {
    pub key: ObjectKey,
    /// The worst state over its members.
    pub state: FederatedState,
    pub hosts: Vec<HostCell>,
    pub members: Vec<MemberCell>,
}

#[derive(Debug, Default)]
pub struct FederationView {
    topology: Vec<HostLinks>,
    objects: BTreeMap<ObjectKey, BTreeMap<String, HostObject>>,
    /// (host, kind) whose full list has been read: a missing object there is really missing.
    known: BTreeSet<(String, FederatedKind)>,
    timelines: HashMap<(String, ObjectKey), MemberTimeline>,
    /// (member UID, kind) whose full list has been read since its watch last (re)started: a
    /// copy missing there is really missing. A member not in here may hold anything.
    members_known: BTreeSet<(String, FederatedKind)>,
}

impl FederationView {
    pub fn topology(&self) -> &[HostLinks] {
        &self.topology
    }

    pub fn set_topology(&mut self, topology: Vec<HostLinks>) {
        self.topology = topology;
    }

    /// A host's federated object as a watch delivered it.
    pub fn host_applied(
        &mut self,
        host: &str,
        kind: FederatedKind,
        object: &DynamicObject,
        at: SystemTime,
    ) {
        let Some(name) = object.metadata.name.clone() else {
            return;
        };
        let template = object
            .data
            .pointer("/spec/template")
            .cloned()
            .unwrap_or(Value::Null);
        let fingerprint = propagated_fingerprint(&template);
        let placement = Placement::of(&object.data);
        let statuses = object
            .data
            .pointer("/status/clusters")
            .and_then(Value::as_array)
            .map(|entries| {
                entries
                    .iter()
                    .filter_map(|e| {
                        let member = e["name"].as_str()?.to_string();
                        Some((member, e["status"].as_str().unwrap_or_default().to_string()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let deleting_since =
            object.metadata.deletion_timestamp.as_ref().map(|t| {
                SystemTime::UNIX_EPOCH + Duration::from_secs(t.0.as_second().max(0) as u64)
            });
        let copies = self.objects.entry(ObjectKey { kind, name }).or_default();
        let changed_at = match copies.get(host) {
            Some(old) if old.fingerprint == fingerprint => old.changed_at,
            _ => at,
        };
        copies.insert(
            host.to_string(),
            HostObject {
                fingerprint,
                template,
                deleting_since,
                statuses,
                placement,
                changed_at,
            },
        );
    }

    pub fn host_deleted(&mut self, host: &str, kind: FederatedKind, name: &str) {
        let key = ObjectKey {
            kind,
            name: name.to_string(),
        };
        if let Some(copies) = self.objects.get_mut(&key) {
            copies.remove(host);
            if copies.is_empty() {
                self.objects.remove(&key);
            }
        }
    }

    /// A host's full list was read (a watch's initial list): objects not in `names` are gone.
    pub fn host_listed(&mut self, host: &str, kind: FederatedKind, names: &BTreeSet<String>) {
        let gone: Vec<String> = self
            .objects
            .iter()
            .filter(|(k, copies)| {
                k.kind == kind && copies.contains_key(host) && !names.contains(&k.name)
            })
            .map(|(k, _)| k.name.clone())
            .collect();
        for name in gone {
            self.host_deleted(host, kind, &name);
        }
        self.known.insert((host.to_string(), kind));
    }

    /// A member's watch (re)starts its list: until it ends, what the member holds is unknown.
    pub fn member_listing(&mut self, member_uid: &str, kind: FederatedKind) {
        self.members_known.remove(&(member_uid.to_string(), kind));
    }

    /// A member's full list was read: copies not in `names` are gone (deleted while the watch
    /// was down), and the member's holdings of `kind` are known.
    pub fn member_listed(
        &mut self,
        member_uid: &str,
        kind: FederatedKind,
        names: &BTreeSet<String>,
        at: SystemTime,
    ) {
        let gone: Vec<String> = self
            .timelines
            .iter()
            .filter(|((uid, key), t)| {
                uid == member_uid && key.kind == kind && t.present() && !names.contains(&key.name)
            })
            .map(|((_, key), _)| key.name.clone())
            .collect();
        for name in gone {
            self.member_changed(member_uid, kind, &name, None, at);
        }
        self.members_known.insert((member_uid.to_string(), kind));
    }

    /// Members of the fleet (by UID) whose copies of `kind` the console has not listed: they
    /// may hold one, so nothing may be concluded "clean" on them.
    pub fn members_unseen(&self, kind: FederatedKind) -> Vec<String> {
        self.members()
            .into_iter()
            .map(|(uid, _)| uid)
            .filter(|uid| !self.members_known.contains(&(uid.clone(), kind)))
            .collect()
    }

    /// One version of a member's copy (`None`: deleted there), seen at `at`.
    pub fn member_changed(
        &mut self,
        member_uid: &str,
        kind: FederatedKind,
        name: &str,
        object: Option<&Value>,
        at: SystemTime,
    ) {
        let key = ObjectKey {
            kind,
            name: name.to_string(),
        };
        let fingerprint = object.map(propagated_fingerprint);
        let managing = self.hosts_managing(member_uid);
        let writer = fingerprint.as_ref().and_then(|f| {
            let copies = self.objects.get(&key)?;
            managing
                .iter()
                .find(|(host, _)| copies.get(host).is_some_and(|c| &c.fingerprint == f))
                .map(|(host, _)| host.clone())
        });
        self.timelines
            .entry((member_uid.to_string(), key))
            .or_default()
            .observe(at, fingerprint, writer);
    }

    /// The hosts that manage member `uid`, each with its name for it.
    fn hosts_managing(&self, uid: &str) -> Vec<(String, String)> {
        self.topology
            .iter()
            .filter_map(|h| {
                let m = h.members.iter().find(|m| m.uid == uid)?;
                Some((h.host.clone(), m.name.clone()))
            })
            .collect()
    }

    /// Every member, by UID, with the first host's name for it.
    pub fn members(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for link in self.topology.iter().flat_map(|h| &h.members) {
            if !out.iter().any(|(uid, _)| uid == &link.uid) {
                out.push((link.uid.clone(), link.name.clone()));
            }
        }
        out.sort_by(|a, b| a.1.cmp(&b.1));
        out
    }

    /// Each host's template of `key` (what kubefed propagates from it), for the diff.
    pub fn templates(&self, key: &ObjectKey) -> Vec<(String, Value)> {
        self.objects
            .get(key)
            .map(|copies| {
                copies
                    .iter()
                    .map(|(host, o)| (host.clone(), o.template.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The hosts holding a federated object for `key`, each with whether it is deleting.
    pub fn holders(&self, key: &ObjectKey) -> Vec<(String, bool)> {
        self.objects
            .get(key)
            .map(|copies| {
                copies
                    .iter()
                    .map(|(host, o)| (host.clone(), o.deleting_since.is_some()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether every kind of every one of `hosts` has been listed in full: until then a
    /// missing object may only be not read yet.
    pub fn hosts_listed(&self, hosts: &[String]) -> bool {
        hosts.iter().all(|host| {
            FederatedKind::ALL
                .into_iter()
                .all(|kind| self.known.contains(&(host.clone(), kind)))
        })
    }

    /// The members (by UID) of the fleet whose copy of `key` was last seen present. A
    /// member no host manages any more does not count: kubefed no longer cleans it up.
    pub fn members_holding(&self, key: &ObjectKey) -> Vec<String> {
        let members = self.members();
        self.timelines
            .iter()
            .filter(|((uid, k), t)| {
                k == key && t.present() && members.iter().any(|(m, _)| m == uid)
            })
            .map(|((uid, _), _)| uid.clone())
            .collect()
    }

    /// Drops what was seen on member `uid` (it left the fleet).
    pub fn forget_member(&mut self, uid: &str) {
        self.timelines.retain(|(member, _), _| member != uid);
        self.members_known.retain(|(member, _)| member != uid);
    }

    /// The hosts that share at least one member with `host` (itself included).
    pub fn hosts_sharing_with(&self, host: &str) -> Vec<String> {
        let Some(own) = self.topology.iter().find(|h| h.host == host) else {
            return vec![host.to_string()];
        };
        self.topology
            .iter()
            .filter(|h| {
                h.host == host
                    || h.members
                        .iter()
                        .any(|m| own.members.iter().any(|o| o.uid == m.uid))
            })
            .map(|h| h.host.clone())
            .collect()
    }

    pub fn row(&self, key: &ObjectKey, now: SystemTime) -> Option<ObjectRow> {
        let copies = self.objects.get(key)?;
        Some(self.row_of(key, copies, &self.members(), now))
    }

    /// Every object any host federates, with its state.
    pub fn rows(&self, now: SystemTime) -> Vec<ObjectRow> {
        let members = self.members();
        self.objects
            .iter()
            .map(|(key, copies)| self.row_of(key, copies, &members, now))
            .collect()
    }

    fn row_of(
        &self,
        key: &ObjectKey,
        copies: &BTreeMap<String, HostObject>,
        members: &[(String, String)],
        now: SystemTime,
    ) -> ObjectRow {
        let hosts: Vec<HostCell> = self
            .topology
            .iter()
            .map(|h| {
                let object = copies.get(&h.host);
                HostCell {
                    host: h.host.clone(),
                    fingerprint: object.map(|o| o.fingerprint.clone()),
                    deleting_since: object.and_then(|o| o.deleting_since),
                    changed_at: object.map(|o| o.changed_at),
                    known: self.known.contains(&(h.host.clone(), key.kind)),
                }
            })
            .collect();
        let empty = MemberTimeline::default();
        let mut cells = Vec::new();
        for (uid, member) in members {
            let managing = self.hosts_managing(uid);
            let host_copies: Vec<HostCopy> = managing
                .iter()
                .filter(|(host, _)| {
                    copies.contains_key(host) || self.known.contains(&(host.clone(), key.kind))
                })
                .map(|(host, name)| host_copy(host, copies.get(host), name, now))
                .collect();
            if host_copies.iter().all(|c| c.fingerprint.is_none()) {
                continue; // no host of this member federates it
            }
            let timeline = self
                .timelines
                .get(&(uid.clone(), key.clone()))
                .unwrap_or(&empty);
            let latest = timeline.latest();
            cells.push(MemberCell {
                member: member.clone(),
                uid: uid.clone(),
                fingerprint: latest.and_then(|(f, _, _)| f.cloned()),
                written_by: latest.and_then(|(_, w, _)| w.map(String::from)),
                changed_at: latest.map(|(_, _, at)| at),
                propagation: managing
                    .iter()
                    .filter_map(|(host, name)| {
                        Some((host.clone(), copies.get(host)?.statuses.get(name)?.clone()))
                    })
                    .collect(),
                state: classify(&host_copies, timeline),
            });
        }
        let state = cells
            .iter()
            .map(|c| c.state.clone())
            .min_by_key(FederatedState::key) // state keys sort worst first
            .unwrap_or(FederatedState::InSync);
        ObjectRow {
            key: key.clone(),
            state,
            hosts,
            members: cells,
        }
    }
}

fn host_copy(host: &str, object: Option<&HostObject>, member: &str, now: SystemTime) -> HostCopy {
    HostCopy {
        host: host.to_string(),
        fingerprint: object.map(|o| o.fingerprint.clone()),
        deleting: object
            .and_then(|o| o.deleting_since)
            .is_some_and(|since| now.duration_since(since).unwrap_or_default() >= STUCK_AFTER),
        sync_failure: object
            .and_then(|o| o.statuses.get(member))
            .filter(|s| is_sync_failure(s))
            .cloned(),
        placed: object.is_some_and(|o| o.placement.includes(member)),
        settling: object.is_some_and(|o| {
            now.duration_since(o.changed_at).unwrap_or_default() < super::PROPAGATION_GRACE
        }),
    }
}

//! The copies the sync service's watches keep, per host and kind, so a round that follows a
//! change reads only what changed instead of listing every object on every host. A watch
//! that fails stops counting until it has listed again: its host sits those rounds out, as
//! a host that does not answer a list does.

use std::collections::{BTreeMap, BTreeSet};

use kube::api::DynamicObject;
use kube::runtime::watcher::Event;
use serde_json::Value;

use super::engine::{GroupHost, ObjectName};
use super::snapshot::{KindCopies, Snapshot, TwinDeleting, twin_deleting};
use super::written_by_kubefed;
use crate::federation::{FederatedKind, KindResources};

/// One watched list: an object's copies on a host, or the twins that host is deleting.
#[derive(Debug)]
struct Watched<T> {
    /// Listed, and not failed since.
    synced: bool,
    items: BTreeMap<String, T>,
    /// What a relist has brought so far; it replaces `items` when done.
    relist: Option<BTreeMap<String, T>>,
}

impl<T> Default for Watched<T> {
    fn default() -> Self {
        Self {
            synced: false,
            items: BTreeMap::new(),
            relist: None,
        }
    }
}

impl<T: PartialEq> Watched<T> {
    /// Applies one event, `made` turning an object into what is kept (`None`: not kept).
    /// Returns the names whose kept value changed, and whether what is kept may have missed
    /// changes: a relist just finished, or the watch resumed after failing.
    fn apply(
        &mut self,
        event: Event<DynamicObject>,
        made: impl Fn(&DynamicObject) -> Option<T>,
    ) -> (Vec<String>, bool) {
        let name = |o: &DynamicObject| o.metadata.name.clone().unwrap_or_default();
        match event {
            Event::Init => {
                self.relist = Some(BTreeMap::new());
                (Vec::new(), false)
            }
            Event::InitApply(object) => {
                if let (Some(relist), Some(kept)) = (self.relist.as_mut(), made(&object)) {
                    relist.insert(name(&object), kept);
                }
                (Vec::new(), false)
            }
            Event::InitDone => {
                if let Some(relist) = self.relist.take() {
                    self.items = relist;
                }
                self.synced = true;
                (Vec::new(), true)
            }
            Event::Apply(object) => {
                let resumed = self.resume();
                let key = name(&object);
                let changed = match made(&object) {
                    Some(kept) => {
                        let old = self.items.insert(key.clone(), kept);
                        old.as_ref() != self.items.get(&key)
                    }
                    None => self.items.remove(&key).is_some(),
                };
                (if changed { vec![key] } else { Vec::new() }, resumed)
            }
            Event::Delete(object) => {
                let resumed = self.resume();
                let key = name(&object);
                let changed = self.items.remove(&key).is_some();
                (if changed { vec![key] } else { Vec::new() }, resumed)
            }
        }
    }

    /// Every kept item (`every`), or those of the `named` ones that are kept.
    fn chosen<'a>(
        &'a self,
        every: bool,
        named: &'a [&str],
    ) -> Box<dyn Iterator<Item = (&'a String, &'a T)> + 'a> {
        if every {
            Box::new(self.items.iter())
        } else {
            Box::new(
                named
                    .iter()
                    .filter_map(|name| self.items.get_key_value(*name)),
            )
        }
    }

    /// The watch failed: what it kept may be out of date until it answers again.
    fn failed(&mut self) {
        self.synced = false;
    }

    /// An event after a failure: the watch resumed from where it was (or it would relist),
    /// so it replays what it missed. Whether it had failed.
    fn resume(&mut self) -> bool {
        let resumed = !self.synced && self.relist.is_none();
        self.synced |= resumed;
        resumed
    }
}

/// Every host's copies of the synced kinds, and the twins each host is deleting.
#[derive(Debug, Default)]
pub struct Stores {
    /// Each copy as compact JSON (a quarter of the memory of a parsed one; a round parses only
    /// the copies it settles), and whether it is being deleted.
    copies: BTreeMap<(usize, FederatedKind), Watched<KeptCopy>>,
    twins: BTreeMap<(usize, FederatedKind), Watched<TwinDeleting>>,
}

/// A copy as compact JSON, and whether it is being deleted.
type KeptCopy = (Box<str>, bool);

/// A watched source object as the stores keep it; kubefed's copies are not kept.
fn kept(object: &DynamicObject) -> Option<KeptCopy> {
    if written_by_kubefed(&object.metadata) {
        return None;
    }
    let text = serde_json::to_string(object).ok()?;
    Some((text.into(), object.metadata.deletion_timestamp.is_some()))
}

/// What one event changed.
#[derive(Debug, Default, PartialEq)]
pub struct Changed {
    /// `Kind name` of the objects to settle again.
    pub objects: Vec<ObjectName>,
    /// What is kept may have missed changes (a relist finished, or the watch resumed after
    /// failing): settle everything.
    pub reread: bool,
}

impl Stores {
    /// An event of host `host`'s watch on `kind`'s objects (`twin`: on their `Federated*`
    /// twins).
    pub fn apply(
        &mut self,
        host: usize,
        kind: FederatedKind,
        twin: bool,
        event: Event<DynamicObject>,
    ) -> Changed {
        let (names, reread) = if twin {
            self.twins
                .entry((host, kind))
                .or_default()
                .apply(event, twin_deleting)
        } else {
            self.copies
                .entry((host, kind))
                .or_default()
                .apply(event, kept)
        };
        let kind_name = kind.source().kind;
        Changed {
            objects: names
                .into_iter()
                .map(|name| format!("{kind_name} {name}"))
                .collect(),
            reread,
        }
    }

    /// Host `host` has no `Federated*` type for `kind` (no kubefed): no twins, and its watch
    /// on them counts as current. Whether that is news.
    pub fn no_twins(&mut self, host: usize, kind: FederatedKind) -> bool {
        let watched = self.twins.entry((host, kind)).or_default();
        let news = !watched.synced || !watched.items.is_empty();
        *watched = Watched {
            synced: true,
            ..Default::default()
        };
        news
    }

    /// Host `host`'s watch on `kind` (or its twins) failed.
    pub fn failed(&mut self, host: usize, kind: FederatedKind, twin: bool) {
        if twin {
            self.twins.entry((host, kind)).or_default().failed();
        } else {
            self.copies.entry((host, kind)).or_default().failed();
        }
    }

    /// The copies of the objects named in `dirty` (`Kind name`), every binding (one binding
    /// per user is decided over all of them), on the hosts whose watches are current.
    pub fn snapshot(&self, hosts: &[GroupHost], dirty: &BTreeSet<ObjectName>) -> Snapshot {
        let mut out = Snapshot::default();
        for kind in super::SYNCED_KINDS {
            let kind_name = kind.source().kind;
            let every = matches!(
                kind,
                FederatedKind::GlobalRoleBinding | FederatedKind::WorkspaceRoleBinding
            );
            // The names to read, looked up rather than found by formatting every kept name:
            // a round after a change reads a few objects out of many thousands.
            let prefix = format!("{kind_name} ");
            let named: Vec<&str> = dirty
                .iter()
                .filter_map(|object| object.strip_prefix(&prefix))
                .collect();
            let mut copies = KindCopies::default();
            for (i, host) in hosts.iter().enumerate() {
                let (kept, twins) = (self.copies.get(&(i, kind)), self.twins.get(&(i, kind)));
                let (Some(kept), Some(twins)) = (kept, twins) else {
                    out.unreachable.push(format!("{} ({kind_name})", host.name));
                    continue;
                };
                if !(kept.synced && twins.synced) {
                    out.unreachable.push(format!("{} ({kind_name})", host.name));
                    continue;
                }
                copies.answering.insert(i);
                for (name, (text, deleting)) in kept.chosen(every, &named) {
                    let Ok(value) = serde_json::from_str::<Value>(text) else {
                        continue;
                    };
                    copies
                        .copies
                        .entry(name.clone())
                        .or_default()
                        .insert(i, (value, *deleting));
                }
                let deleting = twins.chosen(every, &named);
                copies
                    .twins
                    .insert(i, deleting.map(|(n, at)| (n.clone(), at.clone())).collect());
            }
            out.kinds.push((kind, copies));
        }
        out
    }

    /// Whether some watch is failing (its host sits the rounds from the stores out).
    pub fn failing(&self) -> bool {
        self.copies.values().any(|w| !w.synced) || self.twins.values().any(|w| !w.synced)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(name: &str, extra: Value) -> DynamicObject {
        let mut value = json!({"apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "User",
            "metadata": {"name": name, "resourceVersion": "1"}});
        if let (Some(meta), Some(more)) = (value["metadata"].as_object_mut(), extra.as_object()) {
            meta.extend(more.clone());
        }
        serde_json::from_value(value).unwrap()
    }

    fn hosts() -> Vec<GroupHost> {
        // Never connected: a snapshot only names them.
        let config = kube::Config::new("https://127.0.0.1:9".parse().unwrap());
        let client = kube::Client::try_from(config).unwrap();
        ["host", "host2"]
            .map(|name| GroupHost {
                name: name.into(),
                client: client.clone(),
            })
            .to_vec()
    }

    /// Both hosts listed, `alice` on host only.
    fn listed() -> Stores {
        let mut stores = Stores::default();
        for host in 0..2 {
            for kind in super::super::SYNCED_KINDS {
                for twin in [false, true] {
                    stores.apply(host, kind, twin, Event::Init);
                    if host == 0 && kind == FederatedKind::User && !twin {
                        stores.apply(
                            host,
                            kind,
                            twin,
                            Event::InitApply(object("alice", json!({}))),
                        );
                    }
                    stores.apply(host, kind, twin, Event::InitDone);
                }
            }
        }
        stores
    }

    fn users(snapshot: &Snapshot) -> &KindCopies {
        &snapshot
            .kinds
            .iter()
            .find(|(k, _)| *k == FederatedKind::User)
            .unwrap()
            .1
    }

    #[tokio::test]
    async fn a_round_reads_the_changed_objects_on_the_hosts_whose_watches_are_current() {
        let (mut stores, hosts) = (listed(), hosts());
        let user = FederatedKind::User;
        let changed = stores.apply(1, user, false, Event::Apply(object("bob", json!({}))));
        assert_eq!(changed.objects, ["User bob"]);
        let dirty = BTreeSet::from(["User bob".to_string()]);
        let snapshot = stores.snapshot(&hosts, &dirty);
        let copies = users(&snapshot);
        assert_eq!(copies.answering, BTreeSet::from([0, 1]));
        assert_eq!(
            copies.copies.keys().collect::<Vec<_>>(),
            ["bob"],
            "alice is not dirty"
        );
        // A twin starts deleting: its object is to settle again, and the round knows when.
        let deleting = object(
            "carol",
            json!({"deletionTimestamp": "2026-12-07T10:00:05Z"}),
        );
        let changed = stores.apply(0, user, true, Event::Apply(deleting));
        assert_eq!(changed.objects, ["User carol"]);
        let dirty = BTreeSet::from(["User carol".to_string()]);
        let snapshot = stores.snapshot(&hosts, &dirty);
        assert_eq!(
            users(&snapshot).twins[&0].get("carol").map(|t| t.at_ms),
            Some(1_796_637_605_000)
        );
        // A twin that is not being deleted is not kept.
        let live = stores.apply(0, user, true, Event::Apply(object("dave", json!({}))));
        assert!(live.objects.is_empty());
        // host2's watch fails: it sits the rounds out until it has listed again, and the
        // relist replaces what it kept (bob was deleted meanwhile).
        stores.failed(1, user, false);
        let snapshot = stores.snapshot(&hosts, &BTreeSet::new());
        assert_eq!(users(&snapshot).answering, BTreeSet::from([0]));
        assert_eq!(snapshot.unreachable, ["host2 (User)"]);
        stores.apply(1, user, false, Event::Init);
        assert!(stores.apply(1, user, false, Event::InitDone).reread);
        let dirty = BTreeSet::from(["User bob".to_string()]);
        let snapshot = stores.snapshot(&hosts, &dirty);
        assert_eq!(users(&snapshot).answering, BTreeSet::from([0, 1]));
        assert!(
            users(&snapshot).copies.is_empty(),
            "bob came back from before the relist"
        );
    }

    #[tokio::test]
    async fn every_binding_is_read_for_the_one_binding_rule_and_kubefeds_copies_are_not() {
        let (mut stores, hosts) = (listed(), hosts());
        let binding = FederatedKind::GlobalRoleBinding;
        stores.apply(
            0,
            binding,
            false,
            Event::Apply(object("alice-admin", json!({}))),
        );
        let managed = object("bob", json!({"labels": {"kubefed.io/managed": "true"}}));
        let ignored = stores.apply(0, FederatedKind::User, false, Event::Apply(managed));
        assert!(ignored.objects.is_empty());
        let snapshot = stores.snapshot(&hosts, &BTreeSet::new());
        let bindings = &snapshot
            .kinds
            .iter()
            .find(|(k, _)| *k == binding)
            .unwrap()
            .1;
        assert!(bindings.copies.contains_key("alice-admin"));
        assert!(users(&snapshot).copies.is_empty());
    }
}

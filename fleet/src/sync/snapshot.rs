//! What a round reads: each host's copies of the synced kinds, and the `Federated*` twins a
//! host is deleting. Listed afresh ([`list`]) for plans, the CLI and the service's periodic
//! full rounds; kept up to date by watches ([`Stores`]) for the rounds in between, which
//! settle only the objects that changed.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use kube::ResourceExt;
use kube::api::{Api, DynamicObject};
use serde_json::Value;

use super::engine::GroupHost;
use super::{SYNCED_KINDS, written_by_kubefed};
use crate::federation::{FederatedKind, KindResources};

/// Longest wait for one host's list of one kind; a host slower than this sits the round out.
const LIST_TIMEOUT: Duration = Duration::from_secs(10);

/// One kind's copies on the hosts that answered.
#[derive(Debug, Default, Clone)]
pub struct KindCopies {
    /// Host indexes whose copies are known.
    pub answering: BTreeSet<usize>,
    /// name → host index → (copy, being deleted).
    pub copies: BTreeMap<String, BTreeMap<usize, (Value, bool)>>,
    /// host index → the twins it is deleting, by name.
    pub twins: BTreeMap<usize, BTreeMap<String, TwinDeleting>>,
}

/// A `Federated*` twin being deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwinDeleting {
    /// Its deletionTimestamp (ms).
    pub at_ms: u64,
    /// The uid of the object it federates (KubeSphere makes the twin with a controller
    /// ownerReference to it): which life of the name is being deleted.
    pub owner: Option<String>,
}

/// Every synced kind's copies, as one round sees them.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    pub kinds: Vec<(FederatedKind, KindCopies)>,
    /// `host (Kind)` for each read that did not answer.
    pub unreachable: Vec<String>,
    /// uids of copies this engine deleted lately: a twin deleted with one is the echo of a
    /// delete already settled, not a new delete under way.
    pub own_deletes: BTreeSet<String>,
}

/// Copies the engine replaced, as the service remembers them: (host index, `Kind name`) →
/// the resourceVersion its write replaced, and when it wrote.
pub type Replaced = BTreeMap<(usize, String), (String, std::time::Instant)>;

/// How long a replaced version is looked for: a watch brings a write's echo within moments,
/// and one that does not for this long has failed (then a full round reads everything).
const ECHO_WAIT: Duration = Duration::from_secs(60);

impl Snapshot {
    /// Takes out of the snapshot every object a copy of which is still at a version the
    /// engine wrote over (its watch has not brought the write yet), and returns their names:
    /// read as it is, such a copy shows an edit the engine already carried as a fresh one, at
    /// this round's clock, able to beat a newer real edit on another host. They wait for the
    /// echo. Entries whose copy has moved on, or that waited [`ECHO_WAIT`], are forgotten.
    pub fn set_aside_stale(&mut self, replaced: &mut Replaced) -> BTreeSet<String> {
        replaced.retain(|_, (_, when)| when.elapsed() < ECHO_WAIT);
        let mut stale = BTreeSet::new();
        for (kind, copies) in &mut self.kinds {
            let kind_name = kind.source().kind;
            copies.copies.retain(|name, by_host| {
                let object = format!("{kind_name} {name}");
                let mut waiting = false;
                for (i, (copy, _)) in by_host.iter() {
                    let key = (*i, object.clone());
                    let Some((rv, _)) = replaced.get(&key) else {
                        continue;
                    };
                    if copy
                        .pointer("/metadata/resourceVersion")
                        .and_then(Value::as_str)
                        == Some(rv.as_str())
                    {
                        waiting = true;
                    } else {
                        replaced.remove(&key);
                    }
                }
                if waiting {
                    stale.insert(object);
                }
                !waiting
            });
        }
        stale
    }
}

/// Lists every synced kind on every host, and the twins each host is deleting.
pub async fn list(hosts: &[GroupHost]) -> Snapshot {
    let mut snapshot = Snapshot::default();
    for synced in SYNCED_KINDS {
        let resource = synced.source();
        let mut kind = KindCopies::default();
        for (i, host) in hosts.iter().enumerate() {
            let api = Api::<DynamicObject>::all_with(host.client.clone(), &resource);
            match tokio::time::timeout(LIST_TIMEOUT, api.list(&Default::default())).await {
                Ok(Ok(list)) => {
                    kind.answering.insert(i);
                    for object in list.items {
                        if let Some((name, copy)) = entry(&object) {
                            kind.copies.entry(name).or_default().insert(i, copy);
                        }
                    }
                }
                _ => snapshot
                    .unreachable
                    .push(format!("{} ({})", host.name, resource.kind)),
            }
        }
        // A host missing a name may be deleting it: its Federated* twin says so (a delete
        // made before sync was on, or stuck on kubefed's finalizer). A host holding the name
        // may be deleting an earlier life's twin under it (see `twins`).
        for i in kind.answering.clone() {
            let api = Api::all_with(hosts[i].client.clone(), &synced.federated());
            match twins_deleting(&api).await {
                Some(found) => {
                    kind.twins.insert(i, found);
                }
                None => {
                    kind.answering.remove(&i);
                    snapshot
                        .unreachable
                        .push(format!("{} (Federated{})", hosts[i].name, resource.kind));
                }
            }
        }
        snapshot.kinds.push((synced, kind));
    }
    snapshot
}

/// A listed or watched object as a round keeps it: its name, the object, whether it is being
/// deleted. Copies kubefed wrote on a host are not sources: `None`.
pub fn entry(object: &DynamicObject) -> Option<(String, (Value, bool))> {
    if written_by_kubefed(&object.metadata) {
        return None;
    }
    let deleting = object.metadata.deletion_timestamp.is_some();
    let value = serde_json::to_value(object).ok()?;
    Some((object.name_any(), (value, deleting)))
}

/// A twin, if it is being deleted.
pub fn twin_deleting(twin: &DynamicObject) -> Option<TwinDeleting> {
    let at = twin.metadata.deletion_timestamp.as_ref()?;
    let owner = twin
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true))
        .map(|o| o.uid.clone());
    Some(TwinDeleting {
        at_ms: u64::try_from(at.0.as_millisecond()).ok()?,
        owner,
    })
}

/// The `Federated*` objects being deleted on a host; `None` when the host does not answer. A
/// host without kubefed's types has none.
async fn twins_deleting(api: &Api<DynamicObject>) -> Option<BTreeMap<String, TwinDeleting>> {
    let list = match tokio::time::timeout(LIST_TIMEOUT, api.list(&Default::default())).await {
        Ok(Ok(list)) => list,
        Ok(Err(kube::Error::Api(status))) if status.code == 404 => return Some(BTreeMap::new()),
        _ => return None,
    };
    Some(
        list.items
            .iter()
            .filter_map(|twin| Some((twin.name_any(), twin_deleting(twin)?)))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Instant;

    fn copy(rv: &str) -> (Value, bool) {
        (
            json!({"metadata": {"name": "ann", "resourceVersion": rv}}),
            false,
        )
    }

    #[test]
    fn a_copy_still_at_a_version_the_engine_replaced_waits_for_its_echo() {
        let mut kind = KindCopies::default();
        kind.copies.insert(
            "ann".into(),
            BTreeMap::from([(0, copy("10")), (1, copy("20"))]),
        );
        kind.copies
            .insert("bob".into(), BTreeMap::from([(0, copy("11"))]));
        let mut snapshot = Snapshot {
            kinds: vec![(FederatedKind::User, kind)],
            ..Default::default()
        };
        let now = Instant::now();
        let mut replaced = Replaced::from([
            // host1's copy of ann is still the one the engine wrote over.
            ((1, "User ann".to_string()), ("20".to_string(), now)),
            // host0's bob has moved on since.
            ((0, "User bob".to_string()), ("9".to_string(), now)),
        ]);
        let stale = snapshot.set_aside_stale(&mut replaced);
        assert_eq!(stale, BTreeSet::from(["User ann".to_string()]));
        let left: Vec<&String> = snapshot.kinds[0].1.copies.keys().collect();
        assert_eq!(left, ["bob"], "ann is not settled from the stale copy");
        assert!(replaced.contains_key(&(1, "User ann".to_string())));
        assert!(
            !replaced.contains_key(&(0, "User bob".to_string())),
            "an echo that came is forgotten"
        );
    }
}

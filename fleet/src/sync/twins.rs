//! A `Federated*` twin left deleting under a live object. A host deletes an object and, before
//! kubefed has finished deleting its twin (the finalizer waits for every member's copy to
//! go), the object is made there again — by a person, or by this engine carrying another
//! host's create. KubeSphere's controller cannot make the new life's twin while the old one is
//! there, and the old one never goes: it deletes the member's copy, the other hosts' kubefed
//! puts it back, over and over (the seed's third experiment, with the object alive). Once the
//! hosts agree on the object, the old twin's hold is released: its work — taking the copy off
//! the members — is exactly what must not happen to an object that lives, and the twin
//! KubeSphere then makes for the live object places the same copy again.

use std::collections::BTreeMap;

use kube::api::{Api, DynamicObject};
use serde_json::Value;

use super::deletes::created_ms;
use super::engine::{PlannedWrite, RoundMode, RoundReport, WriteKind};
use super::snapshot::TwinDeleting;
use crate::federation::{FederatedKind, KindResources};

/// The hosts whose twin of `name` is being deleted under a live copy made at or after the
/// twin's delete began (the twin belongs to an earlier life). The copies are the object's on
/// the answering hosts; `twins` the twins each host is deleting, by name.
pub fn stale(
    present: &BTreeMap<usize, (Value, bool)>,
    twins: &BTreeMap<usize, BTreeMap<String, TwinDeleting>>,
    name: &str,
) -> Vec<(usize, TwinDeleting)> {
    present
        .iter()
        .filter_map(|(i, (copy, deleting))| {
            let twin = twins.get(i).and_then(|t| t.get(name))?;
            let made_since = created_ms(copy).is_some_and(|created| created >= twin.at_ms);
            (!deleting && made_since).then(|| (*i, twin.clone()))
        })
        .collect()
}

/// Releases kubefed's hold on `name`'s twin on each of `on` (host indexes, with the twin as
/// judged), or in a plan says it would. A host that refuses leaves it for a later round.
pub async fn release(
    hosts: &[super::engine::GroupHost],
    synced: FederatedKind,
    name: &str,
    on: Vec<(usize, TwinDeleting)>,
    mode: RoundMode,
    part: &mut RoundReport,
) {
    let resource = synced.federated();
    for (i, judged) in on {
        let planned = PlannedWrite {
            host: hosts[i].name.clone(),
            object: format!("{} {name}", resource.kind),
            write: WriteKind::Update,
        };
        if mode == RoundMode::Plan {
            part.planned.push(planned);
            continue;
        }
        let api = Api::<DynamicObject>::all_with(hosts[i].client.clone(), &resource);
        // Only the twin judged: one made for the live object since, and deleted by a
        // person, is kubefed's to finish.
        let same =
            |twin: &DynamicObject| super::snapshot::twin_deleting(twin).as_ref() == Some(&judged);
        match crate::federation::hold::release_if(&api, name, same).await {
            Ok(true) => {
                tracing::info!(host = %hosts[i].name, object = %planned.object, "released kubefed's hold on an earlier life's twin");
                part.writes += 1;
                part.planned.push(planned);
            }
            Ok(false) => {}
            Err(e) => {
                let why = super::carry::deferred_because(&hosts[i].name, &e);
                part.deferred.push((planned.object, why));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn copy(created: &str) -> Value {
        json!({"metadata": {"name": "ann", "creationTimestamp": created}})
    }

    #[test]
    fn only_a_twin_deleted_before_the_live_copy_was_made_is_stale() {
        let at = |t: &str| super::super::deletes::time_ms(t).unwrap();
        let present = BTreeMap::from([
            // Made again after its twin's delete began: the twin is an earlier life's.
            (0, (copy("2026-12-07T23:00:41Z"), false)),
            // Made before: a twin deleted under it is this life's (someone deleted the
            // FederatedUser itself) — kubefed's business.
            (1, (copy("2026-12-07T23:00:30Z"), false)),
            // Itself being deleted.
            (2, (copy("2026-12-07T23:00:50Z"), true)),
            // No twin deleting.
            (3, (copy("2026-12-07T23:00:50Z"), false)),
        ]);
        let twin = TwinDeleting {
            at_ms: at("2026-12-07T23:00:40Z"),
            owner: None,
        };
        let deleting = BTreeMap::from([("ann".to_string(), twin)]);
        let twins = BTreeMap::from([
            (0, deleting.clone()),
            (1, deleting.clone()),
            (2, deleting.clone()),
            (3, BTreeMap::new()),
        ]);
        let found: Vec<usize> = stale(&present, &twins, "ann")
            .iter()
            .map(|(i, _)| *i)
            .collect();
        assert_eq!(found, vec![0]);
        assert!(stale(&present, &twins, "bob").is_empty());
    }
}

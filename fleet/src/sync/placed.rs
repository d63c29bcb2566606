//! Where the engine has put an object, and what each host's copy had then: kept on every
//! copy in one annotation, so that a copy gone from a host it was put on reads as a delete
//! there — also after the engine restarts, and also when the only copy left is one a
//! partition kept, since that copy says where the others were.
//!
//! Each host's entry also names its copy's `metadata.uid`, as the engine last read it: a copy
//! on that host with another uid is not the one the engine put there — it was deleted and
//! made again since, maybe by a round that never knew of the delete (with three hosts, the
//! only ones that knew may have been away). The annotation is the same on every copy: for the
//! kinds whose federated templates carry annotations (global roles and their bindings), a
//! per-host difference would make each host's kubefed push its own version to the members.
//! A copy created in a round gets its own uid in the next round's write.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::PLACED_ANNOTATION;
use super::fields::escape;
use super::hlc::{Seen, Version, include};

/// What the engine knows of one host's copy.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Place {
    /// The copy's `metadata.uid`, when known.
    pub uid: Option<String>,
    /// What the copy the engine last wrote there had seen.
    pub had: Seen,
}

/// For each host the engine wrote the object to, what it knows of the copy there.
pub type Placed = BTreeMap<String, Place>;

/// The annotation's text: `{"<host>": {"uid": "…", "had": ["<version>", …]}}`.
pub fn write(placed: &Placed) -> String {
    let map: serde_json::Map<String, Value> = placed
        .iter()
        .map(|(host, place)| {
            let had: Vec<String> = place.had.values().map(Version::to_string).collect();
            let entry = match &place.uid {
                Some(uid) => json!({"uid": uid, "had": had}),
                None => json!({"had": had}),
            };
            (host.clone(), entry)
        })
        .collect();
    Value::Object(map).to_string()
}

/// What `object`'s annotation says; nothing for an unreadable one.
pub fn on(object: &Value) -> Placed {
    let text = object
        .pointer(&format!(
            "/metadata/annotations/{}",
            escape(PLACED_ANNOTATION)
        ))
        .and_then(Value::as_str);
    let Some(Ok(Value::Object(map))) = text.map(serde_json::from_str::<Value>) else {
        return Placed::new();
    };
    map.into_iter()
        .filter_map(|(host, entry)| {
            let mut had = Seen::new();
            for version in entry.get("had")?.as_array()? {
                include(&mut had, &Version::parse(version.as_str()?)?);
            }
            let uid = entry.get("uid").and_then(Value::as_str).map(String::from);
            Some((host, Place { uid, had }))
        })
        .collect()
}

/// Adds what `more` says of each host to `placed`. Of two uids for one host, the one known
/// with the later history stays.
pub fn join(placed: &mut Placed, more: &Placed) {
    for (host, place) in more {
        let known = placed.entry(host.clone()).or_default();
        let newer = place.had.values().max() > known.had.values().max();
        if known.uid.is_none() || (newer && place.uid.is_some()) {
            known.uid.clone_from(&place.uid);
        }
        for version in place.had.values() {
            include(&mut known.had, version);
        }
    }
}

/// Records, in `object` (the copy a write carries), the uid the copy created on `created` got.
pub fn record_uid(object: &mut Value, created: &str, uid: &str) {
    let mut placed = on(object);
    let Some(place) = placed.get_mut(created) else {
        return;
    };
    place.uid = Some(uid.to_string());
    let text = write(&placed);
    if let Some(annotations) = object
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        annotations.insert(PLACED_ANNOTATION.to_string(), Value::String(text));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(ms: u64, host: &str) -> Version {
        Version {
            wall_ms: ms,
            counter: 0,
            host: host.into(),
        }
    }

    fn place(uid: Option<&str>, had: &[Version]) -> Place {
        let mut seen = Seen::new();
        had.iter().for_each(|version| include(&mut seen, version));
        Place {
            uid: uid.map(String::from),
            had: seen,
        }
    }

    #[test]
    fn placements_read_back_and_join_keeps_the_later_history() {
        let mut placed = Placed::from([
            ("host".to_string(), place(Some("u-host"), &[v(5, "host")])),
            ("host2".to_string(), place(Some("u-host2"), &[v(5, "host")])),
        ]);
        let object = json!({"metadata": {"annotations": {PLACED_ANNOTATION: write(&placed)}}});
        assert_eq!(on(&object), placed);

        // A later history of host2 names another uid: host2's copy was made again.
        let later = Placed::from([(
            "host2".to_string(),
            place(Some("u-host2-again"), &[v(9, "host")]),
        )]);
        join(&mut placed, &later);
        assert_eq!(placed["host2"].uid.as_deref(), Some("u-host2-again"));
        assert_eq!(placed["host2"].had["host"], v(9, "host"));
        // An older one does not replace it.
        join(
            &mut placed,
            &Placed::from([("host2".to_string(), place(Some("u-old"), &[v(1, "host")]))]),
        );
        assert_eq!(placed["host2"].uid.as_deref(), Some("u-host2-again"));
        assert!(on(&json!({"metadata": {"annotations": {PLACED_ANNOTATION: "nope"}}})).is_empty());
    }

    #[test]
    fn a_created_copy_s_uid_is_recorded_in_the_others() {
        let placed = Placed::from([
            ("host".to_string(), place(None, &[v(5, "host")])),
            ("host2".to_string(), place(None, &[v(5, "host")])),
        ]);
        let mut object = json!({"metadata": {"annotations": {PLACED_ANNOTATION: write(&placed)}}});
        record_uid(&mut object, "host2", "u-new");
        assert_eq!(on(&object)["host2"].uid.as_deref(), Some("u-new"));
        assert_eq!(on(&object)["host"].uid, None);
    }
}

//! Deletes, found by what is missing: a host the object was put on ([`super::placed`], with
//! its copy's uid) that
//! holds no copy of it now — or holds a copy with another uid, made again since — deleted it.
//! The delete wins over edits made without seeing it (the default policy), which are logged.

use serde_json::Value;

use super::hlc::{Version, covers, include};
use super::merge::{Conflict, Copy, Observed, Tombstone, Write};
use super::placed::{self, Placed};

/// A copy's `metadata.uid`.
pub fn uid(object: &Value) -> Option<String> {
    object
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .map(String::from)
}

/// What the copies say of deletes.
pub struct Found {
    /// Where the live life of the object was put (joined from its copies).
    pub placed: Placed,
    /// The latest delete among the hosts.
    pub tombstone: Option<Tombstone>,
    /// Per copy: its uid is one the placements recorded for its host — the copy the engine
    /// saw there, even if its last write to it did not land.
    pub known: Vec<bool>,
}

/// Deletes, from the placements of the live life's copies (`superseded[i]`: copy `i` belongs
/// to an older life of the name). A host whose recorded copy (by uid) is gone — no copy there
/// now, or a copy with another uid — deleted it. Only a recorded uid proves a copy was there:
/// an entry without one may stand for a write that never landed (a round that stopped at a
/// refusal), and a copy whose last write was refused still has the uid recorded, so neither
/// reads as a delete.
pub fn find(copies: &[(String, Copy)], superseded: &[bool], now_ms: u64) -> Found {
    let records: Vec<Placed> = copies
        .iter()
        .enumerate()
        .filter_map(|(i, (_, copy))| match copy {
            Copy::Present(object) if !superseded[i] => Some(placed::on(object)),
            _ => None,
        })
        .collect();
    let mut placed = Placed::new();
    for record in &records {
        placed::join(&mut placed, record);
    }
    let current = |copy: &Copy| match copy {
        Copy::Present(object) => uid(object),
        Copy::Absent => None,
    };
    let known = copies
        .iter()
        .map(|(host, copy)| {
            current(copy).is_some_and(|own| {
                records
                    .iter()
                    .any(|r| r.get(host).and_then(|p| p.uid.as_ref()) == Some(&own))
            })
        })
        .collect();
    let tombstone = copies
        .iter()
        .filter_map(|(host, copy)| {
            let now_there = current(copy);
            let mut had = None;
            for record in &records {
                match record.get(host) {
                    Some(place) if place.uid.is_some() && place.uid != now_there => {
                        let had = had.get_or_insert_with(Default::default);
                        place.had.values().for_each(|v| include(had, v));
                    }
                    _ => {}
                }
            }
            let had: crate::sync::hlc::Seen = had?;
            Some(Tombstone {
                host: host.clone(),
                version: Version::after(had.values().max(), now_ms, host),
                had,
            })
        })
        .max_by(|a, b| a.version.cmp(&b.version));
    Found {
        placed,
        tombstone,
        known,
    }
}

/// Edits the deleting host never saw lose to the delete (the default policy), logged.
pub fn lost_to_delete(
    dead: &Tombstone,
    host: &str,
    copy: &Observed,
    conflicts: &mut Vec<Conflict>,
) {
    for (pointer, state) in &copy.fields {
        if !covers(&dead.had, &state.version) {
            conflicts.push(Conflict {
                field: pointer.clone(),
                kept: Write {
                    host: dead.host.clone(),
                    value: None,
                    version: dead.version.clone(),
                },
                superseded: Write {
                    host: host.to_string(),
                    value: state.value.clone(),
                    version: state.version.clone(),
                },
            });
        }
    }
}

//! Deletes, found by what is missing: a host the object was put on ([`super::placed`], with
//! its copy's uid) that
//! holds no copy of it now — or holds a copy with another uid, made again since — deleted it.
//! The delete wins over edits made without seeing it (the default policy), which are logged.

use serde_json::Value;

use super::hlc::{Seen, Version, covers, include};
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
        Copy::Absent | Copy::Deleting(_) => None,
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

/// A delete seen under way on a host ([`Copy::Deleting`]) — one no placement may have
/// recorded, made before sync was on (the seed's third experiment: a user deleted on one host
/// while the other still has it, the first host's `FederatedUser` stuck on kubefed's
/// finalizer). Copies made before it die with it; copies made after it are a new object.
#[derive(Debug, Clone)]
pub struct Witnessed {
    pub tombstone: Tombstone,
    at_ms: u64,
}

impl Witnessed {
    /// Whether the delete came after `copy` was made. Both times are API servers' clocks,
    /// to the second: a copy made in the same second as the delete dies with it (a delete
    /// right after a create is the seed's experiment; a create right after another host's
    /// delete is the rarer race).
    pub fn came_after(&self, copy: &Copy) -> bool {
        match copy {
            Copy::Present(object) => created_ms(object).is_some_and(|made| made <= self.at_ms),
            Copy::Absent | Copy::Deleting(_) => false,
        }
    }
}

/// The latest delete seen under way among the copies.
pub fn witnessed(copies: &[(String, Copy)], now_ms: u64) -> Option<Witnessed> {
    let (host, at_ms) = copies
        .iter()
        .filter_map(|(host, copy)| match copy {
            Copy::Deleting(at) => Some((host, *at)),
            _ => None,
        })
        .max_by_key(|(_, at)| *at)?;
    Some(Witnessed {
        tombstone: Tombstone {
            host: host.clone(),
            version: Version::after(None, now_ms, host),
            // Nothing stamped was seen: every field of the copies it ends is logged.
            had: Seen::new(),
        },
        at_ms,
    })
}

/// An RFC 3339 time as ms since the epoch (a kube timestamp in an object read as JSON).
pub fn time_ms(text: &str) -> Option<u64> {
    let at: k8s_openapi::jiff::Timestamp = text.parse().ok()?;
    u64::try_from(at.as_millisecond()).ok()
}

pub fn created_ms(object: &Value) -> Option<u64> {
    time_ms(object.pointer("/metadata/creationTimestamp")?.as_str()?)
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

//! Deletes, found by what is missing: a host the object was put on ([`super::placed`]) that
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

/// Where the live life of the object was put (joined from its copies), and the latest delete
/// among the hosts. `stamped[i]`: copy `i` was written by the engine; `superseded[i]`: it
/// belongs to an older life of the name.
pub fn find(
    copies: &[(String, Copy)],
    stamped: &[bool],
    superseded: &[bool],
    now_ms: u64,
) -> (Placed, Option<Tombstone>) {
    let records: Vec<(usize, Placed)> = copies
        .iter()
        .enumerate()
        .filter_map(|(i, (_, copy))| match copy {
            Copy::Present(object) if !superseded[i] => Some((i, placed::on(object))),
            _ => None,
        })
        .collect();
    let mut placed = Placed::new();
    for (_, record) in &records {
        placed::join(&mut placed, record);
    }
    let tombstone = copies
        .iter()
        .enumerate()
        .filter_map(|(i, (host, copy))| {
            let had = if superseded[i] || !stamped[i] {
                placed.get(host)?.had.clone()
            } else {
                // Stamped, yet not the copy the others say the engine left there.
                let Copy::Present(object) = copy else {
                    return None;
                };
                let own = uid(object)?;
                let mut had = None;
                for (j, record) in &records {
                    match record.get(host) {
                        Some(place) if *j != i && place.uid.as_ref().is_some_and(|u| *u != own) => {
                            let had = had.get_or_insert_with(Default::default);
                            place.had.values().for_each(|v| include(had, v));
                        }
                        _ => {}
                    }
                }
                had?
            };
            Some(Tombstone {
                host: host.clone(),
                version: Version::after(had.values().max(), now_ms, host),
                had,
            })
        })
        .max_by(|a, b| a.version.cmp(&b.version));
    (placed, tombstone)
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

//! One object's copies on the hosts of a sync group, made one again, field by field.
//!
//! Each copy is read with its stamp ([`observe`]): fields changed since the engine last wrote
//! the copy get new versions. Then, per field, the highest version wins everywhere. A losing
//! value that its winner's writer never saw (a concurrent edit, typically during a partition)
//! goes to the conflict log; a value overwritten by someone who had it is an ordinary edit.
//! A copy gone from a host that had it is a delete: it wins over edits made without seeing it
//! (the default policy, logged as conflicts), it removes stale copies a partition kept, and
//! only a new object made after it — one no stamp has ever covered — lives on.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::STAMP_ANNOTATION;
use super::fields::{self, Fields};
use super::hlc::{Seen, Version, covers, include};
use super::stamp::{self, ABSENT, FieldStamp, Stamp};

/// A field as one copy has it.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldState {
    /// `None`: removed.
    pub value: Option<Value>,
    pub version: Version,
    /// What its writer had seen.
    pub seen: Seen,
}

impl FieldState {
    fn digest(&self) -> String {
        self.value
            .as_ref()
            .map(stamp::digest)
            .unwrap_or_else(|| ABSENT.to_string())
    }
}

/// One copy as read.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub fields: BTreeMap<String, FieldState>,
    /// Whether the engine ever wrote this copy (it carries a stamp).
    pub stamped: bool,
}

fn stamp_of(object: &Value) -> Stamp {
    object
        .pointer(&format!(
            "/metadata/annotations/{}",
            fields::escape(STAMP_ANNOTATION)
        ))
        .and_then(Value::as_str)
        .map(stamp::read)
        .unwrap_or_default()
}

/// The fields of one copy, changes since its stamp given new versions made on `host` at
/// `now_ms`.
pub fn observe(host: &str, object: &Value, now_ms: u64) -> Observed {
    let stamp = stamp_of(object);
    let mut out = BTreeMap::new();
    let present = fields::replicated(object);
    for (pointer, value) in &present {
        let state = match stamp.get(pointer) {
            Some(known) if known.digest == stamp::digest(value) => FieldState {
                value: Some(value.clone()),
                version: known.version.clone(),
                seen: known.seen.clone(),
            },
            known => edited(host, now_ms, known, Some(value.clone())),
        };
        out.insert(pointer.clone(), state);
    }
    for (pointer, known) in &stamp {
        if present.contains_key(pointer) {
            continue;
        }
        let state = if known.digest == ABSENT {
            FieldState {
                value: None,
                version: known.version.clone(),
                seen: known.seen.clone(),
            }
        } else {
            edited(host, now_ms, Some(known), None)
        };
        out.insert(pointer.clone(), state);
    }
    Observed {
        fields: out,
        stamped: !stamp.is_empty(),
    }
}

fn edited(host: &str, now_ms: u64, known: Option<&FieldStamp>, value: Option<Value>) -> FieldState {
    let version = Version::after(known.map(|k| &k.version), now_ms, host);
    let mut seen = known.map(|k| k.seen.clone()).unwrap_or_default();
    include(&mut seen, &version);
    FieldState {
        value,
        version,
        seen,
    }
}

/// A host's copy, as the engine reads it. Hosts that do not answer are not passed at all.
#[derive(Debug, Clone, PartialEq)]
pub enum Copy {
    Present(Value),
    /// Not there. `had`: what the copy the engine last left on this host had seen, when it
    /// left one — then the copy was deleted there.
    Absent {
        had: Option<Seen>,
    },
}

/// A replicated delete.
#[derive(Debug, Clone, PartialEq)]
pub struct Tombstone {
    pub host: String,
    pub version: Version,
    /// What the deleting host's copy had seen: writes it had not seen lose to the delete,
    /// with a conflict logged.
    pub had: Seen,
}

/// One side of a conflict: which host's write, its value (`None`: removed, or deleted), when.
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    pub host: String,
    pub value: Option<Value>,
    pub version: Version,
}

/// A write that lost to another one its writer had not seen.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// The field's pointer; the whole object for a delete.
    pub field: String,
    pub kept: Write,
    pub superseded: Write,
}

/// What to do on one host.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Keep,
    Create(Value),
    /// The whole object as it should be, at the resourceVersion read.
    Update(Value),
    Delete,
}

/// What the group's copies of one object become.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resolution {
    pub actions: Vec<(String, Action)>,
    pub conflicts: Vec<Conflict>,
    /// The delete in force, kept by the engine for as long as tombstones are kept.
    pub tombstone: Option<Tombstone>,
}

/// The object's identity, for creating it where it is missing (the six kinds are
/// cluster-scoped).
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub api_version: String,
    pub kind: String,
    pub name: String,
}

/// Merges the copies of one object on the answering hosts of a group.
pub fn resolve(
    identity: &Identity,
    copies: &[(String, Copy)],
    tombstone: Option<&Tombstone>,
    now_ms: u64,
) -> Resolution {
    let observed: Vec<(&str, Option<Observed>)> = copies
        .iter()
        .map(|(host, copy)| match copy {
            Copy::Present(object) => (host.as_str(), Some(observe(host, object, now_ms))),
            Copy::Absent { .. } => (host.as_str(), None),
        })
        .collect();
    let deleted_now = copies.iter().filter_map(|(host, copy)| match copy {
        Copy::Absent { had: Some(had) } => Some(Tombstone {
            host: host.clone(),
            version: Version::after(had.values().max(), now_ms, host),
            had: had.clone(),
        }),
        _ => None,
    });
    let tombstone = deleted_now
        .chain(tombstone.cloned())
        .max_by(|a, b| a.version.cmp(&b.version));

    let mut out = Resolution::default();
    // With a delete in force, a copy lives only as a new object: one no stamp ever covered.
    let (live, stale): (Vec<usize>, Vec<usize>) = (0..observed.len())
        .filter(|&i| observed[i].1.is_some())
        .partition(|&i| match &tombstone {
            None => true,
            Some(_) => !observed[i].1.as_ref().expect("present").stamped,
        });
    if let Some(dead) = &tombstone {
        // Edits the deleting host never saw lose to the delete (the default policy), logged.
        for &i in &stale {
            let (host, copy) = (observed[i].0, observed[i].1.as_ref().expect("present"));
            for (pointer, state) in &copy.fields {
                if !covers(&dead.had, &state.version) {
                    out.conflicts.push(Conflict {
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
    }
    if tombstone.is_some() && live.is_empty() {
        out.actions = observed
            .iter()
            .map(|(host, fields)| {
                let action = if fields.is_some() {
                    Action::Delete
                } else {
                    Action::Keep
                };
                (host.to_string(), action)
            })
            .collect();
        out.tombstone = tombstone;
        return out;
    }

    if live.is_empty() {
        // Nowhere, and never deleted: nothing to make.
        out.actions = copies
            .iter()
            .map(|(h, _)| (h.clone(), Action::Keep))
            .collect();
        return out;
    }
    let (merged, stamp) = merge_fields(&observed, &live, &mut out.conflicts);
    let stamp_text = stamp::write(&stamp);
    for (i, (host, _)) in copies.iter().enumerate() {
        let action = match &copies[i].1 {
            Copy::Present(object) => {
                let wanted = with_stamp(fields::rebuild(object, &merged), &stamp_text);
                if live.contains(&i)
                    && fields::replicated(object) == merged
                    && has_stamp(object, &stamp)
                {
                    Action::Keep
                } else {
                    Action::Update(wanted)
                }
            }
            Copy::Absent { .. } => {
                let skeleton = json!({
                    "apiVersion": identity.api_version,
                    "kind": identity.kind,
                    "metadata": {"name": identity.name},
                });
                Action::Create(with_stamp(fields::rebuild(&skeleton, &merged), &stamp_text))
            }
        };
        out.actions.push((host.clone(), action));
    }
    out
}

/// Per field, the highest version among the live copies; a different value its winner's
/// writer had not seen is a conflict.
fn merge_fields(
    observed: &[(&str, Option<Observed>)],
    live: &[usize],
    conflicts: &mut Vec<Conflict>,
) -> (Fields, Stamp) {
    let pointers: BTreeSet<&String> = live
        .iter()
        .flat_map(|&i| observed[i].1.as_ref().expect("present").fields.keys())
        .collect();
    let (mut merged, mut stamp) = (Fields::new(), Stamp::new());
    for pointer in pointers {
        let states: Vec<(&str, &FieldState)> = live
            .iter()
            .filter_map(|&i| Some((observed[i].0, observed[i].1.as_ref()?.fields.get(pointer)?)))
            .collect();
        let (winner_host, winner) = *states
            .iter()
            .max_by(|a, b| a.1.version.cmp(&b.1.version))
            .expect("a pointer comes from some copy");
        let mut logged = BTreeSet::new();
        for (host, state) in &states {
            let unseen = !covers(&winner.seen, &state.version);
            if state.version != winner.version
                && state.value != winner.value
                && unseen
                && logged.insert(state.version.clone())
            {
                conflicts.push(Conflict {
                    field: pointer.clone(),
                    kept: Write {
                        host: winner_host.to_string(),
                        value: winner.value.clone(),
                        version: winner.version.clone(),
                    },
                    superseded: Write {
                        host: host.to_string(),
                        value: state.value.clone(),
                        version: state.version.clone(),
                    },
                });
            }
        }
        if let Some(value) = &winner.value {
            merged.insert(pointer.clone(), value.clone());
        }
        stamp.insert(
            pointer.clone(),
            FieldStamp {
                version: winner.version.clone(),
                digest: winner.digest(),
                seen: winner.seen.clone(),
            },
        );
    }
    (merged, stamp)
}

fn with_stamp(mut object: Value, stamp: &str) -> Value {
    let meta = object
        .as_object_mut()
        .expect("rebuilt objects are objects")
        .entry("metadata")
        .or_insert_with(|| json!({}));
    let annotations = meta
        .as_object_mut()
        .expect("metadata is an object")
        .entry("annotations")
        .or_insert_with(|| json!({}));
    if let Some(map) = annotations.as_object_mut() {
        map.insert(STAMP_ANNOTATION.into(), Value::String(stamp.to_string()));
    }
    object
}

fn has_stamp(object: &Value, stamp: &Stamp) -> bool {
    stamp_of(object) == *stamp
}

/// What a stamped copy had seen, all fields together: what the engine remembers it left on
/// a host, so that the copy's later absence reads as a delete of exactly that.
pub fn seen_by(object: &Value) -> Option<Seen> {
    let stamp = stamp_of(object);
    if stamp.is_empty() {
        return None;
    }
    let mut seen = Seen::new();
    for field in stamp.values() {
        for version in field.seen.values() {
            include(&mut seen, version);
        }
    }
    Some(seen)
}

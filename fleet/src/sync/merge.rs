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

use super::deletes;
use super::fields::{self, Fields};
use super::hlc::{Seen, Version, covers, include};
use super::incarnation;
use super::placed::{self, Place};
use super::stamp::{self, ABSENT, FieldStamp, Stamp};
use super::{INCARNATION_ANNOTATION, PLACED_ANNOTATION, STAMP_ANNOTATION};

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

/// The fields of one copy, changes since its stamp given new versions made on `host` at
/// `now_ms`.
pub fn observe(host: &str, object: &Value, now_ms: u64) -> Observed {
    let stamp = stamp::on(object);
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
        // An object with no replicated fields has an empty stamp: its incarnation says the
        // engine wrote it.
        stamped: !stamp.is_empty() || super::incarnation::on(object).is_some(),
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
    /// Not there: deleted, when a copy says the engine put it there ([`super::placed`]).
    Absent,
    /// Not there for good: the host is deleting it — the copy, or its `Federated*` twin,
    /// carries a deletionTimestamp (its API server's clock, in ms). It proves a delete no
    /// placement recorded, one made before sync was on ([`deletes::witnessed`]).
    Deleting(u64),
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
    /// The delete this round found, if any (a new object of the same name may live on).
    pub tombstone: Option<Tombstone>,
}

/// Records the uid the copy created on `created` got in the writes still to make.
pub fn record_created(actions: &mut [(String, Action)], created: &str, uid: &str) {
    for (host, action) in actions.iter_mut() {
        if let (Action::Create(object) | Action::Update(object), false) = (action, host == created)
        {
            placed::record_uid(object, created, uid);
        }
    }
}

/// The object's identity, for creating it where it is missing (the six kinds are
/// cluster-scoped).
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub api_version: String,
    pub kind: String,
    pub name: String,
}

/// Merges the copies of one object on the answering hosts of a group. Apply the creates
/// before the updates: a copy's placement then never names a host whose copy is not there.
pub fn resolve(identity: &Identity, copies: &[(String, Copy)], now_ms: u64) -> Resolution {
    let observed: Vec<(&str, Option<Observed>)> = copies
        .iter()
        .map(|(host, copy)| match copy {
            Copy::Present(object) => (host.as_str(), Some(observe(host, object, now_ms))),
            Copy::Absent | Copy::Deleting(_) => (host.as_str(), None),
        })
        .collect();
    // The newest life of the name among the copies; copies of an older one are superseded
    // whole ([`incarnation`]), and say nothing of where the newer one was put.
    let lives: Vec<Option<Version>> = copies
        .iter()
        .map(|(_, copy)| match copy {
            Copy::Present(object) => incarnation::on(object),
            Copy::Absent | Copy::Deleting(_) => None,
        })
        .collect();
    let newest = lives.iter().flatten().max().cloned();
    let superseded: Vec<bool> = lives
        .iter()
        .map(|life| matches!((life, &newest), (Some(mine), Some(newest)) if mine < newest))
        .collect();
    let stamped: Vec<bool> = observed
        .iter()
        .map(|(_, copy)| copy.as_ref().is_some_and(|c| c.stamped))
        .collect();
    let deletes::Found {
        mut placed,
        tombstone: recorded,
        known,
    } = deletes::find(copies, &superseded, now_ms);
    // A delete seen under way ends only the copies of the live life made before it.
    let witnessed = deletes::witnessed(copies, now_ms)
        .filter(|w| (0..copies.len()).any(|i| !superseded[i] && w.came_after(&copies[i].1)));

    let mut out = Resolution::default();
    // With a recorded delete in force, a copy lives only as a new object: one no stamp ever
    // covered, made after the copy the engine knew there.
    let (live, stale): (Vec<usize>, Vec<usize>) = (0..observed.len())
        .filter(|&i| observed[i].1.is_some())
        .partition(|&i| {
            !superseded[i]
                && !witnessed
                    .as_ref()
                    .is_some_and(|w| w.came_after(&copies[i].1))
                && (recorded.is_none() || (!stamped[i] && !known[i]))
        });
    let tombstone = recorded.clone().or_else(|| witnessed.map(|w| w.tombstone));
    out.tombstone = tombstone.clone();
    if let Some(dead) = &tombstone {
        for &i in &stale {
            let (host, copy) = (observed[i].0, observed[i].1.as_ref().expect("present"));
            deletes::lost_to_delete(dead, host, copy, &mut out.conflicts);
        }
    }
    if live.is_empty() {
        // Deleted (or never anywhere): gone from every host that answers.
        out.actions = observed
            .iter()
            .map(|(host, copy)| {
                let action = if copy.is_some() {
                    Action::Delete
                } else {
                    Action::Keep
                };
                (host.to_string(), action)
            })
            .collect();
        return out;
    }
    let (merged, stamp) = merge_fields(&observed, &live, &mut out.conflicts);
    // The life the copies go on with: the newest one, unless the copies that live are a new
    // object (after a delete, or never stamped anywhere).
    let continues = recorded.is_none()
        && live
            .iter()
            .any(|&i| observed[i].1.as_ref().is_some_and(|c| c.stamped));
    let life = match (&newest, continues) {
        (Some(newest), true) => newest.clone(),
        _ => incarnation::fresh(lives.iter().flatten(), now_ms, observed[live[0]].0),
    };
    if tombstone.is_none() {
        for i in (0..observed.len()).filter(|&i| superseded[i]) {
            let (host, copy) = (observed[i].0, observed[i].1.as_ref().expect("present"));
            incarnation::lost_to_newer_life(
                (&merged, &stamp, &life),
                host,
                copy,
                &mut out.conflicts,
            );
        }
    }
    // Every answering host has it after this round, with what the merged stamp has seen.
    let mut everything = Seen::new();
    for field in stamp.values() {
        for version in field.seen.values() {
            include(&mut everything, version);
        }
    }
    // Every copy there stays (stale ones are rewritten, not deleted) and is known by its uid;
    // a created one's is recorded once it exists ([`placed::record_uid`]).
    for (host, copy) in copies {
        let uid = match copy {
            Copy::Present(object) => deletes::uid(object),
            Copy::Absent | Copy::Deleting(_) => None,
        };
        placed.insert(
            host.clone(),
            Place {
                uid,
                had: everything.clone(),
            },
        );
    }
    // The same on every copy (see [`placed`]).
    let annotations = [
        (STAMP_ANNOTATION, stamp::write(&stamp)),
        (PLACED_ANNOTATION, placed::write(&placed)),
        (INCARNATION_ANNOTATION, life.to_string()),
    ];
    for (i, (host, copy)) in copies.iter().enumerate() {
        let action = match copy {
            Copy::Present(object) => {
                let wanted = annotate(fields::rebuild(object, &merged), &annotations);
                let current = fields::replicated(object) == merged
                    && stamp::on(object) == stamp
                    && placed::on(object) == placed
                    && incarnation::on(object).as_ref() == Some(&life);
                if live.contains(&i) && current {
                    Action::Keep
                } else {
                    Action::Update(wanted)
                }
            }
            Copy::Absent | Copy::Deleting(_) => {
                let skeleton = json!({
                    "apiVersion": identity.api_version,
                    "kind": identity.kind,
                    "metadata": {"name": identity.name},
                });
                Action::Create(annotate(fields::rebuild(&skeleton, &merged), &annotations))
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

fn annotate(mut object: Value, annotations: &[(&str, String)]) -> Value {
    let meta = object
        .as_object_mut()
        .expect("rebuilt objects are objects")
        .entry("metadata")
        .or_insert_with(|| json!({}));
    let map = meta
        .as_object_mut()
        .expect("metadata is an object")
        .entry("annotations")
        .or_insert_with(|| json!({}));
    if let Some(map) = map.as_object_mut() {
        for (key, text) in annotations {
            map.insert(key.to_string(), Value::String(text.clone()));
        }
    }
    object
}

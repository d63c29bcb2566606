//! One sync round over the hosts of a group, through kube: every copy of the synced kinds is
//! read, each object resolved ([`super::merge::resolve`]), and the actions carried out —
//! creates before updates (a copy's placement never names a host whose copy is missing),
//! updates at the resourceVersion read (a change in between waits for the next round, never
//! undone), deletes in the background as ks-console makes them (see `iam::user_delete` for
//! why not in the foreground). A copy kubefed wrote on a host (`kubefed.io/managed: "true"`)
//! is not a source: it is left out.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::StreamExt;
use kube::Client;
use kube::api::{Api, DynamicObject};
use serde_json::Value;

use super::carry::carry_out;
use super::merge::{Action, Conflict, Copy, Identity, Tombstone, resolve};
use super::settled;
use super::snapshot::{KindCopies, Snapshot};
use crate::federation::{FederatedKind, KindResources};

/// A host of a sync group.
#[derive(Clone)]
pub struct GroupHost {
    pub name: String,
    pub client: Client,
}

/// `Kind name`, as reports name an object.
pub type ObjectName = String;

/// Whether a round writes, or only says what it would write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundMode {
    /// Read and resolve everything, write nothing: the plan people confirm before sync goes on.
    Plan,
    Apply,
}

/// A write a round made, or would make.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PlannedWrite {
    pub host: String,
    pub object: ObjectName,
    pub write: WriteKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WriteKind {
    Create,
    Update,
    Delete,
}

/// What one round did.
#[derive(Debug, Default)]
pub struct RoundReport {
    /// Objects looked at.
    pub objects: usize,
    /// Copies created, replaced or deleted (none in a plan).
    pub writes: usize,
    /// What was written, or in a plan what would be.
    pub planned: Vec<PlannedWrite>,
    /// Objects left for a later round, and why (a plain password not hashed yet, a write that
    /// met someone else's change, a host that refused).
    pub deferred: Vec<(ObjectName, String)>,
    pub conflicts: Vec<(ObjectName, Conflict)>,
    pub deletes: Vec<(ObjectName, Tombstone)>,
    /// `host (Kind)` for each list that did not answer: those copies sat the round out.
    pub unreachable: Vec<String>,
    /// Failed logins copied to the other hosts (`record → host`), or in a plan to copy.
    pub login_copies: Vec<(String, String)>,
    /// uids of the copies this round deleted (see [`Snapshot::own_deletes`]).
    pub deleted_uids: Vec<String>,
    /// Copies this round wrote over or deleted: (host index, `Kind name`, the
    /// resourceVersion the write replaced). Until a watch brings the write's echo, its store
    /// still holds the copy at that version (see [`Snapshot::set_aside_stale`]).
    pub replaced: Vec<(usize, ObjectName, String)>,
}

/// One round over `hosts`, everything listed afresh; `now_ms` versions the changes it finds.
/// `own_deletes`: the uids of copies earlier rounds of this engine deleted lately (their
/// [`RoundReport::deleted_uids`]; empty for a first round).
pub async fn sync_round(
    hosts: &[GroupHost],
    own_deletes: &BTreeSet<String>,
    now_ms: u64,
    mode: RoundMode,
) -> RoundReport {
    let mut snapshot = super::snapshot::list(hosts).await;
    snapshot.own_deletes = own_deletes.clone();
    let mut report = settle(hosts, &snapshot, None, now_ms, mode).await;
    copy_logins(hosts, mode, &mut report).await;
    report
}

/// Failed logins count across the group (see `logins`).
pub async fn copy_logins(hosts: &[GroupHost], mode: RoundMode, report: &mut RoundReport) {
    let logins = super::logins::copy_failed_logins(hosts, std::time::SystemTime::now(), mode).await;
    if mode == RoundMode::Apply {
        report.writes += logins.copied.len();
    }
    report.unreachable.extend(
        logins
            .failed
            .into_iter()
            .map(|host| format!("{host} (LoginRecord)")),
    );
    report.login_copies = logins.copied;
}

/// Objects settled at once: each one's writes stay in order, different objects overlap.
const OBJECTS_AT_ONCE: usize = 64;

/// Settles the objects of `snapshot` — only those named in `only` (`Kind name`), when given —
/// and carries out the writes.
pub async fn settle(
    hosts: &[GroupHost],
    snapshot: &Snapshot,
    only: Option<&BTreeSet<ObjectName>>,
    now_ms: u64,
    mode: RoundMode,
) -> RoundReport {
    let mut report = RoundReport {
        unreachable: snapshot.unreachable.clone(),
        ..Default::default()
    };
    for (synced, kind_copies) in &snapshot.kinds {
        let synced = *synced;
        let resource = synced.source();
        let kind = resource.kind.as_str();
        let apis: Vec<Api<DynamicObject>> = hosts
            .iter()
            .map(|h| Api::all_with(h.client.clone(), &resource))
            .collect();
        let (answering, copies) = (&kind_copies.answering, &kind_copies.copies);
        // One binding per user (and workspace): the others are deleted everywhere. Which
        // binding is newest is told from every host's copies: with a host missing, the rule
        // waits for a round where all answer.
        let displaced = if answering.len() == hosts.len() {
            let bindings: BTreeMap<String, Vec<(String, &Value)>> = copies
                .iter()
                .map(|(name, present)| {
                    let live = present
                        .iter()
                        .filter(|(_, (_, deleting))| !deleting)
                        .map(|(&i, (value, _))| (hosts[i].name.clone(), value))
                        .collect();
                    (name.clone(), live)
                })
                .collect();
            super::bindings::displaced(synced, &bindings)
        } else {
            Vec::new()
        };
        for d in &displaced {
            report
                .conflicts
                .push((format!("{kind} {}", d.name), d.conflict.clone()));
        }
        let work: Vec<(String, ObjectName)> = copies
            .keys()
            .map(|name| (name.clone(), format!("{kind} {name}")))
            .filter(|(name, object)| {
                only.is_none_or(|only| only.contains(object))
                    || displaced.iter().any(|d| &d.name == name)
            })
            .collect();
        let at = KindAt {
            synced,
            hosts,
            apis: &apis,
            kind: kind_copies,
            displaced: &displaced,
            now_ms,
            mode,
            verify_absent: only.is_some(),
            own_deletes: &snapshot.own_deletes,
        };
        let outcomes: Vec<RoundReport> = futures_util::stream::iter(
            work.into_iter()
                .map(|(name, object)| settle_one(&at, name, object)),
        )
        .buffer_unordered(OBJECTS_AT_ONCE)
        .collect()
        .await;
        for part in outcomes {
            report.objects += part.objects;
            report.writes += part.writes;
            report.planned.extend(part.planned);
            report.deferred.extend(part.deferred);
            report.conflicts.extend(part.conflicts);
            report.deletes.extend(part.deletes);
            report.deleted_uids.extend(part.deleted_uids);
            report.replaced.extend(part.replaced);
        }
    }
    report
}

/// What settling one object of a kind needs.
struct KindAt<'a> {
    synced: FederatedKind,
    hosts: &'a [GroupHost],
    apis: &'a [Api<DynamicObject>],
    kind: &'a KindCopies,
    displaced: &'a [super::bindings::Displaced],
    now_ms: u64,
    mode: RoundMode,
    /// The copies come from the watches' stores: a missing one is read before it counts.
    verify_absent: bool,
    own_deletes: &'a BTreeSet<String>,
}

/// Resolves one object and carries out its writes; what it did, as a round's report.
async fn settle_one(at: &KindAt<'_>, name: String, object: ObjectName) -> RoundReport {
    let (synced, hosts) = (at.synced, at.hosts);
    let mut present = std::borrow::Cow::Borrowed(&at.kind.copies[&name]);
    let mut part = RoundReport {
        objects: 1,
        ..Default::default()
    };
    let actions = if at.displaced.iter().any(|d| d.name == name) {
        present
            .iter()
            .filter(|(_, (_, deleting))| !deleting)
            .map(|(&i, _)| (i, Action::Delete))
            .collect()
    } else if present.values().any(|(v, _)| !settled(synced, v)) {
        part.deferred
            .push((object, "waiting for its host to hash the password".into()));
        return part;
    } else {
        let resource = synced.source();
        let identity = Identity {
            api_version: resource.api_version,
            kind: resource.kind,
            name: name.clone(),
        };
        let resolve_present = |present: &BTreeMap<usize, (Value, bool)>| {
            let group = group_copies(hosts, at, &name, present);
            resolve(&identity, &group, at.now_ms)
        };
        let mut resolution = resolve_present(&present);
        if at.verify_absent && resolution.tombstone.is_some() {
            // A watch may lag: not have brought a copy yet (the engine's own create, a moment
            // ago), or still hold one deleted and made again since. A copy missing from a host
            // its placement names, or there under another uid, reads as a delete: every copy
            // is read afresh before the delete counts.
            match read_afresh(at, &name).await {
                Ok(fresh) if fresh == *present => {}
                Ok(fresh) => {
                    present = std::borrow::Cow::Owned(fresh);
                    resolution = resolve_present(&present);
                }
                Err(why) => {
                    part.deferred.push((object, why));
                    return part;
                }
            }
        }
        part.conflicts.extend(
            resolution
                .conflicts
                .into_iter()
                .map(|c| (object.clone(), c)),
        );
        if let Some(tombstone) = resolution.tombstone {
            part.deletes.push((object.clone(), tombstone));
        }
        resolution
            .actions
            .into_iter()
            .filter_map(|(host, action)| {
                let i = hosts.iter().position(|h| h.name == host)?;
                // Still there while its delete finishes: nothing to create or delete.
                let deleting = present.get(&i).is_some_and(|(_, d)| *d);
                (!deleting).then_some((i, action))
            })
            .collect()
    };
    carry_out(
        at.apis,
        hosts,
        (synced, &object, &name, &present),
        actions,
        at.mode,
        &mut part,
    )
    .await;
    // Once the hosts agree on a live object, an earlier life's twin must not take it off
    // the members.
    let agreed = part.planned.is_empty()
        && part.deferred.is_empty()
        && at.kind.answering.len() == hosts.len()
        && at.kind.answering.iter().all(|i| present.contains_key(i));
    if agreed {
        let stale = super::twins::stale(&present, &at.kind.twins, &name);
        super::twins::release(hosts, synced, &name, stale, at.mode, &mut part).await;
    }
    part
}

/// The copies of `name` on the answering hosts, read afresh.
async fn read_afresh(
    at: &KindAt<'_>,
    name: &str,
) -> Result<BTreeMap<usize, (Value, bool)>, String> {
    let mut found = BTreeMap::new();
    for &i in &at.kind.answering {
        match at.apis[i].get_opt(name).await {
            Ok(None) => {}
            Ok(Some(copy)) => {
                if let Some((_, copy)) = super::snapshot::entry(&copy) {
                    found.insert(i, copy);
                }
            }
            Err(_) => return Err(format!("{} did not answer", at.hosts[i].name)),
        }
    }
    Ok(found)
}

/// The copies of one object on the answering hosts. A copy being deleted is as good as gone:
/// the delete is decided there; so is one whose `Federated*` twin is being deleted — unless
/// this engine deleted that copy itself (the echo of a delete it already carried: taken for
/// a new delete at its own, later time, it would end a copy made again meanwhile).
fn group_copies(
    hosts: &[GroupHost],
    at: &KindAt<'_>,
    name: &str,
    present: &BTreeMap<usize, (Value, bool)>,
) -> Vec<(String, Copy)> {
    at.kind
        .answering
        .iter()
        .map(|&i| {
            let copy = match present.get(&i) {
                Some((value, false)) => Copy::Present(value.clone()),
                Some((value, true)) => value
                    .pointer("/metadata/deletionTimestamp")
                    .and_then(Value::as_str)
                    .and_then(super::deletes::time_ms)
                    .map_or(Copy::Absent, Copy::Deleting),
                None => at
                    .kind
                    .twins
                    .get(&i)
                    .and_then(|t| t.get(name))
                    .filter(|twin| {
                        twin.owner
                            .as_ref()
                            .is_none_or(|uid| !at.own_deletes.contains(uid))
                    })
                    .map_or(Copy::Absent, |twin| Copy::Deleting(twin.at_ms)),
            };
            (hosts[i].name.clone(), copy)
        })
        .collect()
}

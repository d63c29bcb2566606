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

use super::merge::{Action, Conflict, Copy, Identity, Tombstone, record_created, resolve};
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
}

/// One round over `hosts`, everything listed afresh; `now_ms` versions the changes it finds.
pub async fn sync_round(hosts: &[GroupHost], now_ms: u64, mode: RoundMode) -> RoundReport {
    let snapshot = super::snapshot::list(hosts).await;
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
            let group = group_copies(hosts, &at.kind.answering, &at.kind.twins, &name, present);
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
/// the delete is decided there; so is one whose `Federated*` twin is being deleted.
fn group_copies(
    hosts: &[GroupHost],
    answering: &BTreeSet<usize>,
    twins: &BTreeMap<usize, BTreeMap<String, u64>>,
    name: &str,
    present: &BTreeMap<usize, (Value, bool)>,
) -> Vec<(String, Copy)> {
    answering
        .iter()
        .map(|&i| {
            let copy = match present.get(&i) {
                Some((value, false)) => Copy::Present(value.clone()),
                Some((value, true)) => value
                    .pointer("/metadata/deletionTimestamp")
                    .and_then(Value::as_str)
                    .and_then(super::deletes::time_ms)
                    .map_or(Copy::Absent, Copy::Deleting),
                None => twins
                    .get(&i)
                    .and_then(|t| t.get(name))
                    .map_or(Copy::Absent, |&at| Copy::Deleting(at)),
            };
            (hosts[i].name.clone(), copy)
        })
        .collect()
}

/// Creates first, then updates, then deletes; the first refusal leaves the rest of the
/// object's writes for the next round, which reads everything again.
async fn carry_out(
    apis: &[Api<DynamicObject>],
    hosts: &[GroupHost],
    (synced, object, name, read): (FederatedKind, &str, &str, &BTreeMap<usize, (Value, bool)>),
    mut actions: Vec<(usize, Action)>,
    mode: RoundMode,
    report: &mut RoundReport,
) {
    let order = |a: &Action| match a {
        Action::Create(_) => 0,
        Action::Update(_) => 1,
        Action::Delete => 2,
        Action::Keep => 3,
    };
    actions.sort_by_key(|(_, a)| order(a));
    // By host name too, for [`record_created`].
    let mut named: Vec<(String, Action)> = actions
        .iter()
        .map(|(i, a)| (hosts[*i].name.clone(), a.clone()))
        .collect();
    for k in 0..named.len() {
        let (i, action) = (actions[k].0, named[k].1.clone());
        let api = &apis[i];
        let write = match &action {
            Action::Keep => continue,
            Action::Create(_) => WriteKind::Create,
            Action::Update(_) => WriteKind::Update,
            Action::Delete => WriteKind::Delete,
        };
        let planned = PlannedWrite {
            host: hosts[i].name.clone(),
            object: object.to_string(),
            write,
        };
        if mode == RoundMode::Plan {
            report.planned.push(planned);
            continue;
        }
        let result = match action {
            Action::Keep => continue,
            Action::Create(value) => match serde_json::from_value::<DynamicObject>(value) {
                Ok(copy) => crate::writes::create_self_typed(api, &copy)
                    .await
                    .map(|made| {
                        // The copies written next say which copy the engine put here.
                        if let Some(uid) = made.metadata.uid {
                            record_created(&mut named, &hosts[i].name, &uid);
                        }
                    }),
                Err(e) => Err(kube::Error::SerdeError(e)),
            },
            Action::Update(value) => match serde_json::from_value::<DynamicObject>(value) {
                Ok(copy) => api
                    .replace(name, &crate::writes::post_params(), &copy)
                    .await
                    .map(drop),
                Err(e) => Err(kube::Error::SerdeError(e)),
            },
            Action::Delete => {
                // Only the copy the round read: one made again meanwhile (or by a replica that
                // also thought it led) is left for the next round to judge.
                let field = |f: &str| {
                    read.get(&i)
                        .and_then(|(v, _)| v.pointer(&format!("/metadata/{f}")))
                        .and_then(Value::as_str)
                        .map(String::from)
                };
                let params = kube::api::DeleteParams {
                    preconditions: Some(kube::api::Preconditions {
                        uid: field("uid"),
                        resource_version: field("resourceVersion"),
                    }),
                    ..Default::default()
                };
                let deleted = api.delete(name, &params).await.map(drop);
                if deleted.is_ok() && synced == FederatedKind::User {
                    let client = hosts[i].client.clone();
                    tokio::spawn(crate::iam::user_delete::remove_written_back(
                        client,
                        name.to_string(),
                    ));
                }
                deleted
            }
        };
        match result {
            Ok(()) => {
                report.writes += 1;
                report.planned.push(planned);
            }
            Err(e) => {
                // The API server's message may quote a value it refused (a 422 quotes the
                // field, a password hash included): only the status and reason are kept.
                let why = match &e {
                    kube::Error::Api(s) if s.code == 409 || s.code == 404 => {
                        format!(
                            "{} changed meanwhile ({} {})",
                            hosts[i].name, s.code, s.reason
                        )
                    }
                    kube::Error::Api(s) => {
                        format!("{} refused ({} {})", hosts[i].name, s.code, s.reason)
                    }
                    _ => format!("{} did not answer", hosts[i].name),
                };
                report.deferred.push((object.to_string(), why));
                return;
            }
        }
    }
}

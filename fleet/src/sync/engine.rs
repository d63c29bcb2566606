//! One sync round over the hosts of a group, through kube: every copy of the synced kinds is
//! read, each object resolved ([`super::merge::resolve`]), and the actions carried out —
//! creates before updates (a copy's placement never names a host whose copy is missing),
//! updates at the resourceVersion read (a change in between waits for the next round, never
//! undone), deletes in the background as ks-console makes them (see `iam::user_delete` for
//! why not in the foreground). A copy kubefed wrote on a host (`kubefed.io/managed: "true"`)
//! is not a source: it is left out.

use std::collections::BTreeMap;
use std::time::Duration;

use kube::api::{Api, DynamicObject};
use kube::{Client, ResourceExt};
use serde_json::Value;

use super::merge::{Action, Conflict, Copy, Identity, Tombstone, record_created, resolve};
use super::{SYNCED_KINDS, settled, written_by_kubefed};
use crate::federation::{FederatedKind, KindResources};

/// Longest wait for one host's list of one kind; a host slower than this sits the round out.
const LIST_TIMEOUT: Duration = Duration::from_secs(10);

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

/// One round over `hosts`; `now_ms` versions the changes it finds.
pub async fn sync_round(hosts: &[GroupHost], now_ms: u64, mode: RoundMode) -> RoundReport {
    let mut report = RoundReport::default();
    for synced in SYNCED_KINDS {
        let resource = synced.source();
        let kind = resource.kind.as_str();
        let apis: Vec<Api<DynamicObject>> = hosts
            .iter()
            .map(|h| Api::all_with(h.client.clone(), &resource))
            .collect();
        let mut answering = Vec::new();
        // name → (host index → copy, and whether it is being deleted)
        let mut copies: BTreeMap<String, BTreeMap<usize, (Value, bool)>> = BTreeMap::new();
        for (i, api) in apis.iter().enumerate() {
            match tokio::time::timeout(LIST_TIMEOUT, api.list(&Default::default())).await {
                Ok(Ok(list)) => {
                    answering.push(i);
                    for object in list.items {
                        if written_by_kubefed(&object.metadata) {
                            continue;
                        }
                        let deleting = object.metadata.deletion_timestamp.is_some();
                        let name = object.name_any();
                        let value = serde_json::to_value(&object).unwrap_or_default();
                        copies.entry(name).or_default().insert(i, (value, deleting));
                    }
                }
                _ => report
                    .unreachable
                    .push(format!("{} ({kind})", hosts[i].name)),
            }
        }
        // A host missing a name may be deleting it: its Federated* twin says so (a delete
        // made before sync was on, or stuck on kubefed's finalizer).
        let mut twins = BTreeMap::new();
        for &i in &answering.clone() {
            if copies.values().all(|present| present.contains_key(&i)) {
                continue;
            }
            let api = Api::all_with(hosts[i].client.clone(), &synced.federated());
            match twins_deleting(&api).await {
                Some(found) => {
                    twins.insert(i, found);
                }
                None => {
                    answering.retain(|&a| a != i);
                    report
                        .unreachable
                        .push(format!("{} (Federated{kind})", hosts[i].name));
                }
            }
        }
        // One binding per user (and workspace): the others are deleted everywhere.
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
        // Which binding is newest is told from every host's copies: with a host missing, the
        // rule waits for a round where all answer.
        let displaced = if answering.len() == hosts.len() {
            super::bindings::displaced(synced, &bindings)
        } else {
            Vec::new()
        };
        for d in &displaced {
            report
                .conflicts
                .push((format!("{kind} {}", d.name), d.conflict.clone()));
        }
        for (name, present) in copies {
            report.objects += 1;
            let object = format!("{kind} {name}");
            if displaced.iter().any(|d| d.name == name) {
                let deletes = present
                    .iter()
                    .filter(|(_, (_, deleting))| !deleting)
                    .map(|(&i, _)| (i, Action::Delete))
                    .collect();
                carry_out(
                    &apis,
                    hosts,
                    (synced, &object, &name, &present),
                    deletes,
                    mode,
                    &mut report,
                )
                .await;
                continue;
            }
            if present.values().any(|(v, _)| !settled(synced, v)) {
                report
                    .deferred
                    .push((object, "waiting for its host to hash the password".into()));
                continue;
            }
            // A copy being deleted is as good as gone: the delete is decided there.
            let group: Vec<(String, Copy)> = answering
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
                            .and_then(|t: &BTreeMap<String, u64>| t.get(&name))
                            .map_or(Copy::Absent, |&at| Copy::Deleting(at)),
                    };
                    (hosts[i].name.clone(), copy)
                })
                .collect();
            let identity = Identity {
                api_version: resource.api_version.clone(),
                kind: resource.kind.clone(),
                name: name.clone(),
            };
            let resolution = resolve(&identity, &group, now_ms);
            report.conflicts.extend(
                resolution
                    .conflicts
                    .into_iter()
                    .map(|c| (object.clone(), c)),
            );
            if let Some(tombstone) = resolution.tombstone {
                report.deletes.push((object.clone(), tombstone));
            }
            let actions: Vec<(usize, Action)> = resolution
                .actions
                .into_iter()
                .filter_map(|(host, action)| {
                    let i = hosts.iter().position(|h| h.name == host)?;
                    // Still there while its delete finishes: nothing to create or delete.
                    let deleting = present.get(&i).is_some_and(|(_, d)| *d);
                    (!deleting).then_some((i, action))
                })
                .collect();
            carry_out(
                &apis,
                hosts,
                (synced, &object, &name, &present),
                actions,
                mode,
                &mut report,
            )
            .await;
        }
    }
    // Failed logins count across the group (see `logins`).
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
    report
}

/// The `Federated*` objects being deleted on a host, with their deletionTimestamps (ms);
/// `None` when the host does not answer. A host without kubefed's types has none.
async fn twins_deleting(api: &Api<DynamicObject>) -> Option<BTreeMap<String, u64>> {
    let list = match tokio::time::timeout(LIST_TIMEOUT, api.list(&Default::default())).await {
        Ok(Ok(list)) => list,
        Ok(Err(kube::Error::Api(status))) if status.code == 404 => return Some(BTreeMap::new()),
        _ => return None,
    };
    Some(
        list.items
            .iter()
            .filter_map(|twin| {
                let at = twin.metadata.deletion_timestamp.as_ref()?;
                Some((twin.name_any(), u64::try_from(at.0.as_millisecond()).ok()?))
            })
            .collect(),
    )
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

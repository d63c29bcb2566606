//! Carrying out one object's writes, as a round resolved them: creates first, then updates,
//! then deletes, each at what the round read.

use std::collections::BTreeMap;

use kube::api::{Api, DynamicObject};
use serde_json::Value;

use super::engine::{GroupHost, PlannedWrite, RoundMode, RoundReport, WriteKind};
use super::merge::{Action, record_created};
use crate::federation::FederatedKind;

/// Creates first, then updates, then deletes; the first refusal leaves the rest of the
/// object's writes for the next round, which reads everything again.
pub(super) async fn carry_out(
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
        // The copy the round read here: its uid and resourceVersion.
        let field = |f: &str| {
            read.get(&i)
                .and_then(|(v, _)| v.pointer(&format!("/metadata/{f}")))
                .and_then(Value::as_str)
                .map(String::from)
        };
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
                let params = kube::api::DeleteParams {
                    preconditions: Some(kube::api::Preconditions {
                        uid: field("uid"),
                        resource_version: field("resourceVersion"),
                    }),
                    ..Default::default()
                };
                let deleted = api.delete(name, &params).await.map(drop);
                if deleted.is_ok() {
                    report.deleted_uids.extend(field("uid"));
                }
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
                if planned.write != WriteKind::Create
                    && let Some(rv) = field("resourceVersion")
                {
                    report.replaced.push((i, object.to_string(), rv));
                }
                report.planned.push(planned);
            }
            Err(e) => {
                report
                    .deferred
                    .push((object.to_string(), deferred_because(&hosts[i].name, &e)));
                return;
            }
        }
    }
}

/// Why a write on `host` is left for a later round. The API server's message may quote a
/// value it refused (a 422 quotes the field, a password hash included): only the status and
/// reason are kept.
pub(super) fn deferred_because(host: &str, error: &kube::Error) -> String {
    match error {
        kube::Error::Api(s) if s.code == 409 || s.code == 404 => {
            format!("{host} changed meanwhile ({} {})", s.code, s.reason)
        }
        kube::Error::Api(s) => format!("{host} refused ({} {})", s.code, s.reason),
        _ => format!("{host} did not answer"),
    }
}

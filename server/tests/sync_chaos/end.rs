//! The end of a chaos run: wait until every host and the member hold the same users, then
//! prove they stay so.

use std::collections::BTreeMap;
use std::time::Duration;

use kube::api::{Api, DynamicObject};
use serde_json::Value;

use crate::ledger::{FIELDS, Final, ON_MEMBER};
use crate::rig::{CLUSTERS, HOSTS, MEMBER, Rig};
use crate::{PREFIX, common};

/// One cluster's run users: name → (resourceVersion, object).
type Users = BTreeMap<String, (String, Value)>;

async fn users(rig: &Rig, i: usize) -> Result<Users, String> {
    let client = rig.client(i).ok_or("not running")?;
    let api: Api<DynamicObject> = Api::all_with(client, &common::iam("User", "users"));
    let list = api
        .list(&Default::default())
        .await
        .map_err(|e| e.to_string())?;
    Ok(list
        .items
        .into_iter()
        .filter_map(|u| {
            let name = u.metadata.name.clone()?;
            let rv = u.metadata.resource_version.clone().unwrap_or_default();
            name.starts_with(PREFIX)
                .then(|| (name, (rv, serde_json::to_value(&u).unwrap())))
        })
        .collect())
}

pub fn run_fields(object: &Value) -> BTreeMap<usize, String> {
    FIELDS
        .iter()
        .enumerate()
        .filter_map(|(i, p)| Some((i, object.pointer(p)?.as_str()?.to_string())))
        .collect()
}

/// Why the clusters do not agree yet (`Ok` with the end state when they do).
pub async fn agreement(rig: &Rig) -> Result<Final, String> {
    let mut all = Vec::new();
    for (i, cluster) in CLUSTERS.iter().enumerate() {
        all.push(users(rig, i).await.map_err(|e| format!("{cluster}: {e}"))?);
    }
    for (i, cluster) in all.iter().enumerate() {
        if let Some(name) = cluster
            .iter()
            .find(|(_, (_, u))| u.pointer("/metadata/deletionTimestamp").is_some())
            .map(|(n, _)| n)
        {
            return Err(format!("{name} is still being deleted on {}", CLUSTERS[i]));
        }
    }
    let (host, host2) = (&all[HOSTS[0]], &all[HOSTS[1]]);
    let names = |c: &Users| c.keys().cloned().collect::<Vec<_>>();
    if names(host) != names(host2) || names(host) != names(&all[MEMBER]) {
        return Err(format!(
            "users differ: host {:?}, host2 {:?}, member {:?}",
            names(host),
            names(host2),
            names(&all[MEMBER])
        ));
    }
    let mut end = Final::new();
    for (name, (_, object)) in host {
        let replicated = |o: &Value| fleet::sync::fields::replicated(o);
        if replicated(object) != replicated(&host2[name].1) {
            return Err(format!(
                "{name} differs between the hosts: {:?} vs {:?}",
                replicated(object),
                replicated(&host2[name].1)
            ));
        }
        let fields = run_fields(object);
        let on_member = run_fields(&all[MEMBER][name].1);
        let propagated: BTreeMap<usize, String> = fields
            .iter()
            .filter(|(f, _)| **f < ON_MEMBER)
            .map(|(f, v)| (*f, v.clone()))
            .collect();
        if propagated != on_member {
            return Err(format!(
                "{name} on the member: {on_member:?}, on the hosts {propagated:?}"
            ));
        }
        end.insert(name.clone(), fields);
    }
    Ok(end)
}

/// Waits (at most `within`) until the hosts and the member agree.
pub async fn settled(rig: &Rig, within: Duration) -> Result<Final, String> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match agreement(rig).await {
            Ok(end) => return Ok(end),
            Err(why) if tokio::time::Instant::now() > deadline => {
                return Err(format!("not settled after {within:?}: {why}"));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

/// Every run user on every cluster, to compare with a later look.
pub async fn look(rig: &Rig) -> Vec<Users> {
    let mut all = Vec::new();
    for i in 0..CLUSTERS.len() {
        all.push(users(rig, i).await.unwrap());
    }
    all
}

/// The copies that changed between two looks (`name on cluster`), each with what did.
pub fn changes(before: &[Users], after: &[Users]) -> Vec<(String, String)> {
    let mut changed = Vec::new();
    for (i, (was, now)) in before.iter().zip(after).enumerate() {
        let names: std::collections::BTreeSet<&String> = was.keys().chain(now.keys()).collect();
        for name in names {
            let what = match (was.get(name), now.get(name)) {
                (Some((a, _)), Some((b, _))) if a == b => continue,
                (Some((_, a)), Some((_, b))) => {
                    let mut fields = Vec::new();
                    diff("", a, b, &mut fields);
                    fields.join("; ")
                }
                (Some(_), None) => "deleted".to_string(),
                (None, _) => "created".to_string(),
            };
            changed.push((format!("{name} on {}", CLUSTERS[i]), what));
        }
    }
    changed
}

/// A member's copy may change this often once the hosts agree (the hosts' controllers
/// finishing their own work, e.g. after a restart); more is flapping.
const MEMBER_CHANGES: usize = 2;

/// Waits (at most `within`) for `window` without any change on any cluster, and says which
/// copies changed before that; a member copy changing more than [`MEMBER_CHANGES`] times, or
/// no quiet window in time, is an error.
pub async fn quiet(rig: &Rig, window: Duration, within: Duration) -> Result<Vec<String>, String> {
    let start = tokio::time::Instant::now();
    let mut last = look(rig).await;
    let mut since = start;
    let mut seen: Vec<String> = Vec::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    while since.elapsed() < window {
        if start.elapsed() > within {
            return Err(format!(
                "no {window:?} without a change within {within:?}:\n{}",
                seen.join("\n")
            ));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = look(rig).await;
        let changed = changes(&last, &now);
        if !changed.is_empty() {
            since = tokio::time::Instant::now();
        }
        for (copy, what) in changed {
            *counts.entry(copy.clone()).or_default() += 1;
            seen.push(format!("{copy}: {what}"));
        }
        last = now;
    }
    let flapping: Vec<String> = counts
        .iter()
        .filter(|(copy, n)| copy.ends_with(" on member") && **n > MEMBER_CHANGES)
        .map(|(copy, n)| format!("{copy} changed {n} times"))
        .collect();
    if !flapping.is_empty() {
        return Err(format!("{}\n{}", flapping.join("\n"), seen.join("\n")));
    }
    Ok(seen)
}

/// The leaves that differ between `a` and `b`, as `pointer: a -> b`.
fn diff(at: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let (va, vb) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                diff(&format!("{at}/{k}"), va, vb, out);
            }
        }
        _ if a != b => out.push(format!("{at}: {a} -> {b}")),
        _ => {}
    }
}

//! kubefed's cluster controller: every 10 s it asks each member's `/healthz` with the
//! KubeFedCluster's credentials and records the answer in the KubeFedCluster's status, with
//! kubefed's condition types and reasons (Ready / Offline; ClusterReady,
//! ClusterNotReachable, ...).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::FED_NS;
use crate::ClusterState;
use crate::meta;

/// kubefed's `clusterHealthCheckConfig.period` default.
const PERIOD: Duration = Duration::from_secs(10);
const TIMEOUT: Duration = Duration::from_secs(3);

/// When each KubeFedCluster was last checked.
#[derive(Default)]
pub(crate) struct HealthState {
    last: HashMap<String, Instant>,
}

/// Checks the members that are due and writes each KubeFedCluster's status when it changed.
pub(crate) async fn check_due(
    state: &ClusterState,
    health: &mut HealthState,
    members: &[(&str, Option<&kube::Client>)],
) {
    for (name, client) in members {
        if health
            .last
            .get(*name)
            .is_some_and(|at| at.elapsed() < PERIOD)
        {
            continue;
        }
        health.last.insert(name.to_string(), Instant::now());
        let (ready, reason, message) = match client {
            None => (false, "ClusterNotReachable", "cluster is not reachable"),
            Some(client) => match healthz(client).await {
                Some(true) => (true, "ClusterReady", "/healthz responded with ok"),
                Some(false) => (false, "ClusterNotReady", "/healthz responded without ok"),
                None => (false, "ClusterNotReachable", "cluster is not reachable"),
            },
        };
        record(state, name, ready, reason, message);
    }
}

async fn healthz(client: &kube::Client) -> Option<bool> {
    let request = http::Request::get("/healthz").body(Vec::new()).ok()?;
    match tokio::time::timeout(TIMEOUT, client.request_text(request)).await {
        Ok(Ok(body)) => Some(body.trim() == "ok"),
        Ok(Err(kube::Error::Api(_))) => Some(false),
        _ => None,
    }
}

fn record(state: &ClusterState, name: &str, ready: bool, reason: &str, message: &str) {
    let Ok(mut db) = state.db.lock() else { return };
    let Some(kind) = db
        .registry
        .all()
        .find(|k| k.group == "core.kubefed.io" && k.plural == "kubefedclusters")
        .cloned()
    else {
        return;
    };
    let Ok(current) = db.get(&kind, "v1beta1", Some(FED_NS), name) else {
        return;
    };
    let previous = current
        .pointer("/status/conditions")
        .and_then(Value::as_array);
    let same = |kind: &str, status: &str| {
        previous.is_some_and(|list| {
            list.iter()
                .any(|c| c["type"] == kind && c["status"] == status && c["reason"] == reason)
        })
    };
    let ready_status = if ready { "True" } else { "False" };
    if same("Ready", ready_status) {
        return; // nothing changed: kubefed only bumps lastProbeTime, which no one reads here
    }
    let now = meta::now_rfc3339();
    let mut conditions = vec![
        json!({"type": "Ready", "status": ready_status, "reason": reason, "message": message, "lastProbeTime": now, "lastTransitionTime": now}),
    ];
    if !ready {
        conditions.push(json!({"type": "Offline", "status": "True", "reason": reason, "message": message, "lastProbeTime": now, "lastTransitionTime": now}));
    }
    let body = json!({"metadata": {"name": name}, "status": {"conditions": conditions}});
    if let Err(err) = db.update(&kind, "v1beta1", Some(FED_NS), name, body, true, false) {
        tracing::warn!(
            cluster = name,
            ?err,
            "kubefed cluster health: status not written"
        );
    }
}

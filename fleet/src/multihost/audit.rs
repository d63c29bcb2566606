//! The audit log of multi-host repairs: who did what to which object, on which hosts, and how
//! it ended. Kept in the fleet itself — a `ConfigMap` in `kubesphere-system` on every host the
//! repair touched — so it survives console restarts and every console replica sees it.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Client;
use kube::api::{Api, ObjectMeta, PostParams};
use serde::{Deserialize, Serialize};

pub const AUDIT_CONFIGMAP: &str = "tandem-audit";
pub const AUDIT_NAMESPACE: &str = "kubesphere-system";
const KEY: &str = "entries.jsonl";
/// Entries kept per host; older ones are dropped (a ConfigMap holds at most 1 MiB).
const KEEP: usize = 300;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// RFC 3339.
    pub at: String,
    /// The signed-in user who confirmed it.
    pub actor: String,
    /// `pick-winner` or `coordinated-delete`.
    pub action: String,
    pub kind: String,
    pub name: String,
    pub hosts: Vec<String>,
    /// What was done, in a sentence (never any object content).
    pub detail: String,
    pub succeeded: bool,
}

/// Appends `entry` to the log on `client`'s host; retried on a write conflict.
pub async fn record(client: &Client, entry: &AuditEntry) -> Result<(), kube::Error> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), AUDIT_NAMESPACE);
    let line = serde_json::to_string(entry).unwrap_or_default();
    let mut last_error = None;
    for _ in 0..5 {
        let result = match api.get_opt(AUDIT_CONFIGMAP).await? {
            None => {
                let map = ConfigMap {
                    metadata: ObjectMeta {
                        name: Some(AUDIT_CONFIGMAP.into()),
                        labels: Some(BTreeMap::from([(
                            "app.kubernetes.io/managed-by".to_string(),
                            "tandem".to_string(),
                        )])),
                        ..Default::default()
                    },
                    data: Some(BTreeMap::from([(KEY.to_string(), format!("{line}\n"))])),
                    ..Default::default()
                };
                api.create(&PostParams::default(), &map).await.map(drop)
            }
            Some(mut map) => {
                let data = map.data.get_or_insert_with(BTreeMap::new);
                let old = data.get(KEY).cloned().unwrap_or_default();
                let mut lines: Vec<&str> = old.lines().filter(|l| !l.is_empty()).collect();
                lines.push(&line);
                let start = lines.len().saturating_sub(KEEP);
                let text = lines[start..].join("\n") + "\n";
                data.insert(KEY.into(), text);
                api.replace(AUDIT_CONFIGMAP, &PostParams::default(), &map)
                    .await
                    .map(drop)
            }
        };
        match result {
            Ok(()) => return Ok(()),
            Err(kube::Error::Api(status)) if status.code == 409 => last_error = Some(status),
            Err(other) => return Err(other),
        }
    }
    Err(kube::Error::Api(
        last_error.expect("a conflict was recorded"),
    ))
}

/// The entries on one host, newest first; unreadable lines are skipped.
pub async fn read(client: &Client) -> Result<Vec<AuditEntry>, kube::Error> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), AUDIT_NAMESPACE);
    let text = api
        .get_opt(AUDIT_CONFIGMAP)
        .await?
        .and_then(|m| m.data)
        .and_then(|d| d.get(KEY).cloned())
        .unwrap_or_default();
    let mut entries: Vec<AuditEntry> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    entries.reverse();
    Ok(entries)
}

/// Entries of several hosts merged (an entry recorded on two hosts counts once), newest first.
pub fn merge(per_host: Vec<Vec<AuditEntry>>) -> Vec<AuditEntry> {
    let mut all: Vec<AuditEntry> = Vec::new();
    for entry in per_host.into_iter().flatten() {
        if !all.contains(&entry) {
            all.push(entry);
        }
    }
    all.sort_by(|a, b| b.at.cmp(&a.at));
    all
}

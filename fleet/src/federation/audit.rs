//! The audit log of multi-host repairs: who did what to which object, on which hosts, and how
//! it ended. Kept in the fleet itself — a `ConfigMap` in `kubesphere-system` on every host the
//! repair touched — so it survives console restarts and every console replica sees it.

use kube::Client;

use crate::kept_data;

pub const AUDIT_CONFIGMAP: &str = "tandem-audit";
const KEY: &str = "entries.jsonl";
/// Entries kept per host; older ones are dropped (a ConfigMap holds at most 1 MiB).
const KEEP: usize = 300;

pub use wire::federation::{AuditAction, AuditEntry};

/// Appends `entry` to the log on `client`'s host, keeping the newest [`KEEP`].
pub async fn record(client: &Client, entry: &AuditEntry) -> Result<(), kube::Error> {
    let line = serde_json::to_string(entry).unwrap_or_default();
    kept_data::update(client, AUDIT_CONFIGMAP, KEY, |old| {
        let mut lines: Vec<&str> = old.lines().filter(|l| !l.is_empty()).collect();
        lines.push(&line);
        let start = lines.len().saturating_sub(KEEP);
        lines[start..].join("\n") + "\n"
    })
    .await
}

/// The entries on one host, newest first; unreadable lines are skipped.
pub async fn read(client: &Client) -> Result<Vec<AuditEntry>, kube::Error> {
    let text = kept_data::read(client, AUDIT_CONFIGMAP, KEY).await?;
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

//! Repairs for two hosts fighting over a member, each recorded in the audit log:
//! - pick the winning version: the other hosts' objects become equal to the winner's in
//!   everything kubefed propagates, generated fields included (a bcrypt hash with its salt,
//!   annotations, status), so the member copy stops flipping;
//! - coordinated delete: delete on every host, wait until the members are clean, and only
//!   then clear a kubefed finalizer that still holds a federated object.

use crate::federation::KindResources;
use std::time::{Duration, Instant, SystemTime};

use kube::Client;
use kube::api::{Api, DynamicObject};
use serde_json::Value;

use super::audit::{self, AuditAction, AuditEntry};
use super::fingerprint::NOT_PROPAGATED;
use super::repair::{HostTask, RepairStep, Resolution, ResolveError, Unsettled};
use super::{FederationMonitor, ObjectKey};

/// kubefed's finalizer on federated objects.
pub const SYNC_FINALIZER: &str = "kubefed.io/sync-controller";
/// How long a repair waits for the hosts' controllers and kubefed to follow.
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(60);
/// A member must stay clean this long before a finalizer is cleared by hand.
const CLEAN_FOR: Duration = Duration::from_secs(3);

fn host_error(host: &str, task: HostTask) -> impl FnOnce(kube::Error) -> ResolveError {
    let host = host.to_string();
    move |source| ResolveError::Host {
        host,
        task,
        detail: source.to_string(),
    }
}

impl FederationMonitor {
    fn client_of(&self, host: &str) -> Result<&Client, ResolveError> {
        self.host_client(host)
            .ok_or_else(|| ResolveError::UnknownHost(host.to_string()))
    }

    /// Makes every host that shares a member with `winner` hold `winner`'s version of `key`.
    pub async fn pick_winner(
        &self,
        key: &ObjectKey,
        winner: &str,
        actor: &str,
    ) -> Result<Resolution, ResolveError> {
        let mut resolution = Resolution::default();
        self.pick_winner_observed(key, winner, actor, &mut resolution)
            .await
            .map(|()| resolution)
    }

    /// `pick_winner`, reporting into `resolution` as it goes.
    pub async fn pick_winner_observed(
        &self,
        key: &ObjectKey,
        winner: &str,
        actor: &str,
        resolution: &mut Resolution,
    ) -> Result<(), ResolveError> {
        let losers: Vec<String> = self
            .shared
            .view
            .lock()
            .map(|v| v.hosts_sharing_with(winner))
            .unwrap_or_default()
            .into_iter()
            .filter(|h| h != winner)
            .collect();
        let result = if losers.is_empty() {
            Err(ResolveError::NoOtherHost(winner.to_string()))
        } else {
            self.equalize(key, winner, &losers, resolution).await
        };
        let detail = match &result {
            Ok(()) => format!("{winner}'s version now on {}", losers.join(", ")),
            Err(e) => e.to_string(),
        };
        self.audit(
            key,
            AuditAction::PickWinner,
            actor,
            &losers_and(winner, &losers),
            detail,
            result.is_ok(),
        )
        .await;
        result
    }

    async fn equalize(
        &self,
        key: &ObjectKey,
        winner: &str,
        losers: &[String],
        resolution: &mut Resolution,
    ) -> Result<(), ResolveError> {
        let source = key.kind.source();
        let winning = Api::<DynamicObject>::all_with(self.client_of(winner)?.clone(), &source)
            .get_opt(&key.name)
            .await
            .map_err(host_error(winner, HostTask::Reading))?
            .ok_or_else(|| ResolveError::NotOnHost {
                kind: key.kind,
                name: key.name.clone(),
                host: winner.to_string(),
            })?;
        let winning = serde_json::to_value(&winning).unwrap_or_default();
        for host in losers {
            let api = Api::<DynamicObject>::all_with(self.client_of(host)?.clone(), &source);
            let Some(losing) = api
                .get_opt(&key.name)
                .await
                .map_err(host_error(host, HostTask::Reading))?
            else {
                continue; // nothing there to fight with
            };
            let mut next = serde_json::to_value(&losing).unwrap_or_default();
            copy_content(&winning, &mut next);
            // None of the six kinds has a status subresource in v3.4.1 (a `/status` write is
            // a 404 there): the winner's status goes in the same replace, which carries the
            // losing object's resourceVersion, so a write made meanwhile is a 409.
            match winning.get("status").filter(|s| !s.is_null()) {
                Some(status) => next["status"] = status.clone(),
                None => {
                    if let Some(map) = next.as_object_mut() {
                        map.remove("status");
                    }
                }
            }
            let object: DynamicObject = serde_json::from_value(next)
                .map_err(|e| host_error(host, HostTask::Writing)(kube::Error::SerdeError(e)))?;
            api.replace(&key.name, &crate::writes::post_params(), &object)
                .await
                .map_err(host_error(host, HostTask::Writing))?;
            resolution.push(RepairStep::Copied {
                host: host.clone(),
                winner: winner.to_string(),
            });
        }
        // The hosts' controllers regenerate their federated objects from what was written.
        let started = Instant::now();
        loop {
            // This replica's own watches, never a publication: the repair runs on them.
            let row = self
                .shared
                .view
                .lock()
                .ok()
                .and_then(|v| v.row(key, std::time::SystemTime::now()));
            let fingerprints: Vec<Option<super::Fingerprint>> = row
                .map(|row| {
                    row.hosts
                        .iter()
                        .filter(|h| h.host == winner || losers.contains(&h.host))
                        .filter(|h| h.fingerprint.is_some())
                        .map(|h| h.fingerprint.clone())
                        .collect()
                })
                .unwrap_or_default();
            if fingerprints.windows(2).all(|w| w[0] == w[1]) {
                resolution.push(RepairStep::HostsAgree);
                return Ok(());
            }
            if started.elapsed() > SETTLE_TIMEOUT {
                return Err(ResolveError::NotSettled {
                    waited: SETTLE_TIMEOUT.as_secs(),
                    unsettled: Unsettled::HostsDiffer,
                });
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// Deletes `key` from every host, waits until no member holds it, then clears kubefed's
    /// finalizer on federated objects that still hold on.
    pub async fn coordinated_delete(
        &self,
        key: &ObjectKey,
        actor: &str,
    ) -> Result<Resolution, ResolveError> {
        let mut resolution = Resolution::default();
        self.coordinated_delete_observed(key, actor, &mut resolution)
            .await
            .map(|()| resolution)
    }

    /// `coordinated_delete`, reporting into `resolution` as it goes.
    pub async fn coordinated_delete_observed(
        &self,
        key: &ObjectKey,
        actor: &str,
        resolution: &mut Resolution,
    ) -> Result<(), ResolveError> {
        let hosts = self.host_names();
        let result = self.delete_everywhere(key, &hosts, resolution).await;
        let detail = match &result {
            Ok(()) => {
                let steps: Vec<String> = resolution.steps.iter().map(|s| s.to_string()).collect();
                format!("deleted everywhere: {}", steps.join("; "))
            }
            Err(e) => e.to_string(),
        };
        self.audit(
            key,
            AuditAction::CoordinatedDelete,
            actor,
            &hosts,
            detail,
            result.is_ok(),
        )
        .await;
        result
    }

    async fn delete_everywhere(
        &self,
        key: &ObjectKey,
        hosts: &[String],
        resolution: &mut Resolution,
    ) -> Result<(), ResolveError> {
        for host in hosts {
            let api =
                Api::<DynamicObject>::all_with(self.client_of(host)?.clone(), &key.kind.source());
            let existing = api
                .get_opt(&key.name)
                .await
                .map_err(host_error(host, HostTask::Reading))?;
            if existing.is_some_and(|o| o.metadata.deletion_timestamp.is_none()) {
                api.delete(&key.name, &crate::writes::source_delete())
                    .await
                    .map_err(host_error(host, HostTask::Deleting))?;
                resolution.push(RepairStep::Deleted { host: host.clone() });
            }
        }
        let started = Instant::now();
        let mut clean_since: Option<Instant> = None;
        loop {
            // A member the console has not listed (its watch not started or not through its
            // list, or the member out of reach) may still hold a copy: counted as holding,
            // or kubefed's finalizer would be cleared under it and the copy left for good.
            // Nor may members count as clean while a host's Clusters are unread or out of
            // reach: the members only it manages are not even known to be unseen then.
            let (holders, seen, unseen, unread) = self
                .shared
                .view
                .lock()
                .map(|v| {
                    let seen = v.members_holding(key);
                    let unseen: Vec<String> = v
                        .members_unseen(key.kind)
                        .into_iter()
                        .filter(|m| !seen.contains(m))
                        .collect();
                    let unread: Vec<String> = hosts
                        .iter()
                        .filter(|host| {
                            !v.topology()
                                .iter()
                                .any(|links| &links.host == *host && links.reachable)
                        })
                        .cloned()
                        .collect();
                    (v.holders(key), seen, unseen, unread)
                })
                .unwrap_or_else(|_| (Vec::new(), Vec::new(), Vec::new(), hosts.to_vec()));
            let members_clean = seen.is_empty() && unseen.is_empty();
            // Gone means gone: the hosts' own objects too, which KubeSphere's controllers
            // release from their finalizers moments after the federated ones go.
            if holders.is_empty() && members_clean && self.sources_gone(key, hosts).await? {
                resolution.push(RepairStep::Gone);
                return Ok(());
            }
            clean_since = match (members_clean && unread.is_empty(), clean_since) {
                (true, None) => Some(Instant::now()),
                (true, since) => since,
                (false, _) => None,
            };
            if clean_since.is_some_and(|since| since.elapsed() >= CLEAN_FOR) {
                for (host, _) in &holders {
                    self.clear_finalizer(key, host, resolution).await?;
                }
            }
            if started.elapsed() > SETTLE_TIMEOUT {
                return Err(ResolveError::NotSettled {
                    waited: SETTLE_TIMEOUT.as_secs(),
                    unsettled: Unsettled::StillHeld {
                        hosts: holders.into_iter().map(|(h, _)| h).collect(),
                        members: seen.len(),
                        unseen: unseen.len(),
                        unread,
                    },
                });
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// Whether no host holds `key`'s own object (the User, not the FederatedUser) any more.
    async fn sources_gone(&self, key: &ObjectKey, hosts: &[String]) -> Result<bool, ResolveError> {
        for host in hosts {
            let api =
                Api::<DynamicObject>::all_with(self.client_of(host)?.clone(), &key.kind.source());
            if api
                .get_opt(&key.name)
                .await
                .map_err(host_error(host, HostTask::Reading))?
                .is_some()
            {
                return Ok(false);
            }
        }
        Ok(true)
    }

    async fn clear_finalizer(
        &self,
        key: &ObjectKey,
        host: &str,
        resolution: &mut Resolution,
    ) -> Result<(), ResolveError> {
        let api =
            Api::<DynamicObject>::all_with(self.client_of(host)?.clone(), &key.kind.federated());
        let released = super::hold::release(&api, &key.name)
            .await
            .map_err(host_error(host, HostTask::ClearingFinalizer))?;
        if !released {
            return Ok(());
        }
        resolution.push(RepairStep::FinalizerCleared {
            host: host.to_string(),
        });
        Ok(())
    }

    async fn audit(
        &self,
        key: &ObjectKey,
        action: AuditAction,
        actor: &str,
        hosts: &[String],
        detail: String,
        succeeded: bool,
    ) {
        let entry = AuditEntry {
            at: k8s_openapi::jiff::Timestamp::try_from(SystemTime::now())
                .map(|t| t.to_string())
                .unwrap_or_default(),
            actor: actor.to_string(),
            action,
            kind: key.kind.key().to_string(),
            name: key.name.clone(),
            hosts: hosts.to_vec(),
            detail,
            succeeded,
        };
        for host in hosts {
            if let Some(client) = self.host_client(host)
                && let Err(error) = audit::record(client, &entry).await
            {
                tracing::warn!(%host, %error, action = action.key(), "the audit log could not be written");
            }
        }
    }

    /// Every host's audit log, merged, newest first.
    pub async fn audit_log(&self) -> Vec<AuditEntry> {
        let mut per_host = Vec::new();
        for (_, client) in self.hosts.iter() {
            if let Ok(entries) = audit::read(client).await {
                per_host.push(entries);
            }
        }
        audit::merge(per_host)
    }
}

fn losers_and(winner: &str, losers: &[String]) -> Vec<String> {
    std::iter::once(winner.to_string())
        .chain(losers.iter().cloned())
        .collect()
}

/// Copies what kubefed propagates from `from` into `to`: every content field, the labels and
/// the annotations; `to` keeps its identity (name, uid, resourceVersion).
fn copy_content(from: &Value, to: &mut Value) {
    let (Some(source), Some(target)) = (from.as_object(), to.as_object_mut()) else {
        return;
    };
    target.retain(|k, _| NOT_PROPAGATED.contains(&k.as_str()));
    for (k, v) in source {
        if !NOT_PROPAGATED.contains(&k.as_str()) {
            target.insert(k.clone(), v.clone());
        }
    }
    for field in ["labels", "annotations"] {
        let value = from.pointer(&format!("/metadata/{field}")).cloned();
        if let Some(meta) = to.get_mut("metadata").and_then(Value::as_object_mut) {
            match value {
                Some(v) => meta.insert(field.into(), v),
                None => meta.remove(field),
            };
        }
    }
    if let Some(meta) = to.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_loser_gets_the_winners_content_and_keeps_its_identity() {
        let winner = json!({"apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "GlobalRoleBinding",
            "metadata": {"name": "x", "uid": "w", "labels": {"a": "1"}},
            "roleRef": {"name": "platform-admin"}, "subjects": [{"name": "x"}]});
        let mut loser = json!({"apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "GlobalRoleBinding",
            "metadata": {"name": "x", "uid": "l", "resourceVersion": "7", "annotations": {"b": "2"}},
            "roleRef": {"name": "platform-regular"}, "extra": true});
        copy_content(&winner, &mut loser);
        assert_eq!(loser["metadata"]["uid"], "l");
        assert_eq!(loser["metadata"]["resourceVersion"], "7");
        assert_eq!(loser["metadata"]["labels"], json!({"a": "1"}));
        assert!(loser["metadata"].get("annotations").is_none());
        assert_eq!(loser["roleRef"]["name"], "platform-admin");
        assert!(loser.get("extra").is_none());
        assert_eq!(
            super::super::propagated_fingerprint(&loser),
            super::super::propagated_fingerprint(&winner)
        );
    }
}

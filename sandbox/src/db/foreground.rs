//! Foreground cascading deletion, as kube-apiserver's garbage collector does it: an owner
//! deleted with `propagationPolicy: Foreground` is marked deleting with the
//! `foregroundDeletion` finalizer, its dependents are deleted, and the owner goes only once
//! none is left. Tandem deletes KubeSphere's federated source objects this way, so their
//! `Federated*` twin goes first (a real host's kubefed writes a source back from a twin that
//! outlives it); a sandbox that deleted the owner at once would hide that order.

use super::*;

pub(super) const FOREGROUND: &str = "foregroundDeletion";

/// Whether DELETE's options ask for foreground propagation.
pub(super) fn wants_foreground(options: &Value) -> bool {
    options.get("propagationPolicy").and_then(Value::as_str) == Some("Foreground")
}

impl Db {
    /// Every stored object naming `uid` as an owner, with its kind.
    pub(super) fn dependents_of(&self, uid: &str) -> Vec<(ResourceKind, ObjectKey)> {
        let mut out = Vec::new();
        for kind in self.registry.all() {
            for (key, object) in self.store.list(&kind.group, &kind.plural, None, None) {
                let owned = object
                    .pointer("/metadata/ownerReferences")
                    .and_then(Value::as_array)
                    .is_some_and(|refs| refs.iter().any(|r| r["uid"] == uid));
                if owned {
                    out.push((kind.clone(), key.clone()));
                }
            }
        }
        out
    }

    /// Marks `current` deleting with the foreground finalizer and deletes its dependents;
    /// the owner itself goes when the last of them does (see [`Db::release_owners`]).
    pub(super) fn delete_in_foreground(
        &mut self,
        kind: &ResourceKind,
        key: &ObjectKey,
        current: Value,
    ) -> ApiResult<Value> {
        let mut marked = current;
        let mut all = finalizers(&marked);
        if !all.iter().any(|f| f == FOREGROUND) {
            all.push(FOREGROUND.into());
        }
        let meta = metadata_mut(&mut marked);
        meta.insert("finalizers".into(), json!(all));
        if !meta.contains_key("deletionTimestamp") {
            meta.insert("deletionTimestamp".into(), json!(meta::now_rfc3339()));
            meta.insert("deletionGracePeriodSeconds".into(), json!(0));
        }
        let marked = self
            .store
            .update(key.clone(), marked, None)
            .map_err(|e| ApiError::from_store(e, kind, &key.name))?;
        let uid = str_field(&marked, "uid").unwrap_or_default().to_string();
        for (dependent_kind, dependent) in self.dependents_of(&uid) {
            let version = dependent_kind.versions.first().cloned().unwrap_or_default();
            let ns = (!dependent.namespace.is_empty()).then_some(dependent.namespace.as_str());
            match self.delete(
                &dependent_kind,
                &version,
                ns,
                &dependent.name,
                &Value::Null,
                false,
            ) {
                Ok(_) => {}
                Err(e) if e.code == axum::http::StatusCode::NOT_FOUND => {}
                Err(e) => return Err(e),
            }
        }
        self.release_if_done(kind, key)?;
        Ok(self.store.get(key).cloned().unwrap_or(marked))
    }

    /// After `gone` was removed: an owner waiting in the foreground for its dependents goes
    /// once `gone` was the last.
    pub(super) fn release_owners(&mut self, gone: &Value) -> ApiResult<()> {
        let owners: Vec<String> = gone
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .map(|refs| {
                refs.iter()
                    .filter_map(|r| r["uid"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        for uid in owners {
            let waiting: Vec<(ResourceKind, ObjectKey)> = self
                .registry
                .all()
                .flat_map(|kind| {
                    self.store
                        .list(&kind.group, &kind.plural, None, None)
                        .filter(|(_, o)| {
                            str_field(o, "uid") == Some(uid.as_str())
                                && finalizers(o).iter().any(|f| f == FOREGROUND)
                        })
                        .map(|(k, _)| (kind.clone(), k.clone()))
                        .collect::<Vec<_>>()
                })
                .collect();
            for (kind, key) in waiting {
                self.release_if_done(&kind, &key)?;
            }
        }
        Ok(())
    }

    /// Drops the foreground finalizer once no dependent is left (and removes the object if
    /// no other finalizer holds it).
    fn release_if_done(&mut self, kind: &ResourceKind, key: &ObjectKey) -> ApiResult<()> {
        let Some(owner) = self.store.get(key).cloned() else {
            return Ok(());
        };
        let uid = str_field(&owner, "uid").unwrap_or_default().to_string();
        if !self.dependents_of(&uid).is_empty() {
            return Ok(());
        }
        let rest: Vec<String> = finalizers(&owner)
            .into_iter()
            .filter(|f| f != FOREGROUND)
            .collect();
        if rest.is_empty() {
            self.remove(kind, key)?;
            return Ok(());
        }
        let mut next = owner;
        metadata_mut(&mut next).insert("finalizers".into(), json!(rest));
        let stored = self
            .store
            .update(key.clone(), next, None)
            .map_err(|e| ApiError::from_store(e, kind, &key.name))?;
        self.after_write(kind, &stored);
        Ok(())
    }
}

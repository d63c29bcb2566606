//! Deleting objects: finalizers, deletion marks, and what goes with a namespace or a CRD.

use super::*;

impl Db {
    /// DELETE: objects with finalizers are only marked; the rest go at once.
    pub fn delete(
        &mut self,
        kind: &ResourceKind,
        version: &str,
        ns: Option<&str>,
        name: &str,
        options: &Value,
        dry_run: bool,
    ) -> ApiResult<Value> {
        let (key, current) = self.stored(kind, ns, name)?;
        if let Some(rv) = options
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
            && Some(rv) != str_field(&current, "resourceVersion")
        {
            return Err(ApiError::conflict(
                kind,
                name,
                &format!(
                    "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                    str_field(&current, "resourceVersion").unwrap_or("")
                ),
            ));
        }
        if let Some(uid) = options
            .pointer("/preconditions/uid")
            .and_then(Value::as_str)
            && Some(uid) != str_field(&current, "uid")
        {
            return Err(ApiError::conflict(
                kind,
                name,
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    str_field(&current, "uid").unwrap_or("")
                ),
            ));
        }
        if dry_run {
            return Ok(Self::present(kind, version, current));
        }
        let is_namespace = kind.group.is_empty() && kind.plural == "namespaces";
        if foreground::wants_foreground(options) && !is_namespace {
            let uid = str_field(&current, "uid").unwrap_or_default().to_string();
            if !self.dependents_of(&uid).is_empty() {
                let marked = self.delete_in_foreground(kind, &key, current)?;
                return Ok(Self::present(kind, version, marked));
            }
        }
        if finalizers(&current).is_empty() && !is_namespace {
            let gone = self.remove(kind, &key)?;
            return Ok(Self::present(kind, version, gone));
        }
        let mut marked = current;
        if !is_deleting(&marked) {
            let meta = metadata_mut(&mut marked);
            meta.insert("deletionTimestamp".into(), json!(meta::now_rfc3339()));
            meta.insert("deletionGracePeriodSeconds".into(), json!(0));
            if is_namespace {
                marked["status"] = json!({"phase": "Terminating"});
            }
            marked = self
                .store
                .update(key.clone(), marked, None)
                .map_err(|e| ApiError::from_store(e, kind, name))?;
        }
        if is_namespace {
            self.empty_namespace(name)?;
            if let Some(gone) = self.finish_namespace(name)? {
                return Ok(Self::present(kind, version, gone));
            }
            return Ok(Self::present(
                kind,
                version,
                self.store.get(&key).cloned().unwrap_or(marked),
            ));
        }
        Ok(Self::present(kind, version, marked))
    }

    /// Removes an object for good, with what goes with it.
    pub(super) fn remove(&mut self, kind: &ResourceKind, key: &ObjectKey) -> ApiResult<Value> {
        let gone = self
            .store
            .delete(key)
            .map_err(|e| ApiError::from_store(e, kind, &key.name))?;
        match (kind.group.as_str(), kind.plural.as_str()) {
            (CRD_GROUP, "customresourcedefinitions") => {
                if let Some(served) = self.registry.remove_crd(&key.name) {
                    let keys: Vec<ObjectKey> = self
                        .store
                        .list(&served.group, &served.plural, None, None)
                        .map(|(k, _)| k.clone())
                        .collect();
                    for k in keys {
                        self.store
                            .delete(&k)
                            .map_err(|e| ApiError::from_store(e, &served, &k.name))?;
                    }
                }
            }
            ("", "secrets") => self.tokens.retain(|_, (secret, _)| secret != key),
            _ => {}
        }
        if !key.namespace.is_empty() {
            self.finish_namespace(&key.namespace)?;
        }
        self.collect_dependents(&gone)?;
        self.release_owners(&gone)?;
        Ok(gone)
    }

    /// Garbage collection, background propagation: whatever named the removed object as an
    /// owner is deleted too (and only marked, if it has finalizers).
    fn collect_dependents(&mut self, owner: &Value) -> ApiResult<()> {
        let Some(uid) = meta::str_field(owner, "uid") else {
            return Ok(());
        };
        let kinds: Vec<ResourceKind> = self.registry.all().cloned().collect();
        for kind in kinds {
            let dependents: Vec<ObjectKey> = self
                .store
                .list(&kind.group, &kind.plural, None, None)
                .filter(|(_, o)| {
                    o.pointer("/metadata/ownerReferences")
                        .and_then(Value::as_array)
                        .is_some_and(|refs| refs.iter().any(|r| r["uid"] == uid))
                })
                .map(|(k, _)| k.clone())
                .collect();
            let version = kind.versions.first().cloned().unwrap_or_default();
            for key in dependents {
                let ns = (!key.namespace.is_empty()).then_some(key.namespace.as_str());
                match self.delete(&kind, &version, ns, &key.name, &Value::Null, false) {
                    Ok(_) => {}
                    Err(e) if e.code == axum::http::StatusCode::NOT_FOUND => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// Deletes (or marks, if they have finalizers) everything in a namespace being deleted.
    pub(super) fn empty_namespace(&mut self, ns: &str) -> ApiResult<()> {
        let kinds: Vec<ResourceKind> = self
            .registry
            .all()
            .filter(|k| k.namespaced)
            .cloned()
            .collect();
        for kind in kinds {
            let names: Vec<String> = self
                .store
                .list(&kind.group, &kind.plural, Some(ns), None)
                .map(|(k, _)| k.name.clone())
                .collect();
            for name in names {
                let version = kind.versions.first().cloned().unwrap_or_default();
                self.delete(&kind, &version, Some(ns), &name, &Value::Null, false)?;
            }
        }
        Ok(())
    }

    /// Removes a terminating namespace once nothing is left in it.
    pub(super) fn finish_namespace(&mut self, ns: &str) -> ApiResult<Option<Value>> {
        let key = ObjectKey::new("", "namespaces", "", ns);
        let Some(namespace) = self.store.get(&key) else {
            return Ok(None);
        };
        if !is_deleting(namespace) || !meta::finalizers(namespace).is_empty() {
            return Ok(None);
        }
        let occupied = self.registry.all().filter(|k| k.namespaced).any(|k| {
            self.store
                .list(&k.group, &k.plural, Some(ns), None)
                .next()
                .is_some()
        });
        if occupied {
            return Ok(None);
        }
        let kind = self
            .registry
            .find("", "v1", "namespaces")
            .cloned()
            .ok_or_else(|| ApiError::internal("namespaces are not served"))?;
        self.store
            .delete(&key)
            .map(Some)
            .map_err(|e| ApiError::from_store(e, &kind, ns))
    }
}

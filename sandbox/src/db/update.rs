//! Replacing objects (PUT, and the last step of every PATCH).

use super::*;

impl Db {
    /// PUT, also the last step of PATCH. `status_only` for the `/status` subresource.
    #[allow(clippy::too_many_arguments)]
    pub fn update(
        &mut self,
        kind: &ResourceKind,
        version: &str,
        ns: Option<&str>,
        name: &str,
        body: Value,
        status_only: bool,
        dry_run: bool,
    ) -> ApiResult<Value> {
        let (key, current) = self.stored(kind, ns, name)?;
        let body = check_type(kind, version, body)?;
        if let Some(body_name) = str_field(&body, "name")
            && body_name != name
        {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        let expected_rv =
            match str_field(&body, "resourceVersion") {
                None | Some("") => None,
                Some(text) => Some(text.parse::<u64>().map_err(|_| {
                    ApiError::bad_request(format!("invalid resourceVersion {text:?}"))
                })?),
            };
        let mut next = if status_only {
            let mut next = current.clone();
            next["status"] = body.get("status").cloned().unwrap_or(Value::Null);
            next
        } else {
            let mut next = body;
            if kind.status_subresource
                && let Some(map) = next.as_object_mut()
            {
                match current.get("status") {
                    Some(status) => map.insert("status".into(), status.clone()),
                    None => map.remove("status"),
                };
            }
            next
        };
        conform_to_schema(kind, name, &mut next)?;
        crate::workloads::check(kind, name, &next, Some(&current))?;
        // Fields only the server sets survive any client write.
        let keep = [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "namespace",
            "name",
            "generation",
        ];
        let old_meta = meta::metadata(&current).cloned().unwrap_or_default();
        let new_meta = metadata_mut(&mut next);
        for field in keep {
            match old_meta.get(field) {
                Some(v) => new_meta.insert(field.into(), v.clone()),
                None => new_meta.remove(field),
            };
        }
        if !status_only && meta::spec_part(kind, &next) != meta::spec_part(kind, &current) {
            let generation = old_meta
                .get("generation")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            metadata_mut(&mut next).insert("generation".into(), json!(generation + 1));
        }
        if is_deleting(&current) {
            let before = finalizers(&current);
            if let Some(added) = finalizers(&next).iter().find(|f| !before.contains(f)) {
                return Err(ApiError::invalid(
                    kind,
                    name,
                    "metadata.finalizers",
                    &format!(
                        "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers [{added}]"
                    ),
                ));
            }
        }
        if kind.group == CRD_GROUP {
            let served =
                kind_from_crd(&next).map_err(|why| ApiError::invalid(kind, name, "spec", &why))?;
            if served.plural
                != meta::str_field(&current, "name")
                    .unwrap_or_default()
                    .split('.')
                    .next()
                    .unwrap_or_default()
            {
                return Err(ApiError::invalid(
                    kind,
                    name,
                    "spec.names.plural",
                    "Invalid value: field is immutable",
                ));
            }
        }
        if dry_run {
            return Ok(Self::present(kind, version, next));
        }
        let stored = self
            .store
            .update(key.clone(), next, expected_rv)
            .map_err(|e| ApiError::from_store(e, kind, name))?;
        self.after_write(kind, &stored);
        if is_deleting(&stored) && finalizers(&stored).is_empty() {
            self.remove(kind, &key)?;
        }
        Ok(Self::present(kind, version, stored))
    }
}

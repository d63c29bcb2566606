//! Creating objects: names, generated fields, and what namespaces, CRDs and
//! service-account token secrets get on creation (and, on a KubeSphere member, the
//! one-platform-role rule for GlobalRoleBindings); Deployments and PodDisruptionBudgets are
//! validated by [`crate::workloads`], here and on every update.

use super::*;

impl Db {
    pub fn create(
        &mut self,
        kind: &ResourceKind,
        version: &str,
        ns: Option<&str>,
        body: Value,
        dry_run: bool,
    ) -> ApiResult<Value> {
        let mut object = check_type(kind, version, body)?;
        let meta = metadata_mut(&mut object);
        if let (Some(url_ns), Some(body_ns)) = (ns, meta.get("namespace").and_then(Value::as_str))
            && url_ns != body_ns
        {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        let name = match (
            meta.get("name").and_then(Value::as_str),
            meta.get("generateName").and_then(Value::as_str),
        ) {
            (Some(n), _) if !n.is_empty() => n.to_string(),
            (_, Some(prefix)) if !prefix.is_empty() => meta::generated_name(prefix),
            _ => {
                return Err(ApiError::invalid(
                    kind,
                    "",
                    "metadata.name",
                    "Required value: name or generateName is required",
                ));
            }
        };
        check_name(kind, &name)?;
        if let Some(ns) = ns {
            let namespace = self.store.get(&ObjectKey::new("", "namespaces", "", ns));
            match namespace {
                None => {
                    return Err(ApiError::new(
                        axum::http::StatusCode::NOT_FOUND,
                        "NotFound",
                        format!("namespaces \"{ns}\" not found"),
                    ));
                }
                Some(n) if is_deleting(n) => {
                    return Err(ApiError::forbidden(format!(
                        "{} \"{name}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated",
                        kind.qualified_plural()
                    )));
                }
                Some(_) => {}
            }
        }
        let meta = metadata_mut(&mut object);
        meta.insert("name".into(), json!(name));
        if let Some(ns) = ns {
            meta.insert("namespace".into(), json!(ns));
        }
        meta.insert("uid".into(), json!(meta::new_uid()));
        meta.insert("creationTimestamp".into(), json!(meta::now_rfc3339()));
        meta.insert("generation".into(), json!(1));
        for generated in [
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "selfLink",
        ] {
            meta.remove(generated);
        }
        if kind.status_subresource
            && let Some(map) = object.as_object_mut()
        {
            map.remove("status");
        }
        conform_to_schema(kind, &name, &mut object)?;
        crate::workloads::check(kind, &name, &object, None)?;
        self.on_create(kind, ns, &mut object)?;
        if dry_run {
            return Ok(Self::present(kind, version, object));
        }
        let key = Self::key(kind, ns, &name);
        let stored = self
            .store
            .create(key, object)
            .map_err(|e| ApiError::from_store(e, kind, &name))?;
        self.after_write(kind, &stored);
        Ok(Self::present(kind, version, stored))
    }

    /// Kind-specific defaults and checks before a new object is stored.
    pub(super) fn on_create(
        &mut self,
        kind: &ResourceKind,
        ns: Option<&str>,
        object: &mut Value,
    ) -> ApiResult<()> {
        match (kind.group.as_str(), kind.plural.as_str()) {
            ("", "namespaces") => {
                object["spec"] = json!({"finalizers": ["kubernetes"]});
                object["status"] = json!({"phase": "Active"});
            }
            ("", "secrets") if object["type"] == SA_TOKEN_TYPE => {
                let name = str_field(object, "name").unwrap_or_default().to_string();
                if object
                    .pointer("/metadata/annotations")
                    .and_then(|a| a[SA_NAME_ANNOTATION].as_str())
                    .is_none()
                {
                    return Err(ApiError::invalid(
                        kind,
                        &name,
                        "metadata.annotations[kubernetes.io/service-account.name]",
                        "Required value",
                    ));
                }
                let token: String = meta::random_bytes::<32>()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                let ns = ns.unwrap_or_default();
                let data = object
                    .as_object_mut()
                    .map(|o| o.entry("data").or_insert_with(|| json!({})));
                if let Some(data) = data.and_then(Value::as_object_mut) {
                    data.insert("token".into(), json!(b64(&format!("sandbox-sa.{token}"))));
                    data.insert("ca.crt".into(), json!(b64(&self.ca_pem)));
                    data.insert("namespace".into(), json!(b64(ns)));
                }
            }
            (CRD_GROUP, "customresourcedefinitions") => {
                let name = str_field(object, "name").unwrap_or_default().to_string();
                let served = kind_from_crd(object)
                    .map_err(|why| ApiError::invalid(kind, &name, "spec", &why))?;
                if self.registry.all().any(|k| {
                    k.group == served.group && k.plural == served.plural && k.crd != served.crd
                }) {
                    return Err(ApiError::invalid(
                        kind,
                        &name,
                        "spec.names.plural",
                        "Invalid value: already served",
                    ));
                }
                let storage = served.versions.first().cloned().unwrap_or_default();
                object["status"] = json!({
                    "acceptedNames": object["spec"]["names"].clone(),
                    "storedVersions": [storage],
                    "conditions": [
                        {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": meta::now_rfc3339()},
                        {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": meta::now_rfc3339()}
                    ]
                });
            }
            ("iam.kubesphere.io", "globalrolebindings") => {
                crate::kubesphere::platform_role::check_new_binding(self, kind, object)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Keeps derived state (served CRD kinds, valid tokens) in step with a stored object.
    pub(super) fn after_write(&mut self, kind: &ResourceKind, stored: &Value) {
        match (kind.group.as_str(), kind.plural.as_str()) {
            (CRD_GROUP, "customresourcedefinitions") => {
                if let Ok(served) = kind_from_crd(stored) {
                    let _ = self.registry.upsert_crd(served);
                }
            }
            ("", "secrets") => self.remember_token(stored),
            _ => {}
        }
    }

    pub(super) fn remember_token(&mut self, secret: &Value) {
        if secret["type"] != SA_TOKEN_TYPE {
            return;
        }
        let decode = |field: &str| {
            secret["data"][field]
                .as_str()
                .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
                .and_then(|b| String::from_utf8(b).ok())
        };
        let sa = secret
            .pointer("/metadata/annotations")
            .and_then(|a| a[SA_NAME_ANNOTATION].as_str())
            .unwrap_or_default();
        if let Some(token) = decode("token") {
            let ns = str_field(secret, "namespace").unwrap_or_default();
            let name = str_field(secret, "name").unwrap_or_default();
            let owner = ObjectKey::new("", "secrets", ns, name);
            self.tokens
                .insert(token, (owner, format!("system:serviceaccount:{ns}:{sa}")));
        }
    }
}

//! The API server's write and read rules on top of the store: what kube-apiserver's generic
//! registry does for every kind, plus the few kind-specific behaviours Tandem relies on
//! (namespaces, CRDs, service-account tokens).

use std::collections::HashMap;

use base64::Engine;
use serde_json::{Value, json};

use crate::errors::{ApiError, ApiResult};
use crate::kinds::{CRD_GROUP, RBAC_GROUP, Registry, ResourceKind, kind_from_crd};
use crate::meta::{self, finalizers, is_deleting, metadata_mut, str_field};
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::{ObjectKey, Store};

const SA_TOKEN_TYPE: &str = "kubernetes.io/service-account-token";
const SA_NAME_ANNOTATION: &str = "kubernetes.io/service-account.name";

pub struct Db {
    pub store: Store,
    pub registry: Registry,
    /// Service-account tokens handed out in token secrets → (the secret, the identity
    /// `system:serviceaccount:ns:name`).
    tokens: HashMap<String, (ObjectKey, String)>,
    ca_pem: String,
}

/// What a list request asks for.
#[derive(Default)]
pub struct ListQuery {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    pub limit: Option<usize>,
    pub continue_token: Option<String>,
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

impl Db {
    /// Wraps a (possibly recovered) store, serving the CRDs and tokens it already holds.
    pub fn open(store: Store, ca_pem: String) -> Self {
        let mut db = Self {
            store,
            registry: Registry::builtin(),
            tokens: HashMap::new(),
            ca_pem,
        };
        let crds: Vec<Value> = db
            .store
            .list(CRD_GROUP, "customresourcedefinitions", None, None)
            .map(|(_, v)| v.clone())
            .collect();
        for crd in crds {
            if let Ok(kind) = kind_from_crd(&crd) {
                let _ = db.registry.upsert_crd(kind);
            }
        }
        let secrets: Vec<Value> = db
            .store
            .list("", "secrets", None, None)
            .map(|(_, v)| v.clone())
            .collect();
        for secret in &secrets {
            db.remember_token(secret);
        }
        db
    }

    pub fn identity_for(&self, token: &str) -> Option<&str> {
        self.tokens.get(token).map(|(_, who)| who.as_str())
    }

    fn key(kind: &ResourceKind, namespace: Option<&str>, name: &str) -> ObjectKey {
        ObjectKey::new(&kind.group, &kind.plural, namespace.unwrap_or(""), name)
    }

    /// The object as served at `version`: stored objects are converted by rewriting
    /// apiVersion only, as a CRD with conversion strategy `None` is.
    pub fn present(kind: &ResourceKind, version: &str, mut object: Value) -> Value {
        object["apiVersion"] = json!(kind.api_version(version));
        object["kind"] = json!(kind.kind);
        object
    }

    pub fn get(
        &self,
        kind: &ResourceKind,
        version: &str,
        ns: Option<&str>,
        name: &str,
    ) -> ApiResult<Value> {
        self.store
            .get(&Self::key(kind, ns, name))
            .map(|o| Self::present(kind, version, o.clone()))
            .ok_or_else(|| ApiError::not_found(kind, name))
    }

    pub fn list(
        &self,
        kind: &ResourceKind,
        version: &str,
        ns: Option<&str>,
        query: &ListQuery,
    ) -> ApiResult<Value> {
        let after = match &query.continue_token {
            Some(token) => Some(decode_continue(token)?),
            None => None,
        };
        let rv = self.store.resource_version();
        let mut matching = self
            .store
            .list(&kind.group, &kind.plural, ns, after.as_ref())
            .filter(|(_, o)| query.labels.matches_object(o) && query.fields.matches_object(o));
        let limit = query.limit.filter(|l| *l > 0).unwrap_or(usize::MAX);
        let mut items = Vec::new();
        let mut last_key = None;
        for (key, object) in matching.by_ref().take(limit) {
            items.push(Self::present(kind, version, object.clone()));
            last_key = Some(key.clone());
        }
        let remaining = matching.count();
        let mut list_meta = json!({"resourceVersion": rv.to_string()});
        if remaining > 0
            && let Some(key) = last_key
        {
            list_meta["continue"] = json!(encode_continue(&key));
            list_meta["remainingItemCount"] = json!(remaining);
        }
        Ok(json!({
            "kind": kind.list_kind,
            "apiVersion": kind.api_version(version),
            "metadata": list_meta,
            "items": items,
        }))
    }

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
    fn on_create(
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
            _ => {}
        }
        Ok(())
    }

    /// Keeps derived state (served CRD kinds, valid tokens) in step with a stored object.
    fn after_write(&mut self, kind: &ResourceKind, stored: &Value) {
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

    fn remember_token(&mut self, secret: &Value) {
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
        let key = Self::key(kind, ns, name);
        let current = self
            .store
            .get(&key)
            .cloned()
            .ok_or_else(|| ApiError::not_found(kind, name))?;
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
        if !status_only && meta::spec_part(&next) != meta::spec_part(&current) {
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
        let key = Self::key(kind, ns, name);
        let current = self
            .store
            .get(&key)
            .cloned()
            .ok_or_else(|| ApiError::not_found(kind, name))?;
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
    fn remove(&mut self, kind: &ResourceKind, key: &ObjectKey) -> ApiResult<Value> {
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
        Ok(gone)
    }

    /// Deletes (or marks, if they have finalizers) everything in a namespace being deleted.
    fn empty_namespace(&mut self, ns: &str) -> ApiResult<()> {
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
    fn finish_namespace(&mut self, ns: &str) -> ApiResult<Option<Value>> {
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

/// A create or update body must be a JSON object of this kind and version.
fn check_type(kind: &ResourceKind, version: &str, body: Value) -> ApiResult<Value> {
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    }
    let expected = kind.api_version(version);
    match body.get("apiVersion").and_then(Value::as_str) {
        Some(v) if v != expected => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({expected})"
            )));
        }
        _ => {}
    }
    match body.get("kind").and_then(Value::as_str) {
        Some(k) if k != kind.kind => Err(ApiError::bad_request(format!(
            "the kind in the data ({k}) does not match the expected kind ({})",
            kind.kind
        ))),
        _ => Ok(body),
    }
}

fn check_name(kind: &ResourceKind, name: &str) -> ApiResult<()> {
    let problem = if kind.group.is_empty() && kind.plural == "namespaces" {
        meta::label_problem(name)
    } else if kind.group == RBAC_GROUP {
        // RBAC names are path segments: `kubefed-controller-manager:member-kubesphere` is valid.
        (name.is_empty() || name == "." || name == ".." || name.contains(['/', '%']))
            .then(|| format!("may not contain '/' or '%' or be '.' or '..', got {name:?}"))
    } else {
        meta::subdomain_problem(name)
    };
    match problem {
        Some(why) => Err(ApiError::invalid(
            kind,
            name,
            "metadata.name",
            &format!("Invalid value: {why}"),
        )),
        None => Ok(()),
    }
}

fn encode_continue(key: &ObjectKey) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(key).unwrap_or_default())
}

fn decode_continue(token: &str) -> ApiResult<ObjectKey> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| {
            ApiError::bad_request("continue key is not valid: it was not issued by this server")
        })
}

//! The API server's write and read rules on top of the store: what kube-apiserver's generic
//! registry does for every kind, plus the few kind-specific behaviours Tandem relies on
//! (namespaces, CRDs, service-account tokens, GlobalRoleBindings on a KubeSphere member).

mod create;
mod delete;
mod foreground;
mod update;

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

    /// The served kind an object's `apiVersion` and `kind` name, and that version.
    pub fn kind_of(&self, object: &Value) -> ApiResult<(ResourceKind, String)> {
        let api_version = object["apiVersion"].as_str().unwrap_or_default();
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let kind_name = object["kind"].as_str().unwrap_or_default();
        self.registry
            .all()
            .find(|k| {
                k.group == group && k.kind == kind_name && k.versions.iter().any(|v| v == version)
            })
            .map(|k| (k.clone(), version.to_string()))
            .ok_or_else(|| ApiError::internal(format!("{api_version} {kind_name} is not served")))
    }

    /// Creates `object` unless an object of that kind and name exists; returns the stored
    /// object and whether it was created now. What controllers and installers use.
    pub fn ensure(&mut self, object: Value) -> ApiResult<(Value, bool)> {
        let (kind, version) = self.kind_of(&object)?;
        let ns = object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .map(String::from);
        if let Some(name) = meta::str_field(&object, "name")
            && let Ok(existing) = self.get(&kind, &version, ns.as_deref(), name)
        {
            return Ok((existing, false));
        }
        self.create(&kind, &version, ns.as_deref(), object, false)
            .map(|o| (o, true))
    }

    pub fn identity_for(&self, token: &str) -> Option<&str> {
        self.tokens.get(token).map(|(_, who)| who.as_str())
    }

    fn key(kind: &ResourceKind, namespace: Option<&str>, name: &str) -> ObjectKey {
        ObjectKey::new(&kind.group, &kind.plural, namespace.unwrap_or(""), name)
    }

    /// The stored object (as stored, not as served) and its key; 404 if there is none.
    fn stored(
        &self,
        kind: &ResourceKind,
        ns: Option<&str>,
        name: &str,
    ) -> ApiResult<(ObjectKey, Value)> {
        let key = Self::key(kind, ns, name);
        let current = self
            .store
            .get(&key)
            .cloned()
            .ok_or_else(|| ApiError::not_found(kind, name))?;
        Ok((key, current))
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
}

/// What kube-apiserver does to a custom object with its CRD's structural schema: unknown
/// fields and non-nullable nulls are dropped, then every rule is checked (422 listing each
/// broken one). Built-in kinds pass unchanged.
fn conform_to_schema(kind: &ResourceKind, name: &str, object: &mut Value) -> ApiResult<()> {
    let Some(schema) = kind.schema.as_deref() else {
        return Ok(());
    };
    crate::schema::prune(schema, object);
    let broken = crate::schema::validate(schema, object);
    if broken.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid_fields(kind, name, &broken))
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

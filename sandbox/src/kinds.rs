//! The resource types a sandbox cluster serves: the built-in kinds Tandem and its manifests
//! need ([`builtin`]), plus every CustomResourceDefinition created at run time, as
//! kube-apiserver's discovery lists them.

use std::collections::BTreeMap;

use std::sync::Arc;

use serde_json::{Value, json};

use crate::schema::Schema;

mod builtin;

pub use builtin::{APPS_GROUP, POLICY_GROUP, typed_round_trip};

/// One served resource type (a REST collection such as `/api/v1/namespaces/{ns}/secrets`).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceKind {
    /// API group; empty for the core group.
    pub group: String,
    /// Served versions, the storage version first.
    pub versions: Vec<String>,
    pub kind: String,
    pub list_kind: String,
    pub plural: String,
    pub singular: String,
    pub short_names: Vec<String>,
    pub namespaced: bool,
    pub status_subresource: bool,
    /// The CRD that defines this kind, `None` for built-ins.
    pub crd: Option<String>,
    /// The storage version's structural schema, applied to every write of a custom object
    /// (`None` for built-ins, whose types the server knows).
    pub schema: Option<Arc<Schema>>,
}

impl ResourceKind {
    pub fn api_version(&self, version: &str) -> String {
        if self.group.is_empty() {
            version.to_string()
        } else {
            format!("{}/{version}", self.group)
        }
    }

    /// `secrets`, or `customresourcedefinitions.apiextensions.k8s.io`, as in error messages.
    pub fn qualified_plural(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// An `APIResource` entry for discovery; the status subresource gets its own entry.
    pub fn discovery_entries(&self) -> Vec<Value> {
        let verbs = [
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch",
        ];
        let mut main = json!({
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": verbs,
        });
        if !self.short_names.is_empty() {
            main["shortNames"] = json!(self.short_names);
        }
        let mut entries = vec![main];
        if self.status_subresource {
            entries.push(json!({
                "name": format!("{}/status", self.plural),
                "singularName": "",
                "namespaced": self.namespaced,
                "kind": self.kind,
                "verbs": ["get", "patch", "update"],
            }));
        }
        entries
    }
}

pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";
pub const CRD_GROUP: &str = "apiextensions.k8s.io";

/// Every kind the cluster serves, looked up by group and plural.
#[derive(Debug, Clone)]
pub struct Registry {
    kinds: BTreeMap<(String, String), ResourceKind>,
}

impl Registry {
    /// The built-in kinds, before any CRD exists.
    pub fn builtin() -> Self {
        let kinds = builtin::kinds();
        Self {
            kinds: kinds
                .into_iter()
                .map(|k| ((k.group.clone(), k.plural.clone()), k))
                .collect(),
        }
    }

    /// The kind served at `group/version/plural`, if that version is served.
    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<&ResourceKind> {
        self.kinds
            .get(&(group.to_string(), plural.to_string()))
            .filter(|k| k.versions.iter().any(|v| v == version))
    }

    pub fn all(&self) -> impl Iterator<Item = &ResourceKind> {
        self.kinds.values()
    }

    /// Group name → served versions (storage version first), groups in name order.
    pub fn groups(&self) -> BTreeMap<&str, Vec<&str>> {
        let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for kind in self.kinds.values() {
            let versions = groups.entry(kind.group.as_str()).or_default();
            for v in &kind.versions {
                if !versions.contains(&v.as_str()) {
                    versions.push(v);
                }
            }
        }
        groups
    }

    pub fn in_group_version<'a>(
        &'a self,
        group: &'a str,
        version: &'a str,
    ) -> impl Iterator<Item = &'a ResourceKind> + 'a {
        self.kinds
            .values()
            .filter(move |k| k.group == group && k.versions.iter().any(|v| v == version))
    }

    /// Serves the kind a CRD defines (created or updated). Refuses a CRD that would replace a
    /// built-in kind or another CRD's kind.
    pub fn upsert_crd(&mut self, kind: ResourceKind) -> Result<(), String> {
        let key = (kind.group.clone(), kind.plural.clone());
        if let Some(existing) = self.kinds.get(&key)
            && existing.crd != kind.crd
        {
            return Err(format!(
                "{} is already served by {}",
                kind.qualified_plural(),
                existing.crd.as_deref().unwrap_or("the API server itself")
            ));
        }
        self.kinds.insert(key, kind);
        Ok(())
    }

    /// Stops serving what the named CRD defined; returns the kind it served.
    pub fn remove_crd(&mut self, crd_name: &str) -> Option<ResourceKind> {
        let key = self
            .kinds
            .iter()
            .find(|(_, k)| k.crd.as_deref() == Some(crd_name))
            .map(|(key, _)| key.clone())?;
        self.kinds.remove(&key)
    }
}

/// Reads the served kind out of a CustomResourceDefinition, with the checks kube-apiserver
/// makes; the error is the message of a 422 Invalid.
pub fn kind_from_crd(crd: &Value) -> Result<ResourceKind, String> {
    let text = |pointer: &str| {
        crd.pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let name = text("/metadata/name");
    let group = text("/spec/group");
    let plural = text("/spec/names/plural");
    let kind = text("/spec/names/kind");
    if group.is_empty() || !group.contains('.') {
        return Err("spec.group: Invalid value: should be a domain with at least one dot".into());
    }
    if plural.is_empty() || kind.is_empty() {
        return Err("spec.names.plural and spec.names.kind: Required value".into());
    }
    if name != format!("{plural}.{group}") {
        return Err(format!(
            "metadata.name: Invalid value: {name:?}: must be spec.names.plural+\".\"+spec.group"
        ));
    }
    let namespaced = match text("/spec/scope").as_str() {
        "Namespaced" => true,
        "Cluster" => false,
        other => {
            return Err(format!(
                "spec.scope: Unsupported value: {other:?}: supported values: \"Cluster\", \"Namespaced\""
            ));
        }
    };
    let versions = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let storage: Vec<&Value> = versions
        .iter()
        .filter(|v| v["storage"] == json!(true))
        .collect();
    if storage.len() != 1 {
        return Err(
            "spec.versions: Invalid value: must have exactly one version marked as storage version"
                .into(),
        );
    }
    let schema = match storage[0].pointer("/schema/openAPIV3Schema") {
        Some(node) => Schema::parse(node).map_err(|e| format!("spec.versions[0].schema.{e}"))?,
        // apiextensions/v1 requires a schema; a CRD without one keeps everything.
        None => Schema::open(),
    };
    let mut served: Vec<String> = Vec::new();
    let mut status_subresource = false;
    for v in storage
        .iter()
        .copied()
        .chain(versions.iter().filter(|v| v["storage"] != json!(true)))
    {
        if v["served"] == json!(true)
            && let Some(name) = v["name"].as_str()
        {
            served.push(name.to_string());
            status_subresource |= v.pointer("/subresources/status").is_some();
        }
    }
    let names = &crd["spec"]["names"];
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok(ResourceKind {
        group,
        versions: served,
        list_kind: names["listKind"]
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| format!("{kind}List")),
        singular: names["singular"]
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| kind.to_lowercase()),
        short_names: strings(&names["shortNames"]),
        kind,
        plural,
        namespaced,
        status_subresource,
        crd: Some(name),
        schema: Some(Arc::new(schema)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crd(name: &str, scope: &str) -> Value {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": name},
            "spec": {
                "group": "iam.kubesphere.io",
                "scope": scope,
                "names": {"kind": "User", "plural": "users", "singular": "user"},
                "versions": [
                    {"name": "v1beta1", "served": true, "storage": false},
                    {"name": "v1alpha2", "served": true, "storage": true, "subresources": {"status": {}}}
                ]
            }
        })
    }

    #[test]
    fn a_crd_is_served_with_its_storage_version_first() {
        let kind = kind_from_crd(&crd("users.iam.kubesphere.io", "Cluster")).unwrap();
        assert_eq!(kind.versions, ["v1alpha2", "v1beta1"]);
        assert!(!kind.namespaced);
        assert!(kind.status_subresource);
        let mut registry = Registry::builtin();
        registry.upsert_crd(kind).unwrap();
        assert!(
            registry
                .find("iam.kubesphere.io", "v1beta1", "users")
                .is_some()
        );
        assert!(registry.find("iam.kubesphere.io", "v1", "users").is_none());
        assert_eq!(
            registry.groups()["iam.kubesphere.io"],
            ["v1alpha2", "v1beta1"]
        );
        assert!(registry.remove_crd("users.iam.kubesphere.io").is_some());
        assert!(
            registry
                .find("iam.kubesphere.io", "v1alpha2", "users")
                .is_none()
        );
    }

    #[test]
    fn invalid_crds_are_refused() {
        assert!(
            kind_from_crd(&crd("wrong.name.io", "Cluster"))
                .unwrap_err()
                .contains("metadata.name")
        );
        assert!(
            kind_from_crd(&crd("users.iam.kubesphere.io", "Global"))
                .unwrap_err()
                .contains("spec.scope")
        );
    }

    #[test]
    fn a_crd_cannot_take_over_a_builtin() {
        let mut registry = Registry::builtin();
        let mut kind = registry.find("", "v1", "secrets").unwrap().clone();
        kind.crd = Some("secrets.x.io".into());
        assert!(registry.upsert_crd(kind).is_err());
    }
}

//! `fieldValidation`, as kube-apiserver answers it for a write: fields a custom object's
//! schema does not declare are pruned in every case; with `Warn` (the default) each is named
//! in a `Warning` header, with `Strict` (kubectl's default) the write is refused (400), with
//! `Ignore` nothing is said. A client that writes a field its CRD does not know learns it here
//! as it would on a real cluster.
//!
//! Built-in objects are decoded into their Go types there: a field the type lacks (a typo in
//! a manifest, `readOnlyRootFileSystem`) is dropped, warned about or refused the same way.
//! Here that is a round trip through k8s-openapi's types ([`typed_round_trip`]): what does not
//! come back is unknown.

use std::collections::HashMap;

use axum::http::{HeaderValue, header};
use axum::response::Response;
use serde_json::Value;

use crate::errors::{ApiError, ApiResult};
use crate::kinds::{ResourceKind, typed_round_trip};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    Ignore,
    Warn,
    Strict,
}

impl FieldValidation {
    pub fn from_query(q: &HashMap<String, String>) -> ApiResult<Self> {
        match q.get("fieldValidation").map(String::as_str) {
            None | Some("") | Some("Warn") => Ok(Self::Warn),
            Some("Strict") => Ok(Self::Strict),
            Some("Ignore") => Ok(Self::Ignore),
            Some(other) => Err(ApiError::bad_request(format!(
                "fieldValidation: Unsupported value: {other:?}: supported values: \"Ignore\", \"Strict\", \"Warn\""
            ))),
        }
    }

    /// The warnings to send for `object` about to be written as `kind`, or the 400 of a
    /// strict request. A built-in object loses its unknown fields here, as decoding drops
    /// them on a real server; a custom object loses them when stored (its schema prunes).
    pub fn check(self, kind: &ResourceKind, object: &mut Value) -> ApiResult<Vec<String>> {
        let unknown = match kind.schema.as_deref() {
            Some(schema) => crate::schema::unknown_fields(schema, object),
            None => prune_unknown_builtin_fields(kind, object),
        };
        let unknown: Vec<String> = unknown
            .into_iter()
            .map(|path| format!("unknown field {path:?}"))
            .collect();
        match self {
            _ if unknown.is_empty() => Ok(unknown),
            Self::Ignore => Ok(Vec::new()),
            Self::Warn => Ok(unknown),
            Self::Strict => Err(ApiError::bad_request(format!(
                "strict decoding error: {}",
                unknown.join(", ")
            ))),
        }
    }
}

/// Drops the fields of a built-in `object` that its Go type does not have; returns their
/// paths (`spec.template.spec.containers[0].imagePullPolice`).
fn prune_unknown_builtin_fields(kind: &ResourceKind, object: &mut Value) -> Vec<String> {
    let Some(known) = typed_round_trip(kind, object) else {
        return Vec::new();
    };
    let mut unknown = Vec::new();
    keep_known(object, &known, "", &mut unknown);
    unknown
}

/// Removes from `value` what `known` (its typed round trip) does not hold. A null stays: Go
/// reads it as the zero value, which is no unknown field.
fn keep_known(value: &mut Value, known: &Value, path: &str, unknown: &mut Vec<String>) {
    match (value, known) {
        (Value::Object(map), Value::Object(known)) => map.retain(|field, child| {
            let child_path = if path.is_empty() {
                field.clone()
            } else {
                format!("{path}.{field}")
            };
            match known.get(field) {
                Some(known_child) => {
                    keep_known(child, known_child, &child_path, unknown);
                    true
                }
                None if child.is_null() => true,
                None => {
                    unknown.push(child_path);
                    false
                }
            }
        }),
        (Value::Array(items), Value::Array(known)) if items.len() == known.len() => {
            for (i, (item, known_item)) in items.iter_mut().zip(known).enumerate() {
                keep_known(item, known_item, &format!("{path}[{i}]"), unknown);
            }
        }
        _ => {}
    }
}

/// Adds one `Warning: 299 - "…"` header per warning, as kube-apiserver does.
pub fn with_warnings(mut response: Response, warnings: &[String]) -> Response {
    for warning in warnings {
        let quoted = warning.replace('\\', "\\\\").replace('"', "\\\"");
        if let Ok(value) = HeaderValue::from_str(&format!("299 - \"{quoted}\"")) {
            response.headers_mut().append(header::WARNING, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::kind_from_crd;
    use serde_json::json;

    fn widget() -> ResourceKind {
        kind_from_crd(&json!({
            "metadata": {"name": "widgets.example.io"},
            "spec": {
                "group": "example.io",
                "scope": "Cluster",
                "names": {"kind": "Widget", "plural": "widgets"},
                "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {"spec": {"type": "object", "properties": {"size": {"type": "integer"}}}}
                }}}]
            }
        }))
        .unwrap()
    }

    #[test]
    fn unknown_fields_are_warned_about_refused_or_ignored_as_asked() {
        let mut object = json!({"apiVersion": "example.io/v1", "kind": "Widget", "metadata": {"name": "w"},
            "spec": {"size": 1, "colour": "red"}});
        let query = |v: &str| HashMap::from([("fieldValidation".to_string(), v.to_string())]);
        let warn = FieldValidation::from_query(&HashMap::new()).unwrap();
        assert_eq!(
            warn.check(&widget(), &mut object).unwrap(),
            ["unknown field \"spec.colour\""]
        );
        let strict = FieldValidation::from_query(&query("Strict")).unwrap();
        let refused = strict.check(&widget(), &mut object).unwrap_err();
        assert_eq!(refused.code, 400);
        assert_eq!(
            refused.message,
            "strict decoding error: unknown field \"spec.colour\""
        );
        let ignore = FieldValidation::from_query(&query("Ignore")).unwrap();
        assert!(ignore.check(&widget(), &mut object).unwrap().is_empty());
        assert!(FieldValidation::from_query(&query("Loud")).is_err());
    }

    #[test]
    fn a_builtin_object_loses_the_fields_its_type_lacks() {
        let registry = crate::kinds::Registry::builtin();
        let deployments = registry.find("apps", "v1", "deployments").unwrap();
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}, "creationTimestamp": null},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                {"name": "web", "image": "nginx", "securityContext": {"readOnlyRootFileSystem": true}}
            ]}}}});
        let mut warned = deployment.clone();
        let warnings = FieldValidation::Warn
            .check(deployments, &mut warned)
            .unwrap();
        assert_eq!(
            warnings,
            [
                "unknown field \"spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem\""
            ]
        );
        assert_eq!(
            warned["spec"]["template"]["spec"]["containers"][0]["securityContext"],
            json!({})
        );
        assert_eq!(warned["metadata"]["labels"], json!({"app": "web"}));
        let refused = FieldValidation::Strict
            .check(deployments, &mut deployment.clone())
            .unwrap_err();
        assert_eq!(refused.code, 400);
        let mut fixed = deployment.clone();
        fixed["spec"]["template"]["spec"]["containers"][0]["securityContext"] =
            json!({"readOnlyRootFilesystem": true});
        let before = fixed.clone();
        assert!(
            FieldValidation::Strict
                .check(deployments, &mut fixed)
                .unwrap()
                .is_empty()
        );
        assert_eq!(fixed, before, "known fields and nulls are kept as sent");
        // A number as a quantity is read as Go reads it (`cpu: 1`).
        let mut numeric = fixed.clone();
        numeric["spec"]["template"]["spec"]["containers"][0]["resources"] =
            json!({"limits": {"cpu": 1}, "typo": true});
        assert_eq!(
            FieldValidation::Warn
                .check(deployments, &mut numeric)
                .unwrap(),
            ["unknown field \"spec.template.spec.containers[0].resources.typo\""]
        );
    }
}

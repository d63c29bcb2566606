//! `fieldValidation`, as kube-apiserver answers it for a write: fields a custom object's
//! schema does not declare are pruned in every case; with `Warn` (the default) each is named
//! in a `Warning` header, with `Strict` (kubectl's default) the write is refused (400), with
//! `Ignore` nothing is said. A client that writes a field its CRD does not know learns it here
//! as it would on a real cluster.

use std::collections::HashMap;

use axum::http::{HeaderValue, header};
use axum::response::Response;
use serde_json::Value;

use crate::errors::{ApiError, ApiResult};
use crate::kinds::ResourceKind;

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
    /// strict request.
    pub fn check(self, kind: &ResourceKind, object: &Value) -> ApiResult<Vec<String>> {
        let Some(schema) = kind.schema.as_deref() else {
            return Ok(Vec::new());
        };
        let unknown: Vec<String> = crate::schema::unknown_fields(schema, object)
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
        let object = json!({"apiVersion": "example.io/v1", "kind": "Widget", "metadata": {"name": "w"},
            "spec": {"size": 1, "colour": "red"}});
        let query = |v: &str| HashMap::from([("fieldValidation".to_string(), v.to_string())]);
        let warn = FieldValidation::from_query(&HashMap::new()).unwrap();
        assert_eq!(
            warn.check(&widget(), &object).unwrap(),
            ["unknown field \"spec.colour\""]
        );
        let strict = FieldValidation::from_query(&query("Strict")).unwrap();
        let refused = strict.check(&widget(), &object).unwrap_err();
        assert_eq!(refused.code, 400);
        assert_eq!(
            refused.message,
            "strict decoding error: unknown field \"spec.colour\""
        );
        let ignore = FieldValidation::from_query(&query("Ignore")).unwrap();
        assert!(ignore.check(&widget(), &object).unwrap().is_empty());
        assert!(FieldValidation::from_query(&query("Loud")).is_err());
    }
}

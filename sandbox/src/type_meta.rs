//! `apiVersion` and `kind` of a request body, checked as kube-apiserver checks them.
//!
//! A built-in object without them is decoded with the URL's group, version and kind filled
//! in; a custom object is decoded as unstructured data, which needs both, so a real API
//! server refuses it with 400 "Object 'Kind' is missing". The sandbox once accepted such
//! bodies and hid that every create of a KubeSphere object failed on a real cluster.
//! Server-side apply needs both for every kind.

use serde_json::Value;

use crate::errors::{ApiError, ApiResult};
use crate::kinds::ResourceKind;

/// How the body reaches the server: a create or replace, or a server-side apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyUse {
    Write,
    Apply,
}

/// Refuses a body whose `apiVersion`/`kind` is missing where the real server needs it, or
/// names another type than the URL.
pub(crate) fn check(
    kind: &ResourceKind,
    version: &str,
    body: &Value,
    body_use: BodyUse,
) -> ApiResult<()> {
    let expected_version = kind.api_version(version);
    let field = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let required = kind.crd.is_some() || body_use == BodyUse::Apply;
    let unrecognized = |missing: &str| {
        ApiError::bad_request(format!(
            "the object provided is unrecognized (must be of type {}): Object '{missing}' is missing in the request body",
            kind.kind
        ))
    };
    match field("kind") {
        None if required => return Err(unrecognized("Kind")),
        Some(sent) if sent != kind.kind => {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({sent}) does not match the expected kind ({})",
                kind.kind
            )));
        }
        _ => {}
    }
    match field("apiVersion") {
        None if required => Err(unrecognized("apiVersion")),
        Some(sent) if sent != expected_version => Err(ApiError::bad_request(format!(
            "the API version in the data ({sent}) does not match the expected API version ({expected_version})"
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn custom() -> ResourceKind {
        ResourceKind {
            group: "iam.kubesphere.io".into(),
            versions: vec!["v1alpha2".into()],
            kind: "GlobalRoleBinding".into(),
            list_kind: "GlobalRoleBindingList".into(),
            plural: "globalrolebindings".into(),
            singular: "globalrolebinding".into(),
            short_names: vec![],
            namespaced: false,
            status_subresource: false,
            crd: Some("globalrolebindings.iam.kubesphere.io".into()),
            schema: None,
        }
    }

    #[test]
    fn custom_objects_need_kind_and_api_version() {
        let kind = custom();
        let typed =
            json!({"apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "GlobalRoleBinding"});
        assert!(check(&kind, "v1alpha2", &typed, BodyUse::Write).is_ok());
        let missing =
            check(&kind, "v1alpha2", &json!({"metadata": {}}), BodyUse::Write).unwrap_err();
        assert_eq!(missing.code, http::StatusCode::BAD_REQUEST);
        assert!(missing.message.contains("Object 'Kind' is missing"));
        let no_version = json!({"kind": "GlobalRoleBinding"});
        assert!(check(&kind, "v1alpha2", &no_version, BodyUse::Write).is_err());
        let other = json!({"apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "GlobalRole"});
        assert!(check(&kind, "v1alpha2", &other, BodyUse::Write).is_err());
    }

    #[test]
    fn built_in_objects_take_the_url_type_unless_applied() {
        let mut kind = custom();
        kind.crd = None;
        assert!(check(&kind, "v1alpha2", &json!({}), BodyUse::Write).is_ok());
        assert!(check(&kind, "v1alpha2", &json!({}), BodyUse::Apply).is_err());
    }
}

//! Failures as kube-apiserver reports them: a `meta/v1 Status` body with the HTTP code,
//! reason and message clients such as kube-rs and kubectl parse.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::kinds::ResourceKind;
use crate::schema::FieldError;
use crate::store::StoreError;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: StatusCode,
    pub reason: &'static str,
    pub message: String,
    pub details: Option<Value>,
}

pub type ApiResult<T> = Result<T, ApiError>;

fn details(kind: &ResourceKind, name: &str) -> Value {
    let mut d = json!({"name": name, "kind": kind.plural});
    if !kind.group.is_empty() {
        d["group"] = json!(kind.group);
    }
    d
}

/// `User.iam.kubesphere.io`, or `Namespace` in the core group: how kube-apiserver names a
/// kind in an Invalid message.
fn group_kind(kind: &ResourceKind) -> String {
    if kind.group.is_empty() {
        kind.kind.clone()
    } else {
        format!("{}.{}", kind.kind, kind.group)
    }
}

impl ApiError {
    pub fn new(code: StatusCode, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    pub fn not_found(kind: &ResourceKind, name: &str) -> Self {
        Self {
            details: Some(details(kind, name)),
            ..Self::new(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("{} \"{name}\" not found", kind.qualified_plural()),
            )
        }
    }

    pub fn no_such_path(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("the server could not find the requested resource ({path})"),
        )
    }

    pub fn already_exists(kind: &ResourceKind, name: &str) -> Self {
        Self {
            details: Some(details(kind, name)),
            ..Self::new(
                StatusCode::CONFLICT,
                "AlreadyExists",
                format!("{} \"{name}\" already exists", kind.qualified_plural()),
            )
        }
    }

    pub fn conflict(kind: &ResourceKind, name: &str, why: &str) -> Self {
        Self {
            details: Some(details(kind, name)),
            ..Self::new(
                StatusCode::CONFLICT,
                "Conflict",
                format!(
                    "Operation cannot be fulfilled on {} \"{name}\": {why}",
                    kind.qualified_plural()
                ),
            )
        }
    }

    /// 422 with every rule a custom object breaks against its CRD's schema, worded as
    /// kube-apiserver words it: `User.iam.kubesphere.io "bob" is invalid: [a: …, b: …]`.
    pub fn invalid_fields(kind: &ResourceKind, name: &str, causes: &[FieldError]) -> Self {
        let mut d = details(kind, name);
        d["kind"] = json!(kind.kind);
        d["causes"] = causes
            .iter()
            .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
            .collect();
        let listed: Vec<String> = causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect();
        let summary = match listed.as_slice() {
            [one] => one.clone(),
            many => format!("[{}]", many.join(", ")),
        };
        Self {
            details: Some(d),
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid",
                format!("{} \"{name}\" is invalid: {summary}", group_kind(kind)),
            )
        }
    }

    /// 422: the object breaks a validation rule; `field` names where.
    pub fn invalid(kind: &ResourceKind, name: &str, field: &str, why: &str) -> Self {
        let mut d = details(kind, name);
        d["kind"] = json!(kind.kind);
        d["causes"] = json!([{"reason": "FieldValueInvalid", "message": why, "field": field}]);
        Self {
            details: Some(d),
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid",
                format!("{} \"{name}\" is invalid: {field}: {why}", group_kind(kind)),
            )
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Forbidden", message)
    }

    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", message)
    }

    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got {content_type:?})"
            ),
        )
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            format!("the request body is larger than the {limit} byte limit"),
        )
    }

    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(StatusCode::GONE, "Expired", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", message)
    }

    pub fn from_store(err: StoreError, kind: &ResourceKind, name: &str) -> Self {
        match err {
            StoreError::NotFound => Self::not_found(kind, name),
            StoreError::AlreadyExists => Self::already_exists(kind, name),
            StoreError::Conflict => Self::conflict(kind, name, &StoreError::Conflict.to_string()),
            StoreError::Storage(why) => Self::internal(format!("storage failure: {why}")),
        }
    }

    pub fn status_body(&self) -> Value {
        let mut body = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code.as_u16(),
        });
        if let Some(d) = &self.details {
            body["details"] = d.clone();
        }
        body
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.code, axum::Json(self.status_body())).into_response()
    }
}

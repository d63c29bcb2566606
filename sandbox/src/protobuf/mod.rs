//! Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`) for the built-in
//! kinds, as client-go's typed clients use it: kubectl's `create namespace`, `create
//! configmap` and the like send their object so, and every kube-apiserver reads it.
//!
//! A body is the 4 bytes `k8s\0`, then a `runtime.Unknown` message: the type (apiVersion,
//! kind), `raw` holding the object's own message, and an encoding and content type, both
//! empty. The object is converted to and from the JSON the sandbox stores ([`convert`],
//! [`messages`]); everything after decoding is the JSON path's. Custom resources have no
//! protobuf form, on a real server as here: such a body is a 415 that says to send JSON.
//!
//! Responses are protobuf only for a client that accepts nothing else; client-go's typed
//! clients also accept JSON and get it, as every other client does.

mod convert;
#[cfg(test)]
mod https_tests;
mod messages;
#[cfg(test)]
mod tests;

use axum::body::{Body, HttpBody, to_bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use k8s_pb::api::core::v1 as core;
use k8s_pb::api::rbac::v1 as rbac;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::runtime::{TypeMeta, Unknown};
use prost::Message;
use serde_json::Value;

use crate::errors::{ApiError, ApiResult};
use crate::kinds::ResourceKind;
use convert::Json;

pub(crate) const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// What every protobuf-encoded Kubernetes object starts with.
const MAGIC: &[u8] = b"k8s\0";

/// The types with a protobuf form here, by apiVersion and kind.
macro_rules! types {
    ($($api:pat, $kind:literal => $ty:ty;)*) => {
        /// The JSON of the object `raw` holds; `None` for a type without protobuf form.
        fn raw_to_json(api: &str, kind: &str, raw: &[u8]) -> Option<Result<Value, String>> {
            match (api, kind) {
                $(($api, $kind) => Some(
                    <$ty>::decode(raw).map_err(|e| format!(": {e}")).and_then(|m| m.to_json()),
                ),)*
                _ => None,
            }
        }

        /// The message of a JSON object; `None` for a type without protobuf form.
        fn json_to_raw(api: &str, kind: &str, value: &Value) -> Option<Result<Vec<u8>, String>> {
            match (api, kind) {
                $(($api, $kind) => Some(<$ty>::from_json(value).map(|m| m.encode_to_vec())),)*
                _ => None,
            }
        }
    };
}

types! {
    "v1", "Namespace" => core::Namespace;
    "v1", "NamespaceList" => core::NamespaceList;
    "v1", "ConfigMap" => core::ConfigMap;
    "v1", "ConfigMapList" => core::ConfigMapList;
    "v1", "Secret" => core::Secret;
    "v1", "SecretList" => core::SecretList;
    "v1", "ServiceAccount" => core::ServiceAccount;
    "v1", "ServiceAccountList" => core::ServiceAccountList;
    "v1", "Service" => core::Service;
    "v1", "ServiceList" => core::ServiceList;
    "v1", "Event" => core::Event;
    "v1", "EventList" => core::EventList;
    "rbac.authorization.k8s.io/v1", "Role" => rbac::Role;
    "rbac.authorization.k8s.io/v1", "RoleList" => rbac::RoleList;
    "rbac.authorization.k8s.io/v1", "ClusterRole" => rbac::ClusterRole;
    "rbac.authorization.k8s.io/v1", "ClusterRoleList" => rbac::ClusterRoleList;
    "rbac.authorization.k8s.io/v1", "RoleBinding" => rbac::RoleBinding;
    "rbac.authorization.k8s.io/v1", "RoleBindingList" => rbac::RoleBindingList;
    "rbac.authorization.k8s.io/v1", "ClusterRoleBinding" => rbac::ClusterRoleBinding;
    "rbac.authorization.k8s.io/v1", "ClusterRoleBindingList" => rbac::ClusterRoleBindingList;
    "v1", "Status" => meta::Status;
    // Registered in every group version; client-go sends it in the one it talks to.
    _, "DeleteOptions" => meta::DeleteOptions;
}

/// Reads a protobuf request body sent to `kind`'s URL: the object as JSON, with the
/// apiVersion and kind of its envelope (the URL's where the envelope leaves them empty).
pub(crate) fn decode_body(bytes: &[u8], kind: &ResourceKind, version: &str) -> ApiResult<Value> {
    let bad = |why: String| {
        ApiError::bad_request(format!("the request body is not valid {MEDIA_TYPE}: {why}"))
    };
    let envelope = bytes
        .strip_prefix(MAGIC)
        .ok_or_else(|| bad("it does not start with the 4 bytes \"k8s\\0\"".into()))?;
    let unknown = Unknown::decode(envelope).map_err(|e| bad(e.to_string()))?;
    let non_empty = |s: Option<String>| s.filter(|s| !s.is_empty());
    let type_meta = unknown.type_meta.unwrap_or_default();
    let api_version = non_empty(type_meta.api_version).unwrap_or_else(|| kind.api_version(version));
    let kind_name = non_empty(type_meta.kind).unwrap_or_else(|| kind.kind.clone());
    if let Some(encoding) = non_empty(unknown.content_encoding) {
        return Err(bad(format!(
            "content encoding {encoding:?} is not supported"
        )));
    }
    if let Some(inner) = non_empty(unknown.content_type).filter(|t| t != MEDIA_TYPE) {
        return Err(bad(format!("the object inside is {inner:?}, not protobuf")));
    }
    let raw = unknown.raw.unwrap_or_default();
    match raw_to_json(&api_version, &kind_name, &raw) {
        None => Err(unsupported(&kind_name, &api_version)),
        Some(Err(why)) => Err(bad(convert::within(&kind_name, why))),
        Some(Ok(mut object)) => {
            if let Some(map) = object.as_object_mut() {
                map.insert("apiVersion".into(), Value::String(api_version));
                map.insert("kind".into(), Value::String(kind_name));
            }
            Ok(object)
        }
    }
}

/// 415 for a type without protobuf form here (a custom resource, a Node): JSON works.
fn unsupported(kind: &str, api_version: &str) -> ApiError {
    let message = format!(
        "the sandbox cannot read {kind} ({api_version}) as {MEDIA_TYPE}; \
         send it as application/json, which works for every kind"
    );
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UnsupportedMediaType",
        message,
    )
}

/// The protobuf form of a JSON object that names its apiVersion and kind; `None` for a type
/// without one (custom resources, discovery documents).
pub(crate) fn encode(value: &Value) -> Option<Result<Vec<u8>, String>> {
    let api_version = value.get("apiVersion")?.as_str()?;
    let kind = value.get("kind")?.as_str()?;
    let raw = match json_to_raw(api_version, kind, value)? {
        Ok(raw) => raw,
        Err(why) => return Some(Err(convert::within(kind, why))),
    };
    let unknown = Unknown {
        type_meta: Some(TypeMeta {
            api_version: Some(api_version.to_string()),
            kind: Some(kind.to_string()),
        }),
        raw: Some(raw),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    };
    Some(Ok([MAGIC, &unknown.encode_to_vec()].concat()))
}

/// Whether every type the client accepts is protobuf (a Table, `as=Table`, is not); such a
/// client is answered in protobuf where the type has that form.
pub(crate) fn wants_protobuf(headers: &HeaderMap) -> bool {
    let mut accepted = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .peekable();
    accepted.peek().is_some()
        && accepted.all(|t| {
            let mut parts = t.split(';').map(str::trim);
            parts.next() == Some(MEDIA_TYPE) && parts.all(|p| !p.starts_with("as="))
        })
}

/// A JSON response re-encoded as protobuf, for a client that accepts nothing else. A
/// streamed body (a watch) and a type without protobuf form stay JSON.
pub(crate) async fn respond(response: Response) -> Response {
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t == "application/json");
    if !json || response.body().size_hint().exact().is_none() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        return ApiError::internal("could not read the response body").into_response();
    };
    match serde_json::from_slice::<Value>(&bytes)
        .ok()
        .as_ref()
        .and_then(encode)
    {
        Some(Ok(encoded)) => {
            parts
                .headers
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(encoded))
        }
        Some(Err(why)) => {
            tracing::warn!(%why, "answering JSON: the object has no protobuf form");
            Response::from_parts(parts, Body::from(bytes))
        }
        None => Response::from_parts(parts, Body::from(bytes)),
    }
}

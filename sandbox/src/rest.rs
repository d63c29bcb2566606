//! The resource REST paths, `/api/v1/...` and `/apis/{group}/{version}/...`: parsing the URL,
//! the query and the body as kube-apiserver does, then handing the verb to [`Db`].

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::Value;

use crate::ClusterState;
use crate::db::{Db, ListQuery};
use crate::errors::{ApiError, ApiResult};
use crate::field_validation::{FieldValidation, with_warnings};
use crate::kinds::ResourceKind;
use crate::patch::{self, PatchType};
use crate::protobuf;
use crate::selector::{FieldSelector, LabelSelector};
use crate::type_meta::{self, BodyUse};

/// Largest request body accepted, as kube-apiserver's 3 MiB limit.
pub const MAX_BODY: usize = 3 * 1024 * 1024;

pub(crate) fn routes() -> Router<Arc<ClusterState>> {
    Router::new()
        .route("/api/v1/{*rest}", any(core))
        .route("/apis/{group}/{version}/{*rest}", any(grouped))
}

type Params = Query<HashMap<String, String>>;

async fn core(
    State(state): State<Arc<ClusterState>>,
    Path(rest): Path<String>,
    method: Method,
    Query(q): Params,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Some((ns, service, path)) = crate::kubesphere::proxy::parse(&rest) {
        return crate::kubesphere::proxy::serve(&state, ns, service, &path);
    }
    let response = handle(&state, "", "v1", &rest, method, q, &headers, body)
        .await
        .unwrap_or_else(IntoResponse::into_response);
    in_accepted_type(&headers, response).await
}

async fn grouped(
    State(state): State<Arc<ClusterState>>,
    Path((group, version, rest)): Path<(String, String, String)>,
    method: Method,
    Query(q): Params,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let response = handle(&state, &group, &version, &rest, method, q, &headers, body)
        .await
        .unwrap_or_else(IntoResponse::into_response);
    in_accepted_type(&headers, response).await
}

/// Protobuf for a client that accepts only that (see [`protobuf`]), JSON otherwise.
async fn in_accepted_type(headers: &HeaderMap, response: Response) -> Response {
    if protobuf::wants_protobuf(headers) {
        protobuf::respond(response).await
    } else {
        response
    }
}

/// Which collection or object a path names.
struct Target {
    kind: ResourceKind,
    namespace: Option<String>,
    name: Option<String>,
    status: bool,
}

fn parse_target(db: &Db, group: &str, version: &str, rest: &str, full: &str) -> ApiResult<Target> {
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let not_found = || ApiError::no_such_path(full);
    // `namespaces/{ns}/{resource}...`, unless it is the namespace's own `status` subresource.
    let (namespace, tail) = match segments.as_slice() {
        ["namespaces", ns, resource, rest @ ..]
            if !(group.is_empty() && *resource == "status" && rest.is_empty()) =>
        {
            (Some(ns.to_string()), [&[*resource][..], rest].concat())
        }
        _ => (None, segments.clone()),
    };
    let (plural, name, sub) = match tail.as_slice() {
        [plural] => (*plural, None, None),
        [plural, name] => (*plural, Some(name.to_string()), None),
        [plural, name, sub] => (*plural, Some(name.to_string()), Some(*sub)),
        _ => return Err(not_found()),
    };
    let kind = db
        .registry
        .find(group, version, plural)
        .cloned()
        .ok_or_else(not_found)?;
    if namespace.is_some() && !kind.namespaced {
        return Err(not_found());
    }
    if kind.namespaced && namespace.is_none() && name.is_some() {
        return Err(not_found());
    }
    let status = match sub {
        None => false,
        Some("status") if kind.status_subresource => true,
        Some(_) => return Err(not_found()),
    };
    Ok(Target {
        kind,
        namespace,
        name,
        status,
    })
}

#[allow(clippy::too_many_arguments)]
async fn handle(
    state: &Arc<ClusterState>,
    group: &str,
    version: &str,
    rest: &str,
    method: Method,
    q: HashMap<String, String>,
    headers: &HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let full = if group.is_empty() {
        format!("/api/{version}/{rest}")
    } else {
        format!("/apis/{group}/{version}/{rest}")
    };
    let target = {
        let db = state
            .db
            .lock()
            .map_err(|_| ApiError::internal("state lock poisoned"))?;
        parse_target(&db, group, version, rest, &full)?
    };
    let ns = target.namespace.as_deref();
    let dry_run = q.get("dryRun").is_some_and(|v| v == "All");
    let fields = FieldValidation::from_query(&q)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let read_body = async move || -> ApiResult<Vec<u8>> {
        to_bytes(body, MAX_BODY)
            .await
            .map(|b| b.to_vec())
            .map_err(|_| ApiError::too_large(MAX_BODY))
    };
    let json_body = |bytes: &[u8]| -> ApiResult<Value> {
        let media = content_type.split(';').next().unwrap_or("").trim();
        match media {
            "application/json" | "" => serde_json::from_slice(bytes).map_err(|e| {
                ApiError::bad_request(format!("the request body is not valid JSON: {e}"))
            }),
            "application/yaml" => serde_norway::from_slice(bytes).map_err(|e| {
                ApiError::bad_request(format!("the request body is not valid YAML: {e}"))
            }),
            protobuf::MEDIA_TYPE => protobuf::decode_body(bytes, &target.kind, version),
            other => Err(ApiError::unsupported_media_type(other)),
        }
    };
    let lock = || {
        state
            .db
            .lock()
            .map_err(|_| ApiError::internal("state lock poisoned"))
    };

    match (method.clone(), target.name.as_deref()) {
        (Method::GET, Some(name)) => Ok(ok(lock()?.get(&target.kind, version, ns, name)?)),
        (Method::GET, None) if q.get("watch").is_some_and(|w| w == "true" || w == "1") => {
            crate::watch::start(state, target.kind, version, target.namespace, &q)
        }
        (Method::GET, None) => {
            let query = list_query(&q)?;
            Ok(ok(lock()?.list(&target.kind, version, ns, &query)?))
        }
        (Method::POST, None) => {
            let mut object = json_body(&read_body().await?)?;
            type_meta::check(&target.kind, version, &object, BodyUse::Write)?;
            let warnings = fields.check(&target.kind, &mut object)?;
            let created = lock()?.create(&target.kind, version, ns, object, dry_run)?;
            let response = (StatusCode::CREATED, axum::Json(created)).into_response();
            Ok(with_warnings(response, &warnings))
        }
        (Method::PUT, Some(name)) => {
            let mut object = json_body(&read_body().await?)?;
            type_meta::check(&target.kind, version, &object, BodyUse::Write)?;
            let warnings = fields.check(&target.kind, &mut object)?;
            let updated = lock()?.update(
                &target.kind,
                version,
                ns,
                name,
                object,
                target.status,
                dry_run,
            )?;
            Ok(with_warnings(ok(updated), &warnings))
        }
        (Method::PATCH, Some(name)) => {
            let bytes = read_body().await?;
            patch_object(
                state,
                &target,
                version,
                name,
                &content_type,
                &bytes,
                &q,
                (dry_run, fields),
            )
        }
        (Method::DELETE, Some(name)) => {
            let bytes = read_body().await?;
            let mut options = if bytes.iter().all(u8::is_ascii_whitespace) {
                Value::Null
            } else {
                json_body(&bytes)?
            };
            // `?propagationPolicy=` counts as the body's field (kube-apiserver takes both).
            if let Some(policy) = q.get("propagationPolicy")
                && options.get("propagationPolicy").is_none()
            {
                if !options.is_object() {
                    options = serde_json::json!({});
                }
                options["propagationPolicy"] = Value::String(policy.clone());
            }
            Ok(ok(lock()?.delete(
                &target.kind,
                version,
                ns,
                name,
                &options,
                dry_run,
            )?))
        }
        (Method::DELETE, None) => {
            let query = list_query(&q)?;
            let mut db = lock()?;
            let names: Vec<(Option<String>, String)> =
                db.list(&target.kind, version, ns, &query)?["items"]
                    .as_array()
                    .map(|items| {
                        items
                            .iter()
                            .map(|o| {
                                (
                                    crate::meta::str_field(o, "namespace").map(String::from),
                                    crate::meta::str_field(o, "name")
                                        .unwrap_or_default()
                                        .to_string(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
            let mut deleted = Vec::new();
            for (item_ns, name) in names {
                deleted.push(db.delete(
                    &target.kind,
                    version,
                    item_ns.as_deref(),
                    &name,
                    &Value::Null,
                    dry_run,
                )?);
            }
            Ok(ok(
                serde_json::json!({"kind": target.kind.list_kind, "apiVersion": target.kind.api_version(version), "metadata": {}, "items": deleted}),
            ))
        }
        (method, _) => Err(ApiError::method_not_allowed(format!(
            "the server does not allow this method on the requested resource ({method} {full})"
        ))),
    }
}

fn ok(value: Value) -> Response {
    axum::Json(value).into_response()
}

pub(crate) fn list_query(q: &HashMap<String, String>) -> ApiResult<ListQuery> {
    Ok(ListQuery {
        labels: LabelSelector::parse(q.get("labelSelector").map(String::as_str).unwrap_or(""))
            .map_err(ApiError::bad_request)?,
        fields: FieldSelector::parse(q.get("fieldSelector").map(String::as_str).unwrap_or(""))
            .map_err(ApiError::bad_request)?,
        limit: match q.get("limit") {
            None => None,
            Some(l) => Some(
                l.parse()
                    .map_err(|_| ApiError::bad_request(format!("limit: invalid value {l:?}")))?,
            ),
        },
        continue_token: q.get("continue").filter(|c| !c.is_empty()).cloned(),
    })
}

#[allow(clippy::too_many_arguments)]
fn patch_object(
    state: &ClusterState,
    target: &Target,
    version: &str,
    name: &str,
    content_type: &str,
    bytes: &[u8],
    q: &HashMap<String, String>,
    (dry_run, fields): (bool, FieldValidation),
) -> ApiResult<Response> {
    let media = content_type.split(';').next().unwrap_or("").trim();
    let ns = target.namespace.as_deref();
    let kind = &target.kind;
    let mut db = state
        .db
        .lock()
        .map_err(|_| ApiError::internal("state lock poisoned"))?;
    if media == "application/apply-patch+yaml" {
        // Server-side apply, simplified: the applied fields are merged into the live object
        // (or create it); field ownership is not tracked.
        if q.get("fieldManager").is_none_or(|m| m.is_empty()) {
            return Err(ApiError::bad_request(
                "PATCH, application/apply-patch+yaml: fieldManager is required for apply requests",
            ));
        }
        let applied: Value = serde_norway::from_slice(bytes)
            .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?;
        if !applied.is_object() {
            return Err(ApiError::bad_request(
                "the applied configuration must be an object",
            ));
        }
        type_meta::check(kind, version, &applied, BodyUse::Apply)?;
        return match db.get(kind, version, ns, name) {
            Err(e) if e.code == StatusCode::NOT_FOUND => {
                let mut object = applied;
                crate::meta::metadata_mut(&mut object)
                    .insert("name".into(), Value::String(name.to_string()));
                let warnings = fields.check(kind, &mut object)?;
                let created = db.create(kind, version, ns, object, dry_run)?;
                let response = (StatusCode::CREATED, axum::Json(created)).into_response();
                Ok(with_warnings(response, &warnings))
            }
            Err(e) => Err(e),
            Ok(mut current) => {
                let status_before = current.get("status").cloned();
                patch::merge_patch(&mut current, &applied);
                if target.status {
                    current["status"] = applied
                        .get("status")
                        .cloned()
                        .unwrap_or(status_before.unwrap_or(Value::Null));
                }
                let warnings = fields.check(kind, &mut current)?;
                let updated =
                    db.update(kind, version, ns, name, current, target.status, dry_run)?;
                Ok(with_warnings(ok(updated), &warnings))
            }
        };
    }
    let patch_type = PatchType::from_content_type(content_type)
        .ok_or_else(|| ApiError::unsupported_media_type(media))?;
    if patch_type == PatchType::StrategicMerge && kind.crd.is_some() {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
        ));
    }
    let patch_doc: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("the patch is not valid JSON: {e}")))?;
    let current = db.get(kind, version, ns, name)?;
    let patched =
        patch::apply(patch_type, &kind.kind, &current, &patch_doc).map_err(|e| match e {
            patch::PatchError::Malformed(why) => ApiError::bad_request(why),
            patch::PatchError::Unprocessable(why) => ApiError::invalid(kind, name, "patch", &why),
        })?;
    // A resourceVersion the client put in its patch is a precondition; otherwise the patch
    // applies to the object just read, under the same lock.
    let mut body = patched;
    if crate::meta::str_field(&body, "resourceVersion").is_none()
        && let Some(rv) = crate::meta::str_field(&current, "resourceVersion")
    {
        crate::meta::metadata_mut(&mut body)
            .insert("resourceVersion".into(), Value::String(rv.to_string()));
    }
    let warnings = fields.check(kind, &mut body)?;
    let updated = db.update(kind, version, ns, name, body, target.status, dry_run)?;
    Ok(with_warnings(ok(updated), &warnings))
}

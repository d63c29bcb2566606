//! What a client reads before it touches a resource: `/version`, health, API discovery and
//! OpenAPI v3, generated from the kinds the cluster serves right now (CRDs included).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::ClusterState;
use crate::errors::ApiError;
use crate::kinds::ResourceKind;

/// The Kubernetes version the sandbox reports, marked so no one mistakes it for a real cluster.
pub const GIT_VERSION: &str = "v1.33.0+tandem-sandbox";

pub(crate) fn routes() -> Router<Arc<ClusterState>> {
    Router::new()
        .route("/version", get(version))
        .route("/healthz", get(ok_text))
        .route("/livez", get(ok_text))
        .route("/readyz", get(ok_text))
        .route("/api", get(api_versions))
        .route("/api/v1", get(core_resources))
        .route("/apis", get(api_groups))
        .route("/apis/{group}", get(api_group))
        .route("/apis/{group}/{version}", get(group_resources))
        .route("/openapi/v3", get(openapi_index))
        .route("/openapi/v3/{*gv}", get(openapi_document))
}

async fn version() -> Response {
    axum::Json(json!({
        "major": "1",
        "minor": "33",
        "gitVersion": GIT_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "none (tandem sandbox, Rust)",
        "compiler": "rustc",
        "platform": format!("{}/{}", std::env::consts::OS, go_arch()),
    }))
    .into_response()
}

/// Kubernetes names architectures as Go does.
fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

async fn ok_text() -> &'static str {
    "ok"
}

fn with_db<T>(state: &ClusterState, f: impl FnOnce(&crate::db::Db) -> T) -> Result<T, ApiError> {
    state
        .db
        .lock()
        .map(|db| f(&db))
        .map_err(|_| ApiError::internal("state lock poisoned"))
}

async fn api_versions(State(state): State<Arc<ClusterState>>) -> Response {
    axum::Json(json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": state.addr.to_string()}],
    }))
    .into_response()
}

fn resource_list(kinds: &[ResourceKind], group: &str, version: &str) -> Value {
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": kinds.iter().flat_map(ResourceKind::discovery_entries).collect::<Vec<_>>(),
    })
}

async fn core_resources(State(state): State<Arc<ClusterState>>) -> Response {
    with_db(&state, |db| {
        resource_list(
            &db.registry
                .in_group_version("", "v1")
                .cloned()
                .collect::<Vec<_>>(),
            "",
            "v1",
        )
    })
    .map(|v| axum::Json(v).into_response())
    .unwrap_or_else(IntoResponse::into_response)
}

fn group_entry(name: &str, versions: &[&str]) -> Value {
    let list: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v}))
        .collect();
    json!({"name": name, "versions": list, "preferredVersion": list.first().cloned().unwrap_or(Value::Null)})
}

async fn api_groups(State(state): State<Arc<ClusterState>>) -> Response {
    with_db(&state, |db| {
        let groups: Vec<Value> = db
            .registry
            .groups()
            .iter()
            .filter(|(g, _)| !g.is_empty())
            .map(|(g, vs)| group_entry(g, vs))
            .collect();
        json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
    })
    .map(|v| axum::Json(v).into_response())
    .unwrap_or_else(IntoResponse::into_response)
}

async fn api_group(State(state): State<Arc<ClusterState>>, Path(group): Path<String>) -> Response {
    let found = with_db(&state, |db| {
        db.registry
            .groups()
            .get(group.as_str())
            .map(|vs| group_entry(&group, vs))
    });
    match found {
        Ok(Some(mut entry)) => {
            entry["kind"] = json!("APIGroup");
            entry["apiVersion"] = json!("v1");
            axum::Json(entry).into_response()
        }
        Ok(None) => ApiError::no_such_path(&format!("/apis/{group}")).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn group_resources(
    State(state): State<Arc<ClusterState>>,
    Path((group, version)): Path<(String, String)>,
) -> Response {
    let kinds = with_db(&state, |db| {
        db.registry
            .in_group_version(&group, &version)
            .cloned()
            .collect::<Vec<_>>()
    });
    match kinds {
        Ok(kinds) if !kinds.is_empty() => {
            axum::Json(resource_list(&kinds, &group, &version)).into_response()
        }
        Ok(_) => ApiError::no_such_path(&format!("/apis/{group}/{version}")).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `/openapi/v3`: one entry per group-version, as kubectl looks them up.
async fn openapi_index(State(state): State<Arc<ClusterState>>) -> Response {
    with_db(&state, |db| {
        let mut paths = Map::new();
        for (group, versions) in db.registry.groups() {
            for v in versions {
                let gv = if group.is_empty() {
                    format!("api/{v}")
                } else {
                    format!("apis/{group}/{v}")
                };
                let hash = db.store.resource_version();
                paths.insert(
                    gv.clone(),
                    json!({"serverRelativeURL": format!("/openapi/v3/{gv}?hash={hash}")}),
                );
            }
        }
        json!({"paths": paths})
    })
    .map(|v| axum::Json(v).into_response())
    .unwrap_or_else(IntoResponse::into_response)
}

/// A group-version's OpenAPI v3 document: every path with its operations and the
/// `fieldValidation` parameter, so kubectl leaves validation to the server. Schemas are not
/// published: objects are validated by the server, not described to the client.
async fn openapi_document(
    State(state): State<Arc<ClusterState>>,
    Path(gv): Path<String>,
    Query(_q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let parts: Vec<&str> = gv.split('/').collect();
    let (group, version) = match parts.as_slice() {
        ["api", v] => ("", *v),
        ["apis", g, v] => (*g, *v),
        _ => return ApiError::no_such_path(&format!("/openapi/v3/{gv}")).into_response(),
    };
    let kinds = with_db(&state, |db| {
        db.registry
            .in_group_version(group, version)
            .cloned()
            .collect::<Vec<_>>()
    });
    let kinds = match kinds {
        Ok(k) if !k.is_empty() => k,
        Ok(_) => return ApiError::no_such_path(&format!("/openapi/v3/{gv}")).into_response(),
        Err(e) => return e.into_response(),
    };
    let param = |name: &str, location: &str| json!({"name": name, "in": location, "schema": {"type": "string"}, "required": location == "path"});
    let mut paths = Map::new();
    for kind in &kinds {
        let base = if group.is_empty() {
            format!("/api/{version}")
        } else {
            format!("/apis/{group}/{version}")
        };
        let prefix = if kind.namespaced {
            format!("{base}/namespaces/{{namespace}}/{}", kind.plural)
        } else {
            format!("{base}/{}", kind.plural)
        };
        let gvk = json!({"group": group, "version": version, "kind": kind.kind});
        let mut path_params = vec![param("name", "path")];
        if kind.namespaced {
            path_params.push(param("namespace", "path"));
        }
        let op = |verb: &str| json!({"operationId": format!("{verb}{}", kind.kind), "x-kubernetes-action": verb, "x-kubernetes-group-version-kind": gvk, "responses": {"200": {"description": "OK"}}});
        let mut patch = op("patch");
        patch["parameters"] = json!([
            param("fieldValidation", "query"),
            param("fieldManager", "query"),
            param("dryRun", "query"),
            param("force", "query")
        ]);
        paths.insert(format!("{prefix}/{{name}}"), json!({"get": op("get"), "put": op("put"), "patch": patch, "delete": op("delete"), "parameters": path_params}));
        let mut post = op("post");
        post["parameters"] = json!([
            param("fieldValidation", "query"),
            param("fieldManager", "query"),
            param("dryRun", "query")
        ]);
        paths.insert(prefix, json!({"get": op("list"), "post": post}));
    }
    axum::Json(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes (tandem sandbox)", "version": GIT_VERSION},
        "paths": paths,
        "components": {"schemas": {}},
    }))
    .into_response()
}

//! The HTTP side of a sandbox cluster: authentication, `/version`, health and discovery,
//! answered with the same shapes and status codes as a real kube-apiserver.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

/// The Kubernetes version the sandbox reports, marked so no one mistakes it for a real cluster.
pub const KUBERNETES_VERSION: (&str, &str) = ("1", "33");
pub const GIT_VERSION: &str = "v1.33.0+tandem-sandbox";

pub(crate) struct ApiState {
    pub token: String,
    pub addr: SocketAddr,
}

pub(crate) fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/version", get(version))
        .route("/healthz", get(ok_text))
        .route("/livez", get(ok_text))
        .route("/readyz", get(ok_text))
        .route("/api", get(api_versions))
        .route("/api/v1", get(core_resources))
        .route("/apis", get(api_groups))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .with_state(state)
}

/// Paths that a real cluster lets anonymous users read (`system:public-info-viewer`).
fn is_public(path: &str) -> bool {
    matches!(path, "/version" | "/healthz" | "/livez" | "/readyz")
}

async fn authenticate(State(state): State<Arc<ApiState>>, req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or_default().to_string());
    match presented {
        // Anonymous, as kube-apiserver with anonymous auth: public paths only.
        None if is_public(req.uri().path()) => next.run(req).await,
        None => status(
            StatusCode::FORBIDDEN,
            "Forbidden",
            &format!(
                "forbidden: User \"system:anonymous\" cannot get path \"{}\"",
                req.uri().path()
            ),
        ),
        Some(value) => {
            let token = value.strip_prefix("Bearer ").unwrap_or_default();
            if constant_time_eq(token.as_bytes(), state.token.as_bytes()) {
                next.run(req).await
            } else {
                status(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized")
            }
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A `meta/v1 Status` failure body, as every Kubernetes error response carries.
pub(crate) fn status(code: StatusCode, reason: &str, message: &str) -> Response {
    let body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code.as_u16(),
    });
    (code, axum::Json(body)).into_response()
}

async fn version() -> Response {
    axum::Json(json!({
        "major": KUBERNETES_VERSION.0,
        "minor": KUBERNETES_VERSION.1,
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

async fn api_versions(State(state): State<Arc<ApiState>>) -> Response {
    axum::Json(json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": state.addr.to_string()}
        ],
    }))
    .into_response()
}

async fn core_resources() -> Response {
    axum::Json(json!({
        "kind": "APIResourceList",
        "groupVersion": "v1",
        "resources": [],
    }))
    .into_response()
}

async fn api_groups() -> Response {
    axum::Json(json!({
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [],
    }))
    .into_response()
}

async fn not_found(req: Request) -> Response {
    status(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!(
            "the server could not find the requested resource ({})",
            req.uri().path()
        ),
    )
}

//! Who a request comes from and what that identity may do, kept as small as the tests need:
//! the admin and service-account tokens may do everything (the join's service account is
//! bound to a `*` role), and a read-only "viewer" may only read — the shape of a kubeconfig
//! that connects but cannot join a cluster. `SelfSubjectAccessReview` answers from the same
//! rules, as kube-apiserver's authorizer does.
//!
//! Tests can also make the next matching request fail with a 500 (a fault half-way through a
//! multi-step operation such as a join).

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::ClusterState;
use crate::errors::ApiError;

/// The identity a bearer token stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Identity {
    Admin,
    ServiceAccount(String),
    /// May get, list and watch everything and change nothing.
    Viewer,
}

pub(crate) const VIEWER_USER: &str = "viewer";
const READ_VERBS: [&str; 3] = ["get", "list", "watch"];

impl Identity {
    pub(crate) fn username(&self) -> &str {
        match self {
            Self::Admin => "kubernetes-admin",
            Self::ServiceAccount(name) => name,
            Self::Viewer => VIEWER_USER,
        }
    }

    pub(crate) fn allows(&self, verb: &str) -> bool {
        match self {
            Self::Admin | Self::ServiceAccount(_) => true,
            Self::Viewer => READ_VERBS.contains(&verb),
        }
    }
}

/// A request the next matching call fails with (tests only).
#[cfg(feature = "faults")]
#[derive(Debug, Clone)]
pub(crate) struct Fault {
    pub method: Method,
    pub path_contains: String,
}

pub(crate) const REVIEW_PATH: &str = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";

pub(crate) fn routes() -> Router<Arc<ClusterState>> {
    Router::new().route(REVIEW_PATH, post(self_subject_access_review))
}

/// Refuses what `identity` may not do, with kube-apiserver's wording; `None` lets it through.
pub(crate) fn refuse(identity: &Identity, method: &Method, path: &str) -> Option<Response> {
    if path == REVIEW_PATH {
        return None; // every authenticated user may ask what it may do
    }
    let verb = match *method {
        Method::GET | Method::HEAD => "get",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE => "delete",
        _ => "unknown",
    };
    if identity.allows(verb) {
        return None;
    }
    let resource = path
        .trim_start_matches('/')
        .split('/')
        .rfind(|s| !s.is_empty())
        .unwrap_or_default();
    Some(
        ApiError::forbidden(format!(
            "{resource} is forbidden: User \"{}\" cannot {verb} resource at \"{path}\"",
            identity.username()
        ))
        .into_response(),
    )
}

/// The fault planted for this request, removed once it fired.
#[cfg(feature = "faults")]
pub(crate) fn take_fault(state: &ClusterState, method: &Method, path: &str) -> Option<Response> {
    let mut faults = state.faults.lock().ok()?;
    let index = faults
        .iter()
        .position(|f| f.method == *method && path.contains(&f.path_contains))?;
    faults.remove(index);
    Some(ApiError::internal("injected fault (sandbox test hook)").into_response())
}

async fn self_subject_access_review(
    State(_state): State<Arc<ClusterState>>,
    request: axum::extract::Request,
) -> Response {
    let identity = request
        .extensions()
        .get::<Identity>()
        .cloned()
        .unwrap_or(Identity::Viewer);
    let bytes = match to_bytes(request.into_body(), crate::rest::MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return ApiError::too_large(crate::rest::MAX_BODY).into_response(),
    };
    let mut review: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => return ApiError::bad_request(format!("invalid body: {e}")).into_response(),
    };
    let attributes = review["spec"]
        .get("resourceAttributes")
        .or_else(|| review["spec"].get("nonResourceAttributes"));
    let Some(verb) = attributes.and_then(|a| a["verb"].as_str()) else {
        return ApiError::bad_request(
            "SelfSubjectAccessReview: spec.resourceAttributes or spec.nonResourceAttributes is required",
        )
        .into_response();
    };
    let allowed = identity.allows(verb) || (verb == "*" && identity.allows("create"));
    review["status"] = if allowed {
        json!({"allowed": true, "reason": "sandbox: full rights"})
    } else {
        json!({"allowed": false, "reason": "sandbox: the viewer may only read"})
    };
    if review["apiVersion"].is_null() {
        review["apiVersion"] = json!("authorization.k8s.io/v1");
        review["kind"] = json!("SelfSubjectAccessReview");
    }
    (
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from(review.to_string()),
    )
        .into_response()
}

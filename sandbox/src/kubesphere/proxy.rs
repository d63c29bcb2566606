//! The API server's service proxy, `/api/v1/namespaces/{ns}/services/{name}/proxy/...`, with
//! the one backend a sandbox cluster runs: ks-apiserver, answering what a KubeSphere host
//! asks a member while validating and joining it.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::KUBESPHERE_VERSION;
use crate::ClusterState;
use crate::errors::ApiError;
use crate::store::ObjectKey;

/// `namespaces/{ns}/services/{svc}/proxy[/path]` → (ns, service name, path).
pub(crate) fn parse(rest: &str) -> Option<(&str, &str, String)> {
    let mut parts = rest.splitn(6, '/');
    let (Some("namespaces"), Some(ns), Some("services"), Some(service), Some("proxy")) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    Some((ns, service, format!("/{}", parts.next().unwrap_or(""))))
}

/// `[scheme:]name[:port]`, as kube-apiserver accepts in the proxy path.
fn service_name(spec: &str) -> &str {
    match spec.split(':').collect::<Vec<_>>().as_slice() {
        [name] | [name, _] if !name.is_empty() => name,
        [_, name, _] | [name, ..] => name,
        _ => spec,
    }
}

pub(crate) fn serve(state: &ClusterState, ns: &str, service_spec: &str, path: &str) -> Response {
    let name = service_name(service_spec);
    let Ok(db) = state.db.lock() else {
        return ApiError::internal("state lock poisoned").into_response();
    };
    if db
        .store
        .get(&ObjectKey::new("", "services", ns, name))
        .is_none()
    {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("services \"{name}\" not found"),
        )
        .into_response();
    }
    let config = db
        .store
        .get(&ObjectKey::new(
            "",
            "configmaps",
            "kubesphere-system",
            "kubesphere-config",
        ))
        .and_then(|cm| cm.pointer("/data/kubesphere.yaml"))
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string();
    drop(db);
    if (ns, name) != ("kubesphere-system", "ks-apiserver") || config.is_empty() {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            format!("no endpoints available for service \"{name}\""),
        )
        .into_response();
    }
    match path {
        "/kapis/version" => axum::Json(json!({
            "gitVersion": KUBESPHERE_VERSION,
            "gitMajor": "3",
            "gitMinor": "4",
            "gitCommit": "3e0493a1c5e1c4413a7b77e8b408d428220ed929",
            "gitTreeState": "clean",
            "buildDate": "2023-10-31T03:00:00Z",
            "goVersion": "go1.19.2",
            "compiler": "gc",
            "platform": "linux/amd64",
            "kubernetes": {"major": "1", "minor": "33", "gitVersion": crate::GIT_VERSION, "platform": "linux/amd64"},
        }))
        .into_response(),
        "/kapis/config.kubesphere.io/v1alpha2/configs/configz" => {
            let multicluster = !config.contains("clusterRole: none");
            axum::Json(json!({"multicluster": multicluster, "authentication": true, "authorization": true, "network": false, "devops": false, "monitoring": false, "logging": false, "openpitrix": false, "servicemesh": false, "alerting": false, "auditing": false, "events": false, "notification": false, "gateway": false})).into_response()
        }
        // ks-apiserver's own router answers unknown paths with a plain 404.
        _ => (StatusCode::NOT_FOUND, "404 page not found\n").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_paths_and_service_names() {
        let (ns, svc, path) =
            parse("namespaces/kubesphere-system/services/:ks-apiserver:/proxy/kapis/version")
                .unwrap();
        assert_eq!(
            (ns, svc, path.as_str()),
            ("kubesphere-system", ":ks-apiserver:", "/kapis/version")
        );
        assert_eq!(parse("namespaces/a/services/b/proxy").unwrap().2, "/");
        assert!(parse("namespaces/a/configmaps/b").is_none());
        for spec in [
            ":ks-apiserver:",
            "ks-apiserver",
            "ks-apiserver:80",
            "http:ks-apiserver:",
            "https:ks-apiserver:443",
        ] {
            assert_eq!(service_name(spec), "ks-apiserver", "{spec}");
        }
    }
}

//! The built-in kinds a sandbox cluster serves, and the Go type of each as k8s-openapi has it
//! (generated from kube-apiserver's own OpenAPI document): what strict decoding of a built-in
//! object compares it with ([`typed_round_trip`]).

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::coordination::v1 as coordination;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::policy::v1 as policy;
use k8s_openapi::api::rbac::v1 as rbac;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{CRD_GROUP, RBAC_GROUP, ResourceKind};

pub const APPS_GROUP: &str = "apps";
pub const POLICY_GROUP: &str = "policy";
pub const COORDINATION_GROUP: &str = "coordination.k8s.io";

fn builtin(
    group: &str,
    kind: &str,
    plural: &str,
    short: &[&str],
    namespaced: bool,
    status: bool,
) -> ResourceKind {
    ResourceKind {
        group: group.to_string(),
        versions: vec!["v1".to_string()],
        kind: kind.to_string(),
        list_kind: format!("{kind}List"),
        plural: plural.to_string(),
        singular: kind.to_lowercase(),
        short_names: short.iter().map(|s| s.to_string()).collect(),
        namespaced,
        status_subresource: status,
        crd: None,
        schema: None,
    }
}

/// Every built-in kind, before any CRD exists: what Tandem reads and writes, and what its
/// Kubernetes manifests (deploy/) hold, so that `kubectl apply --dry-run=server` of them is
/// answered as a real cluster answers it.
pub(super) fn kinds() -> Vec<ResourceKind> {
    vec![
        builtin("", "Namespace", "namespaces", &["ns"], false, true),
        builtin("", "Node", "nodes", &["no"], false, true),
        builtin("", "Secret", "secrets", &[], true, false),
        builtin("", "ConfigMap", "configmaps", &["cm"], true, false),
        builtin(
            "",
            "ServiceAccount",
            "serviceaccounts",
            &["sa"],
            true,
            false,
        ),
        builtin("", "Service", "services", &["svc"], true, true),
        builtin("", "Event", "events", &["ev"], true, false),
        builtin(RBAC_GROUP, "ClusterRole", "clusterroles", &[], false, false),
        builtin(
            RBAC_GROUP,
            "ClusterRoleBinding",
            "clusterrolebindings",
            &[],
            false,
            false,
        ),
        builtin(RBAC_GROUP, "Role", "roles", &[], true, false),
        builtin(RBAC_GROUP, "RoleBinding", "rolebindings", &[], true, false),
        builtin(
            CRD_GROUP,
            "CustomResourceDefinition",
            "customresourcedefinitions",
            &["crd", "crds"],
            false,
            true,
        ),
        // Stored and validated (crate::workloads), never run: the sandbox has no controllers
        // or kubelet, so a Deployment makes no ReplicaSet and its status stays empty.
        builtin(
            APPS_GROUP,
            "Deployment",
            "deployments",
            &["deploy"],
            true,
            true,
        ),
        builtin(
            POLICY_GROUP,
            "PodDisruptionBudget",
            "poddisruptionbudgets",
            &["pdb"],
            true,
            true,
        ),
        // Leader election among console replicas (fleet::leader): resourceVersion-checked
        // replaces are all a Lease needs; nothing expires it but its readers.
        builtin(COORDINATION_GROUP, "Lease", "leases", &[], true, false),
    ]
}

/// `object` decoded into its kind's Go type and encoded again: the fields kube-apiserver
/// keeps of it (with the type's own spelling). `None` for a kind without a typed form here
/// (custom resources; CustomResourceDefinitions, whose schemas are checked when served) and
/// for an object that does not decode (a value of the wrong type). A real server refuses the
/// latter with Go's decoding error; the sandbox leaves it unchecked instead, so that a value
/// Go reads and k8s-openapi might not is never refused here.
pub fn typed_round_trip(kind: &ResourceKind, object: &Value) -> Option<Value> {
    fn round<T: DeserializeOwned + Serialize>(object: Value) -> Option<Value> {
        let typed: T = serde_json::from_value(object).ok()?;
        serde_json::to_value(typed).ok()
    }
    if kind.crd.is_some() {
        return None;
    }
    // k8s-openapi checks apiVersion and kind; a built-in body may leave them out (the URL
    // names them), so they are the URL's here.
    let mut object = object.clone();
    let map = object.as_object_mut()?;
    map.insert("apiVersion".into(), Value::String(kind.api_version("v1")));
    map.insert("kind".into(), Value::String(kind.kind.clone()));
    match (kind.group.as_str(), kind.kind.as_str()) {
        ("", "Namespace") => round::<core::Namespace>(object),
        ("", "Node") => round::<core::Node>(object),
        ("", "Secret") => round::<core::Secret>(object),
        ("", "ConfigMap") => round::<core::ConfigMap>(object),
        ("", "ServiceAccount") => round::<core::ServiceAccount>(object),
        ("", "Service") => round::<core::Service>(object),
        ("", "Event") => round::<core::Event>(object),
        (RBAC_GROUP, "ClusterRole") => round::<rbac::ClusterRole>(object),
        (RBAC_GROUP, "ClusterRoleBinding") => round::<rbac::ClusterRoleBinding>(object),
        (RBAC_GROUP, "Role") => round::<rbac::Role>(object),
        (RBAC_GROUP, "RoleBinding") => round::<rbac::RoleBinding>(object),
        (APPS_GROUP, "Deployment") => round::<apps::Deployment>(object),
        (POLICY_GROUP, "PodDisruptionBudget") => round::<policy::PodDisruptionBudget>(object),
        (COORDINATION_GROUP, "Lease") => round::<coordination::Lease>(object),
        _ => None,
    }
}

//! KubeSphere 3.4's objects as Tandem reads them, typed (docs/KUBESPHERE.md section 1).
//!
//! Fields that hold secrets (a Cluster's `spec.connection.kubeconfig`) are deliberately not
//! declared: they are never deserialised, so they can never be logged or sent on.

use kube::CustomResource;
use serde::{Deserialize, Serialize};

/// The label KubeSphere puts on the `Cluster` that is the host itself.
pub const HOST_CLUSTER_LABEL: &str = "cluster-role.kubesphere.io/host";

/// `clusters.cluster.kubesphere.io`: one per cluster a host manages (itself included).
#[derive(CustomResource, Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[kube(
    group = "cluster.kubesphere.io",
    version = "v1alpha1",
    kind = "Cluster",
    plural = "clusters",
    status = "ClusterStatus",
    schema = "disabled"
)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSpec {
    #[serde(default)]
    pub join_federation: bool,
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub connection: Option<ClusterConnection>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClusterConnection {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(rename = "kubernetesAPIEndpoint", default)]
    pub kubernetes_api_endpoint: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClusterStatus {
    #[serde(default)]
    pub conditions: Vec<ClusterCondition>,
    #[serde(default)]
    pub kubernetes_version: Option<String>,
    #[serde(default)]
    pub kube_sphere_version: Option<String>,
    #[serde(default)]
    pub node_count: Option<i64>,
    /// UID of the cluster's kube-system namespace: its identity.
    #[serde(default)]
    pub uid: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClusterCondition {
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub last_transition_time: Option<String>,
}

impl ClusterCondition {
    /// Whether the condition is good news: `True`, except for the one KubeSphere sets when
    /// the member's certificate expires within seven days.
    pub fn is_healthy(&self) -> bool {
        (self.status == "True") != (self.kind == "KubeConfigCertExpiresInSevenDays")
    }
}

impl Cluster {
    /// KubeSphere's console reads readiness from the `Ready` condition.
    pub fn is_ready(&self) -> bool {
        self.status.as_ref().is_some_and(|s| {
            s.conditions
                .iter()
                .any(|c| c.kind == "Ready" && c.status == "True")
        })
    }

    pub fn is_host(&self) -> bool {
        self.metadata
            .labels
            .as_ref()
            .is_some_and(|l| l.contains_key(HOST_CLUSTER_LABEL))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_cluster_without_keeping_its_kubeconfig() {
        let json = serde_json::json!({
            "apiVersion": "cluster.kubesphere.io/v1alpha1", "kind": "Cluster",
            "metadata": {"name": "member", "labels": {"cluster.kubesphere.io/group": "production"}},
            "spec": {"joinFederation": true, "connection": {"type": "direct", "kubeconfig": "c2VjcmV0", "kubernetesAPIEndpoint": "https://10.0.0.1:6443"}},
            "status": {"conditions": [{"type": "Ready", "status": "True"}], "uid": "abc"}
        });
        let cluster: Cluster = serde_json::from_value(json).unwrap();
        assert!(cluster.is_ready());
        assert!(!cluster.is_host());
        assert_eq!(cluster.status.as_ref().unwrap().uid.as_deref(), Some("abc"));
        let back = serde_json::to_string(&cluster).unwrap();
        assert!(
            !back.contains("c2VjcmV0"),
            "the kubeconfig must not survive: {back}"
        );
    }
}

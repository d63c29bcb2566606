//! The names, labels and shapes of what a join creates (docs/KUBESPHERE.md 2.5), in one place so
//! that the join, its removal and the checks agree on them.

use kube::CustomResource;
use kube::api::{ApiResource, GroupVersionKind};
use serde::{Deserialize, Serialize};

/// kubefed's namespace, on the host and on the member.
pub const FEDERATION_NAMESPACE: &str = "kube-federation-system";
/// The label holding a cluster's group (production, development, testing, demo).
pub const GROUP_LABEL: &str = "cluster.kubesphere.io/group";
/// KubeSphere's cluster controller finalizer; Tandem removes it once a removal is done.
pub const CLUSTER_FINALIZER: &str = "finalizer.cluster.kubesphere.io";
/// On a member's token secret: the kube-system UID of the host that holds the token. Each
/// host gets its own token (KubeSphere shares one between hosts), so removing the cluster from
/// one host revokes that host's access only.
pub const JOINED_BY_HOST_LABEL: &str = "tandem.io/joined-by-host";
/// On the host's `Cluster`: Tandem joined it with an `insecure-skip-tls-verify` kubeconfig.
pub const INSECURE_ANNOTATION: &str = "tandem.io/insecure-skip-tls-verify";
pub const SERVICE_ACCOUNT_TOKEN: &str = "kubernetes.io/service-account-token";
pub const SERVICE_ACCOUNT_NAME_ANNOTATION: &str = "kubernetes.io/service-account.name";
/// The groups the console's form offers (ks-console `CLUSTER_PRESET_GROUPS`).
pub const PRESET_GROUPS: [&str; 4] = ["production", "development", "testing", "demo"];

/// `<cluster>-kubesphere`: the member's service account the host's kubefed acts as.
pub fn service_account(cluster: &str) -> String {
    format!("{cluster}-kubesphere")
}

/// `kubefed-controller-manager:<cluster>-kubesphere`: the member's full-rights ClusterRole
/// and its binding.
pub fn join_role(cluster: &str) -> String {
    format!("kubefed-controller-manager:{}", service_account(cluster))
}

/// `<cluster>-secret`: the host's copy of the member token.
pub fn host_secret(cluster: &str) -> String {
    format!("{cluster}-secret")
}

/// The member token secret of one host: deterministic, so a retried join finds it again.
pub fn token_secret(cluster: &str, host_uid: &str) -> String {
    let short: String = host_uid
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(10)
        .collect::<String>()
        .to_ascii_lowercase();
    format!("{}-token-{short}", service_account(cluster))
}

/// `kubefedclusters.core.kubefed.io`: how the host's kubefed reaches a member.
#[derive(CustomResource, Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[kube(
    group = "core.kubefed.io",
    version = "v1beta1",
    kind = "KubeFedCluster",
    plural = "kubefedclusters",
    namespaced,
    status = "KubeFedClusterStatus",
    schema = "disabled"
)]
#[serde(rename_all = "camelCase")]
pub struct KubeFedClusterSpec {
    pub api_endpoint: String,
    /// Base64 of the PEM CA bundle (a Go `[]byte`); empty when TLS is not validated.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ca_bundle: String,
    pub secret_ref: SecretRef,
    /// `["*"]` for a kubeconfig with `insecure-skip-tls-verify: true`.
    #[serde(
        rename = "disabledTLSValidations",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub disabled_tls_validations: Vec<String>,
}

/// What kubefed's cluster controller last saw of the member (`/healthz` every 10 s).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct KubeFedClusterStatus {
    #[serde(default)]
    pub conditions: Vec<crate::kubesphere::ClusterCondition>,
}

impl KubeFedCluster {
    /// `Ready` and its reason and message, e.g. (true, "ClusterReady: /healthz responded with ok").
    pub fn readiness(&self) -> Option<(bool, String)> {
        let ready = self
            .status
            .as_ref()?
            .conditions
            .iter()
            .find(|c| c.kind == "Ready")?;
        let why = [ready.reason.clone(), ready.message.clone()]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(": ");
        Some((ready.status == "True", why))
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct SecretRef {
    pub name: String,
}

/// The `Cluster` kind for writes: the typed [`crate::kubesphere::Cluster`] leaves the
/// kubeconfig out on purpose, and writing one needs it.
pub fn cluster_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("cluster.kubesphere.io", "v1alpha1", "Cluster"),
        "clusters",
    )
}

/// A member's `Workspace` (tenant.kubesphere.io/v1alpha1).
pub fn member_workspace_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("tenant.kubesphere.io", "v1alpha1", "Workspace"),
        "workspaces",
    )
}

/// A host's `FederatedWorkspace` (types.kubefed.io/v1beta1), with its placement.
pub fn federated_workspace_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("types.kubefed.io", "v1beta1", "FederatedWorkspace"),
        "federatedworkspaces",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_kubesphere() {
        assert_eq!(service_account("prod"), "prod-kubesphere");
        assert_eq!(
            join_role("prod"),
            "kubefed-controller-manager:prod-kubesphere"
        );
        assert_eq!(host_secret("prod"), "prod-secret");
        assert_eq!(
            token_secret("prod", "0F2A-77b1-4c2d-9e8f-aa00"),
            "prod-kubesphere-token-0f2a77b14c"
        );
    }
}

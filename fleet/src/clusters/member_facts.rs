//! The add-cluster checks that read KubeSphere itself (docs/KUBESPHERE.md 2.2): is the cluster new
//! to this host, does it run KubeSphere as a member, and does it share the host's jwtSecret.
//! Secrets are compared in memory and never leave this module.

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::{Api, Client};

use crate::kubesphere::Cluster;

/// What `kubesphere-config` says about a cluster.
#[derive(Clone, PartialEq)]
pub struct KubeSphereConfig {
    /// `multicluster.clusterRole`: host, member or none (absent means none).
    pub cluster_role: String,
    /// `multicluster.clusterName`, written by the last host that joined the cluster.
    pub cluster_name: Option<String>,
    jwt_secret: Option<String>,
}

impl std::fmt::Debug for KubeSphereConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeSphereConfig")
            .field("cluster_role", &self.cluster_role)
            .field("cluster_name", &self.cluster_name)
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| "<hidden>"))
            .finish()
    }
}

impl KubeSphereConfig {
    /// Reads `kubesphere.yaml` as ks-apiserver does; `None` if it is not YAML at all.
    pub fn parse(yaml: &str) -> Option<Self> {
        let value: serde_norway::Value = serde_norway::from_str(yaml).ok()?;
        let text = |a: &str, b: &str| {
            value
                .get(a)
                .and_then(|v| v.get(b))
                .and_then(|v| v.as_str())
                .map(String::from)
        };
        Some(Self {
            cluster_role: text("multicluster", "clusterRole").unwrap_or_else(|| "none".into()),
            cluster_name: text("multicluster", "clusterName"),
            jwt_secret: text("authentication", "jwtSecret").filter(|s| !s.is_empty()),
        })
    }
}

/// How two clusters' jwtSecrets compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtComparison {
    Same,
    Different,
    /// One side has none configured (ks-installer then generates one at install time).
    Missing,
}

pub fn compare_jwt_secrets(host: &KubeSphereConfig, member: &KubeSphereConfig) -> JwtComparison {
    match (&host.jwt_secret, &member.jwt_secret) {
        (Some(a), Some(b)) if constant_time_eq(a.as_bytes(), b.as_bytes()) => JwtComparison::Same,
        (Some(_), Some(_)) => JwtComparison::Different,
        _ => JwtComparison::Missing,
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `kubesphere-system/kubesphere-config`, or `None` when KubeSphere is not installed.
pub async fn read_kubesphere_config(
    client: &Client,
) -> Result<Option<KubeSphereConfig>, kube::Error> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "kubesphere-system");
    Ok(api
        .get_opt("kubesphere-config")
        .await?
        .and_then(|cm| cm.data)
        .and_then(|data| {
            data.get("kubesphere.yaml")
                .and_then(|y| KubeSphereConfig::parse(y))
        }))
}

/// ks-apiserver's version through the API server's service proxy, as a KubeSphere host asks
/// it; `None` when nothing answers there.
pub async fn kubesphere_version(client: &Client) -> Result<Option<String>, kube::Error> {
    let request = http::Request::get(
        "/api/v1/namespaces/kubesphere-system/services/:ks-apiserver:/proxy/kapis/version",
    )
    .body(Vec::new())
    .map_err(kube::Error::HttpError)?;
    match client.request_text(request).await {
        Ok(text) => Ok(serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["gitVersion"].as_str().map(String::from))),
        Err(kube::Error::Api(status)) if matches!(status.code, 404 | 503) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The cluster's identity: the UID of its kube-system namespace.
pub async fn kube_system_uid(client: &Client) -> Result<String, kube::Error> {
    let ns = Api::<Namespace>::all(client.clone())
        .get("kube-system")
        .await?;
    Ok(ns.metadata.uid.unwrap_or_default())
}

/// The host's `Cluster` already standing for the cluster with this identity, if any.
pub async fn existing_cluster_with_uid(
    host: &Client,
    uid: &str,
) -> Result<Option<String>, kube::Error> {
    let clusters = Api::<Cluster>::all(host.clone())
        .list(&Default::default())
        .await?;
    Ok(clusters
        .items
        .into_iter()
        .find(|c| c.status.as_ref().and_then(|s| s.uid.as_deref()) == Some(uid))
        .and_then(|c| c.metadata.name))
}

/// The names under which hosts have joined this cluster, read from what a KubeSphere join
/// leaves on it: a `<name>-kubesphere` service account in `kube-federation-system` bound by
/// `kubefed-controller-manager:<name>-kubesphere`. KubeSphere refuses such a cluster; Tandem
/// tells who manages it and lets the user join it as a second host on purpose.
pub async fn existing_joins(member: &Client) -> Result<Vec<String>, kube::Error> {
    use k8s_openapi::api::core::v1::ServiceAccount;
    use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
    let accounts = match Api::<ServiceAccount>::namespaced(member.clone(), "kube-federation-system")
        .list(&Default::default())
        .await
    {
        Ok(list) => list.items,
        Err(kube::Error::Api(status)) if status.code == 404 => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let bindings = Api::<ClusterRoleBinding>::all(member.clone());
    let mut joins = Vec::new();
    for account in accounts {
        let Some(sa) = account.metadata.name else {
            continue;
        };
        let Some(cluster) = sa.strip_suffix("-kubesphere") else {
            continue;
        };
        if bindings
            .get_opt(&format!("kubefed-controller-manager:{sa}"))
            .await?
            .is_some()
        {
            joins.push(cluster.to_string());
        }
    }
    Ok(joins)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_role_name_and_secret_without_showing_it() {
        let config = KubeSphereConfig::parse("authentication:\n  jwtSecret: \"abc123\"\nmulticluster:\n  clusterRole: member\n  clusterName: prod\n").unwrap();
        assert_eq!(config.cluster_role, "member");
        assert_eq!(config.cluster_name.as_deref(), Some("prod"));
        assert!(!format!("{config:?}").contains("abc123"));
        let none = KubeSphereConfig::parse("authentication: {}\n").unwrap();
        assert_eq!(none.cluster_role, "none");
    }

    #[test]
    fn jwt_secrets_compare() {
        let with = |s: &str| {
            KubeSphereConfig::parse(&format!("authentication:\n  jwtSecret: \"{s}\"\n")).unwrap()
        };
        assert_eq!(
            compare_jwt_secrets(&with("a"), &with("a")),
            JwtComparison::Same
        );
        assert_eq!(
            compare_jwt_secrets(&with("a"), &with("b")),
            JwtComparison::Different
        );
        assert_eq!(
            compare_jwt_secrets(&with("a"), &with("")),
            JwtComparison::Missing
        );
    }
}

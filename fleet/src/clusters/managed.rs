//! A member as its host lists it: KubeSphere's `Cluster`, with what this console adds (its own
//! reach, kubefed's view, the state history).

/// A cluster a host manages, as its `Cluster` object says.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct ManagedCluster {
    pub name: String,
    pub ready: bool,
    /// The host itself (KubeSphere joins every host to itself).
    pub is_host: bool,
    pub kubernetes_version: Option<String>,
    pub kubesphere_version: Option<String>,
    pub provider: Option<String>,
    /// `cluster.kubesphere.io/group`.
    pub group: Option<String>,
    pub description: Option<String>,
    pub node_count: Option<i64>,
    /// The `Ready` condition's reason and message when it is not True; `None` also before
    /// KubeSphere wrote one (the join has not finished).
    pub not_ready_reason: Option<String>,
    /// The client certificate's expiry as KubeSphere records it (Go time text), if any.
    pub certificate_expiry: Option<String>,
    /// KubeSphere's `KubeConfigCertExpiresInSevenDays` is True.
    pub certificate_expires_soon: bool,
    /// Joined with `insecure-skip-tls-verify` (Tandem's annotation).
    pub insecure: bool,
    /// When the `Cluster` was created (RFC 3339).
    pub joined_at: Option<String>,
    pub api_endpoint: Option<String>,
    pub conditions: Vec<crate::kubesphere::ClusterCondition>,
    /// Whether this console reaches the member itself (`None` for the host's own entry and
    /// before the first try).
    pub reach: Option<crate::clusters::reach::MemberReach>,
    /// kubefed's view from its `KubeFedCluster`: Ready, and the reason.
    pub federation: Option<(bool, String)>,
    /// How its state changed while this console watched, oldest first.
    pub history: Vec<crate::clusters::history::StateChange>,
}

impl ManagedCluster {
    pub fn from_cluster(c: &crate::kubesphere::Cluster) -> Self {
        let status = c.status.clone().unwrap_or_default();
        let condition = |kind: &str| status.conditions.iter().find(|x| x.kind == kind);
        let annotation = |key: &str| {
            c.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(key))
                .cloned()
        };
        let not_ready_reason = match condition("Ready") {
            Some(r) if r.status == "True" => None,
            Some(r) => Some(
                [r.reason.clone(), r.message.clone()]
                    .into_iter()
                    .flatten()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(": "),
            ),
            // No Ready condition yet: the join has not finished (the page says so).
            None => None,
        };
        let certificate = condition("KubeConfigCertExpiresInSevenDays");
        Self {
            name: c.metadata.name.clone().unwrap_or_default(),
            ready: c.is_ready(),
            is_host: c.is_host(),
            kubernetes_version: status.kubernetes_version.clone(),
            kubesphere_version: status.kube_sphere_version.clone(),
            provider: c.spec.provider.clone().filter(|p| !p.is_empty()),
            group: c
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(crate::clusters::objects::GROUP_LABEL))
                .cloned(),
            description: annotation(crate::iam::resources::DESCRIPTION_ANNOTATION),
            node_count: status.node_count,
            not_ready_reason,
            certificate_expiry: certificate
                .and_then(|x| x.message.clone())
                .filter(|m| !m.is_empty()),
            certificate_expires_soon: certificate.is_some_and(|x| x.status == "True"),
            insecure: annotation(crate::clusters::objects::INSECURE_ANNOTATION).as_deref()
                == Some("true"),
            joined_at: c
                .metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.to_string()),
            api_endpoint: c
                .spec
                .connection
                .as_ref()
                .and_then(|x| x.kubernetes_api_endpoint.clone()),
            conditions: status.conditions.clone(),
            reach: None,
            federation: None,
            history: Vec::new(),
        }
    }
}

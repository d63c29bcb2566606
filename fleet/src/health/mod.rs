//! Reachability of the configured host clusters, probed in the background.
//!
//! Pages and `/readyz` read the latest snapshot instead of calling the clusters themselves, so
//! a slow or dead host never slows a page down and a burst of requests never floods a cluster.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use kube::Client;
use kube::config::KubeConfigOptions;

use crate::config::{HostCredentials, HostSpec};

mod monitor;
pub use monitor::HostMonitor;

/// Longest wait for one `/version` answer; a host slower than this counts as unreachable.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(4);

/// The last known health of one host.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HostHealth {
    pub name: String,
    /// The API server URL, without credentials.
    pub server: Option<String>,
    pub state: HostState,
    /// When the state was last measured; `None` before the first probe finished.
    pub checked_at: Option<SystemTime>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum HostState {
    /// Not probed yet (the console just started).
    Pending,
    Reachable {
        /// Kubernetes `gitVersion`, e.g. `v1.33.2`.
        version: String,
        platform: String,
        round_trip: Duration,
        /// The clusters this host manages (its KubeSphere `Cluster` objects, itself included);
        /// `None` when KubeSphere's Cluster API is not there or may not be read.
        clusters: Option<Vec<ManagedCluster>>,
    },
    Unreachable(ProbeFailure),
}

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
    /// The `Ready` condition's reason and message when it is not True.
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
    pub reach: Option<crate::member_reach::MemberReach>,
    /// kubefed's view from its `KubeFedCluster`: Ready, and the reason.
    pub federation: Option<(bool, String)>,
    /// How its state changed while this console watched, oldest first.
    pub history: Vec<crate::cluster_history::StateChange>,
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
            None => Some("no Ready condition yet: the join has not finished".into()),
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

/// Why a host did not answer, in terms an operator can act on.
#[derive(Debug, Clone, PartialEq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum ProbeFailure {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("connection refused")]
    Refused,
    #[error("the server's certificate is not signed by the CA in the kubeconfig")]
    UnknownCa,
    #[error("the server's certificate has expired")]
    CertificateExpired,
    #[error("the server's certificate is not valid for the address in the kubeconfig")]
    HostnameMismatch,
    #[error("TLS handshake failed: {0}")]
    Tls(String),
    #[error("the credentials were rejected (401)")]
    Unauthorized,
    #[error("the credentials may not read /version (403)")]
    Forbidden,
    #[error("cannot build a client: {0}")]
    Client(String),
    #[error("{0}")]
    Other(String),
    /// The member address policy forbids connecting there (`clusters::address_policy`).
    #[error("the console does not connect there: {0}")]
    AddressRefused(crate::clusters::AddressRefusal),
}

pub(super) fn server_url(host: &HostSpec) -> Option<String> {
    match &host.credentials {
        HostCredentials::InCluster => Some("in-cluster".into()),
        HostCredentials::Kubeconfig {
            context,
            kubeconfig,
            ..
        } => {
            let ctx_name = context
                .as_deref()
                .or(kubeconfig.current_context.as_deref())?;
            let ctx = kubeconfig.contexts.iter().find(|c| c.name == ctx_name)?;
            let cluster_name = &ctx.context.as_ref()?.cluster;
            let cluster = kubeconfig
                .clusters
                .iter()
                .find(|c| &c.name == cluster_name)?;
            cluster.cluster.as_ref()?.server.clone()
        }
    }
}

/// A client for `host`. `read_timeout` is the probe's for probes, and `None` for clients that
/// hold watches open and keep kube's default (a watch reads nothing for minutes when nothing
/// changes).
pub(crate) async fn client_for(
    host: &HostSpec,
    read_timeout: Option<Duration>,
) -> Result<Client, ProbeFailure> {
    let mut config = match &host.credentials {
        HostCredentials::InCluster => kube::Config::incluster()
            .map_err(|e| ProbeFailure::Client(format!("not running in a cluster: {e}")))?,
        HostCredentials::Kubeconfig {
            context,
            kubeconfig,
            ..
        } => {
            let options = KubeConfigOptions {
                context: context.clone(),
                ..Default::default()
            };
            kube::Config::from_custom_kubeconfig((**kubeconfig).clone(), &options)
                .await
                .map_err(|e| ProbeFailure::Client(e.to_string()))?
        }
    };
    config.connect_timeout = Some(PROBE_TIMEOUT);
    if read_timeout.is_some() {
        config.read_timeout = read_timeout;
    }
    Client::try_from(config).map_err(|e| ProbeFailure::Client(e.to_string()))
}

/// One `/version` round trip to the cluster a checked kubeconfig points at, through the
/// member client the wizard uses (so the member address policy holds).
/// `insecure-skip-tls-verify: true` is honoured, never a crash.
pub async fn probe_kubeconfig(
    checked: &crate::kubeconfig_check::CheckedKubeconfig,
    policy: &Arc<crate::clusters::MemberAddressPolicy>,
) -> HostState {
    match crate::clusters::member_client(checked, policy).await {
        Ok(client) => probe(&client).await,
        Err(failure) => HostState::Unreachable(failure),
    }
}

/// What one `/version` round trip found: the version and platform, and how long it took.
pub struct VersionAnswer {
    pub version: String,
    pub platform: String,
    pub round_trip: Duration,
}

/// One `/version` round trip, bounded by [`PROBE_TIMEOUT`]: for hosts, candidate members and
/// joined members alike.
pub async fn probe_version(client: &Client) -> Result<VersionAnswer, ProbeFailure> {
    let started = Instant::now();
    match tokio::time::timeout(PROBE_TIMEOUT, client.apiserver_version()).await {
        Err(_) => Err(ProbeFailure::Timeout(PROBE_TIMEOUT)),
        Ok(Err(err)) => Err(classify(&err)),
        Ok(Ok(info)) => Ok(VersionAnswer {
            version: info.git_version,
            platform: info.platform,
            round_trip: started.elapsed(),
        }),
    }
}

/// One `/version` round trip, then the clusters the host manages.
pub async fn probe(client: &Client) -> HostState {
    match probe_version(client).await {
        Err(failure) => HostState::Unreachable(failure),
        Ok(answer) => reachable(answer, managed_clusters(client).await),
    }
}

pub(super) fn reachable(answer: VersionAnswer, clusters: Option<Vec<ManagedCluster>>) -> HostState {
    HostState::Reachable {
        version: answer.version,
        platform: answer.platform,
        round_trip: answer.round_trip,
        clusters,
    }
}

async fn managed_clusters(client: &Client) -> Option<Vec<ManagedCluster>> {
    let api: kube::Api<crate::kubesphere::Cluster> = kube::Api::all(client.clone());
    let list = tokio::time::timeout(PROBE_TIMEOUT, api.list(&Default::default()))
        .await
        .ok()?
        .ok()?;
    Some(
        list.items
            .iter()
            .map(ManagedCluster::from_cluster)
            .collect(),
    )
}

pub(crate) fn classify(err: &kube::Error) -> ProbeFailure {
    if let kube::Error::Api(status) = err {
        return match status.code {
            401 => ProbeFailure::Unauthorized,
            403 => ProbeFailure::Forbidden,
            // Only the code and a short reason word: the message is the body of whatever
            // answered at an address someone else chose, never echoed back.
            code => {
                let reason: String = status
                    .reason
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .take(40)
                    .collect();
                ProbeFailure::Other(if reason.is_empty() {
                    format!("the server answered HTTP {code}")
                } else {
                    format!("the server answered HTTP {code} ({reason})")
                })
            }
        };
    }
    if let Some(refusal) = crate::clusters::guarded_connect::refusal_in(err) {
        return ProbeFailure::AddressRefused(refusal);
    }
    // Transport errors nest several layers deep (kube, hyper, io, rustls): each layer is
    // looked at by its type, never by its message; the innermost message is only shown.
    let mut innermost = err.to_string();
    let mut tls = false;
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        innermost = e.to_string();
        if let Some(failure) = typed_transport_failure(e) {
            return failure;
        }
        tls |= e.downcast_ref::<rustls::Error>().is_some();
        // An io::Error's `source()` skips the error it wraps: look at that one too.
        current = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    if tls {
        ProbeFailure::Tls(innermost)
    } else {
        ProbeFailure::Other(innermost)
    }
}

/// The failure one layer of a transport error names by its type, if it names one.
fn typed_transport_failure(e: &(dyn std::error::Error + 'static)) -> Option<ProbeFailure> {
    use rustls::CertificateError as Cert;
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        return match io.kind() {
            std::io::ErrorKind::ConnectionRefused => Some(ProbeFailure::Refused),
            std::io::ErrorKind::TimedOut => Some(ProbeFailure::Timeout(PROBE_TIMEOUT)),
            _ => None,
        };
    }
    if e.downcast_ref::<tokio::time::error::Elapsed>().is_some() {
        return Some(ProbeFailure::Timeout(PROBE_TIMEOUT));
    }
    match e.downcast_ref::<rustls::Error>()? {
        rustls::Error::InvalidCertificate(cert) => Some(match cert {
            Cert::UnknownIssuer => ProbeFailure::UnknownCa,
            Cert::Expired | Cert::ExpiredContext { .. } => ProbeFailure::CertificateExpired,
            Cert::NotValidForName | Cert::NotValidForNameContext { .. } => {
                ProbeFailure::HostnameMismatch
            }
            other => ProbeFailure::Tls(format!("the server's certificate: {other:?}")),
        }),
        _ => None,
    }
}

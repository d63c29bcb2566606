//! Reachability of the configured host clusters, probed in the background.
//!
//! Pages and `/readyz` read the latest snapshot instead of calling the clusters themselves, so
//! a slow or dead host never slows a page down and a burst of requests never floods a cluster.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use kube::Client;

use crate::clusters::ManagedCluster;

mod client;
mod deadline;
mod failure;
mod monitor;
pub use client::HostClients;
use client::server_url;
pub use failure::ProbeFailure;
pub(crate) use failure::classify;
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

/// One `/version` round trip to the cluster a checked kubeconfig points at, through the
/// member client the wizard uses (so the member address policy holds).
/// `insecure-skip-tls-verify: true` is honoured, never a crash.
pub async fn probe_kubeconfig(
    checked: &crate::clusters::kubeconfig::CheckedKubeconfig,
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

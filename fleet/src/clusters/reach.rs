//! Can this console reach each member a host manages? (And what does the host's kubefed say
//! of it, from the `KubeFedCluster` status.) Asked with the member kubeconfig the
//! host keeps in its `Cluster` (the one KubeSphere itself uses), alongside each host probe.
//! A `Ready` condition is only as fresh as the host's controller made it, and the sandbox
//! and a stopped controller never update it: this is the console's own observation.
//!
//! The kubeconfigs stay inside this module: only a client built from each is kept, and it is
//! rebuilt when the kubeconfig changes.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use base64::Engine;
use futures_util::future::join_all;
use kube::Client;
use kube::api::{Api, DynamicObject};

use crate::clusters::ManagedCluster;
use crate::clusters::MemberAddressPolicy;
use crate::clusters::kubeconfig::check_kubeconfig;
use crate::clusters::objects::{FEDERATION_NAMESPACE, KubeFedCluster, cluster_resource};
use crate::health::{PROBE_TIMEOUT, ProbeFailure};
use crate::kubesphere::Cluster;

/// What the console saw when it called a member.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum MemberReach {
    Reachable { round_trip_ms: u64 },
    Unreachable(ProbeFailure),
}

/// Clients for the members of every host, keyed by host and cluster. The kubeconfigs come
/// from the hosts' `Cluster`s, which anyone who may edit them chooses: the member address
/// policy holds for them as for the wizard's.
#[derive(Default)]
pub struct MemberClients {
    clients: Mutex<HashMap<(String, String), (u64, Client)>>,
    policy: Arc<MemberAddressPolicy>,
}

impl MemberClients {
    pub fn new(policy: Arc<MemberAddressPolicy>) -> Self {
        Self {
            clients: Mutex::default(),
            policy,
        }
    }

    /// The clusters `host` manages, from one list of its `Cluster`s, each with whether this
    /// console reaches it (the host's own entry excepted) and kubefed's view; `None` when the
    /// host has no Cluster API or may not list it.
    pub async fn managed_clusters(
        &self,
        host: &str,
        host_client: &Client,
    ) -> Option<Vec<ManagedCluster>> {
        let api: Api<DynamicObject> = Api::all_with(host_client.clone(), &cluster_resource());
        let list = tokio::time::timeout(PROBE_TIMEOUT, api.list(&Default::default()))
            .await
            .ok()?
            .ok()?;
        let mut clusters = Vec::with_capacity(list.items.len());
        let mut kubeconfigs: HashMap<String, String> = HashMap::new();
        for object in &list.items {
            // The typed Cluster leaves the kubeconfig out; it stays in this module.
            let Ok(typed) =
                serde_json::to_value(object).and_then(serde_json::from_value::<Cluster>)
            else {
                continue;
            };
            clusters.push(ManagedCluster::from_cluster(&typed));
            if let (Some(name), Some(text)) =
                (object.metadata.name.clone(), stored_kubeconfig(object))
            {
                kubeconfigs.insert(name, text);
            }
        }
        self.annotate(host, host_client, &kubeconfigs, &mut clusters)
            .await;
        Some(clusters)
    }

    /// Adds kubefed's view and this console's reach to each member in `clusters`.
    async fn annotate(
        &self,
        host: &str,
        host_client: &Client,
        kubeconfigs: &HashMap<String, String>,
        clusters: &mut [ManagedCluster],
    ) {
        let kfcs: Api<KubeFedCluster> = Api::namespaced(host_client.clone(), FEDERATION_NAMESPACE);
        if let Ok(Ok(list)) =
            tokio::time::timeout(PROBE_TIMEOUT, kfcs.list(&Default::default())).await
        {
            for kfc in list.items {
                if let Some(cluster) = clusters
                    .iter_mut()
                    .find(|c| Some(&c.name) == kfc.metadata.name.as_ref())
                {
                    cluster.federation = kfc.readiness();
                }
            }
        }
        let mut probes = Vec::new();
        for (i, cluster) in clusters.iter().enumerate() {
            if cluster.is_host {
                continue;
            }
            let reach = match kubeconfigs.get(&cluster.name) {
                None => Err(ProbeFailure::Client(
                    "the host keeps no kubeconfig for it".into(),
                )),
                Some(text) => self.client(host, &cluster.name, text).await,
            };
            probes.push(async move {
                let reach = match reach {
                    Err(failure) => MemberReach::Unreachable(failure),
                    Ok(client) => probe(&client).await,
                };
                (i, reach)
            });
        }
        for (i, reach) in join_all(probes).await {
            clusters[i].reach = Some(reach);
        }
    }

    pub(crate) async fn client(
        &self,
        host: &str,
        cluster: &str,
        kubeconfig: &str,
    ) -> Result<Client, ProbeFailure> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        kubeconfig.hash(&mut hasher);
        let fingerprint = hasher.finish();
        let key = (host.to_string(), cluster.to_string());
        if let Ok(clients) = self.clients.lock()
            && let Some((seen, client)) = clients.get(&key)
            && *seen == fingerprint
        {
            return Ok(client.clone());
        }
        let checked = check_kubeconfig(kubeconfig, None).map_err(|p| {
            ProbeFailure::Client(format!("its stored kubeconfig cannot be used: {p}"))
        })?;
        let client = crate::clusters::member_client(&checked, &self.policy).await?;
        if let Ok(mut clients) = self.clients.lock() {
            clients.insert(key, (fingerprint, client.clone()));
        }
        Ok(client)
    }
}

async fn probe(client: &Client) -> MemberReach {
    match crate::health::probe_version(client).await {
        Ok(answer) => MemberReach::Reachable {
            round_trip_ms: u64::try_from(answer.round_trip.as_millis()).unwrap_or(u64::MAX),
        },
        Err(failure) => MemberReach::Unreachable(failure),
    }
}

/// The member kubeconfig a host keeps in `spec.connection.kubeconfig` (base64).
pub(crate) fn stored_kubeconfig(cluster: &DynamicObject) -> Option<String> {
    let encoded = cluster
        .data
        .pointer("/spec/connection/kubeconfig")?
        .as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    String::from_utf8(bytes).ok()
}

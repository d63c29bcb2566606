//! The leader's probe results, published on the home host for the other replicas: they show
//! the same hosts, members and histories without probing every cluster again. One
//! ConfigMap, `tandem-fleet-health`, rewritten each round; `round` counts rounds so a reader
//! can tell a leader that stopped publishing (the same round for too long) from one that
//! goes on.
//!
//! Nothing secret is in it: the snapshot is what the clusters page shows.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Client;
use kube::api::{Api, ObjectMeta, Patch, PatchParams};

use crate::health::HostHealth;

pub const HEALTH_CONFIGMAP: &str = "tandem-fleet-health";
/// The field manager of Tandem's server-side applies.
const MANAGER: &str = "tandem";

/// One published round.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedRound {
    /// Counts up on every publication of one leader; a new leader starts from the last.
    pub round: u64,
    pub leader: String,
    pub hosts: Vec<HostHealth>,
}

/// Writes `hosts` as round `round` of `leader` (server-side apply: the leader owns it).
pub async fn publish(
    client: &Client,
    namespace: &str,
    round: u64,
    leader: &str,
    hosts: &[HostHealth],
) -> Result<(), kube::Error> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let snapshot = serde_json::to_string(hosts).map_err(kube::Error::SerdeError)?;
    let map = ConfigMap {
        metadata: ObjectMeta {
            name: Some(HEALTH_CONFIGMAP.into()),
            labels: Some(BTreeMap::from([(
                "app.kubernetes.io/managed-by".to_string(),
                "tandem".to_string(),
            )])),
            ..Default::default()
        },
        data: Some(BTreeMap::from([
            ("round".to_string(), round.to_string()),
            ("leader".to_string(), leader.to_string()),
            ("hosts".to_string(), snapshot),
        ])),
        ..Default::default()
    };
    let mut value = serde_json::to_value(&map).map_err(kube::Error::SerdeError)?;
    value["apiVersion"] = "v1".into();
    value["kind"] = "ConfigMap".into();
    api.patch(
        HEALTH_CONFIGMAP,
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(value),
    )
    .await
    .map(|_| ())
}

/// The last published round, if there is one this version can read.
pub async fn read(client: &Client, namespace: &str) -> Result<Option<PublishedRound>, kube::Error> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let Some(data) = api.get_opt(HEALTH_CONFIGMAP).await?.and_then(|m| m.data) else {
        return Ok(None);
    };
    let round = data.get("round").and_then(|r| r.parse().ok());
    let hosts = data.get("hosts").and_then(|h| serde_json::from_str(h).ok());
    Ok(match (round, hosts) {
        (Some(round), Some(hosts)) => Some(PublishedRound {
            round,
            leader: data.get("leader").cloned().unwrap_or_default(),
            hosts,
        }),
        _ => None,
    })
}

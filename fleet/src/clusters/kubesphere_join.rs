//! Joining next to KubeSphere's own cluster controller.
//!
//! A real host runs ks-controller-manager, whose cluster controller joins every `Cluster` with
//! `joinFederation: true` and re-runs that join every two minutes (v3.4.1
//! `pkg/controller/cluster/join.go`): it replaces the host's `<name>-secret` with the token of
//! the member service account's first token secret, and the `KubeFedCluster`'s spec. A join
//! of Tandem's beside it would race it, and a per-host token of Tandem's would be replaced
//! within two minutes. So Tandem writes the `Cluster` first, as ks-console does, and watches
//! for the controller's finalizer, which it adds at once:
//! - it comes: KubeSphere does the kubefed part; Tandem waits for its `Federated` condition
//!   and reads back what it made (hosts that share the member under one name then share
//!   KubeSphere's credential, as they do with ks-console);
//! - it does not: no controller runs there, and Tandem does the join itself, with a token of
//!   its own for each host.

use std::time::Duration;

use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use kube::api::{Api, DynamicObject};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;

use super::actions::{ActionResult, Actions, Side};
use super::objects::*;

/// KubeSphere's controller adds its finalizer within a second of seeing a new `Cluster`.
pub const CONTROLLER_GRACE: Duration = Duration::from_secs(5);
/// How long KubeSphere's join may take (it waits up to 30 s for the member's token alone).
pub const KUBESPHERE_JOIN_WAIT: Duration = Duration::from_secs(60);

/// How long to watch for the controller: [`CONTROLLER_GRACE`] when it runs on the host (it
/// put its finalizer on another `Cluster` there, the host's own at least), none otherwise.
pub(super) async fn controller_grace(
    clusters: &Api<DynamicObject>,
    name: &str,
) -> Result<Duration, kube::Error> {
    let runs = clusters
        .list(&Default::default())
        .await?
        .items
        .iter()
        .any(|c| {
            c.metadata.name.as_deref() != Some(name)
                && c.metadata
                    .finalizers
                    .as_ref()
                    .is_some_and(|f| f.iter().any(|f| f == CLUSTER_FINALIZER))
        });
    Ok(if runs {
        CONTROLLER_GRACE
    } else {
        Duration::ZERO
    })
}

/// Whether KubeSphere's cluster controller took up the `Cluster` (its finalizer appeared).
pub(super) async fn controller_took_it(
    clusters: &Api<DynamicObject>,
    name: &str,
    grace: Duration,
) -> Result<bool, kube::Error> {
    let deadline = tokio::time::Instant::now() + grace;
    loop {
        let finalized = clusters.get_opt(name).await?.is_some_and(|c| {
            c.metadata
                .finalizers
                .unwrap_or_default()
                .iter()
                .any(|f| f == CLUSTER_FINALIZER)
        });
        if finalized || tokio::time::Instant::now() >= deadline {
            return Ok(finalized);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// How KubeSphere's join ended, from the `Cluster`'s `Federated` condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KubeSphereJoin {
    Joined,
    /// `Federated=False`, with KubeSphere's reason.
    Failed(String),
    /// No verdict within [`KUBESPHERE_JOIN_WAIT`].
    NoVerdict,
}

pub(super) async fn wait_for_kubesphere(
    clusters: &Api<DynamicObject>,
    name: &str,
    wait: Duration,
) -> Result<KubeSphereJoin, kube::Error> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if let Some(cluster) = clusters.get_opt(name).await?
            && let Some(federated) = cluster
                .data
                .pointer("/status/conditions")
                .and_then(|c| c.as_array())
                .and_then(|c| c.iter().find(|c| c["type"] == "Federated"))
        {
            match federated["status"].as_str() {
                Some("True") => return Ok(KubeSphereJoin::Joined),
                Some("False") => {
                    return Ok(KubeSphereJoin::Failed(
                        federated["reason"].as_str().unwrap_or_default().to_string(),
                    ));
                }
                _ => {}
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(KubeSphereJoin::NoVerdict);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Reads back what KubeSphere's join made, reporting each object as made by KubeSphere, or
/// as failed when it is missing.
pub(super) async fn report_what_kubesphere_made(
    actions: &mut Actions<'_>,
    host: &Client,
    member: &Client,
    name: &str,
) -> Result<(), kube::Error> {
    let sa = service_account(name);
    let role = join_role(name);
    let ns = FEDERATION_NAMESPACE;
    let account = Api::<ServiceAccount>::namespaced(member.clone(), ns)
        .get_opt(&sa)
        .await?;
    report(
        actions,
        Side::Member,
        format!("ServiceAccount {ns}/{sa}"),
        account.is_some(),
    );
    let tokens: Vec<String> = account
        .and_then(|a| a.secrets)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|r| r.name)
        .collect();
    for token in &tokens {
        let present = present(&Api::<Secret>::namespaced(member.clone(), ns), token).await?;
        report(
            actions,
            Side::Member,
            format!("Secret {ns}/{token}"),
            present,
        );
    }
    let roles = Api::<ClusterRole>::all(member.clone());
    report(
        actions,
        Side::Member,
        format!("ClusterRole {role}"),
        present(&roles, &role).await?,
    );
    let bindings = Api::<ClusterRoleBinding>::all(member.clone());
    report(
        actions,
        Side::Member,
        format!("ClusterRoleBinding {role}"),
        present(&bindings, &role).await?,
    );
    let secrets = Api::<Secret>::namespaced(host.clone(), ns);
    let secret = host_secret(name);
    report(
        actions,
        Side::Host,
        format!("Secret {ns}/{secret}"),
        present(&secrets, &secret).await?,
    );
    let kfcs = Api::<KubeFedCluster>::namespaced(host.clone(), ns);
    report(
        actions,
        Side::Host,
        format!("KubeFedCluster {ns}/{name}"),
        present(&kfcs, name).await?,
    );
    Ok(())
}

async fn present<K>(api: &Api<K>, name: &str) -> Result<bool, kube::Error>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    Ok(api.get_opt(name).await?.is_some())
}

fn report(actions: &mut Actions<'_>, side: Side, object: String, present: bool) {
    actions.report(
        side,
        object,
        if present {
            ActionResult::MadeByKubeSphere
        } else {
            ActionResult::Failed("missing after KubeSphere's join".into())
        },
    );
}

//! KubeSphere 3.4.1's cluster controller, as far as a join goes
//! (`pkg/controller/cluster/cluster_controller.go` and `join.go`; docs/KUBESPHERE.md 2.4, 2.5).
//!
//! For every `Cluster` with `joinFederation: true` and a kubeconfig it adds its finalizer and
//! runs KubeSphere's join through that kubeconfig: on the member the namespace, the
//! `<name>-kubesphere` service account (a token secret made and listed in its `secrets` when
//! it has none), a full-rights ClusterRole and binding; on the host the token of the account's
//! first token secret written into `<name>-secret` (an update: whatever was there is
//! replaced) and the `KubeFedCluster`'s spec. It re-runs the join on every resync (two
//! minutes on a real host), then writes the status in the object (no status subresource). A
//! deleted `Cluster` loses its host secret and `KubeFedCluster`, then the finalizer; nothing
//! on the member is ever removed.
//!
//! Opt-in (`SandboxCluster::run_cluster_controller`): the demo and the tests that model a real
//! host with ks-controller-manager run it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use k8s_openapi::api::core::v1::{Namespace, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use kube::api::{Api, PostParams};
use serde_json::{Value, json};

use crate::ClusterState;
use crate::db::Db;
use crate::kinds::ResourceKind;
use crate::meta;

const FINALIZER: &str = "finalizer.cluster.kubesphere.io";
const FED_NS: &str = "kube-federation-system";

/// When each Cluster was last joined, for the resync.
#[derive(Default)]
pub(crate) struct Resyncs(HashMap<String, Instant>);

pub(crate) async fn run(state: Arc<ClusterState>, resync: Duration) {
    let mut resyncs = Resyncs::default();
    loop {
        tokio::time::sleep(crate::kubefed::TICK).await;
        reconcile(&state, &mut resyncs, resync).await;
    }
}

fn clusters_kind(db: &Db) -> Option<ResourceKind> {
    db.registry
        .find("cluster.kubesphere.io", "v1alpha1", "clusters")
        .cloned()
}

async fn reconcile(state: &ClusterState, resyncs: &mut Resyncs, resync: Duration) {
    let clusters: Vec<Value> = {
        let Ok(db) = state.db.lock() else { return };
        let Some(kind) = clusters_kind(&db) else {
            return;
        };
        db.list(&kind, "v1alpha1", None, &Default::default())
            .ok()
            .and_then(|l| l["items"].as_array().cloned())
            .unwrap_or_default()
    };
    for cluster in clusters {
        let name = meta::str_field(&cluster, "name")
            .unwrap_or_default()
            .to_string();
        let finalizers = meta::finalizers(&cluster);
        if meta::is_deleting(&cluster) {
            if finalizers.iter().any(|f| f == FINALIZER) {
                unjoin(state, &name);
            }
            resyncs.0.remove(&name);
            continue;
        }
        if !finalizers.iter().any(|f| f == FINALIZER) {
            let mut next = finalizers.clone();
            next.push(FINALIZER.into());
            update(state, &name, |c| {
                meta::metadata_mut(c).insert("finalizers".into(), json!(next));
            });
        }
        if cluster["spec"]["joinFederation"] != true {
            continue;
        }
        let Some(kubeconfig) = cluster["spec"]["connection"]["kubeconfig"]
            .as_str()
            .and_then(|k| base64::engine::general_purpose::STANDARD.decode(k).ok())
            .and_then(|k| String::from_utf8(k).ok())
        else {
            continue;
        };
        if resyncs.0.get(&name).is_some_and(|at| at.elapsed() < resync) {
            continue;
        }
        resyncs.0.insert(name.clone(), Instant::now());
        let outcome = join(state, &name, &kubeconfig, &cluster).await;
        let now = meta::now_rfc3339();
        let condition = |t: &str, s: &str, reason: &str, message: &str| json!({"type": t, "status": s, "reason": reason, "message": message, "lastUpdateTime": now, "lastTransitionTime": now});
        update(state, &name, |c| {
            let conditions = match &outcome {
                Ok(_) => vec![
                    condition(
                        "Federated",
                        "True",
                        "",
                        "Cluster has joined federation control plane successfully",
                    ),
                    condition("Ready", "True", "Ready", "Cluster is available now"),
                ],
                Err(reason) => vec![
                    condition(
                        "Federated",
                        "False",
                        reason,
                        "Cluster can not join federation control plane",
                    ),
                    condition(
                        "Ready",
                        "False",
                        "Cluster join federation control plane failed",
                        "Cluster is Not Ready now",
                    ),
                ],
            };
            let keep: Vec<Value> = c["status"]["conditions"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|k| k["type"] != "Federated" && k["type"] != "Ready")
                .chain(conditions)
                .collect();
            c["status"]["conditions"] = json!(keep);
            if let Ok(uid) = &outcome {
                c["status"]["uid"] = json!(uid);
                c["status"]["kubernetesVersion"] = json!(crate::GIT_VERSION);
                c["status"]["kubeSphereVersion"] = json!(super::KUBESPHERE_VERSION);
                c["status"]["nodeCount"] = json!(1);
            }
        });
    }
}

/// Reads the Cluster, lets `change` edit it and writes it back (status in the object).
fn update(state: &ClusterState, name: &str, change: impl FnOnce(&mut Value)) {
    let Ok(mut db) = state.db.lock() else { return };
    let Some(kind) = clusters_kind(&db) else {
        return;
    };
    let Ok(mut cluster) = db.get(&kind, "v1alpha1", None, name) else {
        return;
    };
    change(&mut cluster);
    if let Err(error) = db.update(&kind, "v1alpha1", None, name, cluster, false, false) {
        tracing::debug!(cluster = name, %error.message, "cluster controller: update");
    }
}

/// A create that found the object already there is fine: KubeSphere tolerates existing
/// objects (`errorOnExisting` is false).
fn exists<T>(result: Result<T, kube::Error>) -> Result<(), String> {
    match result {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// KubeSphere's join; the member's kube-system UID on success, the reason otherwise.
async fn join(
    state: &ClusterState,
    name: &str,
    kubeconfig: &str,
    cluster: &Value,
) -> Result<String, String> {
    let config = kube::config::Kubeconfig::from_yaml(kubeconfig).map_err(|e| e.to_string())?;
    let config = kube::Config::from_custom_kubeconfig(config, &Default::default())
        .await
        .map_err(|e| e.to_string())?;
    let api_endpoint = config.cluster_url.to_string();
    let member = kube::Client::try_from(config).map_err(|e| e.to_string())?;
    let sa = format!("{name}-kubesphere");
    let pp = PostParams::default();
    let namespaces: Api<Namespace> = Api::all(member.clone());
    let fed_ns: Namespace =
        serde_json::from_value(json!({"metadata": {"name": FED_NS}})).map_err(|e| e.to_string())?;
    exists(namespaces.create(&pp, &fed_ns).await)?;
    let uid = namespaces
        .get("kube-system")
        .await
        .map_err(|e| e.to_string())?
        .metadata
        .uid
        .unwrap_or_default();
    let accounts: Api<ServiceAccount> = Api::namespaced(member.clone(), FED_NS);
    let account: ServiceAccount =
        serde_json::from_value(json!({"metadata": {"name": sa, "namespace": FED_NS}}))
            .map_err(|e| e.to_string())?;
    exists(accounts.create(&pp, &account).await)?;
    let secrets: Api<Secret> = Api::namespaced(member.clone(), FED_NS);
    let mut account = accounts.get(&sa).await.map_err(|e| e.to_string())?;
    if account.secrets.as_ref().is_none_or(Vec::is_empty) {
        let token: Secret = serde_json::from_value(json!({
            "metadata": {"generateName": format!("{sa}-token-"), "namespace": FED_NS,
                         "annotations": {"kubernetes.io/service-account.name": sa}},
            "type": "kubernetes.io/service-account-token",
        }))
        .map_err(|e| e.to_string())?;
        let made = secrets
            .create(&pp, &token)
            .await
            .map_err(|e| e.to_string())?;
        account.secrets = Some(vec![k8s_openapi::api::core::v1::ObjectReference {
            name: made.metadata.name,
            ..Default::default()
        }]);
        accounts
            .replace(&sa, &pp, &account)
            .await
            .map_err(|e| e.to_string())?;
    }
    let role = format!("kubefed-controller-manager:{sa}");
    let roles: Api<ClusterRole> = Api::all(member.clone());
    let full: ClusterRole = serde_json::from_value(json!({"metadata": {"name": role},
        "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, {"nonResourceURLs": ["*"], "verbs": ["get"]}]}))
        .map_err(|e| e.to_string())?;
    exists(roles.create(&pp, &full).await)?;
    let bindings: Api<ClusterRoleBinding> = Api::all(member.clone());
    let binding: ClusterRoleBinding = serde_json::from_value(json!({"metadata": {"name": role},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": FED_NS}]}))
    .map_err(|e| e.to_string())?;
    exists(bindings.create(&pp, &binding).await)?;
    // The token of the account's first token secret, as `populateSecretInHostCluster` finds it.
    let mut token = None;
    for _ in 0..30 {
        let account = accounts.get(&sa).await.map_err(|e| e.to_string())?;
        for reference in account.secrets.unwrap_or_default() {
            let Some(secret_name) = reference.name else {
                continue;
            };
            if let Ok(secret) = secrets.get(&secret_name).await
                && secret.type_.as_deref() == Some("kubernetes.io/service-account-token")
                && let Some(value) = secret.data.as_ref().and_then(|d| d.get("token"))
            {
                token = Some(value.0.clone());
                break;
            }
        }
        if token.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let token = token.ok_or("no service account token on the member")?;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let labels = cluster["metadata"]["labels"].clone();
    let ca = kube::config::Kubeconfig::from_yaml(kubeconfig)
        .ok()
        .and_then(|k| k.clusters.into_iter().next())
        .and_then(|c| c.cluster)
        .and_then(|c| c.certificate_authority_data)
        .unwrap_or_default();
    let Ok(mut db) = state.db.lock() else {
        return Err("host state lock poisoned".into());
    };
    write_host_side(&mut db, name, &b64(&token), &api_endpoint, &ca, &labels)
        .map_err(|e| e.message)?;
    Ok(uid)
}

/// `<name>-secret` replaced with the member token, the `KubeFedCluster` created or its spec
/// and labels replaced.
fn write_host_side(
    db: &mut Db,
    name: &str,
    token_b64: &str,
    api_endpoint: &str,
    ca_b64: &str,
    labels: &Value,
) -> Result<(), crate::errors::ApiError> {
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": format!("{name}-secret"), "namespace": FED_NS},
        "data": {"token": token_b64}});
    let spec = json!({"apiEndpoint": api_endpoint.trim_end_matches('/'), "caBundle": ca_b64,
        "secretRef": {"name": format!("{name}-secret")}});
    for (group, version, plural, object) in [
        ("", "v1", "secrets", secret),
        (
            "core.kubefed.io",
            "v1beta1",
            "kubefedclusters",
            json!({"apiVersion": "core.kubefed.io/v1beta1", "kind": "KubeFedCluster",
                   "metadata": {"name": name, "namespace": FED_NS, "labels": labels}, "spec": spec}),
        ),
    ] {
        let Some(kind) = db.registry.find(group, version, plural).cloned() else {
            continue;
        };
        match db.get(&kind, version, Some(FED_NS), name_of(&object)) {
            Ok(mut current) => {
                for field in ["data", "spec"] {
                    if let Some(value) = object.get(field) {
                        current[field] = value.clone();
                    }
                }
                meta::metadata_mut(&mut current)
                    .insert("labels".into(), object["metadata"]["labels"].clone());
                db.update(
                    &kind,
                    version,
                    Some(FED_NS),
                    name_of(&object),
                    current,
                    false,
                    false,
                )?;
            }
            Err(_) => {
                db.create(&kind, version, Some(FED_NS), object.clone(), false)?;
            }
        }
    }
    Ok(())
}

fn name_of(object: &Value) -> &str {
    meta::str_field(object, "name").unwrap_or_default()
}

/// A deleted Cluster: the host's side goes, then the finalizer.
fn unjoin(state: &ClusterState, name: &str) {
    let Ok(mut db) = state.db.lock() else { return };
    for (group, version, plural, object) in [
        ("", "v1", "secrets", format!("{name}-secret")),
        (
            "core.kubefed.io",
            "v1beta1",
            "kubefedclusters",
            name.to_string(),
        ),
    ] {
        if let Some(kind) = db.registry.find(group, version, plural).cloned() {
            let _ = db.delete(&kind, version, Some(FED_NS), &object, &Value::Null, false);
        }
    }
    drop(db);
    update(state, name, |c| {
        let rest: Vec<String> = meta::finalizers(c)
            .into_iter()
            .filter(|f| f != FINALIZER)
            .collect();
        meta::metadata_mut(c).insert("finalizers".into(), json!(rest));
    });
}

//! What KubeSphere 3.4's cluster controller creates when a host joins a member
//! (docs/KUBESPHERE.md 2.5 and "Join, observed"): on the member a service account with a
//! full-rights token; on the host a `Cluster`, the token in `<name>-secret` and a
//! `KubeFedCluster` kubefed reaches the member with. (Used to set up the demo's joins at
//! start; the controller's finalizer and its later re-joins are `cluster_controller`'s.)

use base64::Engine;
use serde_json::json;

use crate::db::Db;
use crate::errors::ApiError;
use crate::meta;

use super::FED_NS;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The member's side: returns the service-account token the host will use.
pub(crate) fn prepare_member(member: &mut Db, join_name: &str) -> Result<String, ApiError> {
    let sa = format!("{join_name}-kubesphere");
    member
        .ensure(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": FED_NS}}))?;
    let account = member.ensure(json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa, "namespace": FED_NS}}),
    )?.0;
    // The token secret is found through the service account's `secrets`, as KubeSphere does.
    let secret_name = account["secrets"][0]["name"].as_str().map(String::from);
    let secret = match secret_name {
        Some(name) => member.ensure(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": FED_NS}}),
        )?.0,
        None => {
            let secret = member.ensure(json!({
                    "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
                    "metadata": {"generateName": format!("{sa}-token-"), "namespace": FED_NS, "annotations": {"kubernetes.io/service-account.name": sa}},
                }),
            )?.0;
            let name = meta::str_field(&secret, "name")
                .unwrap_or_default()
                .to_string();
            let kind = member
                .registry
                .find("", "v1", "serviceaccounts")
                .cloned()
                .ok_or_else(|| ApiError::internal("no serviceaccounts"))?;
            let mut updated = account.clone();
            updated["secrets"] = json!([{"name": name}]);
            member.update(&kind, "v1", Some(FED_NS), &sa, updated, false, false)?;
            secret
        }
    };
    let role = format!("kubefed-controller-manager:{sa}");
    member.ensure(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": role},
               "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, {"nonResourceURLs": ["*"], "verbs": ["get"]}]}),
    )?;
    member.ensure(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": role},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
               "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": FED_NS}]}),
    )?;
    let token = secret["data"]["token"].as_str().unwrap_or_default();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token)
        .map_err(|e| ApiError::internal(format!("token secret: {e}")))?;
    String::from_utf8(decoded).map_err(|e| ApiError::internal(format!("token secret: {e}")))
}

/// The host's side, given what the member handed out.
/// What the host needs to know of a member it joins.
pub(crate) struct JoinedMember<'a> {
    pub api_endpoint: &'a str,
    pub ca_pem: &'a str,
    pub token: &'a str,
    pub kube_system_uid: &'a str,
    pub kubeconfig: &'a str,
    /// The host joining itself.
    pub is_self: bool,
}

pub(crate) fn register_on_host(
    host: &mut Db,
    join_name: &str,
    member: &JoinedMember,
) -> Result<(), ApiError> {
    let JoinedMember {
        api_endpoint,
        ca_pem,
        token,
        kube_system_uid,
        kubeconfig,
        is_self,
    } = *member;
    let now = meta::now_rfc3339();
    // The host's own Cluster is marked as such and as KubeSphere-managed (docs/KUBESPHERE.md 1.1).
    let labels = if is_self {
        json!({"cluster-role.kubesphere.io/host": "", "kubesphere.io/managed": "true"})
    } else {
        json!({})
    };
    host.ensure(
        json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
               "metadata": {"name": format!("{join_name}-secret"), "namespace": FED_NS},
               "data": {"token": b64(token.as_bytes())}}),
    )?;
    let kfc = host.ensure(json!({"apiVersion": "core.kubefed.io/v1beta1", "kind": "KubeFedCluster",
               "metadata": {"name": join_name, "namespace": FED_NS},
               "spec": {"apiEndpoint": api_endpoint, "caBundle": b64(ca_pem.as_bytes()), "secretRef": {"name": format!("{join_name}-secret")}}}),
    )?.0;
    if kfc.get("status").is_none() {
        let kind = find(host, "core.kubefed.io", "kubefedclusters")?;
        let status = json!({"metadata": {"name": join_name}, "status": {"conditions": [
            {"type": "Ready", "status": "True", "reason": "ClusterReady", "message": "/healthz responded with ok", "lastProbeTime": now, "lastTransitionTime": now}
        ]}});
        host.update(
            &kind,
            "v1beta1",
            Some(FED_NS),
            join_name,
            status,
            true,
            false,
        )?;
    }
    let cluster = host.ensure(json!({"apiVersion": "cluster.kubesphere.io/v1alpha1", "kind": "Cluster",
               "metadata": {"name": join_name, "labels": labels, "annotations": {"kubesphere.io/creator": "admin"}},
               "spec": {"joinFederation": true, "provider": "tandem sandbox",
                        "connection": {"type": "direct", "kubeconfig": b64(kubeconfig.as_bytes()), "kubernetesAPIEndpoint": api_endpoint}}}),
    )?.0;
    if cluster.get("status").is_none() {
        let kind = find(host, "cluster.kubesphere.io", "clusters")?;
        let condition = |t: &str, s: &str, reason: &str, message: &str| json!({"type": t, "status": s, "reason": reason, "message": message, "lastUpdateTime": now, "lastTransitionTime": now});
        let status = json!({"metadata": {"name": join_name}, "status": {
            "conditions": [
                condition("Federated", "True", "", "Cluster has joined federation control plane successfully"),
                condition("Ready", "True", "", "Cluster is available now"),
                condition("KubeConfigCertExpiresInSevenDays", "False", "", ""),
            ],
            "kubernetesVersion": crate::GIT_VERSION,
            "kubeSphereVersion": super::super::kubesphere::KUBESPHERE_VERSION,
            "nodeCount": 1,
            "uid": kube_system_uid,
        }});
        host.update(&kind, "v1alpha1", None, join_name, status, true, false)?;
    }
    Ok(())
}

fn find(db: &Db, group: &str, plural: &str) -> Result<crate::kinds::ResourceKind, ApiError> {
    db.registry
        .all()
        .find(|k| k.group == group && k.plural == plural)
        .cloned()
        .ok_or_else(|| ApiError::internal(format!("{plural}.{group} is not served")))
}

//! Removing a cluster from a host: the member's join objects this host owns, then the host's
//! `KubeFedCluster`, token copy and `Cluster`. KubeSphere leaves the member's side behind for
//! ever (a full-rights token that is never revoked) and cannot delete a cluster whose member
//! is gone; Tandem cleans what it can reach and says exactly what stays.

use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use kube::api::{Api, DeleteParams, DynamicObject, Patch};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use serde_json::json;

use super::actions::{ActionReport, ActionResult, Actions, Callback, Side};
use super::objects::*;
use super::{HostLink, connect};
use crate::clusters::kubeconfig::check_kubeconfig;
use crate::clusters::member_facts::kube_system_uid;
use crate::kubesphere::HOST_CLUSTER_LABEL;

#[derive(Debug, thiserror::Error)]
pub enum RemoveError {
    #[error("host `{host}` has no cluster named `{name}`")]
    NotFound { host: String, name: String },
    #[error("`{0}` is the host cluster itself; a host cannot be removed from its own list")]
    IsHost(String),
    #[error("host {object}: {message}")]
    Host { object: String, message: String },
}

#[derive(Debug)]
pub struct RemoveOutcome {
    pub actions: Vec<ActionReport>,
    /// Whether the member answered; when not, `left_on_member` says what stays there.
    pub member_reached: bool,
    pub left_on_member: Vec<String>,
}

/// Removes cluster `name` from `host`. `others` are the console's other hosts: a credential
/// KubeSphere's join shares between hosts is revoked only when none of them still manages the
/// member under this name.
pub async fn remove_cluster(
    host: &HostLink,
    others: &[HostLink],
    name: &str,
    on_action: Callback<'_>,
) -> Result<RemoveOutcome, RemoveError> {
    let clusters: Api<DynamicObject> = Api::all_with(host.client.clone(), &cluster_resource());
    let host_err = |object: &str| {
        let object = object.to_string();
        move |e: kube::Error| RemoveError::Host {
            object,
            message: e.to_string(),
        }
    };
    let cluster = clusters
        .get_opt(name)
        .await
        .map_err(host_err(&format!("Cluster {name}")))?;
    let kfcs: Api<KubeFedCluster> = Api::namespaced(host.client.clone(), FEDERATION_NAMESPACE);
    let kfc = kfcs
        .get_opt(name)
        .await
        .map_err(host_err(&format!("KubeFedCluster {name}")))?;
    if cluster.is_none() && kfc.is_none() {
        return Err(RemoveError::NotFound {
            host: host.name.clone(),
            name: name.into(),
        });
    }
    if cluster.as_ref().is_some_and(|c| {
        c.metadata
            .labels
            .as_ref()
            .is_some_and(|l| l.contains_key(HOST_CLUSTER_LABEL))
    }) {
        return Err(RemoveError::IsHost(name.into()));
    }
    let mut actions = Actions::new(on_action);
    let member = match cluster
        .as_ref()
        .and_then(crate::clusters::reach::stored_kubeconfig)
    {
        Some(text) => reach_member(&text, &host.member_addresses).await,
        None => None,
    };
    let expected_on_member = || {
        let sa = service_account(name);
        vec![
            format!("ServiceAccount {FEDERATION_NAMESPACE}/{sa} and this host's token secret"),
            format!("ClusterRole and ClusterRoleBinding {}", join_role(name)),
        ]
    };
    // The Cluster goes first: while it exists, KubeSphere's cluster controller re-runs its
    // join (every 2 minutes on a real host) and would recreate on the member what is cleaned
    // below. Its finalizer's clean-up may remove the host's objects itself; what is left is
    // deleted after.
    if cluster.is_some() {
        let object = format!("Cluster {name}");
        clusters
            .delete(name, &DeleteParams::default())
            .await
            .map_err(host_err(&object))?;
        // KubeSphere's controller may be removing its finalizer at the same time: checked by
        // version.
        release_cluster(&clusters, name)
            .await
            .map_err(host_err(&object))?;
        actions.report(Side::Host, object, ActionResult::Deleted);
    }
    let object = format!("KubeFedCluster {FEDERATION_NAMESPACE}/{name}");
    delete(&mut actions, Side::Host, &kfcs, &object, name)
        .await
        .map_err(|message| RemoveError::Host { object, message })?;
    let secrets: Api<Secret> = Api::namespaced(host.client.clone(), FEDERATION_NAMESPACE);
    let object = format!("Secret {FEDERATION_NAMESPACE}/{}", host_secret(name));
    delete(
        &mut actions,
        Side::Host,
        &secrets,
        &object,
        &host_secret(name),
    )
    .await
    .map_err(|message| RemoveError::Host { object, message })?;
    let (member_reached, left_on_member) = match &member {
        Some(member) => (
            true,
            clean_member(&mut actions, host, others, member, name).await,
        ),
        None => (false, expected_on_member()),
    };
    // Best effort: a history left behind only takes a few hundred bytes on the host.
    if let Err(error) = crate::clusters::history::forget(&host.client, name).await {
        tracing::debug!(cluster = name, %error, "the cluster's state history stays on the host");
    }
    Ok(RemoveOutcome {
        actions: actions.reports,
        member_reached,
        left_on_member,
    })
}

async fn reach_member(
    kubeconfig: &str,
    policy: &std::sync::Arc<super::MemberAddressPolicy>,
) -> Option<Client> {
    let checked = check_kubeconfig(kubeconfig, None).ok()?;
    let client = connect::member_client(&checked, policy).await.ok()?;
    crate::health::probe_version(&client)
        .await
        .ok()
        .map(|_| client)
}

/// Deletes this host's token and, when no other host uses the account, the account, its
/// tokens and its role. Another host uses it when a token of Tandem's for that host is left,
/// or, for the token KubeSphere's own join made (shared by every host that joined the member
/// under this name), when another of the console's hosts manages the member as `name`.
/// Returns what stays on the member because it could not be deleted.
pub(super) async fn clean_member(
    actions: &mut Actions<'_>,
    host: &HostLink,
    others: &[HostLink],
    member: &Client,
    name: &str,
) -> Vec<String> {
    let mut left = Vec::new();
    let sa = service_account(name);
    let role = join_role(name);
    let secrets: Api<Secret> = Api::namespaced(member.clone(), FEDERATION_NAMESPACE);
    let own = match kube_system_uid(&host.client).await {
        Ok(uid) => token_secret(name, &uid),
        Err(e) => {
            actions.report(
                Side::Member,
                format!("Secret {FEDERATION_NAMESPACE}/{sa}-token-…"),
                ActionResult::Failed(format!("cannot tell which token is this host's: {e}")),
            );
            return vec![format!("this host's token secret of {sa}")];
        }
    };
    let own_object = format!("Secret {FEDERATION_NAMESPACE}/{own}");
    if delete(actions, Side::Member, &secrets, &own_object, &own)
        .await
        .is_err()
    {
        left.push(own_object);
    }
    let tokens: Vec<Secret> = match secrets.list(&Default::default()).await {
        Ok(list) => list
            .items
            .into_iter()
            .filter(|s| {
                s.type_.as_deref() == Some(SERVICE_ACCOUNT_TOKEN)
                    && s.metadata
                        .annotations
                        .as_ref()
                        .and_then(|a| a.get(SERVICE_ACCOUNT_NAME_ANNOTATION))
                        == Some(&sa)
                    && s.metadata.name.as_deref() != Some(own.as_str())
            })
            .collect(),
        Err(e) => {
            actions.report(
                Side::Member,
                format!("ServiceAccount {FEDERATION_NAMESPACE}/{sa}"),
                ActionResult::Failed(e.to_string()),
            );
            left.push(format!("ServiceAccount {FEDERATION_NAMESPACE}/{sa}"));
            return left;
        }
    };
    let (tandem_tokens, kubesphere_tokens): (Vec<Secret>, Vec<Secret>) =
        tokens.into_iter().partition(|s| {
            s.metadata
                .labels
                .as_ref()
                .is_some_and(|l| l.contains_key(JOINED_BY_HOST_LABEL))
        });
    let keep_for = if !tandem_tokens.is_empty() {
        Some(format!(
            "{} other host token(s) of Tandem's remain: another host's join uses it",
            tandem_tokens.len()
        ))
    } else if kubesphere_tokens.is_empty() {
        None
    } else {
        other_managers(others, member, name)
            .await
            .map(|hosts| format!("KubeSphere's join made one token for every host that joined it as `{name}`, and {} still manage(s) it", hosts.join(", ")))
    };
    if let Some(why) = keep_for {
        actions.report(Side::Member, format!("ServiceAccount {FEDERATION_NAMESPACE}/{sa}, ClusterRole and ClusterRoleBinding {role}"), ActionResult::Kept(why));
        return left;
    }
    // The token KubeSphere's join made: nobody else uses it any more, so it is revoked.
    for token in kubesphere_tokens {
        let token_name = token.metadata.name.unwrap_or_default();
        let object = format!("Secret {FEDERATION_NAMESPACE}/{token_name}");
        if delete(actions, Side::Member, &secrets, &object, &token_name)
            .await
            .is_err()
        {
            left.push(object);
        }
    }
    let bindings: Api<ClusterRoleBinding> = Api::all(member.clone());
    let roles: Api<ClusterRole> = Api::all(member.clone());
    let accounts: Api<ServiceAccount> = Api::namespaced(member.clone(), FEDERATION_NAMESPACE);
    for result in [
        delete(
            actions,
            Side::Member,
            &bindings,
            &format!("ClusterRoleBinding {role}"),
            &role,
        )
        .await
        .map_err(|_| format!("ClusterRoleBinding {role}")),
        delete(
            actions,
            Side::Member,
            &roles,
            &format!("ClusterRole {role}"),
            &role,
        )
        .await
        .map_err(|_| format!("ClusterRole {role}")),
        delete(
            actions,
            Side::Member,
            &accounts,
            &format!("ServiceAccount {FEDERATION_NAMESPACE}/{sa}"),
            &sa,
        )
        .await
        .map_err(|_| format!("ServiceAccount {FEDERATION_NAMESPACE}/{sa}")),
    ] {
        if let Err(object) = result {
            left.push(object);
        }
    }
    left
}

/// Deletes one object, reporting Deleted, Absent or Failed; the error is the failure's text.
async fn delete<K>(
    actions: &mut Actions<'_>,
    side: Side,
    api: &Api<K>,
    object: &str,
    name: &str,
) -> Result<(), String>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    match api.delete(name, &DeleteParams::default()).await {
        Ok(_) => {
            actions.report(side, object, ActionResult::Deleted);
            Ok(())
        }
        Err(kube::Error::Api(s)) if s.code == 404 => {
            actions.report(side, object, ActionResult::Absent);
            Ok(())
        }
        Err(e) => {
            actions.report(side, object, ActionResult::Failed(e.to_string()));
            Err(e.to_string())
        }
    }
}

/// Removes KubeSphere's finalizer from the deleted `Cluster`, at the resourceVersion read;
/// done when the object is gone or holds no such finalizer any more.
async fn release_cluster(clusters: &Api<DynamicObject>, name: &str) -> Result<(), kube::Error> {
    // KubeSphere's controller, where it runs, finishes its own clean-up and removes its
    // finalizer within a second or two; give it that before doing it for it.
    for _ in 0..25 {
        match clusters.get_opt(name).await? {
            None => return Ok(()),
            Some(c)
                if !c
                    .metadata
                    .finalizers
                    .as_ref()
                    .is_some_and(|f| f.iter().any(|f| f == CLUSTER_FINALIZER)) =>
            {
                return Ok(());
            }
            Some(_) => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
        }
    }
    for _ in 0..4 {
        let Some(cluster) = clusters.get_opt(name).await? else {
            return Ok(());
        };
        let finalizers = cluster.metadata.finalizers.unwrap_or_default();
        if !finalizers.iter().any(|f| f == CLUSTER_FINALIZER) {
            return Ok(());
        }
        let rest: Vec<&String> = finalizers
            .iter()
            .filter(|f| *f != CLUSTER_FINALIZER)
            .collect();
        let patch = json!({"metadata": {
            "finalizers": rest,
            "resourceVersion": cluster.metadata.resource_version,
        }});
        match clusters
            .patch(name, &crate::writes::patch_params(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => return Ok(()),
            Err(kube::Error::Api(s)) if s.code == 409 => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The console's other hosts that manage the member (same kube-system UID) under `name`; an
/// unanswering host counts, since revoking its credential could not be undone.
async fn other_managers(others: &[HostLink], member: &Client, name: &str) -> Option<Vec<String>> {
    let uid = kube_system_uid(member).await.ok();
    let mut managers = Vec::new();
    for other in others {
        match super::list_host_clusters(&other.client).await {
            Ok(clusters) => {
                if clusters
                    .iter()
                    .any(|c| c.name == name && (uid.is_none() || c.uid == uid))
                {
                    managers.push(other.name.clone());
                }
            }
            Err(_) => managers.push(format!("{} (did not answer)", other.name)),
        }
    }
    (!managers.is_empty()).then_some(managers)
}

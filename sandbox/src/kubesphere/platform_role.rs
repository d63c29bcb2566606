//! One platform role per user on a KubeSphere member: a **model**, not an observation.
//!
//! What is known: ks-apiserver keeps a user to one platform role by deleting the user's other
//! GlobalRoleBindings before it creates one (docs/KUBESPHERE.md 1.4), and the seed article's
//! experiment 2 saw a same-name user bound to different roles on two hosts sharing a member:
//! both creations succeed on the hosts, but the later creator's kubefed sync fails. What
//! refuses kubefed's write on the member was not observed (kubefed writes to the member's
//! kube-apiserver directly, not through ks-apiserver). The sandbox models it as this rule,
//! applied when a GlobalRoleBinding is created on a cluster whose KubeSphere install says
//! `multicluster.clusterRole: member`: a binding with a `User` subject that another
//! GlobalRoleBinding there (not being deleted) already binds to a different `roleRef` is
//! refused with 409 Conflict, naming that binding and its role. Hosts, single clusters and
//! clusters without KubeSphere accept it (a host federates its bindings, and Tandem's IAM code
//! deletes a user's other bindings before it creates one). Updates are not checked.

use serde_json::Value;

use super::ClusterRole;
use crate::db::Db;
use crate::errors::{ApiError, ApiResult};
use crate::kinds::ResourceKind;
use crate::meta;
use crate::store::ObjectKey;

/// `multicluster.clusterRole` in this cluster's `kubesphere-config`, as ks-apiserver reads it;
/// `None` without KubeSphere.
pub(crate) fn installed_role(db: &Db) -> Option<ClusterRole> {
    let yaml = db
        .store
        .get(&ObjectKey::new(
            "",
            "configmaps",
            "kubesphere-system",
            "kubesphere-config",
        ))?
        .pointer("/data/kubesphere.yaml")?
        .as_str()?;
    let value = yaml
        .lines()
        .find_map(|l| l.trim().strip_prefix("clusterRole:"))?
        .trim()
        .trim_matches(['"', '\'']);
    match value {
        "host" => Some(ClusterRole::Host),
        "member" => Some(ClusterRole::Member),
        "none" => Some(ClusterRole::None),
        _ => None,
    }
}

/// The names of the `User` subjects of a binding.
fn users(binding: &Value) -> Vec<&str> {
    binding["subjects"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["kind"] == "User")
        .filter_map(|s| s["name"].as_str())
        .collect()
}

/// The model's rule (see the module documentation), for a GlobalRoleBinding about to be
/// created.
pub(crate) fn check_new_binding(db: &Db, kind: &ResourceKind, binding: &Value) -> ApiResult<()> {
    if installed_role(db) != Some(ClusterRole::Member) {
        return Ok(());
    }
    let name = meta::str_field(binding, "name").unwrap_or_default();
    let role = binding["roleRef"]["name"].as_str().unwrap_or_default();
    let wanted = users(binding);
    for (_, existing) in db.store.list(&kind.group, &kind.plural, None, None) {
        if meta::is_deleting(existing) {
            continue;
        }
        let existing_role = existing["roleRef"]["name"].as_str().unwrap_or_default();
        if existing_role == role {
            continue;
        }
        if let Some(user) = users(existing).into_iter().find(|u| wanted.contains(u)) {
            let existing_name = meta::str_field(existing, "name").unwrap_or_default();
            return Err(ApiError::conflict(
                kind,
                name,
                &format!(
                    "user \"{user}\" already has the platform role \"{existing_role}\" through GlobalRoleBinding \"{existing_name}\"; a KubeSphere member allows one platform role per user"
                ),
            ));
        }
    }
    Ok(())
}

//! KubeSphere's user controller on a host (docs/KUBESPHERE.md 1.2 and "Observed"): a plain
//! password is replaced by its bcrypt hash, the user gets its finalizer, the
//! `kubefed.io/managed: "false"` label and a state, and a `FederatedUser` owned by it carries
//! it to every member.

use serde_json::{Value, json};

use crate::ClusterState;
use crate::db::Db;
use crate::meta;

const USER_FINALIZER: &str = "finalizers.kubesphere.io/users";

pub(crate) fn reconcile_users(state: &ClusterState) {
    let Ok(mut db) = state.db.lock() else { return };
    let Some(users) = db
        .registry
        .all()
        .find(|k| k.group == "iam.kubesphere.io" && k.plural == "users")
        .cloned()
    else {
        return;
    };
    let Some(federated) = db
        .registry
        .all()
        .find(|k| k.kind == "FederatedUser")
        .cloned()
    else {
        return;
    };
    let all: Vec<Value> = db
        .store
        .list(&users.group, &users.plural, None, None)
        .map(|(_, v)| v.clone())
        .collect();
    for user in all {
        // Copies pushed here by another host's kubefed are that host's business.
        if super::federate::is_member_copy(&user) {
            continue;
        }
        let name = meta::str_field(&user, "name")
            .unwrap_or_default()
            .to_string();
        if let Err(err) = reconcile_user(&mut db, &users, &federated, &name, user) {
            tracing::warn!(user = %name, ?err, "sandbox user controller");
        }
    }
}

fn reconcile_user(
    db: &mut Db,
    users: &crate::kinds::ResourceKind,
    federated: &crate::kinds::ResourceKind,
    name: &str,
    user: Value,
) -> Result<(), crate::errors::ApiError> {
    if meta::is_deleting(&user) {
        // Bindings and login records would go here; the FederatedUser follows by garbage
        // collection (and stays, held by kubefed's finalizer, until members are clean).
        let rest: Vec<String> = meta::finalizers(&user)
            .into_iter()
            .filter(|f| f != USER_FINALIZER)
            .collect();
        if rest.len() != meta::finalizers(&user).len() {
            let mut next = user.clone();
            meta::metadata_mut(&mut next).insert("finalizers".into(), json!(rest));
            db.update(users, "v1alpha2", None, name, next, false, false)?;
        }
        return Ok(());
    }
    let mut next = user.clone();
    let password = user["spec"]["password"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if !password.is_empty() && !password.starts_with("$2") {
        let hash = bcrypt::hash(&password, 10)
            .map_err(|e| crate::errors::ApiError::internal(e.to_string()))?;
        next["spec"]["password"] = json!(hash);
        let meta_next = meta::metadata_mut(&mut next);
        let annotations = meta_next.entry("annotations").or_insert_with(|| json!({}));
        annotations["iam.kubesphere.io/last-password-change-time"] = json!(meta::now_rfc3339());
        if let Some(map) = annotations.as_object_mut() {
            map.remove("kubectl.kubernetes.io/last-applied-configuration");
        }
    }
    let mut finalizers = meta::finalizers(&user);
    if !finalizers.iter().any(|f| f == USER_FINALIZER) {
        finalizers.push(USER_FINALIZER.into());
        meta::metadata_mut(&mut next).insert("finalizers".into(), json!(finalizers));
    }
    let stored = if next != user {
        db.update(users, "v1alpha2", None, name, next, false, false)?
    } else {
        user
    };
    // `syncUserStatus`: a disabled user is left alone; a user without a password is
    // disabled; one with a (hashed) password and no state yet becomes active.
    let has_password = stored["spec"]["password"]
        .as_str()
        .is_some_and(|p| !p.is_empty());
    let current = stored["status"]["state"].as_str().unwrap_or_default();
    let state = match (current, has_password) {
        ("Disabled", _) => None,
        (_, false) => Some("Disabled"),
        ("", true) => Some("Active"),
        _ => None,
    };
    let stored = if let Some(state) = state {
        let body = json!({"metadata": {"name": name}, "status": {"state": state, "lastTransitionTime": meta::now_rfc3339()}});
        db.update(users, "v1alpha2", None, name, body, true, false)?
    } else {
        stored
    };

    // A FederatedUser's template carries the status too (docs/KUBESPHERE.md 1.9).
    // Labels only: real v3.4.1 leaves the user's annotations out of the template.
    let mut template = super::federate::default_template(&stored, false);
    template["status"] = stored["status"].clone();
    super::federate::mark_and_federate(db, users, federated, stored, template)?;
    Ok(())
}

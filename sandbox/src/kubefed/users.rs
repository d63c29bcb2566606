//! KubeSphere's user controller on a host (KUBESPHERE.md 1.2 and "Observed"): a plain
//! password is replaced by its bcrypt hash, the user gets its finalizer, the
//! `kubefed.io/managed: "false"` label and a state, and a `FederatedUser` owned by it carries
//! it to every member.

use serde_json::{Value, json};

use super::sync::MANAGED;
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
        let labels = user
            .pointer("/metadata/labels")
            .cloned()
            .unwrap_or(Value::Null);
        // Copies pushed here by another host's kubefed are that host's business.
        if labels[MANAGED] == "true" {
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
        // The FederatedUser goes first (its own finalizer keeps it until members are clean).
        let _ = db.delete(federated, "v1beta1", None, name, &Value::Null, false);
        let mut next = user.clone();
        let rest: Vec<String> = meta::finalizers(&user)
            .into_iter()
            .filter(|f| f != USER_FINALIZER)
            .collect();
        if rest.len() != meta::finalizers(&user).len() {
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
    let meta_next = meta::metadata_mut(&mut next);
    let labels = meta_next.entry("labels").or_insert_with(|| json!({}));
    labels[MANAGED] = json!("false");
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
    let state = if stored["spec"]["password"]
        .as_str()
        .is_some_and(|p| !p.is_empty())
    {
        "Active"
    } else {
        "Disabled"
    };
    let stored = if stored["status"]["state"].is_null()
        || (stored["status"]["state"] != state && stored["status"]["state"] != "AuthLimitExceeded")
    {
        let body = json!({"metadata": {"name": name}, "status": {"state": state, "lastTransitionTime": meta::now_rfc3339()}});
        db.update(users, "v1alpha2", None, name, body, true, false)?
    } else {
        stored
    };

    // The FederatedUser: the user's labels, annotations, spec and status as the template.
    let mut template_meta = json!({});
    for field in ["labels", "annotations"] {
        if let Some(v) = stored["metadata"].get(field) {
            template_meta[field] = v.clone();
        }
    }
    if let Some(labels) = template_meta["labels"].as_object_mut() {
        labels.remove(MANAGED);
    }
    let template =
        json!({"metadata": template_meta, "spec": stored["spec"], "status": stored["status"]});
    let owner = json!([{"apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "User", "name": name, "uid": stored["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true}]);
    match db.get(federated, "v1beta1", None, name) {
        Err(_) => {
            let object = json!({
                "apiVersion": "types.kubefed.io/v1beta1", "kind": "FederatedUser",
                "metadata": {"name": name, "ownerReferences": owner},
                "spec": {"template": template, "placement": {"clusterSelector": {}}},
            });
            db.create(federated, "v1beta1", None, object, false)?;
        }
        Ok(existing)
            if existing["spec"]["template"] != template && !meta::is_deleting(&existing) =>
        {
            let mut next = existing.clone();
            next["spec"]["template"] = template;
            db.update(federated, "v1beta1", None, name, next, false, false)?;
        }
        Ok(_) => {}
    }
    Ok(())
}

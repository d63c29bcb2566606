//! What KubeSphere's host controllers do for every kind they federate: mark the host object
//! `kubefed.io/managed: "false"` and keep a `Federated<Kind>` twin, owned by it, whose
//! template is the object and whose placement is every cluster (`clusterSelector: {}`).

use serde_json::{Value, json};

use super::sync::MANAGED;
use crate::db::Db;
use crate::errors::ApiResult;
use crate::kinds::ResourceKind;
use crate::meta;

/// Host kinds federated as they are: (group, plural, federated kind, whether the template
/// carries the object's annotations). Seen on real ks-controller-manager v3.4.1: global roles
/// and their bindings take labels and annotations into the template, workspace roles and
/// their bindings (and users, `users.rs`) only labels.
pub(crate) const PLAIN: &[(&str, &str, &str, bool)] = &[
    (
        "iam.kubesphere.io",
        "globalroles",
        "FederatedGlobalRole",
        true,
    ),
    (
        "iam.kubesphere.io",
        "globalrolebindings",
        "FederatedGlobalRoleBinding",
        true,
    ),
    (
        "iam.kubesphere.io",
        "workspaceroles",
        "FederatedWorkspaceRole",
        false,
    ),
    (
        "iam.kubesphere.io",
        "workspacerolebindings",
        "FederatedWorkspaceRoleBinding",
        false,
    ),
];

pub(crate) fn find_kind(db: &Db, group: &str, plural: &str) -> Option<ResourceKind> {
    db.registry
        .all()
        .find(|k| k.group == group && k.plural == plural)
        .cloned()
}

fn federated_kind(db: &Db, kind: &str) -> Option<ResourceKind> {
    db.registry.all().find(|k| k.kind == kind).cloned()
}

/// Federates every object of the plain kinds; copies other hosts' kubefed put here are skipped.
pub(crate) fn reconcile_plain(db: &mut Db) {
    for (group, plural, federated, annotations) in PLAIN {
        let (Some(kind), Some(fed)) = (find_kind(db, group, plural), federated_kind(db, federated))
        else {
            continue;
        };
        let objects: Vec<Value> = db
            .store
            .list(group, plural, None, None)
            .map(|(_, v)| v.clone())
            .collect();
        for object in objects {
            let template = default_template(&object, *annotations);
            if let Err(err) = mark_and_federate(db, &kind, &fed, object, template) {
                tracing::warn!(kind = %kind.kind, ?err, "sandbox federation controller");
            }
        }
    }
}

pub(crate) fn is_member_copy(object: &Value) -> bool {
    object
        .pointer("/metadata/labels")
        .and_then(|l| l.get(MANAGED))
        .is_some_and(|v| v == "true")
}

/// Labels `object` as the host's own and keeps its federated twin current. `template`
/// replaces the default template (the object without its server-set fields).
pub(crate) fn mark_and_federate(
    db: &mut Db,
    kind: &ResourceKind,
    fed: &ResourceKind,
    object: Value,
    template: Value,
) -> ApiResult<()> {
    if is_member_copy(&object) || meta::is_deleting(&object) {
        return Ok(());
    }
    let name = meta::str_field(&object, "name")
        .unwrap_or_default()
        .to_string();
    let version = kind.versions.first().cloned().unwrap_or_default();
    let object = if object
        .pointer("/metadata/labels")
        .and_then(|l| l.get(MANAGED))
        .is_none()
    {
        let mut next = object.clone();
        let labels = meta::metadata_mut(&mut next)
            .entry("labels")
            .or_insert_with(|| json!({}));
        labels[MANAGED] = json!("false");
        db.update(kind, &version, None, &name, next, false, false)?
    } else {
        object
    };
    let fed_version = fed.versions.first().cloned().unwrap_or_default();
    match db.get(fed, &fed_version, None, &name) {
        Err(_) => {
            let owner = json!([{"apiVersion": kind.api_version(&version), "kind": kind.kind, "name": name, "uid": object["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true}]);
            let federated = json!({
                "apiVersion": fed.api_version(&fed_version), "kind": fed.kind,
                "metadata": {"name": name, "ownerReferences": owner},
                "spec": {"template": template, "placement": {"clusterSelector": {}}},
            });
            db.create(fed, &fed_version, None, federated, false)?;
        }
        Ok(existing)
            if existing["spec"]["template"] != template && !meta::is_deleting(&existing) =>
        {
            let mut next = existing;
            next["spec"]["template"] = template;
            db.update(fed, &fed_version, None, &name, next, false, false)?;
        }
        Ok(_) => {}
    }
    Ok(())
}

/// The object as kubefed should write it to members: its labels (but not the managed mark),
/// its annotations when the kind's controller copies them, and every field but metadata and
/// status.
pub(crate) fn default_template(object: &Value, annotations: bool) -> Value {
    let mut template = json!({"metadata": {}});
    let fields: &[&str] = if annotations {
        &["labels", "annotations"]
    } else {
        &["labels"]
    };
    for field in fields {
        if let Some(v) = object["metadata"].get(field) {
            template["metadata"][field] = v.clone();
        }
    }
    // `get_mut`, not indexing: indexing a missing key would insert a null.
    if let Some(labels) = template["metadata"]
        .get_mut("labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(MANAGED);
    }
    if let Some(map) = object.as_object() {
        for (k, v) in map {
            if !matches!(k.as_str(), "apiVersion" | "kind" | "metadata" | "status") {
                template[k] = v.clone();
            }
        }
    }
    template
}

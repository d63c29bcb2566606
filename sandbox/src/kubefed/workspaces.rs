//! KubeSphere's workspacetemplate controller on a host (docs/KUBESPHERE.md 1.7 and "Observed"): a
//! `FederatedWorkspace` from the template, the four workspace roles copied from the role
//! bases as `<ws>-<role>`, and the `<ws>-admin` binding for the manager. The roles and the
//! binding are then federated like any other.

use serde_json::{Value, json};

use super::federate::{find_kind, is_member_copy, mark_and_federate};
use crate::db::Db;
use crate::errors::ApiResult;
use crate::meta;

const IAM: &str = "iam.kubesphere.io";
const WS_FINALIZER: &str = "finalizers.workspacetemplate.kubesphere.io";
const WS_LABEL: &str = "kubesphere.io/workspace";

pub(crate) fn reconcile_workspaces(db: &mut Db) {
    let Some(templates) = find_kind(db, "tenant.kubesphere.io", "workspacetemplates") else {
        return;
    };
    let all: Vec<Value> = db
        .store
        .list(&templates.group, &templates.plural, None, None)
        .map(|(_, v)| v.clone())
        .collect();
    for template in all.into_iter().filter(|t| !is_member_copy(t)) {
        let name = meta::str_field(&template, "name")
            .unwrap_or_default()
            .to_string();
        if let Err(err) = reconcile(db, &templates, &name, template) {
            tracing::warn!(workspace = %name, ?err, "sandbox workspace controller");
        }
    }
}

fn reconcile(
    db: &mut Db,
    kind: &crate::kinds::ResourceKind,
    ws: &str,
    template: Value,
) -> ApiResult<()> {
    let finalizers = meta::finalizers(&template);
    if meta::is_deleting(&template) {
        // Roles, bindings and the FederatedWorkspace are owned by the template: garbage
        // collection takes them once the finalizer is gone.
        if finalizers.iter().any(|f| f == WS_FINALIZER) {
            let mut next = template.clone();
            let rest: Vec<&String> = finalizers.iter().filter(|f| *f != WS_FINALIZER).collect();
            meta::metadata_mut(&mut next).insert("finalizers".into(), json!(rest));
            db.update(kind, "v1alpha2", None, ws, next, false, false)?;
        }
        return Ok(());
    }
    let template = if finalizers.iter().any(|f| f == WS_FINALIZER) {
        template
    } else {
        let mut next = template.clone();
        let mut all = finalizers;
        all.push(WS_FINALIZER.into());
        meta::metadata_mut(&mut next).insert("finalizers".into(), json!(all));
        db.update(kind, "v1alpha2", None, ws, next, false, false)?
    };
    let owner = json!([{"apiVersion": "tenant.kubesphere.io/v1alpha2", "kind": "WorkspaceTemplate", "name": ws, "uid": template["metadata"]["uid"]}]);

    let federated_workspace = db
        .registry
        .all()
        .find(|k| k.kind == "FederatedWorkspace")
        .cloned();
    if let Some(fed) = federated_workspace {
        let ws_template = json!({"metadata": template["spec"]["template"]["metadata"].clone(), "spec": template["spec"]["template"]["spec"].clone()});
        mark_and_federate(db, kind, &fed, template.clone(), ws_template)?;
        // A workspace's placement is its own, not "every cluster".
        let placement = template["spec"]["placement"].clone();
        if let Ok(existing) = db.get(&fed, "v1beta1", None, ws)
            && !placement.is_null()
            && existing["spec"]["placement"] != placement
        {
            let mut next = existing;
            next["spec"]["placement"] = placement;
            db.update(&fed, "v1beta1", None, ws, next, false, false)?;
        }
    }

    let Some(roles) = find_kind(db, IAM, "workspaceroles") else {
        return Ok(());
    };
    let bases: Vec<Value> = db
        .store
        .list(IAM, "rolebases", None, None)
        .map(|(_, v)| v.clone())
        .collect();
    for base in bases
        .iter()
        .filter(|b| b["role"]["kind"] == "WorkspaceRole")
    {
        let role = &base["role"];
        let role_name = format!("{ws}-{}", meta::str_field(role, "name").unwrap_or_default());
        if db.get(&roles, "v1alpha2", None, &role_name).is_ok() {
            continue;
        }
        let mut annotations = role["metadata"]["annotations"].clone();
        if annotations.is_null() {
            annotations = json!({});
        }
        let object = json!({
            "apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "WorkspaceRole",
            "metadata": {"name": role_name, "labels": {WS_LABEL: ws}, "annotations": annotations, "ownerReferences": owner},
            "rules": role["rules"].clone(),
        });
        db.create(&roles, "v1alpha2", None, object, false)?;
    }
    let manager = template["spec"]["template"]["spec"]["manager"]
        .as_str()
        .unwrap_or_default();
    if let Some(bindings) = find_kind(db, IAM, "workspacerolebindings")
        && !manager.is_empty()
        && db
            .get(&bindings, "v1alpha2", None, &format!("{ws}-admin"))
            .is_err()
    {
        let binding = json!({
            "apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "WorkspaceRoleBinding",
            "metadata": {"name": format!("{ws}-admin"), "labels": {WS_LABEL: ws, "iam.kubesphere.io/user-ref": manager}, "ownerReferences": owner},
            "roleRef": {"apiGroup": "iam.kubesphere.io", "kind": "WorkspaceRole", "name": format!("{ws}-admin")},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": manager}],
        });
        db.create(&bindings, "v1alpha2", None, binding, false)?;
    }
    Ok(())
}

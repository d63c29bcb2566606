//! KubeSphere's loginrecord controller (docs/KUBESPHERE.md 1.3): a successful login's time becomes
//! the user's `status.lastLoginTime`.

use serde_json::{Value, json};

use super::federate::find_kind;
use crate::db::Db;
use crate::meta;

const IAM: &str = "iam.kubesphere.io";

pub(crate) fn reconcile_login_records(db: &mut Db) {
    let (Some(records), Some(users)) = (
        find_kind(db, IAM, "loginrecords"),
        find_kind(db, IAM, "users"),
    ) else {
        return;
    };
    // The newest successful login per user.
    let mut latest: std::collections::BTreeMap<String, String> = Default::default();
    for (_, record) in db.store.list(&records.group, &records.plural, None, None) {
        if record["spec"]["success"] != json!(true) {
            continue;
        }
        let (Some(user), Some(at)) = (
            record["metadata"]["labels"]["iam.kubesphere.io/user-ref"].as_str(),
            meta::str_field(record, "creationTimestamp"),
        ) else {
            continue;
        };
        let entry = latest.entry(user.to_string()).or_default();
        if at > entry.as_str() {
            *entry = at.to_string();
        }
    }
    for (user, at) in latest {
        let Some(stored) = db
            .store
            .list(&users.group, &users.plural, None, None)
            .find(|(_, u)| meta::str_field(u, "name") == Some(user.as_str()))
            .map(|(_, u)| u.clone())
        else {
            continue;
        };
        let known = stored["status"]["lastLoginTime"]
            .as_str()
            .unwrap_or_default();
        // RFC 3339 times in one format compare as text.
        if known >= at.as_str() {
            continue;
        }
        let mut status: Value = stored.get("status").cloned().unwrap_or_else(|| json!({}));
        status["lastLoginTime"] = json!(at);
        let body = json!({"metadata": {"name": user}, "status": status});
        if let Err(err) = db.update(&users, "v1alpha2", None, &user, body, true, false) {
            tracing::warn!(%user, ?err, "sandbox loginrecord controller");
        }
    }
}

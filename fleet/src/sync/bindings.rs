//! One platform role per user, one role per user in a workspace. KubeSphere keeps a single
//! `GlobalRoleBinding` per user (labelled `iam.kubesphere.io/user-ref`) and a single
//! `WorkspaceRoleBinding` per user and workspace: ks-apiserver deletes the old binding when it
//! makes the new one. Two hosts that gave one user different roles hold two bindings of
//! different names, and syncing each object alone would give the user both everywhere (the
//! seed's second experiment: one host's sync fails on the member). The binding made last
//! stays; the others are deleted on every host and logged as conflicts.

use std::collections::BTreeMap;

use serde_json::Value;

use super::hlc::Version;
use super::merge::{Conflict, Write};
use crate::federation::FederatedKind;

const USER_REF: &str = "iam.kubesphere.io/user-ref";
const WORKSPACE: &str = "kubesphere.io/workspace";

/// A binding that loses to another binding of the same user (and workspace).
#[derive(Debug, Clone, PartialEq)]
pub struct Displaced {
    /// The losing binding's name.
    pub name: String,
    pub conflict: Conflict,
}

/// Among `bindings` (name → its present copies, by host), those that lose to a newer binding
/// of the same user (and workspace). Other kinds have no such rule.
pub fn displaced(
    kind: FederatedKind,
    bindings: &BTreeMap<String, Vec<(String, &Value)>>,
) -> Vec<Displaced> {
    let key = |copy: &Value| -> Option<String> {
        let label = |name: &str| {
            copy.pointer(&format!("/metadata/labels/{}", super::fields::escape(name)))
                .and_then(Value::as_str)
                .map(String::from)
        };
        match kind {
            FederatedKind::GlobalRoleBinding => label(USER_REF),
            FederatedKind::WorkspaceRoleBinding => {
                Some(format!("{}/{}", label(WORKSPACE)?, label(USER_REF)?))
            }
            _ => None,
        }
    };
    // user (and workspace) → [(made, name, first host, role)]
    let mut by_user: BTreeMap<String, Vec<(String, String, String, Value)>> = BTreeMap::new();
    for (name, copies) in bindings {
        let Some((_, first)) = copies.first() else {
            continue;
        };
        let Some(user) = key(first) else { continue };
        // When the binding was first made: its oldest copy (a copy the engine made elsewhere
        // is younger than the original).
        let (host, made) = copies
            .iter()
            .map(|(host, copy)| {
                let at = copy
                    .pointer("/metadata/creationTimestamp")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                (host.clone(), at.to_string())
            })
            .min_by(|a, b| a.1.cmp(&b.1))
            .unwrap_or_default();
        let role = first
            .pointer("/roleRef/name")
            .cloned()
            .unwrap_or(Value::Null);
        by_user
            .entry(user)
            .or_default()
            .push((made, name.clone(), host, role));
    }
    let mut out = Vec::new();
    for (_, mut candidates) in by_user {
        if candidates.len() < 2 {
            continue;
        }
        // The newest stays; equal times keep the later name, so every replica chooses alike.
        candidates.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        let (made, _, host, role) = candidates.pop().expect("two or more");
        let kept = Write {
            host: host.clone(),
            value: Some(role),
            version: version(&made, &host),
        };
        for (lost_made, name, lost_host, lost_role) in candidates {
            out.push(Displaced {
                name,
                conflict: Conflict {
                    field: "/roleRef/name".into(),
                    kept: kept.clone(),
                    superseded: Write {
                        version: version(&lost_made, &lost_host),
                        host: lost_host,
                        value: Some(lost_role),
                    },
                },
            });
        }
    }
    out
}

/// A creation time as a version (for the log's "when").
fn version(rfc3339: &str, host: &str) -> Version {
    let wall_ms = rfc3339
        .parse::<k8s_openapi::jiff::Timestamp>()
        .map(|t| t.as_millisecond().max(0) as u64)
        .unwrap_or_default();
    Version {
        wall_ms,
        counter: 0,
        host: host.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn binding(user: &str, role: &str, at: &str) -> Value {
        json!({"metadata": {"name": format!("{user}-{role}"), "creationTimestamp": at,
            "labels": {USER_REF: user}}, "roleRef": {"name": role}})
    }

    #[test]
    fn the_newest_platform_role_of_a_user_stays_and_the_other_is_logged() {
        let admin = binding("xxr", "platform-admin", "2026-12-07T10:00:00Z");
        let regular = binding("xxr", "platform-regular", "2026-12-07T10:05:00Z");
        // The engine's copy of the admin binding on host2 is younger than the original.
        let admin_copy = binding("xxr", "platform-admin", "2026-12-07T10:06:00Z");
        let other = binding("bob", "platform-regular", "2026-12-07T09:00:00Z");
        let bindings = BTreeMap::from([
            (
                "xxr-platform-admin".to_string(),
                vec![
                    ("host".to_string(), &admin),
                    ("host2".to_string(), &admin_copy),
                ],
            ),
            (
                "xxr-platform-regular".to_string(),
                vec![("host2".to_string(), &regular)],
            ),
            (
                "bob-platform-regular".to_string(),
                vec![("host".to_string(), &other)],
            ),
        ]);
        let lost = displaced(FederatedKind::GlobalRoleBinding, &bindings);
        let [one] = lost.as_slice() else {
            panic!("{lost:?}")
        };
        assert_eq!(one.name, "xxr-platform-admin");
        assert_eq!(one.conflict.kept.value, Some(json!("platform-regular")));
        assert_eq!(one.conflict.kept.host, "host2");
        assert_eq!(one.conflict.superseded.value, Some(json!("platform-admin")));
        assert!(displaced(FederatedKind::GlobalRole, &bindings).is_empty());
    }
}

//! The competing versions of one object side by side: every field that differs between the
//! hosts' templates, with each host's value, told apart by origin — what a person set (email,
//! roles, rules) and what software generated (password hashes with their salt, timestamps,
//! annotations controllers write). A password hash is never shown, only a short digest of it.

use std::collections::BTreeMap;

use serde_json::Value;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    PersonMade,
    Generated,
}

/// One field that differs between hosts.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDiff {
    /// Dotted path, e.g. `spec.email`, `metadata.annotations.iam.kubesphere.io/last-password-change-time`.
    pub path: String,
    pub origin: Origin,
    /// Each host's value as text, `None` where the host has no such field.
    pub values: Vec<(String, Option<String>)>,
}

/// What the hosts' versions of an object have in common and where they differ.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VersionDiff {
    pub differences: Vec<FieldDiff>,
    /// Fields every host has with the same value.
    pub equal_fields: usize,
}

/// Annotations a person sets through the console (KubeSphere's names).
const PERSON_MADE_ANNOTATIONS: [&str; 3] = [
    "kubesphere.io/description",
    "kubesphere.io/alias-name",
    "kubesphere.io/display-name",
];

/// Where a field comes from, by its path.
pub fn origin(path: &str) -> Origin {
    if let Some(key) = path.strip_prefix("metadata.annotations.") {
        return if PERSON_MADE_ANNOTATIONS.contains(&key) {
            Origin::PersonMade
        } else {
            Origin::Generated
        };
    }
    let last = path.rsplit('.').next().unwrap_or(path);
    let generated = path == "spec.password"
        || path.starts_with("status.")
        || path.starts_with("metadata.") && !path.starts_with("metadata.labels.")
        || last.ends_with("Time")
        || last.ends_with("Timestamp");
    if generated {
        Origin::Generated
    } else {
        Origin::PersonMade
    }
}

/// Compares the templates of several hosts (`(host, template)`).
pub fn diff_versions(versions: &[(String, Value)]) -> VersionDiff {
    let flat: Vec<(String, BTreeMap<String, String>)> = versions
        .iter()
        .map(|(host, template)| {
            let mut fields = BTreeMap::new();
            flatten("", template, &mut fields);
            (host.clone(), fields)
        })
        .collect();
    let mut paths: Vec<&String> = flat.iter().flat_map(|(_, f)| f.keys()).collect();
    paths.sort();
    paths.dedup();
    let mut out = VersionDiff::default();
    for path in paths {
        let values: Vec<(String, Option<String>)> = flat
            .iter()
            .map(|(host, fields)| (host.clone(), fields.get(path).cloned()))
            .collect();
        if values.windows(2).all(|w| w[0].1 == w[1].1) {
            out.equal_fields += 1;
        } else {
            out.differences.push(FieldDiff {
                path: path.clone(),
                origin: origin(path),
                values,
            });
        }
    }
    // What a person made first: that is what someone has to decide about.
    out.differences
        .sort_by_key(|d| (d.origin == Origin::Generated, d.path.clone()));
    out
}

/// Leaves as `path → text`; identity and kubefed's own label are left out.
fn flatten(prefix: &str, value: &Value, out: &mut BTreeMap<String, String>) {
    const SKIPPED: [&str; 8] = [
        "apiVersion",
        "kind",
        "metadata.name",
        "metadata.uid",
        "metadata.resourceVersion",
        "metadata.generation",
        "metadata.managedFields",
        "metadata.labels.kubefed.io/managed",
    ];
    if SKIPPED.contains(&prefix) {
        return;
    }
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&path, child, out);
            }
        }
        Value::Null => {}
        _ if prefix.is_empty() => {}
        Value::String(text) if prefix == "spec.password" => {
            out.insert(prefix.to_string(), redacted_hash(text));
        }
        Value::String(text) => {
            out.insert(prefix.to_string(), text.clone());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

/// A password hash as the diff shows it: that it is one, and a digest to compare by.
fn redacted_hash(hash: &str) -> String {
    let digest = Sha256::digest(hash.as_bytes());
    let short: String = digest.iter().take(3).map(|b| format!("{b:02x}")).collect();
    format!("bcrypt hash #{short}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn person_made_differences_come_first_and_hashes_never_show() {
        let host = json!({"metadata": {"labels": {"kubefed.io/managed": "false"},
            "annotations": {"iam.kubesphere.io/last-password-change-time": "2026-11-25T10:00:00Z"}},
            "spec": {"email": "xxp@163.com", "password": "$2a$10$aaaaaaaa", "lang": "en"},
            "status": {"state": "Active", "lastTransitionTime": "2026-11-25T10:00:01Z"}});
        let host2 = json!({"metadata": {"labels": {"kubefed.io/managed": "false"},
            "annotations": {"iam.kubesphere.io/last-password-change-time": "2026-11-25T10:00:05Z"}},
            "spec": {"email": "xxp-2@163.com", "password": "$2a$10$bbbbbbbb", "lang": "en"},
            "status": {"state": "Active", "lastTransitionTime": "2026-11-25T10:00:06Z"}});
        let diff = diff_versions(&[("host".into(), host), ("host2".into(), host2)]);
        let paths: Vec<(&str, Origin)> = diff
            .differences
            .iter()
            .map(|d| (d.path.as_str(), d.origin))
            .collect();
        assert_eq!(
            paths,
            vec![
                ("spec.email", Origin::PersonMade),
                (
                    "metadata.annotations.iam.kubesphere.io/last-password-change-time",
                    Origin::Generated
                ),
                ("spec.password", Origin::Generated),
                ("status.lastTransitionTime", Origin::Generated),
            ]
        );
        assert_eq!(diff.equal_fields, 2, "lang and state");
        let hashes = &diff.differences[2].values;
        assert!(hashes.iter().all(|(_, v)| {
            v.as_deref()
                .is_some_and(|v| v.starts_with("bcrypt hash #") && !v.contains("$2a$"))
        }));
        assert_eq!(hashes[0].0, "host");
        assert_eq!(hashes[1].0, "host2");
    }

    #[test]
    fn a_field_only_one_host_has_is_a_difference() {
        let diff = diff_versions(&[
            (
                "host".into(),
                json!({"roleRef": {"name": "platform-admin"}}),
            ),
            ("host2".into(), json!({})),
        ]);
        assert_eq!(diff.differences.len(), 1);
        assert_eq!(diff.differences[0].origin, Origin::PersonMade);
        assert_eq!(diff.differences[0].values[1].1, None);
    }
}

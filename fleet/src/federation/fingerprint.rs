//! A short, stable digest of what kubefed propagates, to compare copies across clusters
//! without shipping (or showing) their content.

use sha2::{Digest, Sha256};

/// The first 12 hex digits of a SHA-256 over canonical JSON.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Fingerprint(pub String);

/// Metadata kubefed and the API server write on every copy; they differ between copies that
/// carry the same content.
const GENERATED_METADATA: [&str; 8] = [
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
    "ownerReferences",
    "finalizers",
];

/// Top-level fields that are not content: identity, and `status` (see below).
pub const NOT_PROPAGATED: [&str; 4] = ["apiVersion", "kind", "metadata", "status"];

/// The fingerprint of an object as kubefed carries it to a member: its content (`spec`, or
/// `rules`, `subjects`, `roleRef`), labels and annotations, without what the API server or kubefed add per copy (identity, versions,
/// timestamps, `kubefed.io/managed`). `status` is left out: where the kind has a status
/// subresource (User does) the member's API server drops it from kubefed's writes. Keys are
/// sorted, so the same content always gives the same fingerprint.
pub fn propagated_fingerprint(object: &serde_json::Value) -> Fingerprint {
    let mut meta = object.get("metadata").cloned().unwrap_or_default();
    if let Some(m) = meta.as_object_mut() {
        for key in GENERATED_METADATA {
            m.remove(key);
        }
        m.remove("name");
        m.remove("namespace");
        if let Some(labels) = m.get_mut("labels").and_then(|l| l.as_object_mut()) {
            labels.remove("kubefed.io/managed");
        }
    }
    // Every top-level field but identity and status: roles and bindings keep their content
    // in `rules`, `subjects` and `roleRef`, not in `spec`.
    let mut view = serde_json::Map::new();
    view.insert("labels".into(), map_or_nothing(meta.get("labels")));
    view.insert(
        "annotations".into(),
        map_or_nothing(meta.get("annotations")),
    );
    if let Some(fields) = object.as_object() {
        for (key, value) in fields {
            if !NOT_PROPAGATED.contains(&key.as_str()) {
                view.insert(format!("field:{key}"), value.clone());
            }
        }
    }
    let view = serde_json::Value::Object(view);
    let mut text = String::new();
    canonical(&view, &mut text);
    let digest = Sha256::digest(text.as_bytes());
    Fingerprint(digest.iter().take(6).map(|b| format!("{b:02x}")).collect())
}

/// Labels or annotations, with "none" spelled one way: a template without labels and the
/// member's copy whose only label (`kubefed.io/managed`) was left out are the same content
/// (a workspace's template has no labels on a real cluster: its CRD prunes them).
fn map_or_nothing(value: Option<&serde_json::Value>) -> serde_json::Value {
    match value {
        Some(serde_json::Value::Object(map)) if !map.is_empty() => {
            serde_json::Value::Object(map.clone())
        }
        _ => serde_json::Value::Null,
    }
}

/// JSON with every object's keys sorted, whatever order the maps keep.
pub(crate) fn canonical(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String(key.clone()).to_string());
                out.push(':');
                canonical(&map[key], out);
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

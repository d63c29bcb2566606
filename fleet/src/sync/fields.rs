//! Which parts of an object are replicated, as separate fields, and how an object is put back
//! together from them.
//!
//! A field is a leaf of the object addressed by a JSON pointer (`/spec/email`,
//! `/metadata/annotations/kubesphere.io~1description`): each label and annotation, each
//! scalar or list under `spec`, `status` and the other top-level content (`rules`, `subjects`,
//! `roleRef`). Lists are one field: KubeSphere writes them whole. Everything the API server,
//! kubefed or this engine keep per copy is left out: identity, versions, finalizers, owners,
//! kubefed's `managed` label, the engine's own stamp, and kubectl's last-applied annotation
//! (which holds a plain password when someone applied a user with one).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{INCARNATION_ANNOTATION, PLACED_ANNOTATION, STAMP_ANNOTATION};

/// The replicated fields of an object, by JSON pointer.
pub type Fields = BTreeMap<String, Value>;

/// Labels and annotations that belong to one copy, never replicated.
const LOCAL_LABELS: [&str; 1] = ["kubefed.io/managed"];
const LOCAL_ANNOTATIONS: [&str; 5] = [
    STAMP_ANNOTATION,
    PLACED_ANNOTATION,
    INCARNATION_ANNOTATION,
    super::logins::TOUCHED_ANNOTATION,
    "kubectl.kubernetes.io/last-applied-configuration",
];

/// `key` as one JSON-pointer segment.
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// The replicated fields of `object`.
pub fn replicated(object: &Value) -> Fields {
    let mut out = Fields::new();
    let Some(top) = object.as_object() else {
        return out;
    };
    for (key, value) in top {
        match key.as_str() {
            "apiVersion" | "kind" => {}
            "metadata" => {
                for (map, local) in [
                    ("labels", &LOCAL_LABELS[..]),
                    ("annotations", &LOCAL_ANNOTATIONS[..]),
                ] {
                    let entries = value.get(map).and_then(Value::as_object);
                    for (name, text) in entries.into_iter().flatten() {
                        if !local.contains(&name.as_str()) && !text.is_null() {
                            out.insert(format!("/metadata/{map}/{}", escape(name)), text.clone());
                        }
                    }
                }
            }
            _ => leaves(&format!("/{}", escape(key)), value, &mut out),
        }
    }
    out
}

fn leaves(pointer: &str, value: &Value, out: &mut Fields) {
    match value {
        Value::Null => {}
        // An empty object is a value of its own: a schema may require the field
        // (a WorkspaceTemplate's `spec.placement: {}`).
        Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                leaves(&format!("{pointer}/{}", escape(key)), child, out);
            }
        }
        other => {
            out.insert(pointer.to_string(), other.clone());
        }
    }
}

/// `copy` with its replicated fields replaced by `fields`; what belongs to the copy
/// (identity, versions, finalizers, local labels and annotations) stays as it is.
pub fn rebuild(copy: &Value, fields: &Fields) -> Value {
    let mut out = Map::new();
    if let Some(top) = copy.as_object() {
        for key in ["apiVersion", "kind"] {
            if let Some(value) = top.get(key) {
                out.insert(key.into(), value.clone());
            }
        }
        if let Some(meta) = top.get("metadata").and_then(Value::as_object) {
            let mut kept = meta.clone();
            for (map, local) in [
                ("labels", &LOCAL_LABELS[..]),
                ("annotations", &LOCAL_ANNOTATIONS[..]),
            ] {
                let own: Map<String, Value> = meta
                    .get(map)
                    .and_then(Value::as_object)
                    .map(|m| {
                        m.iter()
                            .filter(|(k, _)| local.contains(&k.as_str()))
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect()
                    })
                    .unwrap_or_default();
                kept.remove(map);
                if !own.is_empty() {
                    kept.insert(map.into(), Value::Object(own));
                }
            }
            out.insert("metadata".into(), Value::Object(kept));
        }
    }
    let mut object = Value::Object(out);
    for (pointer, value) in fields {
        put(&mut object, pointer, value.clone());
    }
    object
}

/// Sets the leaf at `pointer`, making the objects on the way.
fn put(object: &mut Value, pointer: &str, value: Value) {
    let segments: Vec<String> = pointer.split('/').skip(1).map(unescape).collect();
    let Some((last, path)) = segments.split_last() else {
        return;
    };
    let mut node = object;
    for segment in path {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        node = node
            .as_object_mut()
            .expect("made an object above")
            .entry(segment.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if !node.is_object() {
        *node = Value::Object(Map::new());
    }
    node.as_object_mut()
        .expect("made an object above")
        .insert(last.clone(), value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> Value {
        json!({
            "apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "User",
            "metadata": {
                "name": "alice", "uid": "u-1", "resourceVersion": "42",
                "finalizers": ["finalizers.kubesphere.io/users"],
                "labels": {"kubefed.io/managed": "false", "team": "a/b"},
                "annotations": {
                    "kubesphere.io/description": "tester",
                    "kubectl.kubernetes.io/last-applied-configuration": "{\"spec\":{\"password\":\"plain\"}}",
                    STAMP_ANNOTATION: "{}",
                },
            },
            "spec": {"email": "a@example.com", "groups": ["x", "y"], "password": "$2a$10$abc"},
            "status": {"state": "Active", "lastTransitionTime": "2026-12-07T10:00:00Z"},
        })
    }

    #[test]
    fn content_is_replicated_and_what_belongs_to_the_copy_is_not() {
        let fields = replicated(&user());
        let pointers: Vec<&str> = fields.keys().map(String::as_str).collect();
        assert_eq!(
            pointers,
            [
                "/metadata/annotations/kubesphere.io~1description",
                "/metadata/labels/team",
                "/spec/email",
                "/spec/groups",
                "/spec/password",
                "/status/lastTransitionTime",
                "/status/state",
            ]
        );
        assert_eq!(fields["/spec/groups"], json!(["x", "y"]));
    }

    #[test]
    fn an_empty_object_is_kept() {
        let workspace =
            json!({"spec": {"placement": {}, "template": {"spec": {"manager": "admin"}}}});
        let fields = replicated(&workspace);
        assert_eq!(fields["/spec/placement"], json!({}));
        assert_eq!(rebuild(&json!({}), &fields)["spec"]["placement"], json!({}));
    }

    #[test]
    fn a_copy_rebuilt_from_fields_keeps_its_own_parts() {
        let copy = user();
        let mut fields = replicated(&copy);
        fields.insert("/spec/email".into(), json!("new@example.com"));
        fields.remove("/metadata/labels/team");
        fields.insert("/rules".into(), json!([{"verbs": ["get"]}]));
        let rebuilt = rebuild(&copy, &fields);
        assert_eq!(replicated(&rebuilt), fields);
        assert_eq!(rebuilt["metadata"]["uid"], "u-1");
        assert_eq!(
            rebuilt["metadata"]["finalizers"],
            copy["metadata"]["finalizers"]
        );
        assert_eq!(
            rebuilt["metadata"]["labels"],
            json!({"kubefed.io/managed": "false"})
        );
        assert_eq!(
            rebuilt["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"],
            copy["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
        );
        assert_eq!(rebuilt["apiVersion"], "iam.kubesphere.io/v1alpha2");
    }

    #[test]
    fn keys_with_slashes_and_tildes_survive_the_round_trip() {
        let odd = json!({"metadata": {"annotations": {"a/b~c": "1"}}, "spec": {"x/y": {"~": 2}}});
        let fields = replicated(&odd);
        assert!(fields.contains_key("/metadata/annotations/a~1b~0c"));
        assert!(fields.contains_key("/spec/x~1y/~0"));
        assert_eq!(replicated(&rebuild(&json!({}), &fields)), fields);
    }
}

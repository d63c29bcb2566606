//! Pruning: what kube-apiserver does to a custom object while decoding it. A field the
//! structural schema does not declare is dropped (unless `x-kubernetes-preserve-unknown-fields`
//! keeps it), and so is a `null` in a field that is not `nullable` — a client that writes
//! a field its CRD does not know sees it vanish, on a real cluster and here alike.

use serde_json::{Map, Value};

use super::{OBJECT_META_FIELDS, Schema, child_path};

/// Prunes `object` (a whole custom object) in place; returns the paths of the unknown fields
/// it dropped (`spec.foo`, `status.conditions[0].bar`), for `Warning` headers and
/// `fieldValidation=Strict`. Dropped nulls are not named: kube-apiserver drops them quietly.
pub fn prune(root: &Schema, object: &mut Value) -> Vec<String> {
    let mut unknown = Vec::new();
    if let Value::Object(map) = object {
        prune_resource(root, map, "", &mut unknown);
    }
    unknown
}

/// The unknown fields `prune` would drop, without changing `object`.
pub fn unknown_fields(root: &Schema, object: &Value) -> Vec<String> {
    prune(root, &mut object.clone())
}

/// An object with type fields and metadata: the root, or an embedded resource.
fn prune_resource(
    schema: &Schema,
    map: &mut Map<String, Value>,
    path: &str,
    out: &mut Vec<String>,
) {
    if let Some(Value::Object(meta)) = map.get_mut("metadata") {
        let meta_path = child_path(path, "metadata");
        meta.retain(|field, _| {
            let known = OBJECT_META_FIELDS.contains(&field.as_str());
            if !known {
                out.push(child_path(&meta_path, field));
            }
            known
        });
    }
    prune_fields(schema, map, path, out, &["apiVersion", "kind", "metadata"]);
}

fn prune_fields(
    schema: &Schema,
    map: &mut Map<String, Value>,
    path: &str,
    out: &mut Vec<String>,
    always_kept: &[&str],
) {
    map.retain(|field, value| {
        if always_kept.contains(&field.as_str()) {
            return true;
        }
        let child = schema
            .properties
            .get(field)
            .or(schema.additional_properties.as_deref());
        match child {
            Some(child) if value.is_null() && !child.nullable => false,
            Some(child) => {
                prune_value(child, value, &child_path(path, field), out);
                true
            }
            None if schema.preserve_unknown_fields => true,
            None => {
                out.push(child_path(path, field));
                false
            }
        }
    });
}

fn prune_value(schema: &Schema, value: &mut Value, path: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) if schema.embedded_resource => prune_resource(schema, map, path, out),
        Value::Object(map) => prune_fields(schema, map, path, out, &[]),
        Value::Array(items) => {
            if let Some(item_schema) = schema.items.as_deref() {
                for (i, item) in items.iter_mut().enumerate() {
                    prune_value(item_schema, item, &format!("{path}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

//! Strategic merge patch, table-driven (see [`strategic_merge`]).

use serde_json::{Map, Value};

use super::{PatchError, check_depth, malformed};

/// How a list field merges. Kubernetes reads this from Go struct tags; we only know the
/// handful of fields that controllers and kubectl patch in practice.
#[derive(Clone, Copy)]
enum ListStrategy {
    Replace,
    Union,
    MergeKey(&'static str),
}

fn list_strategy(kind: &str, path: &str) -> ListStrategy {
    use ListStrategy::*;
    match (kind, path) {
        (_, "metadata.finalizers") => Union,
        (_, "metadata.ownerReferences") => MergeKey("uid"),
        ("ServiceAccount", "secrets" | "imagePullSecrets") => MergeKey("name"),
        ("Service", "spec.ports") => MergeKey("port"),
        ("Node", "status.addresses") | (_, "status.conditions") => MergeKey("type"),
        ("Pod", "spec.containers" | "spec.initContainers" | "spec.volumes") => MergeKey("name"),
        ("Pod", "spec.containers.env" | "spec.initContainers.env") => MergeKey("name"),
        ("Pod", "spec.containers.ports" | "spec.initContainers.ports") => MergeKey("containerPort"),
        // A Deployment's pod template: what `kubectl apply` of a changed manifest merges.
        ("Deployment", path) => match path.strip_prefix("spec.template.spec.") {
            Some("containers" | "initContainers" | "volumes" | "imagePullSecrets") => {
                MergeKey("name")
            }
            Some("containers.env" | "initContainers.env") => MergeKey("name"),
            Some("containers.ports" | "initContainers.ports") => MergeKey("containerPort"),
            Some("containers.volumeMounts" | "initContainers.volumeMounts") => {
                MergeKey("mountPath")
            }
            Some("topologySpreadConstraints") => MergeKey("topologyKey"),
            _ => Replace,
        },
        _ => Replace,
    }
}

enum Directive {
    Replace,
    Delete,
}

/// A map's `$patch` directive; `merge` is the default and so means nothing.
fn directive(map: &Map<String, Value>) -> Result<Option<Directive>, PatchError> {
    match map.get("$patch") {
        None => Ok(None),
        Some(v) if v == "merge" => Ok(None),
        Some(v) if v == "replace" => Ok(Some(Directive::Replace)),
        Some(v) if v == "delete" => Ok(Some(Directive::Delete)),
        Some(other) => Err(malformed(format!("unknown $patch directive {other}"))),
    }
}

/// Strategic merge patch, simplified from k8s.io/apimachinery's strategicpatch because we
/// have no Go struct tags to read: only the lists in [`list_strategy`] merge, every other
/// list is replaced wholesale as in a JSON merge patch. `$setElementOrder/*` and
/// `$retainKeys` are accepted but ignored (ordering and key pruning are cosmetic for our
/// clients); any other `$` key is rejected rather than stored, as are unknown `$patch`
/// values.
pub fn strategic_merge(kind: &str, target: &Value, patch: &Value) -> Result<Value, PatchError> {
    if !patch.is_object() {
        return Err(malformed("strategic merge patch must be an object"));
    }
    check_depth(patch, 0)?;
    let merged = merge_value(kind, "", Some(target.clone()), patch)?;
    Ok(merged.unwrap_or_else(|| Value::Object(Map::new())))
}

/// Returns the field's new value, or `None` when the patch deletes it. Patch content with
/// no counterpart in the target is merged into nothing, which strips directives and nulls.
fn merge_value(
    kind: &str,
    path: &str,
    target: Option<Value>,
    patch: &Value,
) -> Result<Option<Value>, PatchError> {
    match patch {
        Value::Null => Ok(None),
        Value::Object(fields) => {
            let base = match (directive(fields)?, target) {
                (Some(Directive::Delete), _) => return Ok(None),
                (None, Some(Value::Object(map))) => map,
                _ => Map::new(),
            };
            Ok(Some(Value::Object(merge_map(kind, path, base, fields)?)))
        }
        Value::Array(items) => {
            let base = match target {
                Some(Value::Array(list)) => list,
                _ => Vec::new(),
            };
            Ok(Some(Value::Array(merge_list(kind, path, base, items)?)))
        }
        scalar => Ok(Some(scalar.clone())),
    }
}

fn merge_map(
    kind: &str,
    path: &str,
    mut target: Map<String, Value>,
    patch: &Map<String, Value>,
) -> Result<Map<String, Value>, PatchError> {
    // Deletions go first, as in Kubernetes, so one patch can drop a value and add others.
    for (key, doomed) in patch {
        if let Some(field) = key.strip_prefix("$deleteFromPrimitiveList/") {
            let doomed = doomed
                .as_array()
                .ok_or_else(|| malformed(format!("{key} must be a list")))?;
            if let Some(Value::Array(list)) = target.get_mut(field) {
                list.retain(|item| !doomed.contains(item));
            }
        }
    }
    for (key, value) in patch {
        if let Some(directive) = key.strip_prefix('$') {
            let known = ["patch", "retainKeys"].contains(&directive)
                || ["setElementOrder/", "deleteFromPrimitiveList/"]
                    .iter()
                    .any(|p| directive.starts_with(p));
            if known {
                continue;
            }
            return Err(malformed(format!(
                "unknown strategic merge directive {key:?}"
            )));
        }
        let child = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        // Taking the value in place keeps the key's position in insertion-ordered maps.
        match merge_value(kind, &child, target.get_mut(key).map(Value::take), value)? {
            Some(merged) => target.insert(key.clone(), merged),
            None => target.remove(key),
        };
    }
    Ok(target)
}

fn merge_list(
    kind: &str,
    path: &str,
    mut target: Vec<Value>,
    patch: &[Value],
) -> Result<Vec<Value>, PatchError> {
    let is_replace_marker = |item: &Value| item.get("$patch").is_some_and(|d| d == "replace");
    let items = patch.iter().filter(|item| !is_replace_marker(item));
    // A null element is kept as a value here; only map fields are deleted by null.
    let fresh = |item: &Value| match item {
        Value::Null => Ok(Some(Value::Null)),
        _ => merge_value(kind, path, None, item),
    };
    let strategy = if patch.iter().any(is_replace_marker) {
        ListStrategy::Replace
    } else {
        list_strategy(kind, path)
    };
    match strategy {
        ListStrategy::Replace => items.filter_map(|item| fresh(item).transpose()).collect(),
        ListStrategy::Union => {
            for item in items.filter_map(|item| fresh(item).transpose()) {
                let item = item?;
                if !target.contains(&item) {
                    target.push(item);
                }
            }
            Ok(target)
        }
        ListStrategy::MergeKey(key) => {
            for item in items {
                let id = item.get(key).ok_or_else(|| {
                    malformed(format!(
                        "items of {path} must be objects with a {key:?} key"
                    ))
                })?;
                if let Some(fields) = item.as_object()
                    && matches!(directive(fields)?, Some(Directive::Delete))
                {
                    target.retain(|existing| existing.get(key) != Some(id));
                    continue;
                }
                match target
                    .iter_mut()
                    .find(|existing| existing.get(key) == Some(id))
                {
                    Some(slot) => {
                        let merged = merge_value(kind, path, Some(slot.take()), item)?;
                        *slot = merged.unwrap_or_default();
                    }
                    None => target.extend(merge_value(kind, path, None, item)?),
                }
            }
            Ok(target)
        }
    }
}

//! PATCH semantics as kube-apiserver applies them: JSON merge patch (RFC 7386),
//! JSON patch (RFC 6902) and a small, table-driven strategic merge patch.
//!
//! Every entry point works on a copy of the target, so a failing patch never leaves a
//! half-applied object behind. Patches are untrusted: nothing here panics on them, and
//! their nesting is capped before any recursion so it cannot exhaust the stack.

mod json;
mod strategic;

use serde_json::{Map, Value};

pub use json::json_patch;
pub use strategic::strategic_merge;

/// Deepest container nesting accepted in a patch; far beyond any real Kubernetes object.
const MAX_DEPTH: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    Merge,
    Json,
    StrategicMerge,
}

impl PatchType {
    /// From a Content-Type header value; parameters such as `; charset=utf-8` are ignored.
    pub fn from_content_type(content_type: &str) -> Option<PatchType> {
        let mime = content_type.split(';').next().unwrap_or_default().trim();
        match mime.to_ascii_lowercase().as_str() {
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/json-patch+json" => Some(PatchType::Json),
            "application/strategic-merge-patch+json" => Some(PatchType::StrategicMerge),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PatchError {
    /// The patch document itself is malformed; Kubernetes answers 400.
    #[error("{0}")]
    Malformed(String),
    /// The patch is well-formed but cannot apply to this object; Kubernetes answers 422.
    #[error("{0}")]
    Unprocessable(String),
}

fn malformed(message: impl Into<String>) -> PatchError {
    PatchError::Malformed(message.into())
}

fn unprocessable(message: impl Into<String>) -> PatchError {
    PatchError::Unprocessable(message.into())
}

/// Applies `patch` to `target` and returns the patched object. `kind` is the object's
/// Kubernetes kind (e.g. "ServiceAccount"), used by strategic merge to find list merge keys.
pub fn apply(
    patch_type: PatchType,
    kind: &str,
    target: &Value,
    patch: &Value,
) -> Result<Value, PatchError> {
    match patch_type {
        PatchType::Json => json_patch(target, patch),
        PatchType::StrategicMerge => strategic_merge(kind, target, patch),
        // RFC 7386 lets a non-object patch replace the whole document; Kubernetes refuses.
        PatchType::Merge if !patch.is_object() => Err(malformed("merge patch must be an object")),
        PatchType::Merge => {
            check_depth(patch, 0)?;
            let mut patched = target.clone();
            merge_patch(&mut patched, patch);
            Ok(patched)
        }
    }
}

fn check_depth(value: &Value, level: usize) -> Result<(), PatchError> {
    match value {
        Value::Array(_) | Value::Object(_) if level >= MAX_DEPTH => Err(malformed(format!(
            "patch is nested deeper than {MAX_DEPTH} levels"
        ))),
        Value::Array(items) => items.iter().try_for_each(|v| check_depth(v, level + 1)),
        Value::Object(map) => map.values().try_for_each(|v| check_depth(v, level + 1)),
        _ => Ok(()),
    }
}

/// RFC 7386 exactly. Recursion follows the patch's nesting, so untrusted patches should
/// come through [`apply`], which bounds it.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(map) = target {
        for (key, value) in patch {
            if value.is_null() {
                map.remove(key);
            } else {
                merge_patch(map.entry(key.as_str()).or_insert(Value::Null), value);
            }
        }
    }
}

#[cfg(test)]
mod tests;

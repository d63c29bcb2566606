//! JSON patch (RFC 6902) with RFC 6901 pointers.

use serde_json::Value;

use super::{PatchError, check_depth, malformed, unprocessable};

/// An RFC 6901 pointer, keeping its original spelling for error messages.
struct Pointer<'a> {
    raw: &'a str,
    tokens: Vec<String>,
}

impl<'a> Pointer<'a> {
    fn parse(raw: &'a str) -> Result<Self, PatchError> {
        let bad = |why: &str| malformed(format!("JSON pointer {raw:?} {why}"));
        let tokens = match raw.strip_prefix('/') {
            None if raw.is_empty() => Vec::new(),
            None => return Err(bad("must start with '/'")),
            Some(rest) if rest.split('~').skip(1).any(|s| !s.starts_with(['0', '1'])) => {
                return Err(bad("has an invalid '~' escape"));
            }
            // "~1" before "~0", so that "~01" decodes to "~1" as RFC 6901 requires.
            Some(rest) => rest
                .split('/')
                .map(|t| t.replace("~1", "/").replace("~0", "~"))
                .collect(),
        };
        Ok(Self { raw, tokens })
    }

    /// Worded like evanphx/json-patch, whose messages kube-apiserver returns to clients.
    fn missing(&self, op: &str, what: &str) -> PatchError {
        unprocessable(format!(
            "{op} operation does not apply: doc is missing {what}: {:?}",
            self.raw
        ))
    }
}

/// Array index per RFC 6901: decimal digits without leading zeros, below `len`.
fn array_index(token: &str, len: usize) -> Option<usize> {
    let canonical =
        token.bytes().all(|b| b.is_ascii_digit()) && (token == "0" || !token.starts_with('0'));
    token.parse().ok().filter(|&index| canonical && index < len)
}

fn lookup<'v>(doc: &'v Value, tokens: &[String]) -> Option<&'v Value> {
    tokens.iter().try_fold(doc, |node, token| match node {
        Value::Object(map) => map.get(token),
        Value::Array(items) => items.get(array_index(token, items.len())?),
        _ => None,
    })
}

fn lookup_mut<'v>(doc: &'v mut Value, tokens: &[String]) -> Option<&'v mut Value> {
    tokens.iter().try_fold(doc, |node, token| match node {
        Value::Object(map) => map.get_mut(token),
        Value::Array(items) => {
            let index = array_index(token, items.len())?;
            items.get_mut(index)
        }
        _ => None,
    })
}

fn add(doc: &mut Value, path: &Pointer, value: Value, op: &str) -> Result<(), PatchError> {
    let Some((last, parent)) = path.tokens.split_last() else {
        *doc = value;
        return Ok(());
    };
    match lookup_mut(doc, parent) {
        Some(Value::Object(map)) => {
            map.insert(last.clone(), value);
        }
        Some(Value::Array(items)) => {
            let at = if last == "-" {
                Some(items.len())
            } else {
                array_index(last, items.len() + 1)
            };
            let at = at.ok_or_else(|| {
                unprocessable(format!(
                    "{op} operation does not apply: index out of range: {:?}",
                    path.raw
                ))
            })?;
            items.insert(at, value);
        }
        _ => return Err(path.missing(op, "path")),
    }
    Ok(())
}

/// Detaches the value at `path`; `None` when there is nothing there to remove.
fn remove(doc: &mut Value, path: &Pointer) -> Option<Value> {
    let (last, parent) = path.tokens.split_last()?;
    match lookup_mut(doc, parent)? {
        Value::Object(map) => map.remove(last),
        Value::Array(items) => array_index(last, items.len()).map(|i| items.remove(i)),
        _ => None,
    }
}

enum Op<'a> {
    Add(Pointer<'a>, &'a Value),
    Remove(Pointer<'a>),
    Replace(Pointer<'a>, &'a Value),
    Move(Pointer<'a>, Pointer<'a>),
    Copy(Pointer<'a>, Pointer<'a>),
    Test(Pointer<'a>, &'a Value),
}

impl<'a> Op<'a> {
    fn parse(op: &'a Value) -> Result<Self, PatchError> {
        let fields = op
            .as_object()
            .ok_or_else(|| malformed("JSON patch operations must be objects"))?;
        let field = |name: &str| {
            fields
                .get(name)
                .ok_or_else(|| malformed(format!("operation is missing {name:?}")))
        };
        let pointer = |name: &str| match field(name)? {
            Value::String(raw) => Pointer::parse(raw),
            other => Err(malformed(format!("{name:?} must be a string, not {other}"))),
        };
        match fields.get("op").and_then(Value::as_str) {
            Some("add") => Ok(Op::Add(pointer("path")?, field("value")?)),
            Some("remove") => Ok(Op::Remove(pointer("path")?)),
            Some("replace") => Ok(Op::Replace(pointer("path")?, field("value")?)),
            Some("move") => Ok(Op::Move(pointer("from")?, pointer("path")?)),
            Some("copy") => Ok(Op::Copy(pointer("from")?, pointer("path")?)),
            Some("test") => Ok(Op::Test(pointer("path")?, field("value")?)),
            Some(other) => Err(malformed(format!("Unexpected kind: {other}"))),
            None => Err(malformed("operation is missing \"op\"")),
        }
    }

    fn apply(&self, doc: &mut Value) -> Result<(), PatchError> {
        match self {
            Op::Add(path, value) => add(doc, path, (*value).clone(), "add"),
            Op::Remove(path) => remove(doc, path)
                .map(drop)
                .ok_or_else(|| path.missing("remove", "path")),
            Op::Replace(path, value) => match lookup_mut(doc, &path.tokens) {
                Some(slot) => {
                    *slot = (*value).clone();
                    Ok(())
                }
                None => Err(unprocessable(format!(
                    "replace operation does not apply: doc is missing key: {}",
                    path.raw
                ))),
            },
            Op::Move(from, path)
                if path.tokens.len() > from.tokens.len()
                    && path.tokens.starts_with(&from.tokens) =>
            {
                Err(unprocessable(format!(
                    "move operation does not apply: {} is a child of {}",
                    path.raw, from.raw
                )))
            }
            Op::Move(from, path) => {
                let value = remove(doc, from).ok_or_else(|| from.missing("move", "from path"))?;
                add(doc, path, value, "move")
            }
            Op::Copy(from, path) => {
                let value = lookup(doc, &from.tokens)
                    .cloned()
                    .ok_or_else(|| from.missing("copy", "from path"))?;
                add(doc, path, value, "copy")
            }
            Op::Test(path, expected) => match lookup(doc, &path.tokens) {
                Some(actual) if json_eq(actual, expected) => Ok(()),
                _ => Err(unprocessable(format!("testing value {} failed", path.raw))),
            },
        }
    }
}

/// RFC 6902 equality: structural, except that numbers compare by value (`1` equals `1.0`).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            x.as_f64() == y.as_f64()
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// RFC 6902. Every operation is validated before any is applied, so a malformed patch
/// is reported as such even when an earlier operation would have failed to apply.
pub fn json_patch(target: &Value, operations: &Value) -> Result<Value, PatchError> {
    check_depth(operations, 0)?;
    let operations = operations
        .as_array()
        .ok_or_else(|| malformed("JSON patch must be an array of operations"))?;
    let operations = operations
        .iter()
        .map(Op::parse)
        .collect::<Result<Vec<_>, _>>()?;
    let mut doc = target.clone();
    operations.iter().try_for_each(|op| op.apply(&mut doc))?;
    Ok(doc)
}

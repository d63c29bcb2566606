//! Validation of a (pruned) custom object against its schema, with kube-apiserver's field
//! paths, reasons and wording, so a client sees the same 422 here as on a real cluster.

use base64::Engine;
use serde_json::Value;

use super::{JsonType, Schema, child_path};

/// One broken rule: a cause of a 422 Invalid.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// `spec.password`, `status.conditions[0].type`.
    pub field: String,
    /// `FieldValueInvalid`, `FieldValueRequired`, …
    pub reason: &'static str,
    /// What is wrong, without the field path: `Required value`.
    pub message: String,
}

/// Every rule `object` breaks (empty when it is valid). `metadata`, `apiVersion` and `kind`
/// are the API server's own business and not checked here.
pub fn validate(root: &Schema, object: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Value::Object(map) = object {
        let mut body = map.clone();
        for own in ["apiVersion", "kind", "metadata"] {
            body.remove(own);
        }
        check(root, &Value::Object(body), "", &mut errors);
    }
    errors
}

fn invalid(path: &str, value: &Value, why: String) -> FieldError {
    FieldError {
        field: path.to_string(),
        reason: "FieldValueInvalid",
        message: format!("Invalid value: {}: {why}", shown(value)),
    }
}

/// A value as kube-apiserver quotes it in a message.
fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        Value::Object(_) => "\"object\"".into(),
        Value::Array(_) => "\"array\"".into(),
        other => format!("{other}"),
    }
}

fn check(schema: &Schema, value: &Value, path: &str, out: &mut Vec<FieldError>) {
    let actual = JsonType::of(value);
    if value.is_null() && schema.nullable {
        return;
    }
    let type_ok = if schema.int_or_string {
        matches!(actual, "integer" | "string")
    } else {
        match schema.json_type {
            None => !value.is_null() || schema.preserve_unknown_fields,
            Some(JsonType::Number) => matches!(actual, "integer" | "number"),
            Some(expected) => actual == expected.name(),
        }
    };
    if !type_ok {
        let expected = match (schema.int_or_string, schema.json_type) {
            (true, _) => "integer,string",
            (false, Some(t)) => t.name(),
            (false, None) => "object",
        };
        out.push(FieldError {
            field: path.to_string(),
            reason: "FieldValueTypeInvalid",
            message: format!(
                "Invalid value: \"{actual}\": {path} in body must be of type {expected}: \"{actual}\""
            ),
        });
        return;
    }
    if !schema.enumeration.is_empty() && !schema.enumeration.contains(value) {
        let supported: Vec<String> = schema.enumeration.iter().map(|v| v.to_string()).collect();
        out.push(FieldError {
            field: path.to_string(),
            reason: "FieldValueNotSupported",
            message: format!(
                "Unsupported value: {value}: supported values: {}",
                supported.join(", ")
            ),
        });
    }
    match value {
        Value::String(text) => check_string(schema, value, text, path, out),
        Value::Number(n) => check_number(schema, value, n, path, out),
        Value::Array(items) => {
            let count = items.len() as u64;
            if let Some(min) = schema.min_items.filter(|m| count < *m) {
                out.push(invalid(
                    path,
                    value,
                    format!("{path} in body should have at least {min} items"),
                ));
            }
            if let Some(max) = schema.max_items.filter(|m| count > *m) {
                out.push(FieldError {
                    field: path.to_string(),
                    reason: "FieldValueTooMany",
                    message: format!("Too many: {count}: must have at most {max} items"),
                });
            }
            if let Some(item_schema) = schema.items.as_deref() {
                for (i, item) in items.iter().enumerate() {
                    check(item_schema, item, &format!("{path}[{i}]"), out);
                }
            }
        }
        Value::Object(map) => {
            for name in &schema.required {
                if map.get(name).is_none_or(Value::is_null) {
                    out.push(FieldError {
                        field: child_path(path, name),
                        reason: "FieldValueRequired",
                        message: "Required value".into(),
                    });
                }
            }
            for (name, child_value) in map {
                let child = schema
                    .properties
                    .get(name)
                    .or(schema.additional_properties.as_deref());
                if let Some(child) = child {
                    check(child, child_value, &child_path(path, name), out);
                }
            }
        }
        _ => {}
    }
}

fn check_string(schema: &Schema, value: &Value, text: &str, path: &str, out: &mut Vec<FieldError>) {
    let length = text.chars().count() as u64;
    if let Some(min) = schema.min_length.filter(|m| length < *m) {
        out.push(invalid(
            path,
            value,
            format!("{path} in body should be at least {min} chars long"),
        ));
    }
    if let Some(max) = schema.max_length.filter(|m| length > *m) {
        out.push(FieldError {
            field: path.to_string(),
            reason: "FieldValueTooLong",
            message: format!("Too long: may not be more than {max} bytes"),
        });
    }
    if let Some(pattern) = &schema.pattern
        && !pattern.0.is_match(text)
    {
        out.push(invalid(
            path,
            value,
            format!("{path} in body should match '{}'", pattern.0.as_str()),
        ));
    }
    let format_ok = match schema.format.as_deref() {
        Some("date-time") => is_rfc3339(text),
        Some("byte") => base64::engine::general_purpose::STANDARD
            .decode(text)
            .is_ok(),
        _ => true,
    };
    if !format_ok {
        let format = schema.format.as_deref().unwrap_or_default();
        out.push(invalid(
            path,
            value,
            format!("{path} in body must be of type {format}: {text:?}"),
        ));
    }
}

fn check_number(
    schema: &Schema,
    value: &Value,
    n: &serde_json::Number,
    path: &str,
    out: &mut Vec<FieldError>,
) {
    let x = n.as_f64().unwrap_or_default();
    if let Some(min) = schema.minimum.filter(|m| x < *m) {
        out.push(invalid(
            path,
            value,
            format!("{path} in body should be greater than or equal to {min}"),
        ));
    }
    if let Some(max) = schema.maximum.filter(|m| x > *m) {
        out.push(invalid(
            path,
            value,
            format!("{path} in body should be less than or equal to {max}"),
        ));
    }
    if schema.format.as_deref() == Some("int32")
        && n.as_i64().is_none_or(|i| i32::try_from(i).is_err())
    {
        out.push(invalid(
            path,
            value,
            format!("{path} in body must be of type int32: \"{n}\""),
        ));
    }
}

/// RFC 3339 date-time, as OpenAPI's `date-time` format: `2026-12-03T12:00:00Z`, with an
/// optional fraction and a `Z` or `±hh:mm` offset.
fn is_rfc3339(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range.clone())
            .is_some_and(|s| s.len() == range.len() && s.iter().all(u8::is_ascii_digit))
    };
    let date_time = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !date_time {
        return false;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let end = fraction
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(fraction.len());
        if end == 0 {
            return false;
        }
        rest = &fraction[end..];
    }
    match rest.as_bytes() {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()),
        _ => false,
    }
}

#[cfg(test)]
mod date_tests {
    #[test]
    fn rfc3339_date_times() {
        for good in [
            "2026-12-03T12:00:00Z",
            "2026-12-03T12:00:00.123456Z",
            "2026-12-03T12:00:00+08:00",
        ] {
            assert!(super::is_rfc3339(good), "{good}");
        }
        for bad in [
            "2026-12-03",
            "yesterday",
            "2026-12-03T12:00:00",
            "2026-12-03T12:00:00.Z",
        ] {
            assert!(!super::is_rfc3339(bad), "{bad}");
        }
    }
}

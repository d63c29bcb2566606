//! Between k8s-pb's prost messages and the JSON the sandbox stores, field by field as
//! Kubernetes' own JSON and protobuf codecs map them: `[]byte` is base64, `metav1.Time` is
//! RFC 3339 to the second, `MicroTime` to the microsecond, `IntOrString` a number or a
//! string, `FieldsV1` the JSON object its raw bytes hold.
//!
//! Go writes every non-pointer field to protobuf, empty or not, and leaves empty ones out of
//! JSON (`omitempty`): empty strings, lists, maps and zero times are left out here, and the
//! zero of the few non-pointer numbers and booleans in [`OMIT_ZERO`]; a pointer's zero
//! (`immutable: false`) is kept. Every message names all its fields (a struct literal
//! without `..`), so a k8s-pb update that adds one fails to compile until it is mapped.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use k8s_pb::apimachinery::pkg::apis::meta::v1::{FieldsV1, MicroTime, Time};
use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Map, Value};

/// One JSON value and its protobuf message or field. Errors are `path: what`, the path
/// built up as they return through the fields that hold the value.
pub(crate) trait Json: Sized {
    /// The JSON form; `Null` when the field is left out.
    fn to_json(&self) -> Result<Value, String>;
    fn from_json(value: &Value) -> Result<Self, String>;
}

/// Non-pointer Go fields with `omitempty` whose zero JSON leaves out, by JSON name.
const OMIT_ZERO: &[&str] = &[
    "generation",
    "observedGeneration",
    "code",
    "retryAfterSeconds",
    "count",
    "nodePort",
    "healthCheckNodePort",
    "publishNotReadyAddresses",
    "ignoreStoreReadErrorWithClusterBreakingPotential",
];

/// Puts one field into a message's JSON object unless Go's JSON would leave it out.
pub(super) fn put(
    map: &mut Map<String, Value>,
    key: &str,
    value: Result<Value, String>,
) -> Result<(), String> {
    let value = value.map_err(|e| within(key, e))?;
    let empty = match &value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Bool(b) => !b && OMIT_ZERO.contains(&key),
        Value::Number(n) => n.as_i64() == Some(0) && OMIT_ZERO.contains(&key),
    };
    if !empty {
        map.insert(key.to_string(), value);
    }
    Ok(())
}

/// Reads one field of a message from its JSON object; absent is the field's empty value.
pub(super) fn take<T: Json>(map: Option<&Map<String, Value>>, key: &str) -> Result<T, String> {
    let value = map.and_then(|m| m.get(key)).unwrap_or(&Value::Null);
    T::from_json(value).map_err(|e| within(key, e))
}

/// A message's JSON object; `None` for `null`, a message with every field empty.
pub(super) fn as_object(value: &Value) -> Result<Option<&Map<String, Value>>, String> {
    match value {
        Value::Null => Ok(None),
        Value::Object(map) => Ok(Some(map)),
        other => Err(expected("an object", other)),
    }
}

/// `key` in front of an error's path (errors from leaves start with `: `).
pub(super) fn within(key: &str, e: String) -> String {
    if e.starts_with(':') {
        format!("{key}{e}")
    } else {
        format!("{key}.{e}")
    }
}

fn expected(what: &str, got: &Value) -> String {
    let got = match got {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    };
    format!(": expected {what}, got {got}")
}

impl Json for String {
    fn to_json(&self) -> Result<Value, String> {
        Ok(Value::String(self.clone()))
    }
    fn from_json(value: &Value) -> Result<Self, String> {
        value
            .as_str()
            .map(String::from)
            .ok_or_else(|| expected("a string", value))
    }
}

impl Json for bool {
    fn to_json(&self) -> Result<Value, String> {
        Ok(Value::Bool(*self))
    }
    fn from_json(value: &Value) -> Result<Self, String> {
        value.as_bool().ok_or_else(|| expected("a boolean", value))
    }
}

impl Json for i64 {
    fn to_json(&self) -> Result<Value, String> {
        Ok(Value::from(*self))
    }
    fn from_json(value: &Value) -> Result<Self, String> {
        value.as_i64().ok_or_else(|| expected("an integer", value))
    }
}

impl Json for i32 {
    fn to_json(&self) -> Result<Value, String> {
        Ok(Value::from(*self))
    }
    fn from_json(value: &Value) -> Result<Self, String> {
        let n = i64::from_json(value)?;
        i32::try_from(n).map_err(|_| expected("a 32-bit integer", value))
    }
}

/// Go's `[]byte`: base64 in JSON.
impl Json for Vec<u8> {
    fn to_json(&self) -> Result<Value, String> {
        Ok(Value::String(STANDARD.encode(self)))
    }
    fn from_json(value: &Value) -> Result<Self, String> {
        let text = String::from_json(value)?;
        STANDARD
            .decode(text)
            .map_err(|e| format!(": not base64 ({e})"))
    }
}

impl<T: Json> Json for Option<T> {
    fn to_json(&self) -> Result<Value, String> {
        self.as_ref().map_or(Ok(Value::Null), T::to_json)
    }
    fn from_json(value: &Value) -> Result<Self, String> {
        match value {
            Value::Null => Ok(None),
            v => T::from_json(v).map(Some),
        }
    }
}

impl<T: Json> Json for Vec<T> {
    fn to_json(&self) -> Result<Value, String> {
        self.iter()
            .map(T::to_json)
            .collect::<Result<_, _>>()
            .map(Value::Array)
    }
    fn from_json(value: &Value) -> Result<Self, String> {
        match value {
            Value::Null => Ok(Vec::new()),
            Value::Array(items) => items.iter().map(T::from_json).collect(),
            other => Err(expected("a list", other)),
        }
    }
}

impl<T: Json> Json for BTreeMap<String, T> {
    fn to_json(&self) -> Result<Value, String> {
        let mut map = Map::new();
        for (key, value) in self {
            map.insert(key.clone(), value.to_json().map_err(|e| within(key, e))?);
        }
        Ok(Value::Object(map))
    }
    fn from_json(value: &Value) -> Result<Self, String> {
        as_object(value)?
            .into_iter()
            .flatten()
            .map(|(k, v)| Ok((k.clone(), T::from_json(v).map_err(|e| within(k, e))?)))
            .collect()
    }
}

/// `metav1.Time`: RFC 3339 to the second; an empty message is the zero time, left out.
impl Json for Time {
    fn to_json(&self) -> Result<Value, String> {
        match (self.seconds, self.nanos) {
            (None, None) => Ok(Value::Null),
            (seconds, _) => format_time(seconds.unwrap_or(0), None).map(Value::String),
        }
    }
    fn from_json(value: &Value) -> Result<Self, String> {
        let (seconds, nanos) = parse_time(&String::from_json(value)?)?;
        Ok(Self {
            seconds: Some(seconds),
            nanos: Some(nanos),
        })
    }
}

/// `metav1.MicroTime`: RFC 3339 with six fractional digits.
impl Json for MicroTime {
    fn to_json(&self) -> Result<Value, String> {
        match (self.seconds, self.nanos) {
            (None, None) => Ok(Value::Null),
            (seconds, nanos) => {
                let micros = nanos.unwrap_or(0).clamp(0, 999_999_999) / 1000;
                format_time(seconds.unwrap_or(0), Some(micros)).map(Value::String)
            }
        }
    }
    fn from_json(value: &Value) -> Result<Self, String> {
        let (seconds, nanos) = parse_time(&String::from_json(value)?)?;
        Ok(Self {
            seconds: Some(seconds),
            nanos: Some(nanos / 1000 * 1000),
        })
    }
}

/// A port number or name: `type` 0 is the integer, 1 the string.
impl Json for IntOrString {
    fn to_json(&self) -> Result<Value, String> {
        Ok(match self.r#type {
            Some(1) => Value::String(self.str_val.clone().unwrap_or_default()),
            _ => Value::from(self.int_val.unwrap_or(0)),
        })
    }
    fn from_json(value: &Value) -> Result<Self, String> {
        Ok(match value {
            Value::String(s) => Self {
                r#type: Some(1),
                int_val: Some(0),
                str_val: Some(s.clone()),
            },
            v => Self {
                r#type: Some(0),
                int_val: Some(i32::from_json(v)?),
                str_val: Some(String::new()),
            },
        })
    }
}

/// Managed fields: the raw bytes are the JSON of the field set.
impl Json for FieldsV1 {
    fn to_json(&self) -> Result<Value, String> {
        match self.raw.as_deref() {
            None | Some([]) => Ok(Value::Null),
            Some(raw) => serde_json::from_slice(raw).map_err(|e| format!(": not JSON ({e})")),
        }
    }
    fn from_json(value: &Value) -> Result<Self, String> {
        let raw = (!value.is_null()).then(|| value.to_string().into_bytes());
        Ok(Self { raw })
    }
}

/// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the range Go writes as JSON.
const MIN_SECONDS: i64 = -62_135_596_800;
const MAX_SECONDS: i64 = 253_402_300_799;

fn format_time(seconds: i64, micros: Option<i32>) -> Result<String, String> {
    if !(MIN_SECONDS..=MAX_SECONDS).contains(&seconds) {
        return Err(format!(": timestamp {seconds} is outside years 1 to 9999"));
    }
    let (days, rem) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    let fraction = micros.map(|u| format!(".{u:06}")).unwrap_or_default();
    Ok(format!(
        "{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}{fraction}Z"
    ))
}

/// Seconds and nanoseconds of an RFC 3339 time, with `Z` or a `±hh:mm` offset.
pub(super) fn parse_time(text: &str) -> Result<(i64, i32), String> {
    let bad = || format!(": {text:?} is not an RFC 3339 time");
    let number = |at: usize, len: usize| -> Result<i64, String> {
        let digits = text
            .get(at..at + len)
            .filter(|d| d.bytes().all(|b| b.is_ascii_digit()));
        digits.and_then(|d| d.parse().ok()).ok_or_else(bad)
    };
    let bytes = text.as_bytes();
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if bytes.len() < 20
        || separators.iter().any(|&(at, c)| bytes[at] != c)
        || !matches!(bytes[10], b'T' | b't')
    {
        return Err(bad());
    }
    let (year, month, day) = (number(0, 4)?, number(5, 2)?, number(8, 2)?);
    let (hour, minute, second) = (number(11, 2)?, number(14, 2)?, number(17, 2)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return Err(bad());
    }
    let mut rest = &text[19..];
    let mut nanos = 0i64;
    if let Some(fraction) = rest.strip_prefix('.') {
        let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return Err(bad());
        }
        for (i, digit) in fraction.bytes().take(len.min(9)).enumerate() {
            nanos += i64::from(digit - b'0') * 10i64.pow(8 - i as u32);
        }
        rest = &fraction[len..];
    }
    let offset = match rest.as_bytes() {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let hh: i64 = std::str::from_utf8(&[*h1, *h2])
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(bad)?;
            let mm: i64 = std::str::from_utf8(&[*m1, *m2])
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(bad)?;
            (hh * 3600 + mm * 60) * if *sign == b'-' { -1 } else { 1 }
        }
        _ => return Err(bad()),
    };
    // Days-from-civil (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Ok((seconds, nanos as i32))
}

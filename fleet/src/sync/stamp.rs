//! The stamp: what the engine knew of each replicated field the last time it wrote the
//! object, kept on every copy in one annotation.
//!
//! For each field: its version, a digest of its value (or [`ABSENT`] for a field that was
//! removed, so a removal replicates like any edit) and the version it was written on top of.
//! A field whose digest no longer matches was changed on that host since — by a person,
//! ks-console, kubectl or KubeSphere's controllers — and gets a new version when the engine
//! next reads the copy. The engine's own writes carry a matching stamp, so it never takes
//! them for edits: nothing it writes comes back to it.

use std::collections::BTreeMap;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::hlc::{Seen, Version};

/// The digest of a removed field.
pub const ABSENT: &str = "-";

/// What the stamp says of one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldStamp {
    pub version: Version,
    pub digest: String,
    /// What the writer of this version had seen (its own version included).
    pub seen: Seen,
}

/// Field stamps by JSON pointer.
pub type Stamp = BTreeMap<String, FieldStamp>;

/// A field value's digest: 16 hex digits of SHA-256 over its canonical JSON (keys sorted at
/// every depth), so equal values give equal digests whatever order their keys came in.
pub fn digest(value: &Value) -> String {
    let mut text = String::new();
    crate::federation::fingerprint::canonical(value, &mut text);
    let hash = Sha256::digest(text.as_bytes());
    hash.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// The stamp `object` carries (empty when none).
pub fn on(object: &Value) -> Stamp {
    object
        .pointer(&format!(
            "/metadata/annotations/{}",
            super::fields::escape(super::STAMP_ANNOTATION)
        ))
        .and_then(Value::as_str)
        .map(read)
        .unwrap_or_default()
}

/// The annotation's text: `{"<pointer>": ["<version>", "<digest>", "<seen version>"…]}`.
pub fn write(stamp: &Stamp) -> String {
    let map: serde_json::Map<String, Value> = stamp
        .iter()
        .map(|(pointer, s)| {
            let mut entry = vec![s.version.to_string(), s.digest.clone()];
            entry.extend(s.seen.values().map(Version::to_string));
            (pointer.clone(), Value::from(entry))
        })
        .collect();
    Value::Object(map).to_string()
}

/// The stamp in an annotation's text. Entries that do not parse are left out: their fields
/// then count as changed, which replicates them rather than losing them.
pub fn read(text: &str) -> Stamp {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) else {
        return Stamp::new();
    };
    map.into_iter()
        .filter_map(|(pointer, entry)| {
            let parts = entry.as_array()?;
            let text = |i: usize| parts.get(i).and_then(Value::as_str);
            let version = Version::parse(text(0)?)?;
            let digest = text(1).filter(|d| !d.is_empty())?.to_string();
            let mut seen = Seen::new();
            for i in 2..parts.len() {
                super::hlc::include(&mut seen, &Version::parse(text(i)?)?);
            }
            super::hlc::include(&mut seen, &version);
            Some((
                pointer,
                FieldStamp {
                    version,
                    digest,
                    seen,
                },
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_values_have_equal_digests_whatever_their_key_order() {
        let a: Value = serde_json::from_str(r#"[{"verbs":["get"],"apiGroups":[""]}]"#).unwrap();
        let b: Value = serde_json::from_str(r#"[{"apiGroups":[""],"verbs":["get"]}]"#).unwrap();
        assert_eq!(digest(&a), digest(&b));
        assert_ne!(digest(&json!("x")), digest(&json!("y")));
        assert_ne!(digest(&json!(["a", "b"])), digest(&json!(["b", "a"])));
        assert_eq!(digest(&json!("x")).len(), 16);
    }

    #[test]
    fn a_stamp_reads_back_as_written_and_garbage_reads_as_nothing() {
        let version = |ms, host: &str| Version {
            wall_ms: ms,
            counter: 0,
            host: host.into(),
        };
        let stamp = Stamp::from([
            (
                "/spec/email".to_string(),
                FieldStamp {
                    version: version(2, "host"),
                    digest: digest(&json!("a@example.com")),
                    seen: Seen::from([
                        ("host".to_string(), version(2, "host")),
                        ("host2".to_string(), version(1, "host2")),
                    ]),
                },
            ),
            (
                "/metadata/labels/team".to_string(),
                FieldStamp {
                    version: version(3, "host2"),
                    digest: ABSENT.into(),
                    seen: Seen::from([("host2".to_string(), version(3, "host2"))]),
                },
            ),
        ]);
        assert_eq!(read(&write(&stamp)), stamp);
        assert!(read("not json").is_empty());
        let partly = r#"{"/a": ["1-0-h", "abc"], "/b": ["nope", "abc"], "/c": 5, "/d": ["1-0-h", "abc", "bad"]}"#;
        assert_eq!(read(partly).keys().collect::<Vec<_>>(), ["/a"]);
    }
}

//! Which life of a name a copy belongs to. An object deleted and made anew under the same
//! name is another object: a copy of the old one that a partition kept must not lend the
//! new one its fields (a label the new object never had would otherwise come back from the
//! dead). Each object carries the version of its first stamping as its *incarnation*, in one
//! annotation on every copy; when copies of two incarnations meet, the newer one replaces the
//! older whole, and whatever the older copies held that the newer lacks goes to the conflict
//! log rather than being lost silently.
//!
//! Two objects made apart under one name (each host's round stamping its own while they could
//! not see each other) meet the same way: the later one stays.

use serde_json::Value;

use super::INCARNATION_ANNOTATION;
use super::fields::Fields;
use super::fields::escape;
use super::hlc::Version;
use super::merge::{Conflict, Observed, Write};
use super::stamp::Stamp;

/// The incarnation `object` carries; `None` for a copy never stamped, or stamped before
/// incarnations existed (such a copy is taken for one of the newest incarnation).
pub fn on(object: &Value) -> Option<Version> {
    object
        .pointer(&format!(
            "/metadata/annotations/{}",
            escape(INCARNATION_ANNOTATION)
        ))
        .and_then(Value::as_str)
        .and_then(Version::parse)
}

/// The incarnation copies of `incarnations` agree on: the newest one.
pub fn newest<'a>(incarnations: impl IntoIterator<Item = &'a Version>) -> Option<&'a Version> {
    incarnations.into_iter().max()
}

/// A new incarnation, made on `host` at `now_ms`: later than every one seen, so that an older
/// copy coming back from a partition never replaces it.
pub fn fresh<'a>(seen: impl IntoIterator<Item = &'a Version>, now_ms: u64, host: &str) -> Version {
    Version::after(newest(seen), now_ms, host)
}

/// What a copy of an older life of the name held that the newer one does not: logged, since
/// nobody who made the newer object had seen it.
pub fn lost_to_newer_life(
    (merged, stamp, life): (&Fields, &Stamp, &Version),
    host: &str,
    copy: &Observed,
    conflicts: &mut Vec<Conflict>,
) {
    for (pointer, state) in &copy.fields {
        let kept = merged.get(pointer);
        if state.value.as_ref() == kept {
            continue;
        }
        let logged = conflicts
            .iter()
            .any(|c| c.field == *pointer && c.superseded.version == state.version);
        // The newer life's version of the field, or the life itself where it has none.
        let version = stamp.get(pointer).map_or(life, |f| &f.version);
        if !logged {
            conflicts.push(Conflict {
                field: pointer.clone(),
                kept: Write {
                    host: version.host.clone(),
                    value: kept.cloned(),
                    version: version.clone(),
                },
                superseded: Write {
                    host: host.to_string(),
                    value: state.value.clone(),
                    version: state.version.clone(),
                },
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_incarnation_reads_back_and_a_new_one_is_later_than_all_seen() {
        let old = Version::parse("900-0-host2").unwrap();
        let object =
            json!({"metadata": {"annotations": {INCARNATION_ANNOTATION: old.to_string()}}});
        assert_eq!(on(&object), Some(old.clone()));
        assert_eq!(on(&json!({"metadata": {}})), None);
        assert_eq!(
            on(&json!({"metadata": {"annotations": {INCARNATION_ANNOTATION: "garbage"}}})),
            None
        );
        // host's clock is behind host2's: the new incarnation still sorts later.
        let new = fresh([&old], 500, "host");
        assert!(new > old, "{new} is not after {old}");
    }
}

//! Where the engine has put an object, and what each host's copy had then: kept on every
//! copy in one annotation, so that a copy gone from a host it was put on reads as a delete
//! there — also after the engine restarts, and also when the only copy left is one a
//! partition kept, since that copy says where the others were.

use std::collections::BTreeMap;

use serde_json::Value;

use super::PLACED_ANNOTATION;
use super::fields::escape;
use super::hlc::{Seen, Version, include};

/// For each host the engine wrote the object to, what it wrote there had seen.
pub type Placed = BTreeMap<String, Seen>;

/// The annotation's text: `{"<host>": ["<version>", …]}`.
pub fn write(placed: &Placed) -> String {
    let map: serde_json::Map<String, Value> = placed
        .iter()
        .map(|(host, seen)| {
            let versions: Vec<String> = seen.values().map(Version::to_string).collect();
            (host.clone(), Value::from(versions))
        })
        .collect();
    Value::Object(map).to_string()
}

/// What `object`'s annotation says; nothing for an unreadable one.
pub fn on(object: &Value) -> Placed {
    let text = object
        .pointer(&format!(
            "/metadata/annotations/{}",
            escape(PLACED_ANNOTATION)
        ))
        .and_then(Value::as_str);
    let Some(Ok(Value::Object(map))) = text.map(serde_json::from_str::<Value>) else {
        return Placed::new();
    };
    map.into_iter()
        .filter_map(|(host, versions)| {
            let mut seen = Seen::new();
            for version in versions.as_array()? {
                include(&mut seen, &Version::parse(version.as_str()?)?);
            }
            Some((host, seen))
        })
        .collect()
}

/// Adds what `more` says of each host to `placed`.
pub fn join(placed: &mut Placed, more: &Placed) {
    for (host, seen) in more {
        let known = placed.entry(host.clone()).or_default();
        for version in seen.values() {
            include(known, version);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placements_read_back_and_join() {
        let v = |ms, host: &str| Version {
            wall_ms: ms,
            counter: 0,
            host: host.into(),
        };
        let mut placed = Placed::from([(
            "host2".to_string(),
            Seen::from([("host".to_string(), v(5, "host"))]),
        )]);
        let object = json!({"metadata": {"annotations": {PLACED_ANNOTATION: write(&placed)}}});
        assert_eq!(on(&object), placed);
        let newer = Placed::from([(
            "host2".to_string(),
            Seen::from([("host".to_string(), v(9, "host"))]),
        )]);
        join(&mut placed, &newer);
        assert_eq!(placed["host2"]["host"], v(9, "host"));
        assert!(on(&json!({"metadata": {"annotations": {PLACED_ANNOTATION: "nope"}}})).is_empty());
    }
}

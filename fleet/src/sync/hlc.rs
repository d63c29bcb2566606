//! Versions of replicated fields: hybrid logical clock values.
//!
//! A version is the time of the write it stands for (milliseconds since the epoch), a counter
//! that orders versions within one millisecond, and the host the write was made on, which
//! breaks the last ties. Unlike a plain timestamp, a new version always sorts after the
//! version it replaces ([`Version::after`]), even when the writer's clock is behind: a
//! person's edit is never lost to an older value because of clock skew between hosts.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

/// What a write's writer had seen: for each host, the latest of its versions in the write's
/// history. A version some write has not seen was made without knowing of it — concurrently.
pub type Seen = BTreeMap<String, Version>;

/// Adds `version` to `seen` (the latest per host stays).
pub fn include(seen: &mut Seen, version: &Version) {
    match seen.get(&version.host) {
        Some(known) if known >= version => {}
        _ => {
            seen.insert(version.host.clone(), version.clone());
        }
    }
}

/// Whether `seen` covers `version`.
pub fn covers(seen: &Seen, version: &Version) -> bool {
    seen.get(&version.host)
        .is_some_and(|known| known >= version)
}

/// One field's version.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version {
    pub wall_ms: u64,
    pub counter: u32,
    pub host: String,
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.wall_ms, self.counter, &self.host).cmp(&(other.wall_ms, other.counter, &other.host))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Version {
    /// The version of a write made on `host` at `wall_ms` on top of `base` (the version the
    /// writer had): never earlier than `base`, whatever the writer's clock said.
    pub fn after(base: Option<&Version>, wall_ms: u64, host: &str) -> Version {
        match base {
            Some(base) if wall_ms <= base.wall_ms => Version {
                wall_ms: base.wall_ms,
                counter: base.counter.saturating_add(1),
                host: host.to_string(),
            },
            _ => Version {
                wall_ms,
                counter: 0,
                host: host.to_string(),
            },
        }
    }

    /// Parses the form [`fmt::Display`] writes; `None` for anything else.
    pub fn parse(text: &str) -> Option<Version> {
        let mut parts = text.splitn(3, '-');
        let wall_ms = parts.next()?.parse().ok()?;
        let counter = parts.next()?.parse().ok()?;
        let host = parts.next().filter(|h| !h.is_empty())?.to_string();
        Some(Version {
            wall_ms,
            counter,
            host,
        })
    }
}

/// `1765112345678-0-host2`: host names are DNS labels, so the first two dashes split it.
impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", self.wall_ms, self.counter, self.host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(wall_ms: u64, counter: u32, host: &str) -> Version {
        Version {
            wall_ms,
            counter,
            host: host.into(),
        }
    }

    #[test]
    fn later_writes_sort_later_and_hosts_break_ties() {
        assert!(v(2, 0, "a") > v(1, 9, "z"));
        assert!(v(1, 1, "a") > v(1, 0, "z"));
        assert!(v(1, 0, "b") > v(1, 0, "a"));
    }

    #[test]
    fn an_edit_beats_its_base_even_from_a_clock_behind() {
        let base = v(5_000, 3, "host");
        let behind = Version::after(Some(&base), 1_000, "host2");
        assert!(behind > base);
        assert_eq!(behind, v(5_000, 4, "host2"));
        let ahead = Version::after(Some(&base), 9_000, "host2");
        assert_eq!(ahead, v(9_000, 0, "host2"));
        assert_eq!(Version::after(None, 7, "h"), v(7, 0, "h"));
    }

    #[test]
    fn versions_read_back_as_written() {
        let version = v(1_765_112_345_678, 2, "host-2");
        assert_eq!(Version::parse(&version.to_string()), Some(version));
        for bad in ["", "1-2", "x-1-h", "1-x-h", "1-2-"] {
            assert_eq!(Version::parse(bad), None, "{bad}");
        }
    }
}

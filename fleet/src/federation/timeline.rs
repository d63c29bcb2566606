//! The member's copy of one object over time, as a watch on the member sees it: each version
//! matched to the host whose template it equals. Alternating writers mean two hosts fight.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use super::Fingerprint;

/// Changes of writer that make an object flapping (the issue: flagged after the third).
pub const FLAPPING_ALTERNATIONS: usize = 3;
/// How far back alternations count: KubeSphere hosts rewrite about every 10 s.
pub const WINDOW: Duration = Duration::from_secs(120);
const KEEP: usize = 32;

#[derive(Debug, Clone, PartialEq)]
struct Version {
    at: SystemTime,
    /// `None`: the copy is gone (deleted on the member).
    fingerprint: Option<Fingerprint>,
    /// The host whose template this version equals, when one does.
    writer: Option<String>,
}

/// Recent versions of the member's copy, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemberTimeline {
    versions: VecDeque<Version>,
}

impl MemberTimeline {
    /// Records what the member holds now; repeated observations of the same version count
    /// once.
    pub fn observe(
        &mut self,
        at: SystemTime,
        fingerprint: Option<Fingerprint>,
        writer: Option<String>,
    ) {
        if self
            .versions
            .back()
            .is_some_and(|v| v.fingerprint == fingerprint)
        {
            return;
        }
        self.versions.push_back(Version {
            at,
            fingerprint,
            writer,
        });
        if self.versions.len() > KEEP {
            self.versions.pop_front();
        }
    }

    /// The member's copy as last seen: its fingerprint (`None`: gone), the host it matched
    /// and when it appeared.
    pub fn latest(&self) -> Option<(Option<&Fingerprint>, Option<&str>, SystemTime)> {
        self.versions
            .back()
            .map(|v| (v.fingerprint.as_ref(), v.writer.as_deref(), v.at))
    }

    pub fn present(&self) -> bool {
        self.versions
            .back()
            .is_some_and(|v| v.fingerprint.is_some())
    }

    /// How many times the writer changed within [`WINDOW`] of the newest version.
    pub fn alternations(&self) -> usize {
        let Some(newest) = self.versions.back().map(|v| v.at) else {
            return 0;
        };
        let recent: Vec<&Version> = self
            .versions
            .iter()
            .filter(|v| newest.duration_since(v.at).unwrap_or_default() <= WINDOW)
            .filter(|v| v.writer.is_some())
            .collect();
        recent
            .windows(2)
            .filter(|w| w[0].writer != w[1].writer)
            .count()
    }

    /// The hosts taking turns on the member, when they alternated often enough to call it
    /// flapping; empty otherwise.
    pub fn flapping_writers(&self) -> Vec<String> {
        if self.alternations() < FLAPPING_ALTERNATIONS {
            return Vec::new();
        }
        let mut writers: Vec<String> = self
            .versions
            .iter()
            .filter_map(|v| v.writer.clone())
            .collect();
        writers.sort();
        writers.dedup();
        writers
    }
}

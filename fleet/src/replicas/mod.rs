//! Several console replicas behind one Service: who does the fleet's background work
//! ([`leader`]), and the jobs any replica can follow ([`job_records`]). Kubernetes itself is
//! the shared state: a Lease and ConfigMaps on the first configured host.

pub mod job_records;
pub mod job_requests;
pub mod leader;
pub mod shared_health;

pub use job_records::{JobRecords, Phase, RecordKeeper, RemoteJob};
pub use job_requests::{NotRequested, REQUEST_WAIT};
pub use leader::{LeaderView, Leadership, replica_identity};

/// A `&'static str` field read back from a record: one of `known`. A value this version
/// does not know (a record written by a newer replica during a rolling update) is an error,
/// so the record is not read at all rather than read as something else.
pub(crate) fn known_str(text: &str, known: &[&'static str]) -> Result<&'static str, String> {
    known
        .iter()
        .find(|k| **k == text)
        .copied()
        .ok_or_else(|| format!("unknown value `{text}`"))
}

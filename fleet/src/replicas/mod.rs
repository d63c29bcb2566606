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

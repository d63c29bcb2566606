//! Tandem's domain: the host clusters it manages and what it knows about them.
//!
//! Talks to clusters only through `kube`; nothing in here knows about HTTP pages.

pub mod clusters;
pub mod config;
pub mod events;
pub mod federation;
pub mod health;
pub mod iam;
pub mod jobs;
pub mod kept_data;
pub mod kubesphere;
pub mod metrics;
pub mod replicas;
pub mod sync;
pub mod writes;

/// The client type the domain functions take, for callers that do not depend on kube.
pub use kube::Client;

pub use clusters::ManagedCluster;
pub use config::{ConfigError, ConsoleConfig, HostCredentials, HostSpec};
pub use health::{HostClients, HostHealth, HostMonitor, HostState, ProbeFailure};

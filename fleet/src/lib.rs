//! Tandem's domain: the host clusters it manages and what it knows about them.
//!
//! Talks to clusters only through `kube`; nothing in here knows about HTTP pages.

pub mod certificate_expiry;
pub mod cluster_history;
pub mod clusters;
pub mod config;
pub mod events;
pub mod health;
pub mod iam;
pub mod kept_data;
pub mod kubeconfig_check;
pub mod kubesphere;
pub mod member_checks;
pub mod member_reach;
pub mod metrics;
pub mod multihost;
pub mod replicas;
pub mod writes;

/// The client type the domain functions take, for callers that do not depend on kube.
pub use kube::Client;

pub use config::{ConfigError, ConsoleConfig, HostCredentials, HostSpec};
pub use health::{HostHealth, HostMonitor, HostState, ManagedCluster, ProbeFailure};

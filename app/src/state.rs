//! What the server process hands every request: the live view of the fleet and its IAM.

use fleet::HostMonitor;
use fleet::iam::Iam;

use crate::error::ConsoleError;

/// Provided as Leptos context to every server function and route.
#[derive(Clone)]
pub struct ConsoleState {
    pub hosts: HostMonitor,
    pub iam: Iam,
    /// Every federated object across the hosts and their members, watched.
    pub federation: fleet::multihost::FederationMonitor,
    /// The add-cluster checks and joins running in the background.
    pub clusters: fleet::clusters::jobs::ClusterJobs,
    /// Session cookies carry `Secure` (see `ConsoleConfig::cookies_secure`).
    pub secure_cookies: bool,
}

impl ConsoleState {
    /// The state of the running server; an error only if the binary forgot to provide it.
    pub fn current() -> Result<Self, ConsoleError> {
        leptos::prelude::use_context::<Self>()
            .ok_or_else(|| ConsoleError::NotConfigured("ConsoleState is not provided".into()))
    }
}

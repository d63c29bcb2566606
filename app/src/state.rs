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
    pub federation: fleet::federation::FederationMonitor,
    /// The add-cluster checks and joins running in the background.
    pub clusters: fleet::clusters::jobs::ClusterJobs,
    /// Session cookies carry `Secure` (see `ConsoleConfig::cookies_secure`).
    pub secure_cookies: bool,
    /// This replica's name, as its Events report it.
    pub replica: String,
    /// Two-way sync of the configured hosts (`None` with fewer than two).
    pub sync: Option<fleet::sync::service::SyncService>,
}

impl ConsoleState {
    /// Records that `principal` changed object `name` (`what`: a phrase after their name,
    /// "deleted user alice") as an Event on their host.
    pub fn record_change(
        &self,
        principal: &fleet::iam::Principal,
        reason: &'static str,
        kind: fleet::events::ObjectKind,
        name: &str,
        what: impl std::fmt::Display,
    ) {
        self.record(
            &principal.host,
            fleet::events::ConsoleAction::by(&principal.username, reason, kind, name, what),
        );
    }

    /// Records a change made through the console as an Event on `host` (in the background;
    /// a host without the client or refusing the Event is logged, never an error here).
    pub fn record(&self, host: &str, action: fleet::events::ConsoleAction) {
        match self.iam.host(host).ok().and_then(|h| h.client().ok()) {
            Some(client) => fleet::events::record(client.clone(), action, self.replica.clone()),
            None => {
                tracing::warn!(%host, reason = action.reason, "no client for the host: the action's Event was not written")
            }
        }
    }

    /// The state of the running server; an error only if the binary forgot to provide it.
    pub fn current() -> Result<Self, ConsoleError> {
        leptos::prelude::use_context::<Self>()
            .ok_or_else(|| ConsoleError::NotConfigured("ConsoleState is not provided".into()))
    }
}

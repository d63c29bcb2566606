//! What the server process hands every request: the live view of the fleet.

use fleet::HostMonitor;

use crate::error::ConsoleError;

/// Provided as Leptos context to every server function and route.
#[derive(Clone)]
pub struct ConsoleState {
    pub hosts: HostMonitor,
}

impl ConsoleState {
    /// The state of the running server; an error only if the binary forgot to provide it.
    pub fn current() -> Result<Self, ConsoleError> {
        leptos::prelude::use_context::<Self>()
            .ok_or_else(|| ConsoleError::NotConfigured("ConsoleState is not provided".into()))
    }
}

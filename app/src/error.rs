//! The one error type that crosses the wire from server functions to pages.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum ConsoleError {
    /// The request never got a proper answer (network down, server restarting, bad encoding).
    #[error("the console server did not answer: {0}")]
    ServerUnavailable(String),
    /// The server process is missing state it should have been started with.
    #[error("the console server is not set up: {0}")]
    NotConfigured(String),
}

impl FromServerFnError for ConsoleError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        ConsoleError::ServerUnavailable(value.to_string())
    }
}

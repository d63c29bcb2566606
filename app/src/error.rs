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
    /// No session, or it ended (expired, logged out, user removed): log in again.
    #[error("you are not logged in, or your session has ended")]
    SignedOut,
    /// The signed-in user's roles do not allow this (HTTP 403).
    #[error("your role does not allow this: {0}")]
    Forbidden(String),
    /// A login attempt that did not succeed, and why.
    #[error("login failed: {0:?}")]
    LoginRefused(LoginProblem),
}

/// Why a login was refused; each has its own translated message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LoginProblem {
    /// Wrong username or password (never told apart). `locked_now`: this attempt locked it.
    IncorrectPassword {
        locked_now: bool,
    },
    Disabled,
    /// Too many failures; minutes until the lock ends, when known.
    Locked {
        minutes: Option<u64>,
    },
    /// The host cluster did not answer, or has no usable KubeSphere settings.
    HostUnavailable {
        host: String,
    },
    UnknownHost {
        host: String,
    },
}

impl FromServerFnError for ConsoleError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        ConsoleError::ServerUnavailable(value.to_string())
    }
}

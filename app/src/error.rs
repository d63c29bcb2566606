//! The one error type that crosses the wire from server functions to pages.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
// The problems' own messages are the pages' (translated); `Display` names only the kind of
// refusal, so that no `Debug` formatting of them is shipped to the browser. Problems carry
// their values as newtype variants, not struct variants: serde_json builds a whole struct
// deserializer per struct variant, and all of it lands in the first download.
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
    #[error("login failed")]
    LoginRefused(LoginProblem),
    /// A change to a user that was refused, and why.
    #[error("the change to the user was refused")]
    UserRefused(UserProblem),
    /// A change to a workspace that was refused, and why.
    #[error("the change to the workspace was refused")]
    WorkspaceRefused(WorkspaceProblem),
    /// An add-cluster, update or removal request that was refused, in the domain's words
    /// (what is wrong and what to do).
    #[error("{0}")]
    ClusterRefused(String),
    /// A federated object that cannot be shown, or a repair that was not started, and why.
    #[error("the federation request was refused")]
    FederationRefused(FederationProblem),
}

/// Why a federated object or a repair of it was refused; each has its own translated message.
/// The page knows which object it asked about, so only what it cannot know travels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FederationProblem {
    /// Not one of the kinds the console follows across hosts.
    UnknownKind,
    /// No host federates it (any more).
    NotFederated,
    /// Keeping one version was not confirmed.
    Unconfirmed,
    /// Deleting everywhere was not confirmed by typing the name.
    NameNotTyped,
    /// The chosen host (named) has no version of it.
    WinnerLacks(String),
    /// Another repair of it, started by the named user, is running.
    Busy(String),
    /// This replica could not hand the repair to the leading one (the home host's words).
    LeaderUnreachable(String),
    /// Sync needs two hosts or more in the configuration.
    NoSyncGroup,
}

#[cfg(feature = "ssr")]
impl From<fleet::federation::RepairRefused> for FederationProblem {
    fn from(e: fleet::federation::RepairRefused) -> Self {
        use fleet::federation::RepairRefused as E;
        match e {
            E::Unknown { .. } => Self::NotFederated,
            E::WinnerLacks { host, .. } => Self::WinnerLacks(host),
            E::Busy { actor, .. } => Self::Busy(actor),
            E::LeaderUnreachable { reason } => Self::LeaderUnreachable(reason),
        }
    }
}

/// Why a change to a workspace was refused; each has its own translated message and fix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum WorkspaceProblem {
    InvalidName,
    NameTaken(String),
    /// (name, the other host).
    ExistsOnOtherHost((String, String)),
    /// The user's name.
    UnknownUser(String),
    UnknownRole,
    /// The cluster's name.
    UnknownCluster(String),
    NotFound(String),
    TooLong,
    /// The host's side of the change failed.
    Host(HostProblem),
}

/// The caller's host cannot be reached, or its caches are not ready yet.
#[cfg(feature = "ssr")]
impl From<fleet::iam::SessionError> for ConsoleError {
    fn from(e: fleet::iam::SessionError) -> Self {
        Self::ServerUnavailable(e.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<fleet::iam::user_admin::UserError> for ConsoleError {
    fn from(e: fleet::iam::user_admin::UserError) -> Self {
        Self::UserRefused(e.into())
    }
}

#[cfg(feature = "ssr")]
impl From<fleet::iam::workspaces::WorkspaceError> for ConsoleError {
    fn from(e: fleet::iam::workspaces::WorkspaceError) -> Self {
        Self::WorkspaceRefused(e.into())
    }
}

/// The one way a server function refuses a change: logged (a warning with the host and the
/// object when the host refused or failed, information when the request itself was wrong),
/// answered with HTTP 422 and told as the page's translated problem.
#[cfg(feature = "ssr")]
pub fn refused<E: std::fmt::Display + Into<ConsoleError>>(
    principal: &fleet::iam::Principal,
    object: String,
) -> impl FnOnce(E) -> ConsoleError {
    move |e| {
        let reason = e.to_string();
        let error = e.into();
        let from_host = error.from_host();
        log_refusal(principal, &object, &reason, from_host);
        crate::auth::set_status(http::StatusCode::UNPROCESSABLE_ENTITY);
        error
    }
}

/// The log line of every refused change ([`refused`], `messages::cluster_refused`).
#[cfg(feature = "ssr")]
pub(crate) fn log_refusal(
    principal: &fleet::iam::Principal,
    object: &str,
    reason: &str,
    from_host: bool,
) {
    let (host, by) = (&principal.host, &principal.username);
    if from_host {
        tracing::warn!(%host, %object, %by, %reason, "the host refused the change");
    } else {
        tracing::info!(%host, %object, %by, %reason, "change refused");
    }
}

#[cfg(feature = "ssr")]
impl ConsoleError {
    /// Whether a refused change failed on the host's side, rather than being wrong.
    pub fn from_host(&self) -> bool {
        matches!(
            self,
            Self::UserRefused(UserProblem::Host(_))
                | Self::WorkspaceRefused(WorkspaceProblem::Host(_))
        )
    }
}

/// How a host answered a write it did not carry out (`fleet::writes::HostRefusal`), each with
/// its own translated message and fix; the API server's own words ride along.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum HostAnswer {
    Conflict(String),
    Forbidden(String),
    Gone(String),
    Rejected(String),
    Unavailable(String),
}

/// How the host's side of a change to a user or a workspace failed
/// (`fleet::iam::host_write::HostWriteError`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum HostProblem {
    /// The host refused the write, or could not be reached.
    Refused(HostAnswer),
    /// The new role was not given; the previous one is kept.
    RoleNotGiven(HostAnswer),
    /// (the previous role's binding) The new role was given, the old binding stayed.
    OldRoleKept((String, HostAnswer)),
}

#[cfg(feature = "ssr")]
impl From<fleet::iam::host_write::HostWriteError> for HostProblem {
    fn from(e: fleet::iam::host_write::HostWriteError) -> Self {
        use fleet::iam::host_write::HostWriteError as E;
        use fleet::iam::role_change::RoleChangeError as R;
        use fleet::writes::HostRefusal;
        match e {
            E::RoleChange(R::NotGiven(e)) => Self::RoleNotGiven(HostRefusal::of(&e).into()),
            E::RoleChange(R::OldKept { binding, source }) => {
                Self::OldRoleKept((binding, HostRefusal::of(&source).into()))
            }
            E::Cluster(e) => Self::Refused(HostRefusal::of(&e).into()),
            E::Unavailable(detail) => Self::Refused(HostAnswer::Unavailable(detail)),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<fleet::writes::HostRefusal> for HostAnswer {
    fn from(refusal: fleet::writes::HostRefusal) -> Self {
        use fleet::writes::HostRefusal as R;
        match refusal {
            R::Conflict(m) => Self::Conflict(m),
            R::Forbidden(m) => Self::Forbidden(m),
            R::Gone(m) => Self::Gone(m),
            R::Rejected(m) => Self::Rejected(m),
            R::Unavailable(m) => Self::Unavailable(m),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<fleet::iam::workspaces::WorkspaceError> for WorkspaceProblem {
    fn from(e: fleet::iam::workspaces::WorkspaceError) -> Self {
        use fleet::iam::workspaces::WorkspaceError as E;
        match e {
            E::InvalidName(_) => Self::InvalidName,
            E::NameTaken(name) => Self::NameTaken(name),
            E::ExistsOnOtherHost { name, host } => Self::ExistsOnOtherHost((name, host)),
            E::UnknownUser(name) => Self::UnknownUser(name),
            E::UnknownRole(_) => Self::UnknownRole,
            E::UnknownCluster(name) => Self::UnknownCluster(name),
            E::NotFound(name) => Self::NotFound(name),
            E::TooLong => Self::TooLong,
            E::Host(e) => Self::Host(e.into()),
        }
    }
}

/// Why a change to a user was refused; each has its own translated message and fix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum UserProblem {
    InvalidName,
    InvalidEmail,
    WeakPassword,
    DescriptionTooLong,
    UnknownRole(String),
    NameTaken(String),
    /// The user who has that email.
    EmailTaken(String),
    /// (name, the other host).
    ExistsOnOtherHost((String, String)),
    NotFound(String),
    OwnAccount,
    IncorrectCurrentPassword,
    PasswordMismatch,
    /// The host's side of the change failed.
    Host(HostProblem),
}

#[cfg(feature = "ssr")]
impl From<fleet::iam::user_admin::UserError> for UserProblem {
    fn from(e: fleet::iam::user_admin::UserError) -> Self {
        use fleet::iam::user_admin::UserError as E;
        match e {
            E::InvalidName(_) => Self::InvalidName,
            E::InvalidEmail => Self::InvalidEmail,
            E::WeakPassword(_) => Self::WeakPassword,
            E::DescriptionTooLong => Self::DescriptionTooLong,
            E::UnknownRole(role) => Self::UnknownRole(role),
            E::NameTaken(name) => Self::NameTaken(name),
            E::EmailTaken(owner) => Self::EmailTaken(owner),
            E::ExistsOnOtherHost { name, host } => Self::ExistsOnOtherHost((name, host)),
            E::NotFound(name) => Self::NotFound(name),
            E::OwnAccount(_) => Self::OwnAccount,
            E::IncorrectCurrentPassword => Self::IncorrectCurrentPassword,
            E::PasswordMismatch => Self::PasswordMismatch,
            E::Host(e) => Self::Host(e.into()),
        }
    }
}

/// Why a login was refused; each has its own translated message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LoginProblem {
    /// Wrong username or password (never told apart).
    IncorrectPassword,
    /// Wrong again, and this attempt locked the account.
    LockedNow,
    Disabled,
    /// Too many failures; minutes until the lock ends, when known.
    Locked(Option<u64>),
    /// The host cluster did not answer, or has no usable KubeSphere settings.
    HostUnavailable(String),
    UnknownHost(String),
}

impl LoginProblem {
    /// A short code for the address of the login page, for browsers that post the form
    /// themselves (before the page's script runs) and get the page back with the error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::IncorrectPassword => "incorrect",
            Self::LockedNow => "locked-now",
            Self::Disabled => "disabled",
            Self::Locked(_) => "locked",
            Self::HostUnavailable(_) => "host-unavailable",
            Self::UnknownHost(_) => "unknown-host",
        }
    }

    pub fn from_code(code: &str, host: String) -> Option<Self> {
        Some(match code {
            "incorrect" => Self::IncorrectPassword,
            "locked-now" => Self::LockedNow,
            "disabled" => Self::Disabled,
            "locked" => Self::Locked(None),
            "host-unavailable" => Self::HostUnavailable(host),
            "unknown-host" => Self::UnknownHost(host),
            _ => return None,
        })
    }
}

impl FromServerFnError for ConsoleError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        ConsoleError::ServerUnavailable(value.to_string())
    }
}

//! Password login against a host's `User` objects, as ks-apiserver's password grant does it
//! (docs/KUBESPHERE.md 3.1, 3.2, 1.2, 1.3): find the user by name or email, refuse disabled and
//! locked accounts, check the bcrypt hash, write a `LoginRecord` for every attempt on a known
//! user, and lock the account after too many failures in the window.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::{ListParams, ObjectMeta};

use kube::{Api, Client};

use super::resources::{
    LoginRecord, LoginRecordSpec, UNINITIALIZED_ANNOTATION, USER_REF_LABEL, User, UserStatus,
};
use super::settings::AuthSettings;

/// One attempt, with what ks-apiserver records about where it came from.
pub struct LoginAttempt<'a> {
    /// A username, or an email address.
    pub username: &'a str,
    pub password: &'a str,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A successful login: a signed session token for the user.
#[derive(Clone)]
pub struct IssuedSession {
    pub username: String,
    pub token: String,
    pub expires_at: SystemTime,
    /// The account must change its password first (`iam.kubesphere.io/uninitialized`).
    pub uninitialized: bool,
}

impl std::fmt::Debug for IssuedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedSession")
            .field("username", &self.username)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Wrong password or unknown user: the two are not told apart, as in KubeSphere.
    #[error("incorrect username or password")]
    IncorrectPassword {
        /// This failure was the one that locked the account.
        locked_now: bool,
    },
    #[error("the account is disabled")]
    NotActive,
    #[error("too many failed logins; the account is locked")]
    Locked { until: Option<SystemTime> },
    #[error("the host cluster did not answer: {0}")]
    Cluster(#[from] kube::Error),
}

/// A bcrypt hash (cost 10, as KubeSphere's) of nothing anyone types, checked for unknown
/// users so that a wrong username takes as long as a wrong password.
static DECOY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    bcrypt::hash("tandem-decoy-password-never-used", 10).unwrap_or_default()
});

pub async fn password_login(
    client: &Client,
    settings: &AuthSettings,
    attempt: LoginAttempt<'_>,
    now: SystemTime,
) -> Result<IssuedSession, LoginError> {
    let result = check_login(client, settings, attempt, now).await;
    crate::metrics::login(match &result {
        Ok(_) => "success",
        Err(LoginError::IncorrectPassword { locked_now }) => {
            if *locked_now {
                crate::metrics::COUNTERS.lockouts.inc();
            }
            "failure"
        }
        Err(LoginError::Locked { .. }) => "locked",
        Err(LoginError::NotActive) => "disabled",
        Err(LoginError::Cluster(_)) => "error",
    });
    result
}

async fn check_login(
    client: &Client,
    settings: &AuthSettings,
    attempt: LoginAttempt<'_>,
    now: SystemTime,
) -> Result<IssuedSession, LoginError> {
    if attempt.username.is_empty() || attempt.password.is_empty() {
        return Err(LoginError::IncorrectPassword { locked_now: false });
    }
    let users: Api<User> = Api::all(client.clone());
    let Some(user) = find_user(&users, attempt.username).await? else {
        let password = attempt.password.to_string();
        let _ = check_password(password, DECOY_HASH.clone()).await;
        return Err(LoginError::IncorrectPassword { locked_now: false });
    };
    let name = user.metadata.name.clone().unwrap_or_default();
    let status = user.status.clone().unwrap_or_default();
    match status.state.as_deref() {
        Some("AuthLimitExceeded") => {
            let until = status
                .last_transition_time
                .as_ref()
                .map(|t| SystemTime::from(t.0) + settings.lock_window);
            if until.is_none_or(|u| u > now) {
                // KubeSphere writes no LoginRecord for a locked account.
                return Err(LoginError::Locked { until });
            }
            // The lock has run out; KubeSphere's user controller would lift it now.
            set_state(&users, &name, "Active", None, now).await?;
        }
        Some("Active") | None => {}
        Some(_) => return Err(LoginError::NotActive),
    }
    let Some(hash) = user.spec.password.clone().filter(|p| !p.is_empty()) else {
        return Err(LoginError::NotActive);
    };

    let matches = check_password(attempt.password.to_string(), hash).await;
    let records: Api<LoginRecord> = Api::all(client.clone());
    let reason = if matches {
        "authenticated successfully"
    } else {
        "incorrect password"
    };
    record(&records, &name, &attempt, matches, reason).await?;
    if !matches {
        let locked_now = lock_if_over_limit(&users, &records, &user, settings, now).await?;
        return Err(LoginError::IncorrectPassword { locked_now });
    }

    let uninitialized = user
        .metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(UNINITIALIZED_ANNOTATION));
    let (token, expires_at) = settings.issue_session(&name, uninitialized, now);
    Ok(IssuedSession {
        username: name,
        token,
        expires_at,
        uninitialized,
    })
}

/// By name; an email address is looked up in `spec.email` (ks-apiserver's `findUser`).
async fn find_user(users: &Api<User>, username: &str) -> Result<Option<User>, kube::Error> {
    if !username.contains('@') {
        return users.get_opt(username).await;
    }
    let wanted = username.to_ascii_lowercase();
    Ok(users
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .find(|u| {
            u.spec
                .email
                .as_deref()
                .is_some_and(|e| e.to_ascii_lowercase() == wanted)
        }))
}

/// bcrypt at cost 10 takes tens of milliseconds: off the async workers.
async fn check_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
        .await
        .unwrap_or(false)
}

async fn record(
    records: &Api<LoginRecord>,
    user: &str,
    attempt: &LoginAttempt<'_>,
    success: bool,
    reason: &str,
) -> Result<(), kube::Error> {
    let record = LoginRecord {
        metadata: ObjectMeta {
            generate_name: Some(format!("{user}-")),
            labels: Some(BTreeMap::from([(USER_REF_LABEL.into(), user.into())])),
            ..Default::default()
        },
        spec: LoginRecordSpec {
            kind: "Token".into(),
            provider: String::new(),
            source_ip: attempt.source_ip.clone().unwrap_or_default(),
            user_agent: attempt.user_agent.clone(),
            success,
            reason: reason.into(),
        },
    };
    crate::writes::create(records, &record).await?;
    Ok(())
}

/// Counts the failures since the last state change and inside the window (as the user
/// controller's `syncUserStatus`); at the limit the user becomes `AuthLimitExceeded`.
async fn lock_if_over_limit(
    users: &Api<User>,
    records: &Api<LoginRecord>,
    user: &User,
    settings: &AuthSettings,
    now: SystemTime,
) -> Result<bool, kube::Error> {
    let name = user.metadata.name.clone().unwrap_or_default();
    let since_transition = user
        .status
        .as_ref()
        .and_then(|s| s.last_transition_time.as_ref())
        .map(|t| SystemTime::from(t.0));
    let window_start = now.checked_sub(settings.lock_window).unwrap_or(now);
    let since = since_transition.map_or(window_start, |t| t.max(window_start));
    let failures = records
        .list(&ListParams::default().labels(&format!("{USER_REF_LABEL}={name}")))
        .await?
        .items
        .iter()
        .filter(|r| !r.spec.success)
        .filter(|r| {
            r.metadata
                .creation_timestamp
                .as_ref()
                .is_some_and(|t| SystemTime::from(t.0) >= since)
        })
        .count();
    if failures < settings.max_tries as usize {
        return Ok(false);
    }
    let reason = format!(
        "Failed login attempts exceed {} in last {}",
        settings.max_tries,
        go_duration(settings.lock_window)
    );
    set_state(users, &name, "AuthLimitExceeded", Some(reason), now).await?;
    Ok(true)
}

async fn set_state(
    users: &Api<User>,
    name: &str,
    state: &str,
    reason: Option<String>,
    now: SystemTime,
) -> Result<(), kube::Error> {
    let status = UserStatus {
        state: Some(state.into()),
        reason,
        last_transition_time: Timestamp::try_from(now).ok().map(Time),
        last_login_time: None,
    };
    let status = serde_json::to_value(status).map_err(kube::Error::SerdeError)?;
    crate::writes::patch_status_in_object(users, name, status)
        .await
        .map(drop)
}

/// `10m0s`, as Go prints a duration in KubeSphere's reason.
fn go_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

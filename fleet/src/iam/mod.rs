//! Identity and access on the host clusters, KubeSphere-compatible: password login against
//! `User` objects, HS256 session tokens signed with the host's jwtSecret, and permissions
//! from global roles, read from watch-fed caches.

pub mod authorize;
pub mod cache;
pub mod host_write;
pub mod login;
pub mod passwords;
pub mod propagation;
pub mod resources;
pub mod revocations;
pub mod role_change;
pub mod settings;
pub mod token;
pub mod user_admin;
pub mod user_delete;
pub mod users;
pub mod workspace_access;
pub mod workspaces;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::{Api, Client};
use tokio::task::JoinSet;

pub use authorize::{Action, Permissions};
pub use cache::IamCache;
pub use login::{IssuedSession, LoginAttempt, LoginError};
pub use settings::{AuthSettings, SettingsError};
pub use token::{Claims, JwtSecret, TokenError};

use revocations::EndedSessions;

/// How long a host's authentication settings are trusted before they are read again.
const SETTINGS_TTL: Duration = Duration::from_secs(60);
/// A login gives up on a host that does not answer within this time.
pub const LOGIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a request's session is not accepted.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("no host named `{0}` is configured")]
    UnknownHost(String),
    #[error("the host `{0}` cannot be reached to check the session")]
    HostUnavailable(String),
    #[error("the host's settings cannot be read: {0}")]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error("the session was ended (logged out)")]
    Revoked,
    #[error("the user `{0}` no longer exists on this host")]
    UnknownUser(String),
    #[error("the user `{0}` is disabled")]
    Disabled(String),
}

/// A signed-in person, as every server function sees them.
#[derive(Debug, Clone)]
pub struct Principal {
    pub host: String,
    pub username: String,
    pub permissions: Permissions,
    pub uninitialized: bool,
    /// When the token expires, and when it was issued (for refreshing it half-way).
    pub expires_at: SystemTime,
    pub issued_at: SystemTime,
}

impl Principal {
    pub fn may(&self, action: Action) -> bool {
        self.permissions.allows(action)
    }
}

/// One host's IAM: its client, caches and settings.
pub struct HostIam {
    pub name: String,
    client: Result<Client, String>,
    cache: Option<IamCache>,
    settings: Mutex<Option<(Instant, AuthSettings)>>,
}

impl HostIam {
    pub fn client(&self) -> Result<&Client, SessionError> {
        self.client
            .as_ref()
            .map_err(|_| SessionError::HostUnavailable(self.name.clone()))
    }

    pub fn cache(&self) -> Result<&IamCache, SessionError> {
        self.cache
            .as_ref()
            .ok_or_else(|| SessionError::HostUnavailable(self.name.clone()))
    }

    /// The `authentication:` settings of the host's `kubesphere-config`, read at most once a
    /// minute.
    pub async fn settings(&self) -> Result<AuthSettings, SessionError> {
        if let Ok(guard) = self.settings.lock()
            && let Some((read_at, settings)) = guard.as_ref()
            && read_at.elapsed() < SETTINGS_TTL
        {
            return Ok(settings.clone());
        }
        let client = self.client()?;
        let api: Api<ConfigMap> = Api::namespaced(client.clone(), "kubesphere-system");
        let config = tokio::time::timeout(LOGIN_TIMEOUT, api.get_opt("kubesphere-config"))
            .await
            .map_err(|_| SessionError::HostUnavailable(self.name.clone()))?
            .map_err(|_| SessionError::HostUnavailable(self.name.clone()))?;
        let yaml = config
            .and_then(|c| c.data)
            .and_then(|d| d.get("kubesphere.yaml").cloned())
            .ok_or(SettingsError::Unreadable)?;
        let settings = AuthSettings::parse(&yaml)?;
        if let Ok(mut guard) = self.settings.lock() {
            *guard = Some((Instant::now(), settings.clone()));
        }
        Ok(settings)
    }
}

/// Every host's IAM, in configuration order, and the sessions ended by logging out.
#[derive(Clone)]
pub struct Iam {
    hosts: Arc<Vec<HostIam>>,
    ended: EndedSessions,
    /// The watches on each host's ended sessions; they stop with the last clone.
    _follow: Arc<JoinSet<()>>,
}

impl Iam {
    /// Starts every host's watches on its client (a host that cannot be reached yet is
    /// retried by the watches themselves).
    pub async fn start(clients: &crate::HostClients) -> Self {
        let mut hosts = Vec::new();
        for (name, client) in clients.iter() {
            let client = client.clone().map_err(|e| e.to_string());
            let cache = client.as_ref().ok().map(IamCache::start);
            hosts.push(HostIam {
                name: name.to_string(),
                client,
                cache,
                settings: Mutex::new(None),
            });
        }
        let ended = EndedSessions::default();
        let mut follow = JoinSet::new();
        for host in &hosts {
            if let Ok(client) = &host.client {
                follow.spawn(ended.clone().follow(host.name.clone(), client.clone()));
            }
        }
        Self {
            hosts: Arc::new(hosts),
            ended,
            _follow: Arc::new(follow),
        }
    }

    /// Every host that has a client, with it (for the federation monitor).
    pub fn host_clients(&self) -> Vec<(String, Client)> {
        self.hosts
            .iter()
            .filter_map(|h| Some((h.name.clone(), h.client.as_ref().ok()?.clone())))
            .collect()
    }

    pub fn host_names(&self) -> Vec<String> {
        self.hosts.iter().map(|h| h.name.clone()).collect()
    }

    pub fn host(&self, name: &str) -> Result<&HostIam, SessionError> {
        self.hosts
            .iter()
            .find(|h| h.name == name)
            .ok_or_else(|| SessionError::UnknownHost(name.to_string()))
    }

    /// Logs in on `host`, giving up after [`LOGIN_TIMEOUT`].
    pub async fn login(
        &self,
        host: &str,
        attempt: LoginAttempt<'_>,
    ) -> Result<IssuedSession, LoginFailure> {
        let host = self.host(host).map_err(LoginFailure::Session)?;
        let settings = host.settings().await.map_err(LoginFailure::Session)?;
        let client = host.client().map_err(LoginFailure::Session)?;
        let login = login::password_login(client, &settings, attempt, SystemTime::now());
        match tokio::time::timeout(LOGIN_TIMEOUT, login).await {
            Ok(result) => result.map_err(LoginFailure::Login),
            Err(_) => Err(LoginFailure::Session(SessionError::HostUnavailable(
                host.name.clone(),
            ))),
        }
    }

    /// Checks a session token presented for `host`, as of `now`.
    pub async fn authenticate(
        &self,
        host_name: &str,
        token: &str,
        now: SystemTime,
    ) -> Result<Principal, SessionError> {
        let host = self.host(host_name)?;
        let claims = host.settings().await?.jwt_secret.verify(token, now)?;
        if let Ok(client) = host.client() {
            self.ended.read_once(&host.name, client).await;
        }
        if self.ended.contains(&revocations::print(token)) {
            return Err(SessionError::Revoked);
        }
        let cache = host.cache()?;
        let username = claims.user().to_string();
        let user = cache
            .user(&username)
            .ok_or_else(|| SessionError::UnknownUser(username.clone()))?;
        if user
            .status
            .as_ref()
            .and_then(|s| s.state.as_deref())
            .is_some_and(|s| s == "Disabled")
        {
            return Err(SessionError::Disabled(username));
        }
        Ok(Principal {
            host: host.name.clone(),
            permissions: cache.permissions(&username),
            uninitialized: claims.uninitialized(),
            expires_at: SystemTime::UNIX_EPOCH + Duration::from_secs(claims.exp.unwrap_or(0)),
            issued_at: SystemTime::UNIX_EPOCH + Duration::from_secs(claims.iat),
            username,
        })
    }

    /// Ends the session carried by `token` on `host`: it is refused from now until it would
    /// have expired anyway, by this console at once and by every console of the fleet once
    /// the host has it.
    pub async fn revoke(&self, host: &str, token: &str, expires_at: SystemTime) {
        let client = self.host(host).ok().and_then(|h| h.client().ok());
        // A host that does not answer must not hold up a log-out: this console refuses the
        // token at once either way.
        let end = self
            .ended
            .end(host, client, revocations::print(token), expires_at);
        if tokio::time::timeout(LOGIN_TIMEOUT, end).await.is_err() {
            tracing::warn!(%host, "the ended session is refused by this console only (host too slow)");
        }
    }

    /// Creates a user on `host` — refused when a user of that name exists on another host of
    /// one of its members, because two hosts' same-name users fight over every member both
    /// manage.
    pub async fn create_user(
        &self,
        host: &str,
        new: &user_admin::NewUser,
    ) -> Result<(), user_admin::UserError> {
        let target = self.host(host)?;
        for other in self.hosts.iter().filter(|h| h.name != host) {
            if let Ok(cache) = other.cache()
                && cache.user(&new.name).is_some()
                && shares_a_member(target, other).await
            {
                return Err(user_admin::UserError::ExistsOnOtherHost {
                    name: new.name.clone(),
                    host: other.name.clone(),
                });
            }
        }
        let client = target.client()?;
        let cache = target.cache()?;
        user_admin::create_user(client, cache, new).await
    }

    /// Creates a workspace on `host`, refused when another host of one of its members has one
    /// of that name (the same fight as same-name users: both are federated to that member).
    pub async fn create_workspace(
        &self,
        host: &str,
        new: &workspaces::NewWorkspace,
        known_clusters: &[String],
    ) -> Result<(), workspaces::WorkspaceError> {
        let target = self.host(host)?;
        for other in self.hosts.iter().filter(|h| h.name != host) {
            if let Ok(cache) = other.cache()
                && cache
                    .workspace_templates()
                    .iter()
                    .any(|t| t.metadata.name.as_deref() == Some(new.name.as_str()))
                && shares_a_member(target, other).await
            {
                return Err(workspaces::WorkspaceError::ExistsOnOtherHost {
                    name: new.name.clone(),
                    host: other.name.clone(),
                });
            }
        }
        let client = target.client()?;
        let cache = target.cache()?;
        workspaces::create_workspace(client, cache, new, known_clusters).await
    }

    /// Waits until every host's watches have listed once (for tests and start-up).
    pub async fn ready(&self) {
        for host in self.hosts.iter() {
            if let Some(cache) = &host.cache {
                cache.ready().await;
            }
        }
    }
}

/// Why a login did not produce a session.
#[derive(Debug, thiserror::Error)]
pub enum LoginFailure {
    #[error(transparent)]
    Login(LoginError),
    #[error(transparent)]
    Session(SessionError),
}

/// Whether two hosts manage a common member (a `Cluster` with the same kube-system UID on
/// both): only then do their same-name objects fight. When either cannot be asked, assume
/// they do: refusing a name is recoverable, a fight on a member is not.
async fn shares_a_member(a: &HostIam, b: &HostIam) -> bool {
    async fn member_uids(host: &HostIam) -> Option<std::collections::HashSet<String>> {
        let api: kube::Api<crate::kubesphere::Cluster> =
            kube::Api::all(host.client().ok()?.clone());
        let list = tokio::time::timeout(Duration::from_secs(4), api.list(&Default::default()))
            .await
            .ok()?
            .ok()?;
        Some(
            list.items
                .into_iter()
                .filter(|c| !c.is_host())
                .filter_map(|c| c.status.and_then(|s| s.uid))
                .collect(),
        )
    }
    match (member_uids(a).await, member_uids(b).await) {
        (Some(x), Some(y)) => !x.is_disjoint(&y),
        _ => true,
    }
}

//! Simulated Kubernetes clusters on loopback.
//!
//! Each [`SandboxCluster`] is an HTTPS server with its own CA and bearer token that answers the
//! Kubernetes REST API (discovery, OpenAPI, CRUD, list, watch, patch, CRDs), so `kube` clients
//! and kubectl talk to it unchanged through the kubeconfig it writes. Tandem's quick start,
//! demo and tests run on these when no real cluster is at hand; production points Tandem at
//! real clusters instead.

mod access;
mod db;
pub mod demo;
mod discovery;
mod errors;
mod event_rules;
mod field_validation;
#[cfg(any(test, feature = "fuzz"))]
pub mod fuzz;
#[cfg(test)]
mod fuzz_targets;
mod kinds;
mod kubefed;
mod kubesphere;
mod meta;
mod patch;
mod persist;
mod protobuf;
mod rest;
mod schema;
mod selector;
mod store;
mod tls;
mod type_meta;
mod watch;
mod workloads;

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

pub use discovery::GIT_VERSION;
pub use kubefed::sync::RESYNC as KUBEFED_RESYNC;
pub use kubesphere::roles::builtin_roles;
pub use kubesphere::{ClusterRole, KUBESPHERE_VERSION, KubeSphereInstall};
pub use tls::ServingCertificate;
pub use watch::BOOKMARK_EVERY;

/// The clusters `tandem sandbox` and the demo fleet start when none are named.
pub const DEFAULT_CLUSTERS: [&str; 3] = ["host", "host2", "member"];

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot create the cluster's certificates: {0}")]
    Tls(String),
    #[error("the operating system's random source failed: {0}")]
    Random(String),
    #[error("cannot listen on loopback: {0}")]
    Bind(#[source] std::io::Error),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot load the cluster's saved state: {0}")]
    State(String),
}

/// What every request handler of one cluster shares.
pub(crate) struct ClusterState {
    pub addr: SocketAddr,
    admin_token: String,
    /// A read-only identity's token (not kept across restarts).
    viewer_token: String,
    pub db: Mutex<db::Db>,
    #[cfg(feature = "faults")]
    faults: Mutex<Vec<access::Fault>>,
}

/// One running simulated cluster. Dropping it stops its server.
pub struct SandboxCluster {
    name: String,
    addr: SocketAddr,
    token: String,
    ca_pem: String,
    state: Arc<ClusterState>,
    server: JoinHandle<()>,
    /// Ends the open connections too when the cluster stops, as a stopped API server does.
    stop: tokio::sync::watch::Sender<bool>,
    /// The host controllers (user controller, kubefed sync), once KubeSphere is installed as
    /// a host.
    controllers: Mutex<Option<JoinHandle<()>>>,
    /// KubeSphere's cluster controller, when asked for (`run_cluster_controller`).
    cluster_controller: Mutex<Option<JoinHandle<()>>>,
}

impl SandboxCluster {
    /// Starts a cluster named `name` on a free loopback port, with its state in memory only.
    pub async fn start(name: &str) -> Result<Self, SandboxError> {
        Self::start_in_memory(
            name,
            tls::ClusterTls::generate(name)?,
            store::Store::in_memory(),
        )
        .await
    }

    /// Like [`start`](Self::start), presenting a serving certificate of the given shape (an
    /// expired one, or one for another host name), for tests of how clients explain it.
    pub async fn start_with_certificate(
        name: &str,
        certificate: ServingCertificate,
    ) -> Result<Self, SandboxError> {
        let tls = tls::ClusterTls::generate_shaped(name, certificate)?;
        Self::start_in_memory(name, tls, store::Store::in_memory()).await
    }

    /// Like [`start`](Self::start), keeping only the last `changes` changes for watches to
    /// resume from: older resourceVersions get 410 Gone sooner (for tests of that path).
    pub async fn start_with_watch_history(
        name: &str,
        changes: usize,
    ) -> Result<Self, SandboxError> {
        let store = store::Store::in_memory().with_history_limit(changes);
        Self::start_in_memory(name, tls::ClusterTls::generate(name)?, store).await
    }

    async fn start_in_memory(
        name: &str,
        tls: tls::ClusterTls,
        store: store::Store,
    ) -> Result<Self, SandboxError> {
        let listener = bind(None).await?;
        Self::serve(name, tls, listener, random_token()?, store).await
    }

    /// Starts a cluster whose state, CA, admin token and port live in `dir/<name>/`: a restart
    /// with the same directory brings back every object, and the same kubeconfig keeps
    /// working (the port is reused when it is free).
    pub async fn start_persistent(name: &str, dir: &Path) -> Result<Self, SandboxError> {
        let home = dir.join(name);
        std::fs::create_dir_all(&home).map_err(|source| SandboxError::Write {
            path: home.clone(),
            source,
        })?;
        let tls = tls::ClusterTls::load_or_generate(name, &home)?;
        let token_path = home.join("token");
        let token = match std::fs::read_to_string(&token_path) {
            Ok(t) if !t.trim().is_empty() => t.trim().to_string(),
            _ => {
                let t = random_token()?;
                write_private(&token_path, t.as_bytes())?;
                t
            }
        };
        let port_path = home.join("port");
        let saved_port = std::fs::read_to_string(&port_path)
            .ok()
            .and_then(|p| p.trim().parse().ok());
        let listener = bind(saved_port).await?;
        let port = listener.local_addr().map_err(SandboxError::Bind)?.port();
        write_private(&port_path, port.to_string().as_bytes())?;
        let store = store::Store::persistent(&home.join("state")).map_err(SandboxError::State)?;
        Self::serve(name, tls, listener, token, store).await
    }

    async fn serve(
        name: &str,
        tls: tls::ClusterTls,
        listener: TcpListener,
        token: String,
        store: store::Store,
    ) -> Result<Self, SandboxError> {
        let addr = listener.local_addr().map_err(SandboxError::Bind)?;
        let state = Arc::new(ClusterState {
            addr,
            admin_token: token.clone(),
            viewer_token: random_token()?,
            db: Mutex::new(db::Db::open(store, tls.ca_pem.clone())),
            #[cfg(feature = "faults")]
            faults: Mutex::new(Vec::new()),
        });
        bootstrap(&state);
        let router = Router::new()
            .merge(discovery::routes())
            .merge(access::routes())
            .merge(rest::routes())
            .fallback(|req: Request| async move {
                errors::ApiError::no_such_path(req.uri().path()).into_response()
            })
            .layer(middleware::from_fn_with_state(state.clone(), authenticate))
            .with_state(state.clone());
        let acceptor = TlsAcceptor::from(tls.server_config.clone());
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let server = tokio::spawn(serve(listener, acceptor, router, stopped));
        tracing::info!(cluster = name, %addr, "sandbox cluster listening");
        Ok(Self {
            name: name.to_string(),
            addr,
            token,
            ca_pem: tls.ca_pem,
            state,
            server,
            stop,
            controllers: Mutex::new(None),
            cluster_controller: Mutex::new(None),
        })
    }

    /// Installs KubeSphere (and kubefed's CRDs) as ks-installer does; objects already there
    /// are left alone, so this is safe on every start.
    pub fn install_kubesphere(&self, install: &KubeSphereInstall) -> Result<(), SandboxError> {
        {
            let mut db = self.lock()?;
            kubesphere::install(&mut db, install).map_err(|e| SandboxError::State(e.message))?;
        }
        if install.role == ClusterRole::Host {
            // A KubeSphere host joins itself (a `Cluster` and a `KubeFedCluster` named after
            // it), so kubefed also "propagates" to the host and reports ManagedLabelFalse there.
            self.join_member(self, &self.name)?;
        }
        if install.role == ClusterRole::Host
            && let Ok(mut controllers) = self.controllers.lock()
            && controllers.is_none()
        {
            *controllers = Some(tokio::spawn(kubefed::run(self.state.clone())));
        }
        Ok(())
    }

    /// Runs KubeSphere's cluster controller on this host, as ks-controller-manager does on a
    /// real one: it joins every `Cluster` with `joinFederation: true` itself and re-runs the
    /// join every `resync` (two minutes on a real host).
    pub fn run_cluster_controller(&self, resync: std::time::Duration) {
        if let Ok(mut task) = self.cluster_controller.lock()
            && task.is_none()
        {
            *task = Some(tokio::spawn(kubesphere::cluster_controller::run(
                self.state.clone(),
                resync,
            )));
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, db::Db>, SandboxError> {
        self.state
            .db
            .lock()
            .map_err(|_| SandboxError::State("state lock poisoned".into()))
    }

    /// Joins `member` to this host under `name`, as KubeSphere's cluster controller does:
    /// a full-rights service account on the member, and on this host the `Cluster`, the
    /// token secret and the `KubeFedCluster` that kubefed propagates through. Idempotent.
    pub fn join_member(&self, member: &SandboxCluster, name: &str) -> Result<(), SandboxError> {
        let fail =
            |e: errors::ApiError| SandboxError::State(format!("joining {name}: {}", e.message));
        let (token, uid) = {
            let mut db = member.lock()?;
            let token = kubefed::join::prepare_member(&mut db, name).map_err(fail)?;
            let uid = db
                .store
                .get(&store::ObjectKey::new("", "namespaces", "", "kube-system"))
                .and_then(|ns| meta::str_field(ns, "uid").map(String::from))
                .unwrap_or_default();
            (token, uid)
        };
        let mut db = self.lock()?;
        let member_info = kubefed::join::JoinedMember {
            api_endpoint: &member.server_url(),
            ca_pem: &member.ca_pem,
            token: &token,
            kube_system_uid: &uid,
            kubeconfig: &member.kubeconfig_yaml(),
            is_self: std::ptr::eq(self, member),
        };
        kubefed::join::register_on_host(&mut db, name, &member_info).map_err(fail)
    }

    /// Creates an object in-process, as a controller of the cluster would (no-op if an object
    /// of that kind and name exists).
    pub(crate) fn create_object(&self, object: serde_json::Value) -> Result<(), SandboxError> {
        let mut db = self.lock()?;
        db.ensure(object)
            .map(|_| ())
            .map_err(|e| SandboxError::State(e.message))
    }

    pub(crate) fn delete_object(
        &self,
        group: &str,
        plural: &str,
        name: &str,
    ) -> Result<(), SandboxError> {
        let mut db = self.lock()?;
        let kind = db
            .registry
            .all()
            .find(|k| k.group == group && k.plural == plural)
            .cloned()
            .ok_or_else(|| SandboxError::State(format!("{plural}.{group} is not served")))?;
        let version = kind.versions.first().cloned().unwrap_or_default();
        db.delete(&kind, &version, None, name, &serde_json::Value::Null, false)
            .map(|_| ())
            .map_err(|e| SandboxError::State(e.message))
    }

    pub(crate) fn has_finalizer(
        &self,
        group: &str,
        plural: &str,
        name: &str,
        finalizer: &str,
    ) -> bool {
        self.lock()
            .ok()
            .and_then(|db| {
                db.store
                    .get(&store::ObjectKey::new(group, plural, "", name))
                    .map(meta::finalizers)
            })
            .is_some_and(|f| f.iter().any(|x| x == finalizer))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `https://127.0.0.1:PORT`
    pub fn server_url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// A kubeconfig with this cluster's CA and an admin bearer token, as kubectl writes them.
    pub fn kubeconfig_yaml(&self) -> String {
        let ca = base64::engine::general_purpose::STANDARD.encode(&self.ca_pem);
        let name = &self.name;
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: {name}\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\ncontexts:\n- name: {name}\n  context:\n    cluster: {name}\n    user: {name}-admin\ncurrent-context: {name}\nusers:\n- name: {name}-admin\n  user:\n    token: {token}\npreferences: {{}}\n",
            server = self.server_url(),
            token = self.token,
        )
    }

    /// Like [`kubeconfig_yaml`](Self::kubeconfig_yaml) for a user that may read everything
    /// and change nothing: it connects, and a join with it is forbidden.
    pub fn viewer_kubeconfig_yaml(&self) -> String {
        self.kubeconfig_yaml()
            .replace(&self.token, &self.state.viewer_token)
            .replace(
                &format!("{}-admin", self.name),
                &format!("{}-{}", self.name, access::VIEWER_USER),
            )
    }

    /// Makes the next `method` request whose path contains `path_contains` fail with a 500
    /// InternalError: a fault in the middle of a multi-step operation, for tests.
    #[cfg(feature = "faults")]
    pub fn fail_next(&self, method: &str, path_contains: &str) {
        let Ok(method) = method.parse() else { return };
        if let Ok(mut faults) = self.state.faults.lock() {
            faults.push(access::Fault {
                method,
                path_contains: path_contains.to_string(),
            });
        }
    }

    /// Writes `dir/<name>.kubeconfig`, readable by the owner only (it holds the admin token).
    pub fn write_kubeconfig(&self, dir: &Path) -> Result<PathBuf, SandboxError> {
        let path = dir.join(format!("{}.kubeconfig", self.name));
        std::fs::create_dir_all(dir).map_err(|source| SandboxError::Write {
            path: path.clone(),
            source,
        })?;
        write_private(&path, self.kubeconfig_yaml().as_bytes())?;
        Ok(path)
    }
}

impl Drop for SandboxCluster {
    fn drop(&mut self) {
        for tasks in [&self.controllers, &self.cluster_controller] {
            if let Ok(mut task) = tasks.lock()
                && let Some(task) = task.take()
            {
                task.abort();
            }
        }
        self.server.abort();
        let _ = self.stop.send(true);
    }
}

/// Starts one persistent cluster per name, state under `dir`, and writes each one's
/// kubeconfig into `dir`.
pub async fn start_fleet(
    names: &[&str],
    dir: &Path,
) -> Result<Vec<(SandboxCluster, PathBuf)>, SandboxError> {
    let mut fleet = Vec::with_capacity(names.len());
    for name in names {
        let cluster = SandboxCluster::start_persistent(name, dir).await?;
        let path = cluster.write_kubeconfig(dir)?;
        fleet.push((cluster, path));
    }
    Ok(fleet)
}

/// The namespaces every cluster has from its first start.
fn bootstrap(state: &ClusterState) {
    let Ok(mut db) = state.db.lock() else { return };
    let Some(kind) = db.registry.find("", "v1", "namespaces").cloned() else {
        return;
    };
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        if db.get(&kind, "v1", None, ns).is_err() {
            let object = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
            if let Err(err) = db.create(&kind, "v1", None, object, false) {
                tracing::warn!(namespace = ns, ?err, "sandbox bootstrap failed");
            }
        }
    }
}

/// Paths that a real cluster lets anonymous users read (`system:public-info-viewer`).
fn is_public(path: &str) -> bool {
    matches!(path, "/version" | "/healthz" | "/livez" | "/readyz")
}

async fn authenticate(
    State(state): State<Arc<ClusterState>>,
    mut req: Request,
    next: Next,
) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or_default().to_string());
    let identity = match presented {
        // Anonymous, as kube-apiserver with anonymous auth: public paths only.
        None if is_public(req.uri().path()) => return next.run(req).await,
        None => {
            return errors::ApiError::forbidden(format!(
                "forbidden: User \"system:anonymous\" cannot get path \"{}\"",
                req.uri().path()
            ))
            .into_response();
        }
        Some(value) => {
            let token = value.strip_prefix("Bearer ").unwrap_or_default();
            if constant_time_eq(token.as_bytes(), state.admin_token.as_bytes()) {
                access::Identity::Admin
            } else if constant_time_eq(token.as_bytes(), state.viewer_token.as_bytes()) {
                access::Identity::Viewer
            } else if let Some(who) = state
                .db
                .lock()
                .ok()
                .and_then(|db| db.identity_for(token).map(String::from))
            {
                access::Identity::ServiceAccount(who)
            } else {
                return errors::ApiError::new(
                    axum::http::StatusCode::UNAUTHORIZED,
                    "Unauthorized",
                    "Unauthorized",
                )
                .into_response();
            }
        }
    };
    let path = req.uri().path().to_string();
    if let Some(refused) = access::refuse(&identity, req.method(), &path) {
        return refused;
    }
    #[cfg(feature = "faults")]
    if let Some(fault) = access::take_fault(&state, req.method(), &path) {
        return fault;
    }
    req.extensions_mut().insert(identity);
    next.run(req).await
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn bind(port: Option<u16>) -> Result<TcpListener, SandboxError> {
    if let Some(port) = port
        && let Ok(listener) = TcpListener::bind(("127.0.0.1", port)).await
    {
        return Ok(listener);
    }
    TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(SandboxError::Bind)
}

/// Writes a file only its owner may read: it holds a token or a key.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), SandboxError> {
    let write_err = |source| SandboxError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(write_err)?;
    file.write_all(bytes)
        .and_then(|_| file.sync_all())
        .map_err(write_err)
}

async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    router: Router,
    stopped: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(conn) => conn,
            Err(err) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(%err, "sandbox accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let router = router.clone();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let Ok(tls_stream) = acceptor.accept(stream).await else {
                return; // a client that gave up or did not trust our CA
            };
            let service = hyper::service::service_fn(move |req| router.clone().oneshot(req));
            let builder = auto::Builder::new(TokioExecutor::new());
            let connection = builder.serve_connection(TokioIo::new(tls_stream), service);
            tokio::select! {
                _ = connection => {}
                _ = stopped.wait_for(|stop| *stop) => {}
            }
        });
    }
}

fn random_token() -> Result<String, SandboxError> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| SandboxError::Random(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

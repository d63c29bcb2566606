//! Simulated Kubernetes clusters on loopback.
//!
//! Each [`SandboxCluster`] is an HTTPS server with its own CA and bearer token that answers the
//! Kubernetes REST API, so `kube` clients and kubectl talk to it unchanged through the
//! kubeconfig it writes. Tandem's quick start, demo and tests run on these when no real cluster
//! is at hand; production points Tandem at real clusters instead.

mod api;
mod tls;

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

pub use api::GIT_VERSION;

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
}

/// One running simulated cluster. Dropping it stops its server.
pub struct SandboxCluster {
    name: String,
    addr: SocketAddr,
    token: String,
    ca_pem: String,
    server: JoinHandle<()>,
}

impl SandboxCluster {
    /// Starts a cluster named `name` on a free loopback port.
    pub async fn start(name: &str) -> Result<Self, SandboxError> {
        let tls = tls::ClusterTls::generate(name)?;
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(SandboxError::Bind)?;
        let addr = listener.local_addr().map_err(SandboxError::Bind)?;
        let token = random_token()?;
        let state = Arc::new(api::ApiState {
            token: token.clone(),
            addr,
        });
        let router = api::router(state);
        let acceptor = TlsAcceptor::from(tls.server_config.clone());
        let server = tokio::spawn(serve(listener, acceptor, router));
        tracing::info!(cluster = name, %addr, "sandbox cluster listening");
        Ok(Self {
            name: name.to_string(),
            addr,
            token,
            ca_pem: tls.ca_pem,
            server,
        })
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

    /// Writes `dir/<name>.kubeconfig`, readable by the owner only (it holds the admin token).
    pub fn write_kubeconfig(&self, dir: &Path) -> Result<PathBuf, SandboxError> {
        let path = dir.join(format!("{}.kubeconfig", self.name));
        let write_err = |source| SandboxError::Write {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(write_err)?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(write_err)?;
        file.write_all(self.kubeconfig_yaml().as_bytes())
            .map_err(write_err)?;
        Ok(path)
    }
}

impl Drop for SandboxCluster {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Starts one cluster per name and writes each one's kubeconfig into `dir`.
pub async fn start_fleet(
    names: &[&str],
    dir: &Path,
) -> Result<Vec<(SandboxCluster, PathBuf)>, SandboxError> {
    let mut fleet = Vec::with_capacity(names.len());
    for name in names {
        let cluster = SandboxCluster::start(name).await?;
        let path = cluster.write_kubeconfig(dir)?;
        fleet.push((cluster, path));
    }
    Ok(fleet)
}

async fn serve(listener: TcpListener, acceptor: TlsAcceptor, router: axum::Router) {
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
        tokio::spawn(async move {
            let Ok(tls_stream) = acceptor.accept(stream).await else {
                return; // a client that gave up or did not trust our CA
            };
            let service = hyper::service::service_fn(move |req| router.clone().oneshot(req));
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls_stream), service)
                .await;
        });
    }
}

fn random_token() -> Result<String, SandboxError> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| SandboxError::Random(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

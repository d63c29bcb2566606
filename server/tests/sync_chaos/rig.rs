//! The clusters and the engine a chaos run drives: `host` and `host2` (KubeSphere hosts with
//! the sandbox's user controller and kubefed model) both managing `member`, each kept on disk
//! so it can be stopped — a partition as the engine sees it: connections cut, the port
//! closed — and started again with its objects; and `tandem serve` with sync on, killed with
//! SIGKILL and started again.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use sandbox::{ClusterRole, KubeSphereInstall, SandboxCluster};

use crate::common;

pub const CLUSTERS: [&str; 3] = ["host", "host2", "member"];
/// The hosts, by index into [`CLUSTERS`].
pub const HOSTS: [usize; 2] = [0, 1];
pub const MEMBER: usize = 2;

pub struct Rig {
    dir: tempfile::TempDir,
    clusters: Vec<Option<SandboxCluster>>,
    clients: Vec<Option<kube::Client>>,
    urls: Vec<String>,
    engine: Option<common::Server>,
    port: u16,
}

fn install(name: &str) -> KubeSphereInstall {
    let role = if name == "member" {
        ClusterRole::Member
    } else {
        ClusterRole::Host
    };
    KubeSphereInstall {
        role,
        jwt_secret: "chaos".into(),
        admin_password: None,
    }
}

async fn start_cluster(name: &str, dir: &Path) -> SandboxCluster {
    let cluster = SandboxCluster::start_persistent(name, dir).await.unwrap();
    cluster.install_kubesphere(&install(name)).unwrap();
    cluster
}

impl Rig {
    /// The three clusters, the member joined to both hosts, and sync turned on (over hosts
    /// that hold nothing yet) — the engine itself is started with [`Rig::start_engine`].
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut clusters = Vec::new();
        for name in CLUSTERS {
            let cluster = start_cluster(name, dir.path()).await;
            cluster.write_kubeconfig(dir.path()).unwrap();
            clusters.push(cluster);
        }
        for host in HOSTS {
            clusters[host]
                .join_member(&clusters[MEMBER], "member")
                .unwrap();
        }
        std::fs::write(
            dir.path().join("tandem.yaml"),
            "probeIntervalSeconds: 1\nhosts:\n  - name: host\n    kubeconfig: host.kubeconfig\n  - name: host2\n    kubeconfig: host2.kubeconfig\n",
        )
        .unwrap();
        let (out, applied) = common::tandem_sync("apply --turn-on", dir.path()).await;
        assert!(out.status.success(), "{applied}");
        let mut clients = Vec::new();
        for cluster in &clusters {
            clients.push(Some(common::client(cluster).await));
        }
        Self {
            urls: clusters.iter().map(SandboxCluster::server_url).collect(),
            clusters: clusters.into_iter().map(Some).collect(),
            clients,
            dir,
            engine: None,
            port: common::free_port(),
        }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The client of cluster `i`, while it runs.
    pub fn client(&self, i: usize) -> Option<kube::Client> {
        self.clients[i].clone()
    }

    /// Stops cluster `i`: its server and controllers end, open connections are cut.
    pub fn stop(&mut self, i: usize) {
        self.clients[i] = None;
        self.clusters[i] = None;
    }

    /// Starts cluster `i` again from its saved state, on the same port (the engine's and
    /// the other hosts' kubeconfigs name it).
    pub async fn restart(&mut self, i: usize) {
        let cluster = start_cluster(CLUSTERS[i], self.dir.path()).await;
        assert_eq!(
            cluster.server_url(),
            self.urls[i],
            "{} came back on another port",
            CLUSTERS[i]
        );
        self.clients[i] = Some(common::client(&cluster).await);
        self.clusters[i] = Some(cluster);
    }

    pub fn engine_running(&self) -> bool {
        self.engine.is_some()
    }

    /// `tandem serve` on this group, sync on; its log goes to `engine.log` in the run's
    /// directory (appended across restarts).
    pub async fn start_engine(&mut self) {
        let (config, port, log) = (self.config(), self.port, self.log_path());
        let server = tokio::task::spawn_blocking(move || {
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .unwrap();
            common::serve_as(&config, port, "chaos", Stdio::from(log))
        })
        .await
        .unwrap();
        self.engine = Some(server);
    }

    /// SIGKILL: no lease released, no write finished that was under way.
    pub fn kill_engine(&mut self) {
        self.engine = None;
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("tandem.yaml")
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("engine.log")
    }

    /// Keeps the run's directory (state, kubeconfigs, engine log) for a failing seed.
    pub fn keep(self) -> PathBuf {
        self.dir.keep()
    }
}

//! The embedded demo fleet: sandbox clusters on loopback that the console manages when no real
//! cluster is at hand (`tandem serve --demo`, `make run`, the browser tests).

use std::path::{Path, PathBuf};

use sandbox::{ClusterRole, KubeSphereInstall, SandboxCluster};

/// The demo's host clusters; `member` is started too but is not a host.
const DEMO_HOSTS: [&str; 2] = ["host", "host2"];

pub fn default_data_dir() -> PathBuf {
    std::env::temp_dir().join(format!("tandem-demo-{}", std::process::id()))
}

/// Starts the demo clusters with KubeSphere 3.4 on each (`host` and `host2` as hosts, `member`
/// as a member joined to both, one jwtSecret for all), writes their kubeconfigs and a `tandem.yaml` naming
/// the hosts into `dir`, and returns the running clusters (dropping them stops them) and the
/// config's path. The admin password is kept in `dir` and printed, so it stays the same
/// across restarts of the same directory.
pub async fn start_demo_fleet(dir: &Path) -> Result<(Vec<SandboxCluster>, PathBuf), String> {
    let started = sandbox::start_fleet(&sandbox::DEFAULT_CLUSTERS, dir)
        .await
        .map_err(|e| format!("cannot start the demo fleet in {}: {e}", dir.display()))?;
    let jwt_secret = demo_secret(&dir.join("jwt-secret"), |r| r)?;
    // KubeSphere's password rules: a lowercase letter, an uppercase letter and a digit.
    let admin_password = demo_secret(&dir.join("admin-password"), |r| {
        format!("Tandem-{}-9", &r[..12])
    })?;
    for (cluster, _) in &started {
        let role = if DEMO_HOSTS.contains(&cluster.name()) {
            ClusterRole::Host
        } else {
            ClusterRole::Member
        };
        let install = KubeSphereInstall {
            role,
            jwt_secret: jwt_secret.clone(),
            admin_password: Some(admin_password.clone()),
        };
        cluster.install_kubesphere(&install).map_err(|e| {
            format!(
                "cannot install KubeSphere on demo cluster {}: {e}",
                cluster.name()
            )
        })?;
    }
    // Both hosts manage the member under the same name, as in the seed's experiments.
    if let Some((member, _)) = started.iter().find(|(c, _)| c.name() == "member") {
        for (host, _) in started
            .iter()
            .filter(|(c, _)| DEMO_HOSTS.contains(&c.name()))
        {
            host.join_member(member, "member")
                .map_err(|e| format!("cannot join the demo member to {}: {e}", host.name()))?;
        }
    }
    let mut config = String::from(
        "# Written by `tandem serve --demo`: the demo fleet's host clusters.\nhosts:\n",
    );
    for name in DEMO_HOSTS {
        config.push_str(&format!(
            "  - name: {name}\n    kubeconfig: {name}.kubeconfig\n"
        ));
    }
    let path = dir.join("tandem.yaml");
    std::fs::write(&path, config).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    for (cluster, kubeconfig) in &started {
        eprintln!(
            "demo cluster {:<7} {}  kubeconfig {}",
            cluster.name(),
            cluster.server_url(),
            kubeconfig.display()
        );
    }
    eprintln!(
        "demo KubeSphere {} admin login: user admin, password {admin_password}",
        sandbox::KUBESPHERE_VERSION
    );
    Ok((started.into_iter().map(|(c, _)| c).collect(), path))
}

/// A secret kept in `path` (owner-only), made from 32 random hex digits on first use.
fn demo_secret(path: &Path, shape: impl FnOnce(String) -> String) -> Result<String, String> {
    if let Ok(existing) = std::fs::read_to_string(path)
        && !existing.trim().is_empty()
    {
        return Ok(existing.trim().to_string());
    }
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| format!("no random source: {e}"))?;
    let secret = shape(bytes.iter().map(|b| format!("{b:02x}")).collect());
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(
        &mut options
            .open(path)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?,
        secret.as_bytes(),
    )
    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(secret)
}

/// `tandem sandbox`: start the named clusters and keep them up until Ctrl-C.
pub async fn sandbox_command(dir: &Path, names: &[String]) -> Result<(), String> {
    for name in names {
        if let Some(problem) = fleet::config::dns1123_label_problem(name) {
            return Err(format!(
                "--clusters: `{name}` {problem}; use lowercase letters, digits and '-'"
            ));
        }
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let started = sandbox::start_fleet(&names, dir).await.map_err(|e| {
        format!(
            "cannot start the sandbox clusters in {}: {e}",
            dir.display()
        )
    })?;
    for (cluster, kubeconfig) in &started {
        println!(
            "{:<10} {}  KUBECONFIG={}",
            cluster.name(),
            cluster.server_url(),
            kubeconfig.display()
        );
    }
    println!("sandbox clusters running; press Ctrl-C to stop");
    shutdown_signal().await;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM (what `kill` and container runtimes send).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

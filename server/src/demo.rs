//! The embedded demo fleet: sandbox clusters on loopback that the console manages when no real
//! cluster is at hand (`tandem serve --demo`, `make run`, the browser tests).

use std::path::{Path, PathBuf};

use sandbox::SandboxCluster;

/// The demo's host clusters; `member` is started too but is not a host.
const DEMO_HOSTS: [&str; 2] = ["host", "host2"];

pub fn default_data_dir() -> PathBuf {
    std::env::temp_dir().join(format!("tandem-demo-{}", std::process::id()))
}

/// Starts the demo clusters, writes their kubeconfigs and a `tandem.yaml` naming the hosts into
/// `dir`, and returns the running clusters (dropping them stops them) and the config's path.
pub async fn start_demo_fleet(dir: &Path) -> Result<(Vec<SandboxCluster>, PathBuf), String> {
    let started = sandbox::start_fleet(&sandbox::DEFAULT_CLUSTERS, dir)
        .await
        .map_err(|e| format!("cannot start the demo fleet in {}: {e}", dir.display()))?;
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
    Ok((started.into_iter().map(|(c, _)| c).collect(), path))
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

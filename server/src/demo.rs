//! The embedded demo fleet: sandbox clusters on loopback that the console manages when no real
//! cluster is at hand (`tandem serve --demo`, `make run`, the browser tests).

use std::path::{Path, PathBuf};

use sandbox::SandboxCluster;
use sandbox::demo::Scenario;

pub fn default_data_dir() -> PathBuf {
    std::env::temp_dir().join(format!("tandem-demo-{}", std::process::id()))
}

/// Starts the demo fleet (see `sandbox::demo`) in `dir`, writes a `tandem.yaml` naming its
/// hosts there, prints where everything is and the admin password, and returns the running
/// clusters (dropping them stops them) and the config's path.
pub async fn start_demo_fleet(
    dir: &Path,
    scenario: Scenario,
) -> Result<(Vec<SandboxCluster>, PathBuf), String> {
    let fleet = sandbox::demo::start_demo_fleet(dir, scenario)
        .await
        .map_err(|e| format!("cannot start the demo fleet in {}: {e}", dir.display()))?;
    let mut config = String::from(
        "# Written by `tandem serve --demo`: the demo fleet's host clusters.\nhosts:\n",
    );
    for name in sandbox::demo::DEMO_HOSTS {
        config.push_str(&format!(
            "  - name: {name}\n    kubeconfig: {name}.kubeconfig\n"
        ));
    }
    let path = dir.join("tandem.yaml");
    std::fs::write(&path, config).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    print_fleet(&fleet.clusters);
    eprintln!(
        "demo KubeSphere {} admin login: user admin, password {}",
        sandbox::KUBESPHERE_VERSION,
        fleet.admin_password
    );
    eprintln!(
        "clusters to try the add-cluster wizard on (Clusters → Add cluster, kubeconfigs above): spare passes every check; stranger has another jwtSecret"
    );
    if scenario == Scenario::Conflicts {
        eprintln!(
            "scenario conflicts: user xxp differs between host and host2 and flips on member; user xxr has another platform role on each host and host2's binding fails to sync; user zzp was deleted on host and is stuck deleting"
        );
    }
    Ok((fleet.clusters.into_iter().map(|(c, _)| c).collect(), path))
}

fn print_fleet(clusters: &[(SandboxCluster, PathBuf)]) {
    for (cluster, kubeconfig) in clusters {
        eprintln!(
            "demo cluster {:<7} {}  kubeconfig {}",
            cluster.name(),
            cluster.server_url(),
            kubeconfig.display()
        );
    }
}

/// `tandem sandbox`: the demo fleet (KubeSphere on `host`, `host2`, `member`), or plain
/// clusters with the given names; kept up until Ctrl-C.
pub async fn sandbox_command(
    dir: &Path,
    names: Option<&[String]>,
    scenario: Scenario,
) -> Result<(), String> {
    let _running: Vec<SandboxCluster> = match names {
        None => start_demo_fleet(dir, scenario).await?.0,
        Some(names) => {
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
            print_fleet(&started);
            started.into_iter().map(|(c, _)| c).collect()
        }
    };
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

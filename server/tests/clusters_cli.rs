//! `tandem clusters check | join | remove` against sandbox clusters, as a pipeline would run
//! them: exit codes, the step lines, and the JSON documents.

use std::path::Path;
use std::process::Output;

use sandbox::{ClusterRole, KubeSphereInstall, SandboxCluster};
use serde_json::Value;

async fn kubesphere(name: &str, role: ClusterRole, secret: &str) -> SandboxCluster {
    let cluster = SandboxCluster::start(name).await.unwrap();
    cluster
        .install_kubesphere(&KubeSphereInstall {
            role,
            jwt_secret: secret.into(),
            admin_password: None,
        })
        .unwrap();
    cluster
}

/// Runs `tandem clusters ...` off the async runtime (the sandbox clusters live on it).
async fn tandem(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_tandem"))
            .arg("clusters")
            .args(args)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn args(list: &[&str], dir: &Path) -> Vec<String> {
    let config = dir.join("tandem.yaml").display().to_string();
    let mut out: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    out.splice(1..1, ["--config".to_string(), config]);
    out
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_join_and_remove_from_the_command_line() {
    let host = kubesphere("host", ClusterRole::Host, "shared").await;
    let member = kubesphere("member", ClusterRole::Member, "shared").await;
    let stranger = kubesphere("stranger", ClusterRole::Member, "other").await;
    let dir = tempfile::tempdir().unwrap();
    host.write_kubeconfig(dir.path()).unwrap();
    let member_file = member
        .write_kubeconfig(dir.path())
        .unwrap()
        .display()
        .to_string();
    let stranger_file = stranger
        .write_kubeconfig(dir.path())
        .unwrap()
        .display()
        .to_string();
    std::fs::write(
        dir.path().join("tandem.yaml"),
        "hosts:\n  - name: host\n    kubeconfig: host.kubeconfig\n",
    )
    .unwrap();

    // A failing step: exit code 1, the step and its fix on stdout.
    let out = tandem(args(
        &["check", "--host", "host", "--kubeconfig", &stranger_file],
        dir.path(),
    ))
    .await;
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("[FAIL] jwtSecret"), "{text}");
    assert!(text.contains("fix: copy the host's secret"), "{text}");

    let out = tandem(args(
        &[
            "check",
            "--host",
            "host",
            "--kubeconfig",
            &member_file,
            "--json",
        ],
        dir.path(),
    ))
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    assert_eq!(report["passed"], true);
    assert_eq!(
        report["cluster"], "member",
        "the name defaults to the kubeconfig's cluster"
    );
    assert_eq!(report["steps"].as_array().unwrap().len(), 9);

    let out = tandem(args(
        &[
            "join",
            "--host",
            "host",
            "--kubeconfig",
            &member_file,
            "--name",
            "eu-1",
            "--group",
            "testing",
            "--json",
        ],
        dir.path(),
    ))
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let joined = json(&out);
    assert_eq!(joined["joined"], true);
    assert!(
        joined["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["object"] == "Cluster eu-1" && a["result"] == "created")
    );

    let out = tandem(args(
        &["remove", "--host", "host", "--name", "eu-1"],
        dir.path(),
    ))
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("`eu-1` removed from `host`."));

    let out = tandem(args(
        &["remove", "--host", "host", "--name", "eu-1"],
        dir.path(),
    ))
    .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no cluster named `eu-1`"));

    let out = tandem(args(
        &["check", "--host", "nope", "--kubeconfig", &member_file],
        dir.path(),
    ))
    .await;
    assert!(String::from_utf8_lossy(&out.stderr).contains("the hosts are: host"));
}

/// Without RUST_LOG the command prints only its own lines: a member that does not answer and
/// one the address policy refuses are told as steps, with no library log lines in between.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answer_holds_only_the_commands_own_lines() {
    let host = kubesphere("host", ClusterRole::Host, "shared").await;
    let member = kubesphere("member", ClusterRole::Member, "shared").await;
    let dir = tempfile::tempdir().unwrap();
    host.write_kubeconfig(dir.path()).unwrap();
    std::fs::write(
        dir.path().join("tandem.yaml"),
        "hosts:\n  - name: host\n    kubeconfig: host.kubeconfig\n",
    )
    .unwrap();
    let yaml = member.kubeconfig_yaml();
    let server = yaml
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: "))
        .unwrap()
        .to_string();
    // A loopback port nothing listens on, and the cloud metadata address.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    for (file, target, says) in [
        (
            "down.kubeconfig",
            format!("https://127.0.0.1:{closed_port}"),
            "[FAIL] Connection",
        ),
        (
            "metadata.kubeconfig",
            "https://169.254.169.254".to_string(),
            "169.254.169.254 is a cloud metadata service",
        ),
    ] {
        let path = dir.path().join(file);
        std::fs::write(&path, yaml.replace(&server, &target)).unwrap();
        let list = [
            "check",
            "--host",
            "host",
            "--kubeconfig",
            path.to_str().unwrap(),
        ];
        let out = tokio::task::spawn_blocking({
            let args = args(&list, dir.path());
            move || {
                std::process::Command::new(env!("CARGO_BIN_EXE_tandem"))
                    .arg("clusters")
                    .args(args)
                    .env_remove("RUST_LOG")
                    .output()
                    .unwrap()
            }
        })
        .await
        .unwrap();
        assert!(!out.status.success());
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains(says), "{stdout}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        for level in [" ERROR ", " WARN ", " INFO ", " DEBUG "] {
            assert!(
                !stdout.contains(level) && !stderr.contains(level),
                "a log line in the answer: {stdout}{stderr}"
            );
        }
    }
}

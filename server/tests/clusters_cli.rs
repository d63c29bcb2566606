//! `tandem clusters check | join | remove` against sandbox clusters, as a pipeline would run
//! them: exit codes, the step lines, and the JSON documents.

use std::path::Path;
use std::process::Output;

use sandbox::{ClusterRole, KubeSphereInstall, SandboxCluster, ServingCertificate};
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

/// A `tandem clusters check` run without RUST_LOG, as a person runs it: no library logs.
async fn tandem_without_log_filter(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_tandem"))
            .arg("clusters")
            .args(args)
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// Writes the configuration file and the member's kubeconfig; `check`'s arguments for them.
fn check_with(dir: &Path, config: &str, kubeconfig: &str) -> Vec<String> {
    std::fs::write(dir.join("tandem.yaml"), config).unwrap();
    let path = dir.join("member.kubeconfig");
    std::fs::write(&path, kubeconfig).unwrap();
    let list = [
        "check",
        "--host",
        "host",
        "--kubeconfig",
        path.to_str().unwrap(),
    ];
    args(&list, dir)
}

/// Whether something connected to `listener` (non-blocking) since the last call.
fn connected(listener: &std::net::TcpListener) -> bool {
    match listener.accept() {
        Ok(_) => true,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => false,
        Err(e) => panic!("the listener failed: {e}"),
    }
}

/// One member address the CLI is given: the configuration file's extra lines, the
/// kubeconfig's `server:`, and what the answer must say.
struct Case {
    config: String,
    server: String,
    says: Vec<String>,
}

/// Without RUST_LOG the command prints only its own lines: a member that does not answer, and
/// each address the member address policy refuses (a metadata address or host name, the
/// console's own port, a name resolving into a denied network), are told as steps in the
/// console's own sentences with the fix, with no library log lines in between. The refused
/// loopback addresses are a listener of the test's that sees no connection at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answer_holds_only_the_commands_own_lines() {
    let host = kubesphere("host", ClusterRole::Host, "shared").await;
    let member = kubesphere("member", ClusterRole::Member, "shared").await;
    let dir = tempfile::tempdir().unwrap();
    host.write_kubeconfig(dir.path()).unwrap();
    let hosts = "hosts:\n  - name: host\n    kubeconfig: host.kubeconfig\n";
    let yaml = member.kubeconfig_yaml();
    let server = yaml
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: "))
        .unwrap()
        .to_string();
    // A loopback listener that must see no connection while the policy refuses its address.
    let watcher = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    watcher.set_nonblocking(true).unwrap();
    let port = watcher.local_addr().unwrap().port();
    // A loopback port nothing listens on (bound after the watcher, so not the watcher's).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    // The refusal names the first address `localhost` resolves to (from the hosts file).
    let resolved = std::net::ToSocketAddrs::to_socket_addrs(&("localhost", port))
        .unwrap()
        .next()
        .unwrap()
        .ip();
    let denied = if resolved.is_ipv4() {
        "127.0.0.0/8"
    } else {
        "::1/128"
    };
    // The console's own words (app's locales/en.json), as the wizard shows them in English.
    let never = "fix: Use the address of the member's kube-apiserver (its load balancer or a control-plane node). No setting makes the console connect here.";
    let cases = [
        Case {
            config: String::new(),
            server: format!("https://127.0.0.1:{closed_port}"),
            says: vec!["[FAIL] Connection".into(), "fix: the machine at".into()],
        },
        Case {
            config: String::new(),
            server: "https://169.254.169.254".into(),
            says: vec![
                "[FAIL] Kubeconfig".into(),
                "169.254.169.254 is a cloud metadata service, which hands out the console machine's own credentials".into(),
                never.into(),
            ],
        },
        Case {
            config: String::new(),
            server: "https://metadata.google.internal/computeMetadata/v1/".into(),
            says: vec![
                "[FAIL] Kubeconfig".into(),
                "metadata.google.internal is a cloud metadata service".into(),
                never.into(),
            ],
        },
        Case {
            config: format!("listen: 127.0.0.1:{port}\n"),
            server: format!("https://127.0.0.1:{port}"),
            says: vec![
                "[FAIL] Kubeconfig".into(),
                format!("127.0.0.1:{port} is this console's own address"),
                never.into(),
            ],
        },
        Case {
            // Both loopback blocks, so that whatever `localhost` resolves to is refused.
            config: "memberAddresses:\n  deny: [\"127.0.0.0/8\", \"::1/128\"]\n".into(),
            server: format!("https://localhost:{port}"),
            says: vec![
                "[ok  ] Kubeconfig".into(),
                "[FAIL] Connection".into(),
                format!("{resolved} is in a member network the operator closed ({denied})"),
                "fix: The operator closed this network to members with memberAddresses.deny".into(),
            ],
        },
    ];
    for case in cases {
        let config = format!("{}{hosts}", case.config);
        let kubeconfig = yaml.replace(&server, &case.server);
        let out = tandem_without_log_filter(check_with(dir.path(), &config, &kubeconfig)).await;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{}: {stdout}", case.server);
        for says in &case.says {
            assert!(
                stdout.contains(says.as_str()),
                "{}: no {says:?} in {stdout}",
                case.server
            );
        }
        for level in [" ERROR ", " WARN ", " INFO ", " DEBUG "] {
            assert!(
                !stdout.contains(level) && !stderr.contains(level),
                "a log line in the answer: {stdout}{stderr}"
            );
        }
        assert!(!connected(&watcher), "{} was connected to", case.server);
    }

    // The control: allowed, the same address is connected to (the listener then hangs up).
    let kubeconfig = yaml.replace(&server, &format!("https://127.0.0.1:{port}"));
    let run = tokio::spawn(tandem_without_log_filter(check_with(
        dir.path(),
        hosts,
        &kubeconfig,
    )));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !connected(&watcher) {
        assert!(
            std::time::Instant::now() < deadline,
            "the listener saw no connection"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(!run.await.unwrap().status.success());
}

/// `yaml` with `line` added after the first line that starts (indentation aside) with `key`.
fn with_line(yaml: &str, key: &str, line: &str) -> String {
    let at = yaml.find(&format!(" {key}")).unwrap();
    let end = at + yaml[at..].find('\n').unwrap() + 1;
    format!("{}{line}\n{}", &yaml[..end], &yaml[end..])
}

/// What a kubeconfig asks for that the console does not do is told at the kubeconfig step,
/// with the fix: a `tls-server-name` (the certificate is checked against the address, as
/// kubefed checks it: a certificate naming only the other name fails the connection step), an
/// unknown field, and a token no HTTP header can carry (a crash before).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubeconfig_fields_the_console_does_not_use_are_explained() {
    let host = kubesphere("host", ClusterRole::Host, "shared").await;
    let member = kubesphere("member", ClusterRole::Member, "shared").await;
    let wrong = SandboxCluster::start_with_certificate("wrong", ServingCertificate::WrongHost)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    host.write_kubeconfig(dir.path()).unwrap();
    let hosts = "hosts:\n  - name: host\n    kubeconfig: host.kubeconfig\n";
    let yaml = member.kubeconfig_yaml();
    let token = yaml
        .lines()
        .find_map(|l| l.trim().strip_prefix("token: "))
        .unwrap()
        .to_string();
    let other_name = with_line(&yaml, "server:", "    tls-server-name: other.example");
    let cases = [
        (
            with_line(&other_name, "token:", "    foo: bar"),
            true,
            vec![
                "[warn] Kubeconfig",
                "`tls-server-name` is not used",
                "`foo` is not a kubeconfig field; it is ignored",
                "fix: remove `tls-server-name`",
                "[ok  ] Connection",
            ],
        ),
        (
            with_line(
                &wrong.kubeconfig_yaml(),
                "server:",
                "    tls-server-name: wrong-host.example",
            ),
            false,
            vec![
                "`tls-server-name` is not used",
                "[FAIL] Connection",
                "the server's certificate is not valid for the address in the kubeconfig",
                "fix: the API server's certificate does not name https://127.0.0.1:",
            ],
        ),
        (
            yaml.replace(
                &format!("token: {token}"),
                &format!("token: \"{token}\\n\""),
            ),
            false,
            vec![
                "[FAIL] Kubeconfig",
                "`token` holds a line break or another character an HTTP header cannot carry",
                "fix: write the value on one line",
            ],
        ),
    ];
    for (kubeconfig, passes, says) in cases {
        let out = tandem_without_log_filter(check_with(dir.path(), hosts, &kubeconfig)).await;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.success(), passes, "{stdout}{stderr}");
        for said in says {
            assert!(stdout.contains(said), "no {said:?} in {stdout}");
        }
        assert!(
            !stdout.contains(&token) && !stderr.contains(&token),
            "the token was shown"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

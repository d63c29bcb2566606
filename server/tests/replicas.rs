//! Two `tandem serve` processes on one fleet, as two pods of the Deployment in deploy/: a
//! join started through one is followed to its end through the other; SIGTERM lets a long
//! request finish, exits 0 and hands the background work over at once; `kill -9` of the
//! leader hands it over within 15 s and leaves no job "running"; the cluster history is
//! written once whoever leads.

mod common;

use std::fs::File;
use std::net::TcpListener;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{Server, client, form_value, free_port, log_in, request, serve_with};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use sandbox::{ClusterRole, SandboxCluster};

const SECRET: &str = "replicas-server-test-secret";
const ADMIN_PASSWORD: &str = "Admin-Pass-1";

async fn kubesphere(name: &str, role: ClusterRole) -> SandboxCluster {
    common::kubesphere(name, role, SECRET, ADMIN_PASSWORD).await
}

/// The replica holding the Lease, by the pod name its identity starts with.
async fn lease_holder(lease: &Api<Lease>) -> Option<String> {
    let spec = lease.get_opt("tandem-leader").await.ok()??.spec?;
    spec.holder_identity
}

async fn wait_for_holder(lease: &Api<Lease>, pod: &str, within: Duration) -> Duration {
    let start = Instant::now();
    while start.elapsed() < within {
        if lease_holder(lease)
            .await
            .is_some_and(|h| h.starts_with(&format!("{pod}-")))
        {
            return start.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{pod} did not lead within {within:?} (holder: {:?})",
        lease_holder(lease).await
    );
}

/// A job's state as a wizard sees it through `port`: "Running", "Joined", "Failed: …".
fn job_state(port: u16, cookie: &str, id: &str) -> String {
    let answer = request(
        port,
        "POST",
        "/api/cluster_job",
        cookie,
        &format!("id={id}"),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    let view: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    match &view["state"] {
        serde_json::Value::String(s) => s.clone(),
        other => other
            .as_object()
            .and_then(|o| o.iter().next())
            .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or_default()))
            .unwrap_or_default(),
    }
}

fn start_job(port: u16, cookie: &str, mode: &str, name: &str, kubeconfig: &str) -> String {
    let answer = request(
        port,
        "POST",
        "/api/start_cluster_job",
        cookie,
        &format!(
            "mode={mode}&name={name}&group=&provider=&description=&connection=direct&kubeconfig={}&context=",
            form_value(kubeconfig)
        ),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    serde_json::from_str(&answer.body).unwrap()
}

/// A member "API server" that accepts connections and never answers: every call to it
/// waits for the console's timeout.
fn silent_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}

/// The member's history lines on the host, one JSON object each.
async fn history(host: &kube::Client) -> Vec<serde_json::Value> {
    let maps: Api<ConfigMap> = Api::namespaced(host.clone(), "kubesphere-system");
    let text = maps
        .get_opt("tandem-cluster-history")
        .await
        .unwrap()
        .and_then(|m| m.data)
        .and_then(|mut d| d.remove("member"))
        .unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn assert_no_change_twice(lines: &[serde_json::Value]) {
    for pair in lines.windows(2) {
        assert!(
            pair[0]["state"] != pair[1]["state"] || pair[0]["reason"] != pair[1]["reason"],
            "a change was written twice: {lines:?}"
        );
    }
}

/// `tandem serve` as pod `name`, its log in `dir`, its metrics on `metrics`.
fn replica(
    config: &std::path::Path,
    dir: &std::path::Path,
    port: u16,
    metrics: u16,
    name: &str,
) -> Server {
    let log = Stdio::from(File::create(dir.join(format!("{name}.log"))).unwrap());
    let at = format!("127.0.0.1:{metrics}");
    serve_with(config, port, name, log, &["--metrics-listen", &at])
}

/// Whether the replica with metrics on `port` watches the federated objects itself.
fn watching(port: u16) -> bool {
    let answer = request(port, "GET", "/metrics", "", "");
    answer
        .body
        .lines()
        .any(|l| l == "tandem_federation_watching 1")
}

/// Every federated object's kind, name and state, as a page through `port` lists them.
fn federated(port: u16, cookie: &str) -> Vec<(String, String, String)> {
    let answer = request(
        port,
        "POST",
        "/api/list_federated",
        cookie,
        "state=&kind=&search=&page=0",
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    let view: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    view["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap_or_default().to_string(),
                r["name"].as_str().unwrap_or_default().to_string(),
                r["state"].to_string(),
            )
        })
        .collect()
}

fn sigterm(child: &Child) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_share_jobs_and_hand_the_background_work_over() {
    let host = kubesphere("host", ClusterRole::Host).await;
    let member = kubesphere("member", ClusterRole::Member).await;
    host.run_cluster_controller(Duration::from_secs(1));
    let host_client = client(&host).await;
    let lease: Api<Lease> = Api::namespaced(host_client.clone(), "kubesphere-system");
    let (dir, config) = common::one_host_config(&host);
    let (port_a, port_b) = (free_port(), free_port());
    let (metrics_a, metrics_b) = (free_port(), free_port());
    let mut a: Option<Server> = Some(replica(&config, dir.path(), port_a, metrics_a, "replica-a"));
    wait_for_holder(&lease, "replica-a", Duration::from_secs(10)).await;
    let b = replica(&config, dir.path(), port_b, metrics_b, "replica-b");
    let cookie = log_in(port_b, "admin", ADMIN_PASSWORD);
    // The leader watches the federated objects (the admin user's, here); B lists what A
    // publishes without watching anything itself.
    let mut listed = Vec::new();
    for _ in 0..100 {
        listed = federated(port_a, &cookie);
        if !listed.is_empty() && federated(port_b, &cookie) == listed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        !listed.is_empty(),
        "the leader lists the admin's FederatedUser"
    );
    assert_eq!(federated(port_b, &cookie), listed, "B lists what A sees");
    // B watches by itself only until it has read A's first publication.
    for _ in 0..50 {
        if !watching(metrics_b) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        watching(metrics_a) && !watching(metrics_b),
        "only the leader watches"
    );

    // A join started through A (the leader) is followed to its end through B.
    let id = start_job(port_a, &cookie, "join", "member", &member.kubeconfig_yaml());
    let mut seen_on_b = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let end = loop {
        let state = job_state(port_b, &cookie, &id);
        if seen_on_b.last() != Some(&state) {
            seen_on_b.push(state.clone());
        }
        if state != "Running" || Instant::now() > deadline {
            break state;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(end, "Joined", "as B saw it: {seen_on_b:?}");
    // Only the leader keeps the member's history on the host.
    let ready = async || {
        let lines = history(&host_client).await;
        lines
            .last()
            .is_some_and(|l| l["state"] == "ready")
            .then_some(lines)
    };
    let mut kept = None;
    for _ in 0..150 {
        if let Some(lines) = ready().await {
            kept = Some(lines);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let kept = kept.expect("the member's history says ready");
    assert_no_change_twice(&kept);

    // SIGTERM to the leader during a long request (a kubeconfig update whose new server
    // never answers): the request completes, the Lease is free at once, A exits 0.
    let silent = silent_server();
    let hanging = member
        .kubeconfig_yaml()
        .replace(&member.server_url(), &format!("https://127.0.0.1:{silent}"));
    let long_request = {
        let (cookie, hanging) = (cookie.clone(), hanging.clone());
        std::thread::spawn(move || {
            let started = Instant::now();
            let answer = request(
                port_a,
                "POST",
                "/api/update_cluster_kubeconfig",
                &cookie,
                &format!("name=member&kubeconfig={}&context=", form_value(&hanging)),
            );
            (answer, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mut a_child = a.take().unwrap();
    sigterm(&a_child.0);
    let signalled = Instant::now();
    let b_leads_after = wait_for_holder(&lease, "replica-b", Duration::from_secs(5)).await;
    assert!(
        b_leads_after <= Duration::from_secs(2),
        "B led {b_leads_after:?} after the SIGTERM"
    );
    let (answer, took) = long_request.join().unwrap();
    assert!(
        answer.status == 200 || answer.status == 422,
        "the long request was answered, not cut: {} {}",
        answer.status,
        answer.body
    );
    assert!(
        took >= Duration::from_secs(3),
        "the request was long ({took:?})"
    );
    let exit = loop {
        if let Some(status) = a_child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(25),
            "A still runs 25 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(exit.success(), "A exited with {exit:?}");
    drop(a_child);

    // C joins as a follower; B, the leader, starts a check that C follows; B is killed
    // with -9 mid-check. C leads within 15 s and shows the check failed, never running.
    let (port_c, metrics_c) = (free_port(), free_port());
    let mut c = replica(&config, dir.path(), port_c, metrics_c, "replica-c");
    for _ in 0..50 {
        if !watching(metrics_c) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!watching(metrics_c), "C follows B's publication");
    let id = start_job(port_b, &cookie, "check", "slow", &hanging);
    let mut b = b;
    for _ in 0..50 {
        if job_state(port_c, &cookie, &id) == "Running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(job_state(port_c, &cookie, &id), "Running");
    b.0.kill().unwrap();
    let killed = Instant::now();
    let c_leads_after = wait_for_holder(&lease, "replica-c", Duration::from_secs(16)).await;
    assert!(
        c_leads_after <= Duration::from_secs(15),
        "{c_leads_after:?}"
    );
    for _ in 0..20 {
        if watching(metrics_c) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        watching(metrics_c),
        "the new leader watches the federated objects"
    );
    let end = loop {
        let state = job_state(port_c, &cookie, &id);
        if state != "Running" {
            break state;
        }
        assert!(
            killed.elapsed() < Duration::from_secs(20),
            "the killed replica's job still shows running"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        end.starts_with("Failed: the console replica running this job stopped"),
        "{end}"
    );
    // Three leaders kept the history; every change is in it once.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = history(&host_client).await;
    assert_no_change_twice(&after);
    assert_eq!(after, kept, "no change happened, so none was written");

    // An idle leader told to stop gives the Lease up before it exits (0), at once.
    sigterm(&c.0);
    let signalled = Instant::now();
    let exit = loop {
        if let Some(status) = c.0.try_wait().unwrap() {
            break status;
        }
        assert!(signalled.elapsed() < Duration::from_secs(5), "C still runs");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "C exited with {exit:?}");
    assert_eq!(lease_holder(&lease).await, None, "the Lease was given up");
}

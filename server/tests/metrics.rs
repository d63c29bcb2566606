//! Prometheus reads what happened: `/metrics` (on its own port) after a failed login, a good
//! one and a join, with the fleet's hosts and members as labelled series; and a log collector
//! reads JSON lines (`--log-format json`).

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{form_value, free_port, log_in, request, serve_with};
use sandbox::ClusterRole;

const SECRET: &str = "metrics-test-secret";
const ADMIN_PASSWORD: &str = "Admin-Pass-1";

/// The value of the series `name{labels}` exactly, or 0 when it is not there yet.
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

fn scrape(port: u16) -> String {
    let answer = request(port, "GET", "/metrics", "", "");
    assert_eq!(answer.status, 200);
    answer.body
}

#[tokio::test(flavor = "multi_thread")]
async fn counters_move_with_logins_and_joins() {
    let host = common::kubesphere("host", ClusterRole::Host, SECRET, ADMIN_PASSWORD).await;
    let member = common::kubesphere("member", ClusterRole::Member, SECRET, ADMIN_PASSWORD).await;
    host.run_cluster_controller(Duration::from_secs(1));
    let (dir, config) = common::one_host_config(&host);
    let (port, metrics) = (free_port(), free_port());
    let metrics_at = format!("127.0.0.1:{metrics}");
    let log = dir.path().join("tandem.log");
    let server = serve_with(
        &config,
        port,
        "tandem",
        Stdio::from(std::fs::File::create(&log).unwrap()),
        &["--metrics-listen", &metrics_at, "--log-format", "json"],
    );
    assert_eq!(
        request(port, "GET", "/metrics", "", "").status,
        404,
        "the pages' port does not serve metrics"
    );
    let before = scrape(metrics);
    assert!(before.contains("# TYPE tandem_logins counter"), "{before}");
    assert_eq!(
        value(&before, "tandem_host_up{host=\"host\"}"),
        1.0,
        "{before}"
    );
    assert_eq!(
        value(&before, "tandem_leader"),
        1.0,
        "the one replica leads"
    );

    let refused = request(
        port,
        "POST",
        "/api/login",
        "",
        "host=host&username=admin&password=wrong-password",
    );
    assert_ne!(refused.status, 200);
    let cookie = log_in(port, "admin", ADMIN_PASSWORD);
    let answer = request(
        port,
        "POST",
        "/api/start_cluster_job",
        &cookie,
        &format!(
            "mode=join&name=member&group=&provider=&description=&connection=direct&kubeconfig={}&context=",
            form_value(&member.kubeconfig_yaml())
        ),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);

    let joined = "tandem_jobs_total{kind=\"cluster-join\",outcome=\"joined\"}";
    let mut after = String::new();
    for _ in 0..300 {
        after = scrape(metrics);
        if value(&after, joined) >= 1.0
            && value(
                &after,
                "tandem_member_ready{host=\"host\",cluster=\"member\"}",
            ) == 1.0
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(value(&after, joined), 1.0, "{after}");
    assert_eq!(
        value(&after, "tandem_logins_total{outcome=\"failure\"}"),
        1.0,
        "{after}"
    );
    assert_eq!(
        value(&after, "tandem_logins_total{outcome=\"success\"}"),
        1.0,
        "{after}"
    );
    assert_eq!(
        value(
            &after,
            "tandem_member_ready{host=\"host\",cluster=\"member\"}"
        ),
        1.0,
        "{after}"
    );
    assert_eq!(
        value(&after, "tandem_member_up{host=\"host\",cluster=\"member\"}"),
        1.0,
        "{after}"
    );
    assert!(
        value(
            &after,
            "tandem_http_request_duration_seconds_count{route=\"/api/start_cluster_job\",method=\"POST\"}"
        ) >= 1.0,
        "{after}"
    );
    // The failed login answered 401 or 422: counted as a server-function error of its kind.
    assert!(
        after.contains("tandem_server_function_errors_total{function=\"login\""),
        "{after}"
    );
    assert!(after.ends_with("# EOF\n"), "OpenMetrics text ends so");

    // The join is an Event on the host, as `kubectl get events` lists.
    let events: kube::Api<k8s_openapi::api::core::v1::Event> =
        kube::Api::namespaced(common::client(&host).await, "default");
    let joined = events
        .list(&kube::api::ListParams::default().labels("app.kubernetes.io/managed-by=tandem"))
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|e| e.reason.as_deref() == Some("ClusterJoined"))
        .expect("a ClusterJoined Event");
    assert_eq!(
        joined.message.as_deref(),
        Some("admin joined cluster member")
    );
    assert_eq!(joined.involved_object.kind.as_deref(), Some("Cluster"));
    assert_eq!(joined.type_.as_deref(), Some("Normal"));

    // Every line on stderr is one JSON object with a time, a level and a message.
    drop(server);
    let lines = std::fs::read_to_string(&log).unwrap();
    let mut started = false;
    for line in lines.lines() {
        let entry: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?} in {lines}"));
        for field in ["timestamp", "level", "message", "target"] {
            assert!(entry.get(field).is_some(), "no {field}: {line}");
        }
        started |= entry["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Tandem console on http://"));
    }
    assert!(started, "the start is logged: {lines}");
}

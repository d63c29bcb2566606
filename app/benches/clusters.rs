//! `cargo bench -p app --features ssr --bench clusters` (part of `make bench`): the
//! server-side render of the cluster list with 200 clusters (target from the clusters issue:
//! ≤ 50 ms median).

use std::time::Instant;

use app::dto::clusters::{ClusterListView, ClusterRowView, ConditionView};
use app::pages::clusters::cluster_table_html;

const CLUSTERS: usize = 200;
const RUNS: usize = 15;

fn row(i: usize) -> ClusterRowView {
    let ready = !i.is_multiple_of(7);
    ClusterRowView {
        name: format!("cluster-{i:03}"),
        is_host: i == 0,
        ready,
        not_ready_reason: (!ready).then(|| {
            "Cluster join federation control plane failed: Cluster is Not Ready now".into()
        }),
        provider: Some(["Amazon EKS", "Aliyun ACK", "Google Kubernetes Engine"][i % 3].into()),
        group: Some(["production", "development", "testing", "demo"][i % 4].into()),
        description: Some(format!("region {} payments", i % 9)),
        kubernetes_version: Some("v1.33.2".into()),
        kubesphere_version: Some("v3.4.1".into()),
        node_count: Some((i % 40) as i64 + 3),
        certificate_expiry: i
            .is_multiple_of(2)
            .then(|| "2027-01-01 00:00:00 +0000 UTC".into()),
        certificate_expires_soon: i.is_multiple_of(13),
        insecure: i.is_multiple_of(17),
        joined_at: Some(format!(
            "2026-{:02}-{:02}T10:00:00Z",
            i % 12 + 1,
            i % 28 + 1
        )),
        api_endpoint: Some(format!("https://10.0.{}.{}:6443", i / 250, i % 250)),
        conditions: ["Federated", "Ready", "KubeConfigCertExpiresInSevenDays"]
            .into_iter()
            .map(|kind| ConditionView {
                kind: kind.into(),
                status: "True".into(),
                healthy: kind != "KubeConfigCertExpiresInSevenDays",
                reason: None,
                message: Some("Cluster is available now".into()),
                since: Some("2026-11-01T10:00:00Z".into()),
            })
            .collect(),
        unreachable: (i % 23 == 5).then(|| "connection refused".into()),
        round_trip_ms: Some(3),
        federation: Some((true, "ClusterReady: /healthz responded with ok".into())),
        propagated: 120,
        history: vec![(
            "2026-11-26 10:00:00".into(),
            app::dto::clusters::ClusterState::Ready,
            None,
        )],
        propagation_failures: if i % 11 == 3 {
            vec![("CreationFailed".into(), 2)]
        } else {
            Vec::new()
        },
        verdicts: if i % 13 == 5 {
            vec![(app::dto::StateKey::Flapping, 1)]
        } else {
            Vec::new()
        },
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    // Effects and resources spawn onto an executor, as in the server.
    let _ = any_spawner::Executor::init_tokio();
    let list = ClusterListView {
        host: "prod".into(),
        rows: Some((0..CLUSTERS).map(row).collect()),
        may_manage: true,
    };
    // A first render warms the allocator and the translations.
    let html = cluster_table_html(list.clone());
    assert_eq!(
        html.matches("data-testid=\"cluster-row\"").count(),
        CLUSTERS,
        "every cluster is rendered"
    );
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let started = Instant::now();
        let html = cluster_table_html(list.clone());
        times.push(started.elapsed());
        assert!(html.len() > 100_000);
    }
    times.sort();
    let median = times[RUNS / 2];
    println!(
        "cluster list, {CLUSTERS} clusters: server-side render {:.1} ms median of {RUNS} ({} KB of HTML; target ≤ 50 ms)",
        median.as_secs_f64() * 1000.0,
        html.len() / 1000
    );
}

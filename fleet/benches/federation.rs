//! `cargo bench -p fleet --bench federation` (part of `make bench`): how soon the console's
//! `FederationMonitor` flags a flapping object after its third alternation (target from the
//! multi-host issue: ≤ 5 s). The sandbox's conflicts scenario makes user `xxp` flip on the
//! member; a separate watch on the member, started first, times each change, and a fresh
//! monitor per run is polled every 10 ms. The latency is from the moment that watch saw the
//! third change of writer to the moment the monitor says flapping.

use fleet::federation::KindResources;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fleet::federation::{
    FederatedKind, FederatedState, FederationMonitor, Fingerprint, ObjectKey,
    propagated_fingerprint,
};
use futures_util::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::watcher;
use sandbox::demo::{Scenario, start_demo_fleet};

const RUNS: usize = 3;

async fn client(cluster: &sandbox::SandboxCluster) -> kube::Client {
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&cluster.kubeconfig_yaml()).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap();
    kube::Client::try_from(config).unwrap()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = start_demo_fleet(dir.path(), Scenario::Conflicts)
        .await
        .unwrap();
    let by_name = |name: &str| {
        &fleet
            .clusters
            .iter()
            .find(|(c, _)| c.name() == name)
            .unwrap()
            .0
    };
    let hosts = vec![
        ("host".to_string(), client(by_name("host")).await),
        ("host2".to_string(), client(by_name("host2")).await),
    ];
    let member_users = Api::<DynamicObject>::all_with(
        client(by_name("member")).await,
        &FederatedKind::User.member(),
    );
    let xxp = ObjectKey {
        kind: FederatedKind::User,
        name: "xxp".into(),
    };
    let mut latencies = Vec::new();
    for _ in 0..RUNS {
        // The timing watch starts before the monitor, so the monitor can never have seen a
        // version this watch did not: its third alternation is never before this one's.
        let versions = Arc::new(Mutex::new(Vec::<(Instant, Fingerprint)>::new()));
        let recorder = {
            let versions = versions.clone();
            let mut changes = watcher::watcher(
                member_users.clone(),
                watcher::Config::default().fields("metadata.name=xxp"),
            )
            .boxed();
            tokio::spawn(async move {
                while let Some(event) = changes.next().await {
                    if let Ok(watcher::Event::Apply(u) | watcher::Event::InitApply(u)) = event {
                        let fingerprint =
                            propagated_fingerprint(&serde_json::to_value(&u).unwrap());
                        versions.lock().unwrap().push((Instant::now(), fingerprint));
                    }
                }
            })
        };
        tokio::time::sleep(Duration::from_millis(200)).await;
        let monitor = FederationMonitor::start(hosts.clone(), Default::default());
        // Until the monitor knows both hosts' versions it cannot tell who wrote the member's:
        // alternations count from then on.
        let ready_wait = Instant::now();
        while monitor
            .row(&xxp)
            .is_none_or(|r| r.hosts.iter().filter(|h| h.fingerprint.is_some()).count() < 2)
        {
            assert!(
                ready_wait.elapsed() < Duration::from_secs(30),
                "the monitor never read both hosts"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let ready = Instant::now();
        let third = loop {
            let seen = versions.lock().unwrap().clone();
            let baseline = seen.iter().rposition(|(at, _)| *at <= ready).unwrap_or(0);
            let mut alternations = 0;
            let mut found = None;
            for pair in seen[baseline..].windows(2) {
                if pair[0].1 != pair[1].1 {
                    alternations += 1;
                    if alternations == 3 {
                        found = Some(pair[1].0);
                        break;
                    }
                }
            }
            if let Some(at) = found {
                break at;
            }
            assert!(
                ready.elapsed() < Duration::from_secs(90),
                "xxp stopped flipping"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        while !matches!(
            monitor.row(&xxp).map(|r| r.state),
            Some(FederatedState::Flapping { .. })
        ) {
            assert!(third.elapsed() < Duration::from_secs(60), "never flagged");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        latencies.push(third.elapsed());
        recorder.abort();
    }
    latencies.sort();
    println!(
        "flapping detection after the third alternation: median {:.2} s, max {:.2} s over {RUNS} runs (target ≤ 5 s)",
        latencies[RUNS / 2].as_secs_f64(),
        latencies[RUNS - 1].as_secs_f64(),
    );
}

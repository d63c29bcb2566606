//! `cargo bench -p fleet --bench clusters` (part of `make bench`): how long the add-cluster
//! checks take on a healthy sandbox member (target from the clusters issue: ≤ 1 s) and on an
//! address that accepts connections but never answers (target: the timeout + 1 s).

use std::time::{Duration, Instant, SystemTime};

use fleet::clusters::{Candidate, CheckStep, HostLink, MEMBER_TIMEOUT, Verdict, check_cluster};
use kube::config::{KubeConfigOptions, Kubeconfig};
use sandbox::{ClusterRole, KubeSphereInstall, SandboxCluster};

const RUNS: usize = 7;

async fn kubesphere(name: &str, role: ClusterRole) -> SandboxCluster {
    let cluster = SandboxCluster::start(name).await.unwrap();
    cluster
        .install_kubesphere(&KubeSphereInstall {
            role,
            jwt_secret: "bench".into(),
            admin_password: None,
        })
        .unwrap();
    cluster
}

async fn host_link(cluster: &SandboxCluster) -> HostLink {
    let kubeconfig = Kubeconfig::from_yaml(&cluster.kubeconfig_yaml()).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap();
    HostLink::new(cluster.name(), kube::Client::try_from(config).unwrap())
}

async fn timed_check(
    host: &HostLink,
    candidate: &Candidate,
) -> (Duration, Vec<fleet::clusters::StepReport>) {
    let started = Instant::now();
    let outcome = check_cluster(host, &[], candidate, SystemTime::now(), &mut |_| {}).await;
    (started.elapsed(), outcome.steps)
}

#[tokio::main]
async fn main() {
    let host = kubesphere("host", ClusterRole::Host).await;
    let member = kubesphere("member", ClusterRole::Member).await;
    let link = host_link(&host).await;
    let healthy = Candidate {
        name: "member".into(),
        kubeconfig: member.kubeconfig_yaml(),
        ..Default::default()
    };
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let (took, steps) = timed_check(&link, &healthy).await;
        assert!(
            steps.iter().all(|s| s.verdict == Verdict::Passed),
            "{steps:?}"
        );
        times.push(took);
    }
    times.sort();
    println!(
        "add-cluster checks, healthy sandbox member: {:.0} ms median of {RUNS} (all {} steps; target ≤ 1000 ms)",
        times[RUNS / 2].as_secs_f64() * 1000.0,
        CheckStep::ALL.len()
    );

    // Accepts TCP connections and then says nothing, like a firewall that lets SYN through
    // to a dead service: only the timeout ends the wait.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let unreachable = Candidate {
        name: "member".into(),
        kubeconfig: member
            .kubeconfig_yaml()
            .replace(&member.server_url(), &format!("https://{address}")),
        ..Default::default()
    };
    let (took, steps) = timed_check(&link, &unreachable).await;
    let connection = steps
        .iter()
        .find(|s| s.step == CheckStep::Connection)
        .unwrap();
    assert_eq!(connection.verdict, Verdict::Failed, "{connection:?}");
    println!(
        "add-cluster checks, address that never answers: failed after {:.2} s ({:?}; timeout {} s, target ≤ {} s)",
        took.as_secs_f64(),
        connection.finding,
        MEMBER_TIMEOUT.as_secs(),
        MEMBER_TIMEOUT.as_secs() + 1
    );
}

//! The host monitor reports what the sandbox clusters really answer.

use fleet::clusters::history::ClusterState;
use std::time::Duration;

use fleet::{ConsoleConfig, HostClients, HostMonitor, HostState, ProbeFailure};
use sandbox::SandboxCluster;

#[tokio::test]
async fn reachable_and_refused_hosts_are_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let up = SandboxCluster::start("host").await.unwrap();
    up.write_kubeconfig(dir.path()).unwrap();
    let down = SandboxCluster::start("gone").await.unwrap();
    down.write_kubeconfig(dir.path()).unwrap();
    drop(down); // its port now refuses connections
    tokio::time::sleep(Duration::from_millis(50)).await;

    let file = dir.path().join("tandem.yaml");
    std::fs::write(
        &file,
        "probeIntervalSeconds: 1\nhosts:\n  - name: host\n    kubeconfig: host.kubeconfig\n  - name: gone\n    kubeconfig: gone.kubeconfig\n",
    )
    .unwrap();
    let config = ConsoleConfig::load(&file).unwrap();
    let mut monitor = HostMonitor::start(&config, &HostClients::connect(&config).await);
    assert!(
        monitor
            .snapshot()
            .iter()
            .all(|h| h.state == HostState::Pending)
    );
    assert!(!monitor.any_reachable());

    tokio::time::timeout(Duration::from_secs(10), monitor.changed())
        .await
        .expect("no probe results within 10 s");
    let snapshot = monitor.snapshot();
    assert_eq!(snapshot[0].name, "host");
    assert_eq!(
        snapshot[0].server.as_deref(),
        Some(up.server_url().as_str())
    );
    match &snapshot[0].state {
        HostState::Reachable {
            version, clusters, ..
        } => {
            assert_eq!(version, sandbox::GIT_VERSION);
            assert_eq!(clusters, &None, "a cluster without KubeSphere manages none");
        }
        other => panic!("host should be reachable, is {other:?}"),
    }
    assert_eq!(
        snapshot[1].state,
        HostState::Unreachable(ProbeFailure::Refused)
    );
    assert!(snapshot[0].checked_at.is_some());
    assert!(monitor.any_reachable());
}

#[tokio::test]
async fn a_kubesphere_host_lists_the_clusters_it_manages() {
    let dir = tempfile::tempdir().unwrap();
    let (host, _member) = sandbox::demo::start_joined_pair("member").await.unwrap();
    host.write_kubeconfig(dir.path()).unwrap();
    let file = dir.path().join("tandem.yaml");
    std::fs::write(
        &file,
        "hosts:\n  - name: host\n    kubeconfig: host.kubeconfig\n",
    )
    .unwrap();
    let mut monitor = started(&ConsoleConfig::load(&file).unwrap()).await;
    tokio::time::timeout(Duration::from_secs(10), monitor.changed())
        .await
        .unwrap();
    match &monitor.snapshot()[0].state {
        HostState::Reachable {
            clusters: Some(clusters),
            ..
        } => {
            let summary: Vec<(&str, bool, bool)> = clusters
                .iter()
                .map(|c| (c.name.as_str(), c.is_host, c.ready))
                .collect();
            assert_eq!(summary, [("host", true, true), ("member", false, true)]);
        }
        other => panic!("expected the host's clusters, got {other:?}"),
    }
}

#[tokio::test]
async fn the_monitor_tells_whether_each_member_answers_this_console() {
    use fleet::clusters::reach::MemberReach;
    let (host, member) = sandbox::demo::start_joined_pair("member").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    host.write_kubeconfig(dir.path()).unwrap();
    let file = dir.path().join("tandem.yaml");
    std::fs::write(
        &file,
        "probeIntervalSeconds: 1\nhosts:\n  - name: host\n    kubeconfig: host.kubeconfig\n",
    )
    .unwrap();
    let mut monitor = started(&ConsoleConfig::load(&file).unwrap()).await;
    let member_reach = |monitor: &HostMonitor| match &monitor.snapshot()[0].state {
        HostState::Reachable {
            clusters: Some(list),
            ..
        } => list
            .iter()
            .find(|c| c.name == "member")
            .and_then(|c| c.reach.clone()),
        _ => None,
    };
    tokio::time::timeout(Duration::from_secs(10), monitor.changed())
        .await
        .unwrap();
    assert!(
        matches!(member_reach(&monitor), Some(MemberReach::Reachable { .. })),
        "{:?}",
        member_reach(&monitor)
    );

    drop(member);
    let mut seen = None;
    for _ in 0..10 {
        tokio::time::timeout(Duration::from_secs(10), monitor.changed())
            .await
            .unwrap();
        seen = member_reach(&monitor);
        if matches!(seen, Some(MemberReach::Unreachable(_))) {
            break;
        }
    }
    assert_eq!(seen, Some(MemberReach::Unreachable(ProbeFailure::Refused)));
    let history: Vec<ClusterState> = match &monitor.snapshot()[0].state {
        HostState::Reachable {
            clusters: Some(list),
            ..
        } => list
            .iter()
            .find(|c| c.name == "member")
            .unwrap()
            .history
            .iter()
            .map(|h| h.state)
            .collect(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        history,
        [ClusterState::Ready, ClusterState::Unreachable],
        "the change is kept, in order"
    );
    // The host keeps it too: a console started afresh (a restart, another replica) shows the
    // same history, and seeing the member unreachable again is no new change.
    let mut restarted = started(&ConsoleConfig::load(&file).unwrap()).await;
    let mut kept = Vec::new();
    for _ in 0..10 {
        tokio::time::timeout(Duration::from_secs(10), restarted.changed())
            .await
            .unwrap();
        if let HostState::Reachable {
            clusters: Some(list),
            ..
        } = &restarted.snapshot()[0].state
            && let Some(member) = list.iter().find(|c| c.name == "member")
        {
            kept = member.history.iter().map(|h| h.state).collect();
            break;
        }
    }
    assert_eq!(
        kept,
        [ClusterState::Ready, ClusterState::Unreachable],
        "read back from the host"
    );

    // The host's kubefed notices too, at its own pace (every 10 s), in the KubeFedCluster.
    let federation = |monitor: &HostMonitor| match &monitor.snapshot()[0].state {
        HostState::Reachable {
            clusters: Some(list),
            ..
        } => list
            .iter()
            .find(|c| c.name == "member")
            .and_then(|c| c.federation.clone()),
        _ => None,
    };
    let mut kubefed = None;
    for _ in 0..20 {
        tokio::time::timeout(Duration::from_secs(10), monitor.changed())
            .await
            .unwrap();
        kubefed = federation(&monitor);
        if kubefed.as_ref().is_some_and(|(ready, _)| !ready) {
            break;
        }
    }
    assert_eq!(
        kubefed,
        Some((
            false,
            "ClusterNotReachable: cluster is not reachable".into()
        ))
    );
}

async fn started(config: &ConsoleConfig) -> HostMonitor {
    HostMonitor::start(config, &HostClients::connect(config).await)
}

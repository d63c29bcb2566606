//! The seed's fights between two hosts over one member, as the sandbox's conflicts scenario
//! reproduces them, seen through the console's `FederationMonitor` (watches on hosts and
//! member) and repaired with its resolutions.

mod common;

use std::time::{Duration, Instant};

use fleet::multihost::{
    FederatedKind, FederatedState, FederationMonitor, ObjectKey, RepairAction, RepairOutcome,
    RepairRefused, RepairStep, audit,
};
use futures_util::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::watcher;
use sandbox::demo::{DemoFleet, Scenario, start_demo_fleet};

fn cluster<'f>(fleet: &'f DemoFleet, name: &str) -> &'f sandbox::SandboxCluster {
    &fleet
        .clusters
        .iter()
        .find(|(c, _)| c.name() == name)
        .unwrap()
        .0
}

fn key(kind: FederatedKind, name: &str) -> ObjectKey {
    ObjectKey {
        kind,
        name: name.into(),
    }
}

async fn state_of(monitor: &FederationMonitor, key: &ObjectKey) -> Option<FederatedState> {
    monitor.row(key).map(|r| r.state)
}

/// Waits up to `limit` for `key` to reach a state `wanted` accepts; returns the last state.
async fn wait_for(
    monitor: &FederationMonitor,
    key: &ObjectKey,
    limit: Duration,
    wanted: impl Fn(&FederatedState) -> bool,
) -> Option<FederatedState> {
    let started = Instant::now();
    loop {
        let state = state_of(monitor, key).await;
        if state.as_ref().is_some_and(&wanted) || started.elapsed() > limit {
            return state;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicts_are_detected_and_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = start_demo_fleet(dir.path(), Scenario::Conflicts)
        .await
        .unwrap();
    let hosts = vec![
        (
            "host".to_string(),
            common::client(cluster(&fleet, "host")).await,
        ),
        (
            "host2".to_string(),
            common::client(cluster(&fleet, "host2")).await,
        ),
    ];
    let monitor = FederationMonitor::start(hosts.clone(), Default::default());

    // Detection: the flapping user and the stuck delete, each with its state.
    let xxp = key(FederatedKind::User, "xxp");
    let zzp = key(FederatedKind::User, "zzp");
    let flapping = wait_for(&monitor, &xxp, Duration::from_secs(60), |s| {
        matches!(s, FederatedState::Flapping { .. })
    })
    .await;
    assert_eq!(
        flapping,
        Some(FederatedState::Flapping {
            hosts: vec!["host".into(), "host2".into()]
        })
    );
    let stuck = wait_for(&monitor, &zzp, Duration::from_secs(20), |s| {
        matches!(s, FederatedState::StuckDeleting { .. })
    })
    .await;
    assert_eq!(
        stuck,
        Some(FederatedState::StuckDeleting {
            host: "host".into()
        })
    );
    // The same user bound to another platform role on each host: the later host's binding
    // cannot reach the member.
    let second_role = key(FederatedKind::GlobalRoleBinding, "xxr-platform-regular");
    let failing = wait_for(&monitor, &second_role, Duration::from_secs(30), |s| {
        matches!(s, FederatedState::SyncFailing { .. })
    })
    .await;
    assert_eq!(
        failing,
        Some(FederatedState::SyncFailing {
            host: "host2".into(),
            reason: "CreationFailed".into()
        })
    );
    let topology = monitor.topology();
    assert!(
        topology
            .iter()
            .all(|h| h.reachable && h.members.iter().any(|m| m.name == "member")),
        "{topology:?}"
    );

    // Pick the winner: host2's xxp. The member copy must then stay as it is.
    let resolution = monitor.pick_winner(&xxp, "host2", "admin").await.unwrap();
    assert!(
        resolution
            .steps
            .iter()
            .any(|s| matches!(s, RepairStep::Copied { host, winner } if host == "host" && winner == "host2")),
        "{resolution:?}"
    );
    let member_client = common::client(cluster(&fleet, "member")).await;
    let users =
        Api::<DynamicObject>::all_with(member_client.clone(), &FederatedKind::User.member());
    // Let writes already under way land, then watch for 30 s.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let settled = users.get("xxp").await.unwrap();
    let settled_fp =
        fleet::multihost::propagated_fingerprint(&serde_json::to_value(&settled).unwrap());
    let mut changes = watcher::watcher(
        users.clone(),
        watcher::Config::default().fields("metadata.name=xxp"),
    )
    .boxed();
    let watch_until = Instant::now() + Duration::from_secs(30);
    while Instant::now() < watch_until {
        let left = watch_until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, changes.next()).await {
            Ok(Some(Ok(watcher::Event::Apply(u) | watcher::Event::InitApply(u)))) => {
                let fp =
                    fleet::multihost::propagated_fingerprint(&serde_json::to_value(&u).unwrap());
                assert_eq!(fp, settled_fp, "the member's xxp changed after pick-winner");
                assert_eq!(u.metadata.uid, settled.metadata.uid, "xxp was recreated");
            }
            Ok(Some(Ok(watcher::Event::Delete(_)))) => panic!("xxp was deleted on the member"),
            Ok(None) => panic!("the member watch ended"),
            _ => {}
        }
    }
    assert_eq!(
        settled.data["spec"]["email"], "xxp-2@163.com",
        "host2's version won"
    );
    assert_eq!(state_of(&monitor, &xxp).await, Some(FederatedState::InSync));

    // Coordinated delete of the stuck user, in the background as the console runs it: one
    // repair at a time per object; then nothing remains anywhere, nothing is stuck.
    monitor
        .start_repair(&zzp, RepairAction::DeleteEverywhere, "admin")
        .await
        .unwrap();
    assert!(
        matches!(
            monitor
                .start_repair(&zzp, RepairAction::DeleteEverywhere, "someone")
                .await,
            Err(RepairRefused::Busy { actor, .. }) if actor == "admin"
        ),
        "a second repair of the same object must wait"
    );
    let started = Instant::now();
    let repair = loop {
        let repair = monitor.repair(&zzp).await.expect("the repair is readable");
        if !repair.running() {
            break repair;
        }
        assert!(started.elapsed() < Duration::from_secs(90), "{repair:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(matches!(repair.outcome, RepairOutcome::Done), "{repair:?}");
    assert!(
        repair
            .steps
            .iter()
            .any(|s| matches!(s, RepairStep::Deleted { host } if host == "host2")),
        "{repair:?}"
    );
    assert_eq!(repair.steps.last(), Some(&RepairStep::Gone), "{repair:?}");
    tokio::time::sleep(Duration::from_secs(12)).await; // longer than a kubefed resync
    for (host, client) in &hosts {
        for resource in [
            FederatedKind::User.source(),
            FederatedKind::User.federated(),
        ] {
            let api = Api::<DynamicObject>::all_with(client.clone(), &resource);
            assert!(
                api.get_opt("zzp").await.unwrap().is_none(),
                "{} zzp left on {host}",
                resource.kind
            );
        }
    }
    assert!(
        users.get_opt("zzp").await.unwrap().is_none(),
        "zzp came back on the member"
    );
    assert_eq!(state_of(&monitor, &zzp).await, None);

    // Both repairs are in the audit log, with who confirmed them.
    let log = monitor.audit_log().await;
    let actions: Vec<(&str, &str, bool)> = log
        .iter()
        .map(|e| (e.action.key(), e.name.as_str(), e.succeeded))
        .collect();
    assert!(actions.contains(&("pick-winner", "xxp", true)), "{log:?}");
    assert!(
        actions.contains(&("coordinated-delete", "zzp", true)),
        "{log:?}"
    );
    assert!(log.iter().all(|e| e.actor == "admin"));
    let on_host2 = audit::read(&hosts[1].1).await.unwrap();
    assert!(
        on_host2
            .iter()
            .any(|e| e.action == audit::AuditAction::PickWinner)
    );
}

/// kubefed can hold a federated object after every member is clean (its controller stopped,
/// say): the coordinated delete then clears the finalizer itself — and only then.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finalizer_nobody_releases_is_cleared_once_members_are_clean() {
    let (_cluster, client, federated) = common::stuck_federated_user().await;
    assert!(
        federated.get_opt("ghost").await.unwrap().is_some(),
        "held by the finalizer"
    );

    let monitor = FederationMonitor::start(vec![("host".to_string(), client)], Default::default());
    let ghost_key = key(FederatedKind::User, "ghost");
    let started = Instant::now();
    while monitor.row(&ghost_key).is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the monitor never saw it"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // One host: nobody to copy its version to, which is said, not reported as done.
    assert!(
        matches!(
            monitor.pick_winner(&ghost_key, "host", "admin").await,
            Err(fleet::multihost::ResolveError::NoOtherHost(host)) if host == "host"
        ),
        "keeping a version with no other host must fail"
    );
    let resolution = monitor
        .coordinated_delete(&ghost_key, "admin")
        .await
        .unwrap();
    assert!(
        resolution
            .steps
            .iter()
            .any(|s| matches!(s, RepairStep::FinalizerCleared { .. })),
        "{resolution:?}"
    );
    assert!(federated.get_opt("ghost").await.unwrap().is_none());
}

//! The seed's fights between two hosts over one member, as the sandbox's conflicts scenario
//! reproduces them, seen through the console's `FederationMonitor` (watches on hosts and
//! member) and repaired with its resolutions.

mod common;

use fleet::federation::KindResources;
use fleet::jobs::JobRecord;
use std::time::{Duration, Instant};

use fleet::federation::{
    FederatedKind, FederatedState, FederationMonitor, ObjectKey, RepairAction, RepairOutcome,
    RepairRefused, RepairStep, audit,
};
use futures_util::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::watcher;
use sandbox::demo::{DemoFleet, Scenario, start_demo_fleet};

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

/// The demo fleet's conflicts scenario, watched by a monitor over both hosts; kept whole for
/// the test's length (its data directory and clusters go when it is dropped).
struct Conflicts {
    _dir: tempfile::TempDir,
    fleet: DemoFleet,
    hosts: Vec<(String, kube::Client)>,
    monitor: FederationMonitor,
}

async fn conflicts() -> Conflicts {
    let dir = tempfile::tempdir().unwrap();
    let fleet = start_demo_fleet(dir.path(), Scenario::Conflicts)
        .await
        .unwrap();
    let mut hosts = Vec::new();
    for name in ["host", "host2"] {
        hosts.push((
            name.to_string(),
            common::client(common::demo_cluster(&fleet, name)).await,
        ));
    }
    let monitor = FederationMonitor::start(hosts.clone(), Default::default());
    Conflicts {
        _dir: dir,
        fleet,
        hosts,
        monitor,
    }
}

/// Watches object `name` through `api` for `window` and hands every event to `check`.
async fn watch_for(
    api: &Api<DynamicObject>,
    name: &str,
    window: Duration,
    mut check: impl FnMut(watcher::Event<DynamicObject>),
) {
    let mut events = watcher::watcher(
        api.clone(),
        watcher::Config::default().fields(&format!("metadata.name={name}")),
    )
    .boxed();
    let until = Instant::now() + window;
    while Instant::now() < until {
        let left = until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, events.next()).await {
            Ok(Some(Ok(event))) => check(event),
            Ok(None) => panic!("the watch of {name} ended"),
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seeds_three_fights_are_detected() {
    let conflicts = conflicts().await;
    let monitor = &conflicts.monitor;
    let flapping = wait_for(
        monitor,
        &key(FederatedKind::User, "xxp"),
        Duration::from_secs(60),
        |s| matches!(s, FederatedState::Flapping { .. }),
    )
    .await;
    assert_eq!(
        flapping,
        Some(FederatedState::Flapping {
            hosts: vec!["host".into(), "host2".into()]
        })
    );
    let stuck = wait_for(
        monitor,
        &key(FederatedKind::User, "zzp"),
        Duration::from_secs(20),
        |s| matches!(s, FederatedState::StuckDeleting { .. }),
    )
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
    let failing = wait_for(monitor, &second_role, Duration::from_secs(30), |s| {
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keeping_one_version_stops_the_flapping() {
    let conflicts = conflicts().await;
    let (fleet, monitor) = (&conflicts.fleet, &conflicts.monitor);
    let xxp = key(FederatedKind::User, "xxp");
    wait_for(monitor, &xxp, Duration::from_secs(60), |s| {
        matches!(s, FederatedState::Flapping { .. })
    })
    .await;

    // Pick the winner: host2's xxp. The member copy must then stay as it is.
    let resolution = monitor.pick_winner(&xxp, "host2", "admin").await.unwrap();
    assert!(
        resolution
            .steps
            .iter()
            .any(|s| matches!(s, RepairStep::Copied { host, winner } if host == "host" && winner == "host2")),
        "{resolution:?}"
    );
    let member_client = common::client(common::demo_cluster(fleet, "member")).await;
    let users = Api::<DynamicObject>::all_with(member_client, &FederatedKind::User.member());
    // Writes already under way land; then the member's copy is host2's.
    let started = Instant::now();
    let settled = loop {
        let copy = users.get("xxp").await.unwrap();
        if copy.data["spec"]["email"] == "xxp-2@163.com" {
            break copy;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{copy:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let settled_fp =
        fleet::federation::propagated_fingerprint(&serde_json::to_value(&settled).unwrap());
    watch_for(
        &users,
        "xxp",
        Duration::from_secs(30),
        |event| match event {
            watcher::Event::Apply(u) | watcher::Event::InitApply(u) => {
                let fp =
                    fleet::federation::propagated_fingerprint(&serde_json::to_value(&u).unwrap());
                assert_eq!(fp, settled_fp, "the member's xxp changed after pick-winner");
                assert_eq!(u.metadata.uid, settled.metadata.uid, "xxp was recreated");
            }
            watcher::Event::Delete(_) => panic!("xxp was deleted on the member"),
            _ => {}
        },
    )
    .await;
    assert_eq!(state_of(monitor, &xxp).await, Some(FederatedState::InSync));
    let log = monitor.audit_log().await;
    assert!(
        log.iter().any(|e| e.action.key() == "pick-winner"
            && e.name == "xxp"
            && e.succeeded
            && e.actor == "admin"),
        "{log:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinated_delete_ends_a_stuck_delete_for_good() {
    let conflicts = conflicts().await;
    let (fleet, hosts, monitor) = (&conflicts.fleet, &conflicts.hosts, &conflicts.monitor);
    let zzp = key(FederatedKind::User, "zzp");
    wait_for(monitor, &zzp, Duration::from_secs(20), |s| {
        matches!(s, FederatedState::StuckDeleting { .. })
    })
    .await;

    // In the background as the console runs it: one repair at a time per object.
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

    // Nothing remains anywhere, and nothing comes back through a kubefed resync.
    let member_client = common::client(common::demo_cluster(fleet, "member")).await;
    let users = Api::<DynamicObject>::all_with(member_client, &FederatedKind::User.member());
    let resync = sandbox::KUBEFED_RESYNC + Duration::from_secs(2);
    watch_for(&users, "zzp", resync, |event| {
        if let watcher::Event::Apply(_) | watcher::Event::InitApply(_) = event {
            panic!("zzp came back on the member")
        }
    })
    .await;
    for (host, client) in hosts {
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
    assert_eq!(state_of(monitor, &zzp).await, None);

    // In the audit log, with who confirmed it, also as host2 keeps it.
    let is_the_delete = |e: &audit::AuditEntry| {
        e.action == audit::AuditAction::CoordinatedDelete
            && e.name == "zzp"
            && e.succeeded
            && e.actor == "admin"
    };
    let log = monitor.audit_log().await;
    assert!(log.iter().any(is_the_delete), "{log:?}");
    let on_host2 = audit::read(&hosts[1].1).await.unwrap();
    assert!(on_host2.iter().any(is_the_delete), "{on_host2:?}");
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
            Err(fleet::federation::ResolveError::NoOtherHost(host)) if host == "host"
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

//! Several console replicas on one fleet: one leads the background work through a Lease,
//! a replica that stops gives it up (or loses it when the Lease runs out), and a job one
//! replica runs is followed, to its end or its replica's death, through another.

mod common;

use fleet::jobs::JobRecord;
use std::time::{Duration, Instant};

use fleet::replicas::{JobRecords, Leadership, Phase};
use sandbox::ClusterRole;

const SECRET: &str = "replicas-test-secret-0123456789";
const NS: &str = "kubesphere-system";

/// Runs `start` on a runtime of its own, as another process would: dropping the returned
/// runtime stops everything it started at once, like `kill -9`.
fn elsewhere<T: Send + 'static>(
    start: impl FnOnce() -> T + Send + 'static,
) -> (tokio::runtime::Runtime, T) {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let value = runtime.block_on(async { start() });
        (runtime, value)
    })
    .join()
    .unwrap()
}

fn leaders(all: &[&Leadership]) -> usize {
    all.iter().filter(|l| l.is_leader()).count()
}

#[tokio::test]
async fn one_replica_leads_and_another_takes_over_when_it_dies() {
    let host = common::kubesphere("host", ClusterRole::Host, SECRET).await;
    let client_a = common::client(&host).await;
    let (runtime_a, a) = elsewhere(move || Leadership::start(client_a, NS, "replica-a".into()));
    common::eventually(5, async || a.is_leader().then_some(())).await;
    let b = Leadership::start(common::client(&host).await, NS, "replica-b".into());
    // Both agree on who leads, and it stays one (renewals do not flap).
    common::eventually(3, async || {
        (b.view().holder.as_deref() == Some("replica-a")).then_some(())
    })
    .await;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(leaders(&[&a, &b]), 1, "exactly one leader");
        assert!(a.is_leader());
    }

    // The leader dies without a word (kill -9): B waits the Lease out, then leads.
    let died = Instant::now();
    runtime_a.shutdown_background();
    common::eventually(16, async || b.is_leader().then_some(())).await;
    let took = died.elapsed();
    assert!(took <= Duration::from_secs(15), "took over after {took:?}");
    assert!(
        took >= Duration::from_secs(5),
        "an unexpired Lease was taken after {took:?}"
    );
}

#[tokio::test]
async fn a_released_lease_is_taken_within_two_seconds() {
    let host = common::kubesphere("host", ClusterRole::Host, SECRET).await;
    let first = Leadership::start(common::client(&host).await, NS, "first".into());
    common::eventually(5, async || first.is_leader().then_some(())).await;
    let second = Leadership::start(common::client(&host).await, NS, "second".into());
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!second.is_leader(), "the holder renews; nobody else leads");

    let released = Instant::now();
    first.release(Duration::from_secs(2)).await;
    assert!(!first.is_leader());
    common::eventually(3, async || second.is_leader().then_some(())).await;
    assert!(
        released.elapsed() <= Duration::from_secs(2),
        "took {:?}",
        released.elapsed()
    );
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Progress {
    steps: Vec<String>,
}

#[tokio::test]
async fn a_job_is_followed_through_another_replica_to_its_end() {
    let host = common::kubesphere("host", ClusterRole::Host, SECRET).await;
    let a = JobRecords::new(Some(common::client(&host).await), NS, "replica-a".into());
    let b = JobRecords::new(Some(common::client(&host).await), NS, "replica-b".into());

    let mut progress = Progress { steps: vec![] };
    let keeper = a.keep("cluster-join", "0123abcd", "admin", &progress);
    for step in ["kubeconfig", "connection", "permissions"] {
        progress.steps.push(step.into());
        keeper.update(&progress);
        let seen = progress.clone();
        common::eventually(5, async || {
            b.read::<Progress>("0123abcd", "admin")
                .await
                .filter(|j| j.payload == seen && j.phase == Phase::Running)
        })
        .await;
    }
    assert!(
        b.read::<Progress>("0123abcd", "mallory").await.is_none(),
        "only the person who started a job reads it"
    );
    keeper.finish(&progress);
    let done = common::eventually(5, async || {
        b.read::<Progress>("0123abcd", "admin")
            .await
            .filter(|j| j.phase == Phase::Finished)
    })
    .await;
    assert_eq!(done.payload, progress);
    assert_eq!(done.replica, "replica-a");
    // A finished job is not "abandoned" by the leader's sweep.
    tokio::time::sleep(Duration::from_secs(9)).await;
    assert_eq!(b.sweep().await.unwrap(), 0);
    assert_eq!(
        b.read::<Progress>("0123abcd", "admin").await.unwrap().phase,
        Phase::Finished
    );
}

#[tokio::test]
async fn a_job_whose_replica_died_is_shown_abandoned_never_running() {
    let host = common::kubesphere("host", ClusterRole::Host, SECRET).await;
    let client_a = common::client(&host).await;
    let b = JobRecords::new(Some(common::client(&host).await), NS, "replica-b".into());
    let (runtime_a, _keeper) = elsewhere(move || {
        let a = JobRecords::new(Some(client_a), NS, "replica-a".into());
        a.keep(
            "cluster-join",
            "feedc0de",
            "admin",
            &Progress {
                steps: vec!["kubeconfig".into()],
            },
        )
    });
    common::eventually(5, async || {
        b.read::<Progress>("feedc0de", "admin")
            .await
            .filter(|j| j.phase == Phase::Running)
    })
    .await;
    // Alive, it beats: still running well past the staleness limit.
    tokio::time::sleep(fleet::replicas::job_records::STALE_AFTER + Duration::from_secs(2)).await;
    assert_eq!(
        b.read::<Progress>("feedc0de", "admin").await.unwrap().phase,
        Phase::Running
    );
    assert_eq!(b.sweep().await.unwrap(), 0);

    let died = Instant::now();
    runtime_a.shutdown_background();
    let seen = common::eventually(15, async || {
        b.read::<Progress>("feedc0de", "admin")
            .await
            .filter(|j| j.phase == Phase::Abandoned)
    })
    .await;
    assert_eq!(seen.payload.steps, ["kubeconfig"]);
    assert!(
        died.elapsed() < Duration::from_secs(13),
        "{:?}",
        died.elapsed()
    );
    // The leader's sweep writes it, so a replica that never saw it running agrees.
    assert_eq!(b.sweep().await.unwrap(), 1);
    let c = JobRecords::new(Some(common::client(&host).await), NS, "replica-c".into());
    assert_eq!(
        c.read::<Progress>("feedc0de", "admin").await.unwrap().phase,
        Phase::Abandoned
    );
}

#[tokio::test]
async fn a_claimed_job_replaces_an_ended_record_of_its_id_never_a_running_one() {
    let host = common::kubesphere("host", ClusterRole::Host, SECRET).await;
    let a = JobRecords::new(Some(common::client(&host).await), NS, "replica-a".into());
    let b = JobRecords::new(Some(common::client(&host).await), NS, "replica-b".into());
    let first = Progress {
        steps: vec!["first".into()],
    };
    let running = a
        .claim("repair", "repair-user-1", "admin", &first)
        .await
        .unwrap();
    // B may not take over A's running record.
    let refused = b
        .claim("repair", "repair-user-1", "someone", &first)
        .await
        .err()
        .expect("A's repair runs");
    assert_eq!(refused.owner, "admin");
    assert_eq!(
        b.read_any::<Progress>("repair-user-1")
            .await
            .unwrap()
            .payload,
        first
    );
    // Once A's ended, B's next job of the same id replaces it.
    running.finish(&first);
    common::eventually(5, async || {
        b.read_any::<Progress>("repair-user-1")
            .await
            .filter(|j| j.phase == Phase::Finished)
    })
    .await;
    let again = Progress {
        steps: vec!["again".into()],
    };
    let _replacing = b
        .claim("repair", "repair-user-1", "someone", &again)
        .await
        .unwrap();
    let seen = common::eventually(5, async || {
        a.read_any::<Progress>("repair-user-1")
            .await
            .filter(|j| j.payload == again)
    })
    .await;
    assert_eq!(
        (seen.phase, seen.replica.as_str()),
        (Phase::Running, "replica-b")
    );
}

/// Only the leader watches the federated objects; a follower shows what it publishes, and a
/// repair asked through the follower runs on the leader and is followed, and waited for,
/// through the follower.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_leader_watches_and_repairs_for_every_replica() {
    use fleet::federation::{
        FederatedKind, FederationMonitor, ObjectKey, RepairAction, RepairOutcome, RepairRefused,
        Sharing,
    };

    // KubeSphere's CRDs without a host's controllers: the stuck delete the repair clears.
    let (_cluster, client, _federated) = common::stuck_federated_user().await;

    let replica = |name: &str| {
        let leadership = Leadership::start(client.clone(), NS, name.into());
        let monitor = FederationMonitor::start_shared(
            vec![("host".to_string(), client.clone())],
            Default::default(),
            Sharing {
                leadership: leadership.clone(),
                home: Some((client.clone(), NS.into())),
                records: Some(JobRecords::new(Some(client.clone()), NS, name.into())),
            },
        );
        (leadership, monitor)
    };
    let (lead_a, a) = replica("replica-a");
    common::eventually(5, async || lead_a.is_leader().then_some(())).await;
    let (lead_b, b) = replica("replica-b");
    let key = ObjectKey {
        kind: FederatedKind::User,
        name: "ghost".into(),
    };
    // B watches by itself only until it has read A's publication, then shows that.
    common::eventually(20, async || {
        (!b.watching() && b.row(&key).is_some()).then_some(())
    })
    .await;
    assert!(!lead_b.is_leader());
    assert!(a.watching(), "the leader watches");
    let templates = b.templates(&key).await;
    assert_eq!(
        templates.len(),
        1,
        "a follower reads templates from the host"
    );
    assert_eq!(templates, a.templates(&key).await);

    b.start_repair(&key, RepairAction::DeleteEverywhere, "admin")
        .await
        .unwrap();
    let running = common::eventually(5, async || {
        a.repair(&key)
            .await
            .filter(|r| !r.steps.is_empty() || r.running())
    })
    .await;
    assert_eq!(running.actor, "admin", "the leader runs what B was asked");
    assert!(
        matches!(
            a.start_repair(&key, RepairAction::DeleteEverywhere, "someone").await,
            Err(RepairRefused::Busy { actor, .. }) if actor == "admin"
        ),
        "a running repair blocks the object"
    );
    let done = common::eventually(60, async || b.repair(&key).await.filter(|r| !r.running())).await;
    assert!(matches!(done.outcome, RepairOutcome::Done), "{done:?}");
    assert!(!done.steps.is_empty(), "B sees A's steps: {done:?}");
    assert!(!b.watching(), "B did not watch again");
    // One repair, one audit entry, whichever replica reads the log.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for replica in [&a, &b] {
        let entries: Vec<_> = replica
            .audit_log()
            .await
            .into_iter()
            .filter(|e| e.name == "ghost")
            .collect();
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert_eq!(entries[0].actor, "admin");
    }
    // The object is gone from what B shows, once A publishes it.
    common::eventually(10, async || b.row(&key).is_none().then_some(())).await;
}

#[tokio::test]
async fn a_finished_job_whose_last_write_failed_is_written_on_the_next_try() {
    let host = common::kubesphere("host", ClusterRole::Host, SECRET).await;
    let a = JobRecords::new(Some(common::client(&host).await), NS, "replica-a".into());
    let b = JobRecords::new(Some(common::client(&host).await), NS, "replica-b".into());
    let keeper = a.keep(
        "cluster-join",
        "f1n15h",
        "admin",
        &Progress { steps: vec![] },
    );
    common::eventually(5, async || b.read::<Progress>("f1n15h", "admin").await).await;
    host.fail_next("PUT", "tandem-job-f1n15h");
    let done = Progress {
        steps: vec!["joined".into()],
    };
    keeper.finish(&done);
    drop(keeper);
    let seen = common::eventually(10, async || {
        b.read::<Progress>("f1n15h", "admin")
            .await
            .filter(|j| j.phase != Phase::Running)
    })
    .await;
    assert_eq!((seen.phase, seen.payload), (Phase::Finished, done));
}

#[tokio::test]
async fn of_two_replicas_claiming_one_job_only_one_runs_it() {
    let host = common::kubesphere("host", ClusterRole::Host, SECRET).await;
    let a = JobRecords::new(Some(common::client(&host).await), NS, "replica-a".into());
    let b = JobRecords::new(Some(common::client(&host).await), NS, "replica-b".into());
    let first = Progress { steps: vec![] };
    let (by_a, by_b) = tokio::join!(
        a.claim("repair", "repair-user-x", "alice", &first),
        b.claim("repair", "repair-user-x", "bob", &first),
    );
    assert!(
        by_a.is_ok() != by_b.is_ok(),
        "exactly one claim holds: {:?} / {:?}",
        by_a.as_ref().err(),
        by_b.as_ref().err()
    );
    let (winner, loser) = if by_a.is_ok() {
        ("alice", by_b)
    } else {
        ("bob", by_a)
    };
    assert_eq!(
        loser.err().unwrap().owner,
        winner,
        "the refusal names who runs it"
    );
}

#[tokio::test]
async fn a_live_job_marked_abandoned_while_cut_off_is_taken_back() {
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::api::{Api, PostParams};
    let host = common::kubesphere("host", ClusterRole::Host, SECRET).await;
    let client = common::client(&host).await;
    let a = JobRecords::new(Some(client.clone()), NS, "replica-a".into());
    let _keeper = a.keep("cluster-join", "b4ck", "admin", &Progress { steps: vec![] });
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), NS);
    let mut map =
        common::eventually(5, async || maps.get_opt("tandem-job-b4ck").await.unwrap()).await;
    // What a leader that lost sight of replica A writes.
    let data = map.data.as_mut().unwrap();
    let mut record: serde_json::Value = serde_json::from_str(&data["record"]).unwrap();
    record["phase"] = "abandoned".into();
    data.insert("record".into(), record.to_string());
    maps.replace("tandem-job-b4ck", &PostParams::default(), &map)
        .await
        .unwrap();
    let b = JobRecords::new(Some(client), NS, "replica-b".into());
    common::eventually(6, async || {
        b.read::<Progress>("b4ck", "admin")
            .await
            .filter(|j| j.phase == Phase::Running)
    })
    .await;
}

//! Sync running in the console, on the demo fleet: off, it only plans; switched on, a user
//! made on one host reaches the other through the watches, the conflicts scenario's
//! differences land in the shared record's conflict log, a delete replicates, and the record
//! survives a new service (a restart, or another replica taking over).

mod common;

use kube::api::{Api, DynamicObject};
use sandbox::demo::{Scenario, start_demo_fleet};

use fleet::federation::{FederatedKind, KindResources};
use fleet::replicas::Leadership;
use fleet::sync::engine::GroupHost;
use fleet::sync::record;
use fleet::sync::service::{Home, SyncService};

fn users(client: &kube::Client) -> Api<DynamicObject> {
    Api::all_with(client.clone(), &FederatedKind::User.source())
}

/// Deletes user `name` on `on`, then waits until sync has taken it from `elsewhere` too.
async fn delete_then_gone(on: &kube::Client, elsewhere: &kube::Client, name: &str) {
    users(on).delete(name, &Default::default()).await.unwrap();
    common::eventually(30, async || {
        users(elsewhere)
            .get_opt(name)
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_plans_while_off_then_replicates_through_watches() {
    let dir = tempfile::tempdir().unwrap();
    let (_fleet, group, service, home) = common::demo_sync(dir.path(), Scenario::Conflicts).await;
    let (host, host2) = (group[0].client.clone(), group[1].client.clone());

    // Off: a plan that settles xxp, and nothing written.
    let plan = common::eventually(30, async || {
        let record = service.record();
        (!record.plan.is_empty()).then_some(record)
    })
    .await;
    assert!(!plan.enabled);
    assert!(
        plan.plan.iter().any(|w| w.object == "User xxp"),
        "{:?}",
        plan.plan
    );
    assert!(
        plan.plan_conflicts.iter().any(|c| c.object == "User xxp"),
        "the plan names the differences it would settle"
    );
    let email = |u: &DynamicObject| u.data["spec"]["email"].clone();
    assert_ne!(
        email(&users(&host).get("xxp").await.unwrap()),
        email(&users(&host2).get("xxp").await.unwrap()),
        "a plan wrote"
    );

    // On: xxp becomes one, its lost email in the shared conflict log.
    service.switch(true, "admin").await.unwrap();
    common::eventually(30, async || {
        let record = service.record();
        record
            .conflicts
            .iter()
            .any(|c| c.object == "User xxp" && c.field == "/spec/email")
            .then_some(())
    })
    .await;
    common::eventually(30, async || {
        let (a, b) = (
            users(&host).get("xxp").await.ok()?,
            users(&host2).get("xxp").await.ok()?,
        );
        (email(&a) == email(&b)).then_some(())
    })
    .await;

    // xxr had another platform role on each host: the newer binding stays, on both hosts.
    let bindings = |c: &kube::Client| {
        Api::<DynamicObject>::all_with(c.clone(), &FederatedKind::GlobalRoleBinding.source())
    };
    let xxr = "iam.kubesphere.io/user-ref=xxr";
    common::eventually(30, async || {
        let mut names = Vec::new();
        for client in [&host, &host2] {
            let list = bindings(client)
                .list(&kube::api::ListParams::default().labels(xxr))
                .await
                .ok()?;
            let mut here: Vec<String> = list
                .items
                .iter()
                .filter(|b| b.metadata.deletion_timestamp.is_none())
                .filter_map(|b| b.metadata.name.clone())
                .collect();
            here.sort();
            names.push(here);
        }
        (names[0].len() == 1 && names[0] == names[1]).then_some(())
    })
    .await;
    assert!(
        service
            .record()
            .conflicts
            .iter()
            .any(|c| c.object.starts_with("GlobalRoleBinding xxr-") && c.field == "/roleRef/name"),
        "the displaced platform role is not in the conflict log"
    );

    // A user made on host reaches host2, through the watch, without waiting for the period.
    let body: DynamicObject = serde_json::from_value(serde_json::json!({
        "apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "User",
        "metadata": {"name": "sync-new"},
        "spec": {"email": "sync-new@example.com", "password": "Sync-Pass-1"},
    }))
    .unwrap();
    users(&host)
        .create(&Default::default(), &body)
        .await
        .unwrap();
    let copy = common::eventually(20, async || users(&host2).get_opt("sync-new").await.ok()?).await;
    assert_eq!(email(&copy), "sync-new@example.com");
    let hash = copy.data["spec"]["password"].as_str().unwrap().to_string();
    assert!(
        hash.starts_with("$2"),
        "a plain password crossed hosts: {hash}"
    );
    let record = common::eventually(20, async || {
        let record = service.record();
        (record.lag.samples > 0).then_some(record)
    })
    .await;
    assert!(record.writes_per_host.get("host2").copied().unwrap_or(0) > 0);
    // Once settled, both copies carry the same sync annotations: a global role's template
    // carries annotations to the members, and each host's kubefed must push the same.
    for (kind, name) in [
        (FederatedKind::User, "sync-new"),
        (FederatedKind::GlobalRole, "platform-admin"),
    ] {
        common::eventually(20, async || {
            let api = |c: &kube::Client| Api::<DynamicObject>::all_with(c.clone(), &kind.source());
            let (a, b) = (
                api(&host).get(name).await.ok()?,
                api(&host2).get(name).await.ok()?,
            );
            let ours = |o: &DynamicObject| {
                let mut found: Vec<(String, String)> = o
                    .metadata
                    .annotations
                    .clone()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|(k, _)| k.starts_with("sync.tandem.io/"))
                    .collect();
                found.sort();
                found
            };
            (ours(&a).len() == 3 && ours(&a) == ours(&b)).then_some(())
        })
        .await;
    }

    // Deleted on host2: gone from host too, and in the record.
    delete_then_gone(&host2, &host, "sync-new").await;
    common::eventually(20, async || {
        service
            .record()
            .deletes
            .iter()
            .any(|d| d.object == "User sync-new" && d.host == "host2")
            .then_some(())
    })
    .await;

    // The record is on the first host: a new service carries on from it.
    let saved = record::load(&home.client, &home.namespace)
        .await
        .unwrap()
        .expect("the record was written");
    assert!(saved.enabled);
    assert!(saved.conflicts.iter().any(|c| c.object == "User xxp"));
    let text = serde_json::to_string(&saved).unwrap();
    assert!(!text.contains("$2a$"), "a password hash reached the record");
}

/// The hosts' failed logins count together: 6 wrong passwords on host and 4 on host2 lock the
/// account (KubeSphere's limit is 10), and the lock reaches host too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_count_across_the_group_and_the_lock_replicates() {
    use fleet::iam::{LoginAttempt, LoginError, LoginFailure};
    let dir = tempfile::tempdir().unwrap();
    let fleet = start_demo_fleet(dir.path(), Scenario::Calm).await.unwrap();
    let mut group = Vec::new();
    let mut config = String::from("hosts:\n");
    for host in ["host", "host2"] {
        let cluster = common::demo_cluster(&fleet, host);
        group.push(GroupHost {
            name: host.into(),
            client: common::client(cluster).await,
        });
        let path = cluster.write_kubeconfig(dir.path()).unwrap();
        config += &format!("  - name: {host}\n    kubeconfig: {}\n", path.display());
    }
    let file = dir.path().join("tandem.yaml");
    std::fs::write(&file, config).unwrap();
    let iam = fleet::iam::Iam::start(
        &fleet::HostClients::connect(&fleet::ConsoleConfig::load(&file).unwrap()).await,
    )
    .await;
    let home = Home {
        client: group[0].client.clone(),
        namespace: "kube-system".into(),
    };
    let service = SyncService::start(group.clone(), home, Leadership::alone("test".into()));
    service.switch(true, "admin").await.unwrap();

    let attempt = |password: &'static str| LoginAttempt {
        username: "admin",
        password,
        source_ip: Some("127.0.0.1".into()),
        user_agent: Some("sync-test".into()),
    };
    let wrong = async |host: &str| match iam.login(host, attempt("Wrong-Pass-1")).await {
        Err(LoginFailure::Login(LoginError::IncorrectPassword { locked_now })) => locked_now,
        other => panic!("{host}: {other:?}"),
    };
    // Quiet first (the first rounds stamp every object): the failures must wake a round.
    common::eventually(30, async || {
        let record = service.record();
        record
            .last_round
            .filter(|r| record.enabled && r.writes == 0)
            .map(drop)
    })
    .await;
    for _ in 0..6 {
        assert!(!wrong("host").await);
    }
    // host's failures reach host2, marked as copies.
    let records = |c: &kube::Client| Api::<fleet::iam::resources::LoginRecord>::all(c.clone());
    let copies = common::eventually(20, async || {
        let on_host2 = records(&group[1].client)
            .list(&kube::api::ListParams::default().labels("iam.kubesphere.io/user-ref=admin"))
            .await
            .ok()?
            .items;
        (on_host2.len() >= 6).then_some(on_host2)
    })
    .await;
    assert!(copies.iter().all(|r| {
        r.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(fleet::sync::logins::FROM_ANNOTATION))
            == Some(&"host".to_string())
    }));
    // Four more on host2 make ten: locked, there and then on host.
    for i in 1..=4 {
        assert_eq!(wrong("host2").await, i == 4, "attempt {i} on host2");
    }
    let password = fleet.admin_password.clone();
    let password: &'static str = Box::leak(password.into_boxed_str());
    common::eventually(20, async || {
        match iam.login("host", attempt(password)).await {
            Err(LoginFailure::Login(LoginError::Locked { .. })) => Some(()),
            _ => None,
        }
    })
    .await;
}

/// A user deleted on one host and at once made again there, as a script does (`kubectl
/// delete`, then `kubectl create`): the engine carries the delete to the other host, whose
/// `FederatedUser` then starts deleting — the echo of the engine's own delete, not a new one,
/// so the user made again (in the same second) lives, reaches the other host and the member,
/// and stays. (Taken for a new delete, it ended the new user, its fields in the conflict log.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_deleted_and_made_again_at_once_lives_on_every_host() {
    let dir = tempfile::tempdir().unwrap();
    let (fleet, group, service, _home) = common::demo_sync(dir.path(), Scenario::Calm).await;
    let (host, host2) = (group[0].client.clone(), group[1].client.clone());
    let member = common::client(&fleet.clusters[2].0).await;
    service.switch(true, "admin").await.unwrap();
    let make = async |client: &kube::Client, email: &str| {
        let body: DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "User",
            "metadata": {"name": "again"},
            "spec": {"email": email, "password": "Again-Pass-1"},
        }))
        .unwrap();
        users(client).create(&Default::default(), &body).await
    };
    make(&host, "first@example.com").await.unwrap();
    let email = |u: &DynamicObject| u.data["spec"]["email"].as_str().map(String::from);
    for client in [&host2, &member] {
        common::eventually(30, async || {
            let copy = users(client).get_opt("again").await.ok()??;
            (email(&copy)? == "first@example.com").then_some(())
        })
        .await;
    }

    // host's FederatedUser stays deleting once the engine has deleted host's copy (as one does
    // while a member still holds a copy), so every round after sees that delete under way.
    let federated = Api::<DynamicObject>::all_with(host.clone(), &FederatedKind::User.federated());
    let twin = federated.get("again").await.unwrap();
    let mut held = twin.metadata.finalizers.clone().unwrap_or_default();
    held.push("tandem.test/hold".into());
    federated
        .patch(
            "again",
            &Default::default(),
            &kube::api::Patch::Merge(serde_json::json!({"metadata": {"finalizers": held}})),
        )
        .await
        .unwrap();
    // Made again as soon as the engine has carried the delete to host (as on the real rig,
    // where KubeSphere's finalizer takes longer than a round), and host2 lets it.
    delete_then_gone(&host2, &host, "again").await;
    common::eventually(30, async || {
        make(&host2, "again@example.com").await.ok().map(drop)
    })
    .await;
    for client in [&host, &host2, &member] {
        common::eventually(30, async || {
            let copy = users(client).get_opt("again").await.ok()??;
            (email(&copy)? == "again@example.com").then_some(())
        })
        .await;
    }
    // And stays: no round ends it later, on any cluster.
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    for (cluster, client) in [("host", &host), ("host2", &host2), ("member", &member)] {
        let copy = users(client).get_opt("again").await.unwrap();
        let copy = copy.unwrap_or_else(|| panic!("the user made again was deleted on {cluster}"));
        assert_eq!(email(&copy).as_deref(), Some("again@example.com"));
        assert!(copy.metadata.deletion_timestamp.is_none());
    }
    let twin = federated.get("again").await.unwrap();
    assert!(
        twin.metadata.deletion_timestamp.is_some(),
        "the hold did not hold"
    );
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_plans_while_off_then_replicates_through_watches() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = start_demo_fleet(dir.path(), Scenario::Conflicts)
        .await
        .unwrap();
    let mut group = Vec::new();
    for host in ["host", "host2"] {
        group.push(GroupHost {
            name: host.into(),
            client: common::client(common::demo_cluster(&fleet, host)).await,
        });
    }
    let (host, host2) = (group[0].client.clone(), group[1].client.clone());
    let home = Home {
        client: host.clone(),
        namespace: "kube-system".into(),
    };
    let service = SyncService::start(
        group.clone(),
        home.clone(),
        Leadership::alone("test".into()),
    );

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
    users(&host2)
        .delete("sync-new", &Default::default())
        .await
        .unwrap();
    common::eventually(30, async || {
        users(&host)
            .get_opt("sync-new")
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
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

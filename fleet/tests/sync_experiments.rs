//! The article's three experiments, seeded on the demo fleet (its conflicts scenario) and
//! settled through sync's plan, as the acceptance of two-way sync states them: the member's
//! copies stop changing and stay so for a minute, the role conflict ends with one binding on
//! both hosts and the member, and the delete completes everywhere with no finalizer left.

mod common;

use std::time::{Duration, Instant};

use kube::api::{Api, DynamicObject, ListParams};
use sandbox::demo::Scenario;

use fleet::federation::{FederatedKind, KindResources};
use fleet::sync::engine::WriteKind;

fn api(client: &kube::Client, resource: kube::api::ApiResource) -> Api<DynamicObject> {
    Api::all_with(client.clone(), &resource)
}

/// The names of the live objects labelled `iam.kubesphere.io/user-ref=<user>`.
async fn bindings_of(client: &kube::Client, kind: FederatedKind, user: &str) -> Vec<String> {
    let list = api(client, kind.member())
        .list(&ListParams::default().labels(&format!("iam.kubesphere.io/user-ref={user}")))
        .await
        .unwrap();
    let mut names: Vec<String> = list
        .items
        .into_iter()
        .filter(|b| b.metadata.deletion_timestamp.is_none())
        .filter_map(|b| b.metadata.name)
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seeds_three_fights_end_once_sync_applies_its_plan() {
    let dir = tempfile::tempdir().unwrap();
    let (fleet, group, service, _) = common::demo_sync(dir.path(), Scenario::Conflicts).await;
    let (host, host2) = (group[0].client.clone(), group[1].client.clone());
    let member = common::client(common::demo_cluster(&fleet, "member")).await;

    // The plan, before anything is written: zzp, deleted on host before sync, is deleted on
    // host2 too — not made again on host.
    let plan = common::eventually(30, async || {
        let record = service.record();
        (!record.plan.is_empty()).then_some(record.plan)
    })
    .await;
    let zzp: Vec<_> = plan.iter().filter(|w| w.object == "User zzp").collect();
    assert!(
        zzp.len() == 1 && zzp[0].host == "host2" && zzp[0].write == WriteKind::Delete,
        "{zzp:?}"
    );

    // The member's xxp and xxr, read every 100 ms from before the apply: when they last
    // changed (their resourceVersions).
    let changes = std::sync::Arc::new(std::sync::Mutex::new((Instant::now(), 0)));
    let poller = tokio::spawn({
        let (member, changes) = (member.clone(), changes.clone());
        async move {
            let mut last = Vec::new();
            loop {
                let mut seen = Vec::new();
                for name in ["xxp", "xxr"] {
                    let copy = api(&member, FederatedKind::User.member())
                        .get_opt(name)
                        .await;
                    seen.push(
                        copy.ok()
                            .flatten()
                            .and_then(|c| c.metadata.resource_version),
                    );
                }
                if seen != last {
                    let mut changes = changes.lock().unwrap();
                    (last, *changes) = (seen, (Instant::now(), changes.1 + 1));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    });

    // First, the fight as the seed shows it: the hosts' kubefeds rewrite the member's copies
    // (the first read counts as one change).
    common::eventually(60, async || (changes.lock().unwrap().1 >= 3).then_some(())).await;

    service.switch(true, "admin").await.unwrap();
    let applied = Instant::now();

    // Experiment 3: the delete completes on both hosts and the member, finalizers and all.
    let users = FederatedKind::User;
    common::eventually(60, async || {
        for client in [&host, &host2] {
            for resource in [users.source(), users.federated()] {
                if api(client, resource).get_opt("zzp").await.ok()?.is_some() {
                    return None;
                }
            }
        }
        let on_member = api(&member, users.member()).get_opt("zzp").await.ok()?;
        on_member.is_none().then_some(())
    })
    .await;
    assert!(
        service
            .record()
            .deletes
            .iter()
            .any(|d| d.object == "User zzp" && d.host == "host"),
        "the delete is not in the record"
    );

    // Experiment 2: one platform role for xxr on both hosts and on the member.
    let grb = FederatedKind::GlobalRoleBinding;
    common::eventually(60, async || {
        let (a, b, m) = (
            bindings_of(&host, grb, "xxr").await,
            bindings_of(&host2, grb, "xxr").await,
            bindings_of(&member, grb, "xxr").await,
        );
        (a.len() == 1 && a == b && a == m).then_some(())
    })
    .await;

    // Experiment 1 (and xxr, which flipped though its input was the same on both hosts): the
    // member's copies stop changing, then stay unchanged for a minute.
    let quiet_since = loop {
        let (last, _) = *changes.lock().unwrap();
        if last.elapsed() >= Duration::from_secs(60) {
            break last;
        }
        assert!(
            applied.elapsed() < Duration::from_secs(180),
            "the member's xxp and xxr still change 3 minutes after the apply"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    poller.abort();
    println!(
        "the member's copies settled {:.1} s after the apply",
        quiet_since.saturating_duration_since(applied).as_secs_f64()
    );
    // And what they settled on is what both hosts hold.
    for name in ["xxp", "xxr"] {
        let email = |o: DynamicObject| o.data["spec"]["email"].clone();
        let on_member = email(api(&member, users.member()).get(name).await.unwrap());
        assert_eq!(
            on_member,
            email(api(&host, users.source()).get(name).await.unwrap())
        );
        assert_eq!(
            on_member,
            email(api(&host2, users.source()).get(name).await.unwrap())
        );
    }
}

//! The seed's fights between two hosts over one member, as the sandbox reproduces them, seen
//! through `fleet::multihost` fed by a watch on the member: the flapping user and the stuck
//! delete, each with its state.

mod common;

use std::time::{Duration, Instant, SystemTime};

use fleet::multihost::{FederatedState, FederatedUsers};
use futures_util::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::runtime::watcher;
use sandbox::demo::{Scenario, start_demo_fleet};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conflicts_scenario_shows_flapping_and_a_stuck_delete() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = start_demo_fleet(dir.path(), Scenario::Conflicts)
        .await
        .unwrap();
    let cluster = |name: &str| {
        &fleet
            .clusters
            .iter()
            .find(|(c, _)| c.name() == name)
            .unwrap()
            .0
    };
    let hosts = vec![
        ("host".to_string(), common::client(cluster("host")).await),
        ("host2".to_string(), common::client(cluster("host2")).await),
    ];
    let users = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("iam.kubesphere.io", "v1alpha2", "User"),
        "users",
    );
    let member_users =
        Api::<DynamicObject>::all_with(common::client(cluster("member")).await, &users);
    let mut versions = watcher::watcher(member_users, watcher::Config::default()).boxed();

    let mut view = FederatedUsers::default();
    view.refresh_hosts(&hosts, "member").await.unwrap();
    let started = Instant::now();
    let mut refreshed = Instant::now();
    // Each host rewrites the member's copy regularly: three changes of writer take well under
    // a minute. Polling would miss them (the losing version can last less than a second).
    while started.elapsed() < Duration::from_secs(60) {
        let event = tokio::time::timeout(Duration::from_secs(1), versions.next()).await;
        match event {
            Ok(Some(Ok(watcher::Event::Apply(u) | watcher::Event::InitApply(u)))) => {
                let name = u.metadata.name.clone().unwrap_or_default();
                view.member_changed(
                    &name,
                    Some(&serde_json::to_value(&u).unwrap()),
                    SystemTime::now(),
                );
            }
            Ok(Some(Ok(watcher::Event::Delete(u)))) => {
                view.member_changed(
                    &u.metadata.name.unwrap_or_default(),
                    None,
                    SystemTime::now(),
                );
            }
            _ => {}
        }
        if refreshed.elapsed() > Duration::from_secs(1) {
            view.refresh_hosts(&hosts, "member").await.unwrap();
            refreshed = Instant::now();
        }
        if matches!(
            view.states().get("xxp"),
            Some(FederatedState::Flapping { .. })
        ) {
            break;
        }
    }
    let states = view.states();
    assert_eq!(
        states.get("xxp"),
        Some(&FederatedState::Flapping {
            hosts: vec!["host".into(), "host2".into()]
        }),
        "{states:?}"
    );
    assert_eq!(
        states.get("zzp"),
        Some(&FederatedState::StuckDeleting {
            host: "host".into()
        }),
        "{states:?}"
    );
}

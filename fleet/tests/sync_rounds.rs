//! Sync rounds over two hosts in the seed's first experiment: the same-name user that flips
//! on the member forever becomes one user on both hosts, its differences logged, and the
//! member's copy stops changing.
//!
//! On the demo fleet's conflicts scenario, unless `TANDEM_REAL_RIG` names a folder of
//! kubeconfigs of real kube-apiservers with KubeSphere 3.4.1 and kubefed (as
//! `conformance.rs`): then the member is joined to both hosts there, the user made on each
//! with kubectl's body, and the same rounds run against the real controllers.

mod common;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::watcher;
use sandbox::demo::{DemoFleet, Scenario, start_demo_fleet};

use fleet::federation::{FederatedKind, KindResources, propagated_fingerprint};
use fleet::sync::engine::{GroupHost, RoundMode, sync_round};
use fleet::sync::fields::replicated;

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

async fn user(client: &kube::Client, name: &str) -> serde_json::Value {
    try_user(client, name)
        .await
        .unwrap_or_else(|| panic!("no user {name}"))
}

async fn try_user(client: &kube::Client, name: &str) -> Option<serde_json::Value> {
    let users = Api::<DynamicObject>::all_with(client.clone(), &FederatedKind::User.member());
    let found = users.get_opt(name).await.unwrap()?;
    Some(serde_json::to_value(found).unwrap())
}

/// The two hosts and the member, with user `name` made on both hosts with different emails;
/// and what keeps a sandbox fleet running.
async fn fleet(
    name: &str,
) -> (
    Vec<GroupHost>,
    kube::Client,
    Option<(tempfile::TempDir, DemoFleet)>,
) {
    if let Some(dir) = std::env::var_os("TANDEM_REAL_RIG").map(std::path::PathBuf::from) {
        eprintln!("sync rounds: against the real rig in {}", dir.display());
        return real_rig(&dir, name).await;
    }
    assert_eq!(name, "xxp", "the conflicts scenario seeds xxp");
    let dir = tempfile::tempdir().unwrap();
    let fleet = start_demo_fleet(dir.path(), Scenario::Conflicts)
        .await
        .unwrap();
    let hosts = common::demo_group(&fleet).await;
    let member = common::client(common::demo_cluster(&fleet, "member")).await;
    (hosts, member, Some((dir, fleet)))
}

async fn client_from(path: &std::path::Path) -> kube::Client {
    let yaml = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&yaml).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap();
    kube::Client::try_from(config).unwrap()
}

async fn real_rig(
    dir: &std::path::Path,
    name: &str,
) -> (
    Vec<GroupHost>,
    kube::Client,
    Option<(tempfile::TempDir, DemoFleet)>,
) {
    use fleet::clusters::{Candidate, HostLink, join_cluster};
    let member_kubeconfig = std::fs::read_to_string(dir.join("member-front.kubeconfig"))
        .or_else(|_| std::fs::read_to_string(dir.join("member.kubeconfig")))
        .unwrap();
    let mut hosts = Vec::new();
    let mut links: Vec<HostLink> = Vec::new();
    for host in ["host", "host2"] {
        let client = client_from(&dir.join(format!("{host}.kubeconfig"))).await;
        let link = HostLink::new(host, client.clone());
        // Joined to both hosts (the second on purpose), unless it is already.
        let candidate = Candidate {
            name: "member".into(),
            kubeconfig: member_kubeconfig.clone(),
            second_host: !links.is_empty(),
            creator: Some("admin".into()),
            ..Default::default()
        };
        let clusters = Api::<fleet::kubesphere::Cluster>::all(client.clone());
        if clusters.get_opt("member").await.unwrap().is_none() {
            join_cluster(
                &link,
                &links,
                &candidate,
                std::time::SystemTime::now(),
                &mut |_| {},
                &mut |_| {},
            )
            .await
            .unwrap_or_else(|e| panic!("join to {host}: {e}"));
        }
        let users = Api::<DynamicObject>::all_with(client.clone(), &FederatedKind::User.member());
        let _ = users.delete(name, &Default::default()).await;
        common::eventually(30, async || {
            users.get_opt(name).await.unwrap().is_none().then_some(())
        })
        .await;
        let email = format!("{name}-{host}@example.com");
        let body: DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "User",
            "metadata": {"name": name},
            "spec": {"email": email, "password": "Sync-Pass-1"},
        }))
        .unwrap();
        users.create(&Default::default(), &body).await.unwrap();
        links.push(link);
        hosts.push(GroupHost {
            name: host.into(),
            client,
        });
    }
    let member = client_from(&dir.join("member.kubeconfig")).await;
    (hosts, member, None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rounds_end_the_flapping_of_a_same_name_user() {
    let name = if std::env::var_os("TANDEM_REAL_RIG").is_some() {
        format!("sync{}", now_ms() % 1_000_000)
    } else {
        "xxp".to_string()
    };
    let (hosts, member, _fleet) = fleet(&name).await;

    // Before: both hosts' kubefed write their own xxp to the member, over and over.
    let first = common::eventually(60, async || try_user(&member, &name).await).await;
    common::eventually(60, async || {
        let now = user(&member, &name).await;
        (propagated_fingerprint(&now) != propagated_fingerprint(&first)).then_some(())
    })
    .await;

    // Each host's controller hashes its plain password first: until then the object waits.
    common::eventually(60, async || {
        for host in &hosts {
            let copy = user(&host.client, &name).await;
            fleet::sync::settled(FederatedKind::User, &copy).then_some(())?;
        }
        Some(())
    })
    .await;

    // A plan says what a round would write, and writes nothing.
    let plan = sync_round(&hosts, &Default::default(), now_ms(), RoundMode::Plan).await;
    assert_eq!(plan.writes, 0);
    assert!(
        plan.planned
            .iter()
            .any(|w| w.object == format!("User {name}")),
        "{plan:?}"
    );
    assert_ne!(
        user(&hosts[0].client, &name).await["spec"]["email"],
        user(&hosts[1].client, &name).await["spec"]["email"],
        "a plan wrote"
    );

    // Rounds until one finds nothing to write.
    let started = Instant::now();
    let (mut conflicts, mut own_deletes) = (Vec::new(), std::collections::BTreeSet::new());
    loop {
        let report = sync_round(&hosts, &own_deletes, now_ms(), RoundMode::Apply).await;
        own_deletes.extend(report.deleted_uids.iter().cloned());
        assert!(report.unreachable.is_empty(), "{:?}", report.unreachable);
        conflicts.extend(report.conflicts.iter().cloned());
        if report.writes == 0 && report.deferred.is_empty() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "still writing: {report:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // One user on both hosts; the email that lost is in the conflict log.
    let (on_host, on_host2) = (
        user(&hosts[0].client, &name).await,
        user(&hosts[1].client, &name).await,
    );
    assert_eq!(replicated(&on_host), replicated(&on_host2));
    let emails: Vec<_> = conflicts
        .iter()
        .filter(|(object, c)| *object == format!("User {name}") && c.field == "/spec/email")
        .map(|(_, c)| c.superseded.value.clone())
        .collect();
    assert_eq!(emails.len(), 1, "{conflicts:?}");
    assert_ne!(emails[0].as_ref(), on_host.pointer("/spec/email"));

    // After: once the member has the one version (KubeSphere carries a user's spec, labels
    // and status to members, not its annotations), it stays: a watch sees no other.
    let content = |u: &serde_json::Value| (u["spec"].clone(), u["status"].clone());
    let settled = common::eventually(30, async || {
        let copy = user(&member, &name).await;
        (content(&copy) == content(&on_host)).then(|| propagated_fingerprint(&copy))
    })
    .await;
    let users = Api::<DynamicObject>::all_with(member.clone(), &FederatedKind::User.member());
    let mut events = watcher::watcher(
        users,
        watcher::Config::default().fields(&format!("metadata.name={name}")),
    )
    .boxed();
    let until = Instant::now() + Duration::from_secs(20);
    while Instant::now() < until {
        let left = until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, events.next()).await {
            Ok(Some(Ok(watcher::Event::Apply(u) | watcher::Event::InitApply(u)))) => {
                let fingerprint = propagated_fingerprint(&serde_json::to_value(&u).unwrap());
                assert_eq!(
                    fingerprint, settled,
                    "the member's xxp changed after the sync"
                );
            }
            Ok(Some(Ok(watcher::Event::Delete(_)))) => panic!("xxp was deleted on the member"),
            Ok(None) => panic!("the watch ended"),
            _ => {}
        }
    }
    // And a round now finds nothing to do: no ping-pong with KubeSphere's controllers.
    let quiet = sync_round(&hosts, &own_deletes, now_ms(), RoundMode::Apply).await;
    assert_eq!(quiet.writes, 0, "{quiet:?}");
}

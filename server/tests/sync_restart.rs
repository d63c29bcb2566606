//! `tandem sync apply` killed with -9 in the middle of replicating thousands of users, then
//! run again: the sync state lives in the copies' annotations, so nothing is lost or repeated.
//! (Its own test binary: its load would slow the sandbox controllers of the other sync CLI
//! test, whose final plan races them.)

mod common;

use kube::api::{Api, DynamicObject};
use sandbox::{ClusterRole, KubeSphereInstall, SandboxCluster};
use serde_json::json;

/// `tandem sync apply` killed with -9 while it replicates many users resumes from the copies
/// alone: every user reaches the other host, none is made twice (the copies made before the
/// kill keep their uids), and nothing is left to write or logged as a conflict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_killed_mid_replication_resumes_without_losing_or_repeating_a_write() {
    // A member's install: KubeSphere's CRDs without the sandbox's controller loop, which at
    // thousands of users would be most of the work (the users come with hashes already).
    let cluster = async |name: &str| {
        let cluster = SandboxCluster::start(name).await.unwrap();
        cluster
            .install_kubesphere(&KubeSphereInstall {
                role: ClusterRole::Member,
                jwt_secret: "shared".into(),
                admin_password: None,
            })
            .unwrap();
        cluster
    };
    let (one, two) = (cluster("host").await, cluster("host2").await);
    let dir = tempfile::tempdir().unwrap();
    for h in [&one, &two] {
        h.write_kubeconfig(dir.path()).unwrap();
    }
    let config = dir.path().join("tandem.yaml");
    std::fs::write(
        &config,
        "hosts:\n  - name: host\n    kubeconfig: host.kubeconfig\n  - name: host2\n    kubeconfig: host2.kubeconfig\n",
    )
    .unwrap();
    let (c1, c2) = (common::client(&one).await, common::client(&two).await);
    let users =
        |c: &kube::Client| Api::<DynamicObject>::all_with(c.clone(), &common::iam("User", "users"));
    let hash = bcrypt::hash("Many-Pass-1", 4).unwrap();
    const MANY: usize = 3000;
    for (client, range) in [(&c1, 0..MANY - 300), (&c2, MANY - 300..MANY)] {
        let mut creating = tokio::task::JoinSet::new();
        for i in range {
            let (users, hash) = (users(client), hash.clone());
            creating.spawn(async move {
                let body: DynamicObject = serde_json::from_value(json!({
                    "apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "User",
                    "metadata": {"name": format!("many-{i:04}")},
                    "spec": {"email": format!("many-{i:04}@example.com"), "password": hash},
                }))
                .unwrap();
                users.create(&Default::default(), &body).await.unwrap();
            });
            if creating.len() >= 16 {
                creating.join_next().await.unwrap().unwrap();
            }
        }
        creating.join_all().await;
    }
    let count = async |c: &kube::Client| {
        users(c)
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .len()
    };
    let before = count(&c2).await;

    let mut apply = std::process::Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(["sync", "apply", "--config"])
        .arg(&config)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed once some of host's users are on host2, not all.
    loop {
        let now = count(&c2).await;
        if now >= before + 100 {
            break;
        }
        assert!(
            apply.try_wait().unwrap().is_none(),
            "apply ended before any copy was made"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    apply.kill().unwrap(); // SIGKILL
    apply.wait().unwrap();
    let made: Vec<(String, String)> = users(&c2)
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|u| (u.metadata.name.unwrap(), u.metadata.uid.unwrap()))
        .collect();
    assert!(
        made.len() < MANY,
        "the kill came after every copy was made: nothing tested"
    );

    let (out, applied) = common::tandem_sync("apply", dir.path()).await;
    assert!(out.status.success(), "{applied}");
    for client in [&c1, &c2] {
        // admin is not there: a member's install seeds no users.
        assert_eq!(count(client).await, MANY);
    }
    let after = users(&c2).list(&Default::default()).await.unwrap().items;
    for (name, uid) in &made {
        let now = after
            .iter()
            .find(|u| u.metadata.name.as_ref() == Some(name))
            .unwrap();
        assert_eq!(
            now.metadata.uid.as_ref(),
            Some(uid),
            "{name} was made again"
        );
    }
    let (_, plan) = common::tandem_sync("plan", dir.path()).await;
    assert_eq!(plan["writes"], json!([]), "{plan}");
    assert_eq!(plan["conflicts"], json!([]), "{plan}");
    assert_eq!(applied["conflicts"], json!([]), "{applied}");
}

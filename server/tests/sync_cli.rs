//! `tandem sync plan | apply | status` against two sandbox hosts that disagree about a user:
//! the plan writes nothing and says what would change, apply makes the hosts agree (and with
//! `--turn-on` turns the consoles' sync on, as `status` then says), and a plan after it finds
//! nothing to do.

mod common;

use kube::api::{Api, DynamicObject};
use sandbox::{ClusterRole, KubeSphereInstall, SandboxCluster};
use serde_json::{Value, json};

async fn host(name: &str) -> SandboxCluster {
    let cluster = SandboxCluster::start(name).await.unwrap();
    cluster
        .install_kubesphere(&KubeSphereInstall {
            role: ClusterRole::Host,
            jwt_secret: "shared".into(),
            admin_password: None,
        })
        .unwrap();
    cluster
}

async fn email(client: &kube::Client, name: &str) -> Value {
    let users: Api<DynamicObject> = Api::all_with(client.clone(), &common::iam("User", "users"));
    users.get(name).await.unwrap().data["spec"]["email"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_then_apply_makes_two_hosts_agree() {
    let (one, two) = (host("host").await, host("host2").await);
    let dir = tempfile::tempdir().unwrap();
    for h in [&one, &two] {
        h.write_kubeconfig(dir.path()).unwrap();
    }
    std::fs::write(
        dir.path().join("tandem.yaml"),
        "hosts:\n  - name: host\n    kubeconfig: host.kubeconfig\n  - name: host2\n    kubeconfig: host2.kubeconfig\n",
    )
    .unwrap();
    let (c1, c2) = (common::client(&one).await, common::client(&two).await);
    for (client, address) in [(&c1, "dana@one.example"), (&c2, "dana@two.example")] {
        let hash = bcrypt::hash("Dana-Pass-1", 4).unwrap();
        common::create(
            client,
            "User",
            "users",
            json!({
                "apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "User",
                "metadata": {"name": "dana"},
                "spec": {"email": address, "password": hash},
            }),
        )
        .await;
    }
    // Each host's KubeSphere controller takes dana in hand first (finalizer, label, state):
    // what it writes after the apply would be a change for the next plan.
    for client in [&c1, &c2] {
        let users: Api<DynamicObject> =
            Api::all_with(client.clone(), &common::iam("User", "users"));
        let start = std::time::Instant::now();
        while users.get("dana").await.unwrap().data["status"]["state"] != "Active" {
            assert!(start.elapsed().as_secs() < 30, "dana never became Active");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    let (out, plan) = common::tandem_sync("plan", dir.path()).await;
    assert!(out.status.success(), "{plan}");
    let writes = plan["writes"].as_array().unwrap();
    assert!(
        writes
            .iter()
            .any(|w| w["object"] == "User dana" && w["write"] == "update"),
        "{plan}"
    );
    let conflicts = plan["conflicts"].as_array().unwrap();
    let fields: Vec<&str> = conflicts
        .iter()
        .filter(|c| c["object"] == "User dana")
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"/spec/email"), "{plan}");
    let password = conflicts
        .iter()
        .find(|c| c["field"] == "/spec/password")
        .expect("the two hashes differ");
    assert_eq!(
        password["kept"]["value"], "(a password hash)",
        "hashes are never shown"
    );
    // A plan writes nothing.
    assert_ne!(email(&c1, "dana").await, email(&c2, "dana").await);

    let (_, before) = common::tandem_sync("status", dir.path()).await;
    assert_eq!(before["enabled"], false, "{before}");
    let (out, applied) = common::tandem_sync("apply --turn-on", dir.path()).await;
    assert!(out.status.success(), "{applied}");
    assert_eq!(email(&c1, "dana").await, email(&c2, "dana").await);
    let (_, status) = common::tandem_sync("status", dir.path()).await;
    assert_eq!(status["enabled"], true, "{status}");
    assert_eq!(status["changed_by"][0], "tandem sync apply", "{status}");
    let (_, after) = common::tandem_sync("plan", dir.path()).await;
    assert_eq!(after["writes"], json!([]), "{after}");
    assert_eq!(after["conflicts"], json!([]), "{after}");
}

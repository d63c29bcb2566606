//! `tandem sandbox --data-dir`: state survives a restart, and a `kill -9` in the middle of
//! writes loses none that the API acknowledged.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

/// Starts `tandem sandbox` and waits until it says its clusters are up.
fn start_sandbox(dir: &Path) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(["sandbox", "--data-dir"])
        .arg(dir)
        .args(["--clusters", "durable"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("tandem binary runs");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    loop {
        let line = lines.next().expect("tandem sandbox exited early").unwrap();
        if line.contains("running") {
            break;
        }
    }
    // Keep draining so the child never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    child
}

async fn client(dir: &Path) -> Client {
    let yaml = std::fs::read_to_string(dir.join("durable.kubeconfig")).unwrap();
    let config = Config::from_custom_kubeconfig(
        Kubeconfig::from_yaml(&yaml).unwrap(),
        &KubeConfigOptions::default(),
    )
    .await
    .unwrap();
    Client::try_from(config).unwrap()
}

fn config_map(name: &str) -> ConfigMap {
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some(name.into());
    cm.data = Some([("payload".to_string(), name.repeat(4))].into());
    cm
}

fn kill_hard(mut child: Child) {
    // SIGKILL: no chance to flush anything.
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn restart_keeps_every_object_and_the_kubeconfig_keeps_working() {
    let dir = tempfile::tempdir().unwrap();
    let child = start_sandbox(dir.path());
    let api: Api<ConfigMap> = Api::namespaced(client(dir.path()).await, "default");
    let mut uids = Vec::new();
    for i in 0..30 {
        let created = api
            .create(&PostParams::default(), &config_map(&format!("keep-{i}")))
            .await
            .unwrap();
        uids.push(created.metadata.uid.unwrap());
    }
    api.delete("keep-0", &Default::default()).await.unwrap();
    kill_hard(child);

    let child = start_sandbox(dir.path());
    let api: Api<ConfigMap> = Api::namespaced(client(dir.path()).await, "default");
    let listed = api.list(&ListParams::default()).await.unwrap();
    let names: Vec<String> = listed
        .items
        .iter()
        .map(|c| c.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(names.len(), 29);
    assert!(!names.contains(&"keep-0".to_string()));
    let again = api.get("keep-7").await.unwrap();
    assert_eq!(again.metadata.uid.as_ref(), Some(&uids[7]));
    // resourceVersions keep growing after a restart.
    let next = api
        .create(&PostParams::default(), &config_map("after"))
        .await
        .unwrap();
    let rv = |c: &ConfigMap| {
        c.metadata
            .resource_version
            .as_ref()
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    assert!(rv(&next) > rv(&again));
    kill_hard(child);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_writes_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let child = start_sandbox(dir.path());
    let writer_client = client(dir.path()).await;
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let mut writers = Vec::new();
    for w in 0..4 {
        let api: Api<ConfigMap> = Api::namespaced(writer_client.clone(), "default");
        let acknowledged = acknowledged.clone();
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let name = format!("w{w}-{i}");
                match api.create(&PostParams::default(), &config_map(&name)).await {
                    Ok(_) => acknowledged.lock().unwrap().push(name),
                    Err(_) => return, // the server is gone
                }
            }
        }));
    }
    // Let writes flow, then kill the server in the middle of them.
    while acknowledged.lock().unwrap().len() < 200 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    kill_hard(child);
    for w in writers {
        w.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();

    let child = start_sandbox(dir.path());
    let api: Api<ConfigMap> = Api::namespaced(client(dir.path()).await, "default");
    let stored: std::collections::HashSet<String> = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|c| c.metadata.name.unwrap())
        .collect();
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|n| !stored.contains(*n))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged writes lost, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    kill_hard(child);
}

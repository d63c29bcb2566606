//! `cargo bench -p sandbox` (or `make bench`): list latency over 10,000 custom objects and GET
//! throughput, through kube-rs over HTTPS, against a persistent sandbox cluster, as Tandem
//! and its tests use it. Targets from the sandbox issue: list ≤ 200 ms, ≥ 2,000 GET/s.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use sandbox::SandboxCluster;
use serde_json::json;

const OBJECTS: usize = 10_000;
const LIST_RUNS: usize = 7;
const GET_SECONDS: u64 = 3;
const GET_CONCURRENCY: usize = 16;

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = SandboxCluster::start_persistent("bench", dir.path())
        .await
        .unwrap();
    let kubeconfig = Kubeconfig::from_yaml(&cluster.kubeconfig_yaml()).unwrap();
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap();
    let client = Client::try_from(config).unwrap();

    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "users.iam.kubesphere.io"},
        "spec": {"group": "iam.kubesphere.io", "scope": "Cluster",
            "names": {"kind": "User", "plural": "users", "singular": "user"},
            "versions": [{"name": "v1alpha2", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    });
    let crds: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
            "customresourcedefinitions",
        ),
    );
    crds.create(
        &PostParams::default(),
        &serde_json::from_value(crd).unwrap(),
    )
    .await
    .unwrap();
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("iam.kubesphere.io", "v1alpha2", "User"),
        "users",
    );
    let users: Api<DynamicObject> = Api::all_with(client.clone(), &resource);

    let started = Instant::now();
    futures_util::stream::iter(0..OBJECTS)
        .for_each_concurrent(32, |i| {
            let users = users.clone();
            let resource = resource.clone();
            async move {
                let mut user = DynamicObject::new(&format!("user-{i:05}"), &resource);
                user.metadata.labels = Some([("iam.kubesphere.io/origin".to_string(), "bench".to_string())].into());
                user.data = json!({"spec": {"email": format!("user{i}@example.com"), "lang": "en", "description": "a benchmark user with a typical amount of data"}, "status": {"state": "Active"}});
                users.create(&PostParams::default(), &user).await.unwrap();
            }
        })
        .await;
    let created = started.elapsed();
    println!(
        "created {OBJECTS} custom objects in {:.1} s ({:.0} writes/s, each on disk before it is acknowledged)",
        created.as_secs_f64(),
        OBJECTS as f64 / created.as_secs_f64()
    );

    let mut times = Vec::new();
    for _ in 0..LIST_RUNS {
        let t = Instant::now();
        let list = users.list(&ListParams::default()).await.unwrap();
        times.push(t.elapsed());
        assert_eq!(list.items.len(), OBJECTS);
    }
    times.sort();
    let median = times[LIST_RUNS / 2];
    verdict(
        &format!(
            "list {OBJECTS} objects: median {:.0} ms of {LIST_RUNS} (min {:.0} ms)",
            ms(median),
            ms(times[0])
        ),
        ms(median) <= 200.0,
        "≤ 200 ms",
    );

    let deadline = Instant::now() + Duration::from_secs(GET_SECONDS);
    let mut tasks = Vec::new();
    for t in 0..GET_CONCURRENCY {
        let users = users.clone();
        tasks.push(tokio::spawn(async move {
            let mut done = 0u64;
            while Instant::now() < deadline {
                users
                    .get(&format!(
                        "user-{:05}",
                        (t * 613 + done as usize * 7) % OBJECTS
                    ))
                    .await
                    .unwrap();
                done += 1;
            }
            done
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    let per_second = total as f64 / GET_SECONDS as f64;
    verdict(
        &format!(
            "GET throughput: {per_second:.0}/s ({GET_CONCURRENCY} concurrent clients, {GET_SECONDS} s)"
        ),
        per_second >= 2000.0,
        "≥ 2,000/s",
    );
    drop(cluster);
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn verdict(line: &str, met: bool, target: &str) {
    println!(
        "{line}  [target {target}: {}]",
        if met { "met" } else { "MISSED" }
    );
}

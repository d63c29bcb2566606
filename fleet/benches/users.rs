//! `cargo bench -p fleet --bench users` (part of `make bench`): the users page's server-side
//! work for 10,000 users, from the watch-fed cache and from a per-request list (targets from
//! the IAM issue: cache ≤ 30 ms median and ≥ 10× faster than the list), and the resident
//! memory of a process that caches 50,000 users (target ≤ 300 MB), measured in a child
//! process that holds nothing else.

use std::time::{Duration, Instant};

use fleet::iam::IamCache;
use fleet::iam::users::{UserQuery, UserSort};
use futures_util::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use sandbox::{ClusterRole, KubeSphereInstall, SandboxCluster};
use serde_json::json;

const PAGE_USERS: usize = 10_000;
const MEMORY_USERS: usize = 50_000;
const RUNS: usize = 9;
const CHILD_ENV: &str = "TANDEM_BENCH_CACHE_KUBECONFIG";

#[tokio::main]
async fn main() {
    if let Ok(path) = std::env::var(CHILD_ENV) {
        return measure_cache_memory(&path).await;
    }
    let cluster = SandboxCluster::start("bench").await.unwrap();
    // KubeSphere's objects without a host's controllers: the users are as the bench makes them.
    cluster
        .install_kubesphere(&KubeSphereInstall {
            role: ClusterRole::None,
            jwt_secret: "bench".into(),
            admin_password: None,
        })
        .unwrap();
    let client = client(&cluster.kubeconfig_yaml()).await;

    fill(&client, 0, PAGE_USERS).await;
    let cache = IamCache::start(&client);
    cache.ready().await;
    while cache.users.len() < PAGE_USERS {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A search and a sort that touch every user, as a person typing in the search box does.
    let query = UserQuery {
        search: "user-1".into(),
        sort: UserSort::LastLogin,
        descending: true,
        page: 1,
        page_size: 50,
    };
    let from_cache = median(RUNS, || {
        let cache = cache.clone();
        let query = query.clone();
        async move {
            let page = cache.user_page(&query);
            assert_eq!(page.rows.len(), 50);
        }
    })
    .await;
    let from_list = median(RUNS, || {
        let client = client.clone();
        let query = query.clone();
        async move {
            let once = IamCache::list_once(&client).await.unwrap();
            let page = once.user_page(&query);
            assert_eq!(page.rows.len(), 50);
        }
    })
    .await;
    println!(
        "users page, {PAGE_USERS} users: {:.2} ms from the cache, {:.1} ms from a per-request list ({:.0}× faster; targets ≤ 30 ms and ≥ 10×)",
        ms(from_cache),
        ms(from_list),
        from_list.as_secs_f64() / from_cache.as_secs_f64()
    );

    fill(&client, PAGE_USERS, MEMORY_USERS).await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = cluster.write_kubeconfig(dir.path()).unwrap();
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .env(CHILD_ENV, &kubeconfig)
        .output()
        .expect("the bench runs itself as the caching process");
    print!("{}", String::from_utf8_lossy(&output.stdout));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The child: a process with nothing but a client and the IAM cache of one host.
async fn measure_cache_memory(kubeconfig: &str) {
    let client = client(&std::fs::read_to_string(kubeconfig).unwrap()).await;
    let before = rss_mb();
    let cache = IamCache::start(&client);
    cache.ready().await;
    while cache.users.len() < MEMORY_USERS {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after = rss_mb();
    println!(
        "resident memory with {MEMORY_USERS} users cached (users, their role bindings and FederatedUsers): {after:.0} MB ({:.0} MB for the cache; target ≤ 300 MB)",
        after - before
    );
}

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

async fn client(yaml: &str) -> Client {
    let config = Config::from_custom_kubeconfig(
        Kubeconfig::from_yaml(yaml).unwrap(),
        &KubeConfigOptions::default(),
    )
    .await
    .unwrap();
    Client::try_from(config).unwrap()
}

/// Users `from..to`, each with a platform-role binding and a FederatedUser that reached one
/// member, as on a KubeSphere host.
async fn fill(client: &Client, from: usize, to: usize) {
    let api = |group: &str, version: &str, kind: &str, plural: &str| {
        Api::<DynamicObject>::all_with(
            client.clone(),
            &ApiResource::from_gvk_with_plural(
                &GroupVersionKind::gvk(group, version, kind),
                plural,
            ),
        )
    };
    let users = api("iam.kubesphere.io", "v1alpha2", "User", "users");
    let bindings = api(
        "iam.kubesphere.io",
        "v1alpha2",
        "GlobalRoleBinding",
        "globalrolebindings",
    );
    let federated = api(
        "types.kubefed.io",
        "v1beta1",
        "FederatedUser",
        "federatedusers",
    );
    // One real bcrypt hash for all: hashing is not what is measured.
    let hash = bcrypt::hash("Bench-Pass-1", 4).unwrap();
    futures_util::stream::iter(from..to)
        .for_each_concurrent(32, |i| {
            let (users, bindings, federated, hash) =
                (users.clone(), bindings.clone(), federated.clone(), hash.clone());
            async move {
                let name = format!("user-{i}");
                let objects = [
                    (&users, json!({
                        "apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "User",
                        "metadata": {"name": name, "labels": {"kubefed.io/managed": "false"},
                            "annotations": {"iam.kubesphere.io/last-password-change-time": "2026-11-25T10:00:00Z"}},
                        "spec": {"email": format!("{name}@example.com"), "password": hash, "lang": "en"},
                        "status": {"state": "Active", "lastLoginTime": format!("2026-11-{:02}T10:00:00Z", 1 + i % 28)},
                    })),
                    (&bindings, json!({
                        "apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "GlobalRoleBinding",
                        "metadata": {"name": format!("{name}-platform-regular"), "labels": {"iam.kubesphere.io/user-ref": name}},
                        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": name}],
                        "roleRef": {"apiGroup": "iam.kubesphere.io", "kind": "GlobalRole", "name": "platform-regular"},
                    })),
                    (&federated, json!({
                        "apiVersion": "types.kubefed.io/v1beta1", "kind": "FederatedUser",
                        "metadata": {"name": name},
                        "spec": {"placement": {"clusterSelector": {}}, "template": {"spec": {"email": format!("{name}@example.com")}}},
                        "status": {"clusters": [{"name": "member"}, {"name": "host", "status": "ManagedLabelFalse"}]},
                    })),
                ];
                for (api, object) in objects {
                    let object: DynamicObject = serde_json::from_value(object).unwrap();
                    api.create(&PostParams::default(), &object).await.unwrap();
                }
            }
        })
        .await;
}

async fn median<F, Fut>(runs: usize, mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        f().await;
        times.push(started.elapsed());
    }
    times.sort();
    times[runs / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

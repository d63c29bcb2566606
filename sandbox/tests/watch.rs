//! Watches as kube-rs uses them: events, bookmarks, resuming, and 410 Gone.

mod common;

use std::time::Duration;

use common::{client_with, cluster};
use futures_util::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams, WatchEvent, WatchParams};
use sandbox::SandboxCluster;

fn config_map(name: &str, value: &str) -> ConfigMap {
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some(name.into());
    cm.data = Some([("v".to_string(), value.to_string())].into());
    cm
}

async fn next_event<S>(stream: &mut S) -> WatchEvent<ConfigMap>
where
    S: futures_util::Stream<Item = Result<WatchEvent<ConfigMap>, kube::Error>> + Unpin,
{
    tokio::time::timeout(Duration::from_secs(10), stream.try_next())
        .await
        .expect("no watch event within 10 s")
        .unwrap()
        .expect("watch ended")
}

#[tokio::test]
async fn watch_sees_changes_and_bookmarks() {
    let (_c, client) = cluster().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let start = api
        .create(&PostParams::default(), &config_map("w", "1"))
        .await
        .unwrap();
    let rv = start.metadata.resource_version.clone().unwrap();
    let mut stream = api
        .watch(&WatchParams::default(), &rv)
        .await
        .unwrap()
        .boxed();

    let mut changed = start.clone();
    changed.data = Some([("v".to_string(), "2".to_string())].into());
    api.replace("w", &PostParams::default(), &changed)
        .await
        .unwrap();
    match next_event(&mut stream).await {
        WatchEvent::Modified(cm) => assert_eq!(cm.data.unwrap()["v"], "2"),
        other => panic!("expected MODIFIED, got {other:?}"),
    }
    api.create(&PostParams::default(), &config_map("x", "1"))
        .await
        .unwrap();
    assert!(matches!(
        next_event(&mut stream).await,
        WatchEvent::Added(_)
    ));
    api.delete("x", &Default::default()).await.unwrap();
    assert!(matches!(
        next_event(&mut stream).await,
        WatchEvent::Deleted(_)
    ));
    match next_event(&mut stream).await {
        WatchEvent::Bookmark(b) => assert!(!b.metadata.resource_version.is_empty()),
        other => panic!("expected a BOOKMARK while idle, got {other:?}"),
    }
}

#[tokio::test]
async fn watch_resumes_from_a_resource_version() {
    let (_c, client) = cluster().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let first = api
        .create(&PostParams::default(), &config_map("a", "1"))
        .await
        .unwrap();
    api.create(&PostParams::default(), &config_map("b", "1"))
        .await
        .unwrap();
    api.create(&PostParams::default(), &config_map("c", "1"))
        .await
        .unwrap();
    let rv = first.metadata.resource_version.unwrap();
    let mut stream = api
        .watch(&WatchParams::default(), &rv)
        .await
        .unwrap()
        .boxed();
    for expected in ["b", "c"] {
        match next_event(&mut stream).await {
            WatchEvent::Added(cm) => assert_eq!(cm.metadata.name.as_deref(), Some(expected)),
            other => panic!("expected ADDED {expected}, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_too_old_resource_version_gets_410() {
    let cluster = SandboxCluster::start_with_watch_history("short", 5)
        .await
        .unwrap();
    let client = client_with(&cluster.kubeconfig_yaml()).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let first = api
        .create(&PostParams::default(), &config_map("o0", "1"))
        .await
        .unwrap();
    for i in 1..10 {
        api.create(&PostParams::default(), &config_map(&format!("o{i}"), "1"))
            .await
            .unwrap();
    }
    let rv = first.metadata.resource_version.unwrap();
    let mut stream = api
        .watch(&WatchParams::default(), &rv)
        .await
        .unwrap()
        .boxed();
    match next_event(&mut stream).await {
        WatchEvent::Error(status) => {
            assert_eq!(status.code, 410);
            assert_eq!(status.reason, "Expired");
        }
        other => panic!("expected a 410 ERROR event, got {other:?}"),
    }
}

#[tokio::test]
async fn kube_runtime_watcher_follows_the_cluster() {
    use kube::runtime::{WatchStreamExt, watcher};
    let (_c, client) = cluster().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    api.create(&PostParams::default(), &config_map("before", "1"))
        .await
        .unwrap();
    let mut objects = watcher::watcher(api.clone(), watcher::Config::default())
        .applied_objects()
        .boxed();
    let first = tokio::time::timeout(Duration::from_secs(10), objects.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first.metadata.name.as_deref(), Some("before"));
    api.create(&PostParams::default(), &config_map("after", "1"))
        .await
        .unwrap();
    let second = tokio::time::timeout(Duration::from_secs(10), objects.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(second.metadata.name.as_deref(), Some("after"));
}

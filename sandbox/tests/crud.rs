//! CRUD, conflicts, selectors, paging and finalizers through kube-rs, as against a real cluster.

mod common;

use std::collections::BTreeMap;

use common::{cluster, status_code};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};

fn config_map(name: &str, labels: &[(&str, &str)]) -> ConfigMap {
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some(name.into());
    cm.metadata.labels = Some(
        labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    cm.data = Some(BTreeMap::from([("key".to_string(), "value".to_string())]));
    cm
}

#[tokio::test]
async fn create_get_replace_patch_delete() {
    let (_c, client) = cluster().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let created = api
        .create(&PostParams::default(), &config_map("settings", &[]))
        .await
        .unwrap();
    let meta = &created.metadata;
    assert!(meta.uid.as_ref().is_some_and(|u| u.len() == 36));
    assert!(meta.creation_timestamp.is_some());
    assert_eq!(meta.namespace.as_deref(), Some("default"));
    let rv1: u64 = meta.resource_version.as_ref().unwrap().parse().unwrap();

    let mut fetched = api.get("settings").await.unwrap();
    assert_eq!(fetched.metadata.uid, created.metadata.uid);
    fetched
        .data
        .as_mut()
        .unwrap()
        .insert("key".into(), "changed".into());
    let replaced = api
        .replace("settings", &PostParams::default(), &fetched)
        .await
        .unwrap();
    let rv2: u64 = replaced
        .metadata
        .resource_version
        .as_ref()
        .unwrap()
        .parse()
        .unwrap();
    assert!(rv2 > rv1);

    let patch = serde_json::json!({"data": {"other": "x"}});
    let patched = api
        .patch("settings", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let data = patched.data.unwrap();
    assert_eq!(data["key"], "changed");
    assert_eq!(data["other"], "x");

    api.delete("settings", &DeleteParams::default())
        .await
        .unwrap();
    assert_eq!(status_code(api.get("settings").await.unwrap_err()), 404);
}

#[tokio::test]
async fn stale_update_and_duplicate_create_get_409() {
    let (_c, client) = cluster().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let first = api
        .create(&PostParams::default(), &config_map("a", &[]))
        .await
        .unwrap();
    assert_eq!(
        status_code(
            api.create(&PostParams::default(), &config_map("a", &[]))
                .await
                .unwrap_err()
        ),
        409
    );
    let mut newer = first.clone();
    newer.data = Some(BTreeMap::from([("k".into(), "1".into())]));
    api.replace("a", &PostParams::default(), &newer)
        .await
        .unwrap();
    // `first` still carries the old resourceVersion.
    let err = api
        .replace("a", &PostParams::default(), &first)
        .await
        .unwrap_err();
    match err {
        kube::Error::Api(status) => {
            assert_eq!(status.code, 409);
            assert_eq!(status.reason, "Conflict");
            assert!(
                status.message.contains("has been modified"),
                "{}",
                status.message
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn generate_name_and_missing_namespace() {
    let (_c, client) = cluster().await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let mut cm = ConfigMap::default();
    cm.metadata.generate_name = Some("gen-".into());
    let created = api.create(&PostParams::default(), &cm).await.unwrap();
    assert!(created.metadata.name.unwrap().starts_with("gen-"));
    let nowhere: Api<ConfigMap> = Api::namespaced(client, "no-such-ns");
    assert_eq!(
        status_code(
            nowhere
                .create(&PostParams::default(), &config_map("x", &[]))
                .await
                .unwrap_err()
        ),
        404
    );
}

#[tokio::test]
async fn label_and_field_selectors() {
    let (_c, client) = cluster().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    for (name, tier, env) in [
        ("a", "front", "prod"),
        ("b", "back", "prod"),
        ("c", "front", "dev"),
        ("d", "db", "test"),
    ] {
        api.create(
            &PostParams::default(),
            &config_map(name, &[("tier", tier), ("env", env)]),
        )
        .await
        .unwrap();
    }
    api.create(&PostParams::default(), &config_map("plain", &[]))
        .await
        .unwrap();
    let names = |list: kube::core::ObjectList<ConfigMap>| -> Vec<String> {
        list.items
            .into_iter()
            .map(|c| c.metadata.name.unwrap())
            .collect()
    };
    let cases = [
        ("tier=front", vec!["a", "c"]),
        ("tier==front,env=prod", vec!["a"]),
        ("tier!=front", vec!["b", "d", "plain"]),
        ("env in (prod,test)", vec!["a", "b", "d"]),
        ("env notin (prod)", vec!["c", "d", "plain"]),
        ("tier", vec!["a", "b", "c", "d"]),
        ("!tier", vec!["plain"]),
    ];
    for (selector, expected) in cases {
        let got = names(
            api.list(&ListParams::default().labels(selector))
                .await
                .unwrap(),
        );
        assert_eq!(got, expected, "labelSelector {selector}");
    }
    let got = names(
        api.list(&ListParams::default().fields("metadata.name=b"))
            .await
            .unwrap(),
    );
    assert_eq!(got, ["b"]);
    let got = names(
        api.list(&ListParams::default().fields("metadata.name!=b,metadata.namespace=default"))
            .await
            .unwrap(),
    );
    assert_eq!(got, ["a", "c", "d", "plain"]);
    assert_eq!(
        status_code(
            api.list(&ListParams::default().labels("tier in (a"))
                .await
                .unwrap_err()
        ),
        400
    );
    assert_eq!(
        status_code(
            api.list(&ListParams::default().fields("data.key=1"))
                .await
                .unwrap_err()
        ),
        400
    );
}

#[tokio::test]
async fn limit_and_continue_page_through_everything_once() {
    let (_c, client) = cluster().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    for i in 0..25 {
        api.create(
            &PostParams::default(),
            &config_map(&format!("cm-{i:02}"), &[]),
        )
        .await
        .unwrap();
    }
    let mut seen = Vec::new();
    let mut params = ListParams::default().limit(10);
    let mut pages = 0;
    loop {
        let page = api.list(&params).await.unwrap();
        pages += 1;
        seen.extend(page.items.into_iter().map(|c| c.metadata.name.unwrap()));
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => {
                assert!(page.metadata.remaining_item_count.unwrap() > 0);
                params = params.continue_token(&token);
            }
            _ => break,
        }
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (0..25).map(|i| format!("cm-{i:02}")).collect();
    assert_eq!(seen, expected);
    let bad = ListParams::default()
        .limit(10)
        .continue_token("not-a-token");
    assert_eq!(status_code(api.list(&bad).await.unwrap_err()), 400);
}

#[tokio::test]
async fn finalizers_hold_deletion_until_removed() {
    let (_c, client) = cluster().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let mut cm = config_map("held", &[]);
    cm.metadata.finalizers = Some(vec!["kubefed.io/sync-controller".into()]);
    api.create(&PostParams::default(), &cm).await.unwrap();
    api.delete("held", &DeleteParams::default()).await.unwrap();
    let marked = api.get("held").await.unwrap();
    assert!(marked.metadata.deletion_timestamp.is_some());
    // Adding a finalizer to an object being deleted is refused, as kube-apiserver does.
    let add =
        serde_json::json!({"metadata": {"finalizers": ["kubefed.io/sync-controller", "other"]}});
    assert_eq!(
        status_code(
            api.patch("held", &PatchParams::default(), &Patch::Merge(&add))
                .await
                .unwrap_err()
        ),
        422
    );
    let clear = serde_json::json!({"metadata": {"finalizers": null}});
    api.patch("held", &PatchParams::default(), &Patch::Merge(&clear))
        .await
        .unwrap();
    assert_eq!(status_code(api.get("held").await.unwrap_err()), 404);
}

#[tokio::test]
async fn deleting_a_namespace_deletes_its_contents() {
    let (_c, client) = cluster().await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let mut ns = Namespace::default();
    ns.metadata.name = Some("team".into());
    let created = namespaces
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
    assert_eq!(created.status.unwrap().phase.as_deref(), Some("Active"));
    let api: Api<ConfigMap> = Api::namespaced(client, "team");
    api.create(&PostParams::default(), &config_map("inside", &[]))
        .await
        .unwrap();
    namespaces
        .delete("team", &DeleteParams::default())
        .await
        .unwrap();
    assert_eq!(status_code(namespaces.get("team").await.unwrap_err()), 404);
    assert_eq!(status_code(api.get("inside").await.unwrap_err()), 404);
    let defaults: Vec<String> = namespaces
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|n| n.metadata.name.unwrap())
        .collect();
    assert_eq!(
        defaults,
        ["default", "kube-node-lease", "kube-public", "kube-system"]
    );
}

/// ConfigMap `owner`, and `dependent` owned by it (blocking its deletion) with `finalizers`.
async fn owner_and_dependent(api: &Api<ConfigMap>, finalizers: &[&str]) {
    let owner = api
        .create(&PostParams::default(), &config_map("owner", &[]))
        .await
        .unwrap();
    let mut dependent = config_map("dependent", &[]);
    dependent.metadata.finalizers =
        (!finalizers.is_empty()).then(|| finalizers.iter().map(|f| f.to_string()).collect());
    dependent.metadata.owner_references = Some(vec![
        k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            name: "owner".into(),
            uid: owner.metadata.uid.unwrap(),
            block_owner_deletion: Some(true),
            ..Default::default()
        },
    ]);
    api.create(&PostParams::default(), &dependent)
        .await
        .unwrap();
}

#[tokio::test]
async fn owned_objects_are_garbage_collected() {
    let (_c, client) = cluster().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    owner_and_dependent(&api, &[]).await;
    api.create(&PostParams::default(), &config_map("unrelated", &[]))
        .await
        .unwrap();
    api.delete("owner", &DeleteParams::default()).await.unwrap();
    assert_eq!(status_code(api.get("dependent").await.unwrap_err()), 404);
    api.get("unrelated").await.unwrap();
}

/// `propagationPolicy: Foreground`: the owner stays, deleting, until its last dependent is
/// gone (a dependent held by a finalizer holds the owner too), then goes by itself.
#[tokio::test]
async fn foreground_deletion_removes_the_owner_last() {
    let (_c, client) = cluster().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    owner_and_dependent(&api, &["example.com/hold"]).await;
    api.delete("owner", &DeleteParams::foreground())
        .await
        .unwrap();
    let waiting = api.get("owner").await.unwrap();
    assert!(waiting.metadata.deletion_timestamp.is_some());
    assert_eq!(
        waiting.metadata.finalizers,
        Some(vec!["foregroundDeletion".to_string()])
    );
    let held = api.get("dependent").await.unwrap();
    assert!(
        held.metadata.deletion_timestamp.is_some(),
        "the dependent is deleted first"
    );

    api.patch(
        "dependent",
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    assert_eq!(status_code(api.get("dependent").await.unwrap_err()), 404);
    assert_eq!(status_code(api.get("owner").await.unwrap_err()), 404);

    // Without dependents, a foreground delete is an ordinary one.
    api.create(&PostParams::default(), &config_map("alone", &[]))
        .await
        .unwrap();
    api.delete("alone", &DeleteParams::foreground())
        .await
        .unwrap();
    assert_eq!(status_code(api.get("alone").await.unwrap_err()), 404);
}

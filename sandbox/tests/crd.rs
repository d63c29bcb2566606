//! A CRD makes its kind servable at once, namespaced or cluster-scoped, with its status
//! subresource; deleting the CRD takes its objects with it.

mod common;

use common::{cluster, status_code};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use kube::discovery::Discovery;
use serde_json::json;

fn crd(scope: &str) -> CustomResourceDefinition {
    serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.tandem.io"},
        "spec": {
            "group": "example.tandem.io",
            "scope": scope,
            "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "shortNames": ["wg"]},
            "versions": [{
                "name": "v1alpha1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
                "subresources": {"status": {}}
            }]
        }
    }))
    .unwrap()
}

fn widget_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("example.tandem.io", "v1alpha1", "Widget"),
        "widgets",
    )
}

fn widget(name: &str, size: i64) -> DynamicObject {
    let mut obj = DynamicObject::new(name, &widget_resource());
    obj.data = json!({"spec": {"size": size}, "status": {"ready": true}});
    obj
}

#[tokio::test]
async fn namespaced_custom_resources_with_status() {
    let (_c, client) = cluster().await;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let created = crds
        .create(&PostParams::default(), &crd("Namespaced"))
        .await
        .unwrap();
    let established = created
        .status
        .unwrap()
        .conditions
        .unwrap()
        .iter()
        .any(|c| c.type_ == "Established" && c.status == "True");
    assert!(established);

    let discovery = Discovery::new(client.clone()).run().await.unwrap();
    assert!(discovery.groups().any(|g| g.name() == "example.tandem.io"));

    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), "default", &widget_resource());
    let w = api
        .create(&PostParams::default(), &widget("w1", 3))
        .await
        .unwrap();
    // Status is not taken from a create when the status subresource exists.
    assert!(w.data.get("status").is_none());
    assert_eq!(w.metadata.generation, Some(1));

    let status = json!({"status": {"ready": true, "observedGeneration": 1}});
    let with_status = api
        .patch_status("w1", &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap();
    assert_eq!(with_status.data["status"]["ready"], true);
    assert_eq!(
        with_status.metadata.generation,
        Some(1),
        "a status change is not a spec change"
    );

    let spec = json!({"spec": {"size": 5}, "status": {"ready": false}});
    let changed = api
        .patch("w1", &PatchParams::default(), &Patch::Merge(&spec))
        .await
        .unwrap();
    assert_eq!(changed.data["spec"]["size"], 5);
    assert_eq!(
        changed.data["status"]["ready"], true,
        "the main resource ignores status"
    );
    assert_eq!(changed.metadata.generation, Some(2));

    let ssa = PatchParams::apply("tandem-test");
    let applied = api
        .patch("w2", &ssa, &Patch::Apply(&widget("w2", 7)))
        .await
        .unwrap();
    assert_eq!(applied.data["spec"]["size"], 7);
    assert_eq!(api.list(&Default::default()).await.unwrap().items.len(), 2);

    crds.delete("widgets.example.tandem.io", &DeleteParams::default())
        .await
        .unwrap();
    assert_eq!(status_code(api.get("w1").await.unwrap_err()), 404);
}

#[tokio::test]
async fn cluster_scoped_custom_resources() {
    let (_c, client) = cluster().await;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.create(&PostParams::default(), &crd("Cluster"))
        .await
        .unwrap();
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &widget_resource());
    api.create(&PostParams::default(), &widget("global", 1))
        .await
        .unwrap();
    assert_eq!(api.get("global").await.unwrap().metadata.namespace, None);
    let namespaced: Api<DynamicObject> =
        Api::namespaced_with(client, "default", &widget_resource());
    assert_eq!(
        status_code(namespaced.get("global").await.unwrap_err()),
        404
    );
}

#[tokio::test]
async fn an_invalid_crd_is_refused_with_422() {
    let (_c, client) = cluster().await;
    let crds: Api<CustomResourceDefinition> = Api::all(client);
    let mut bad = crd("Namespaced");
    bad.metadata.name = Some("wrong.example.tandem.io".into());
    assert_eq!(
        status_code(crds.create(&PostParams::default(), &bad).await.unwrap_err()),
        422
    );
}

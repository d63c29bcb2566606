//! apps/v1 Deployments and policy/v1 PodDisruptionBudgets, as `kubectl apply --dry-run=server`
//! of Tandem's manifests (deploy/) uses them: served in discovery, created, validated, and a
//! dry run stores nothing.

mod common;

use common::{cluster, status_code};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::discovery::Discovery;
use serde_json::{Value, json};

fn deployment(name: &str, selected: &str) -> Deployment {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": selected}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}
            }
        }
    }))
    .unwrap()
}

fn budget(name: &str) -> PodDisruptionBudget {
    serde_json::from_value(json!({
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": name}}}
    }))
    .unwrap()
}

fn dry_run() -> PostParams {
    PostParams {
        dry_run: true,
        ..Default::default()
    }
}

#[tokio::test]
async fn deployments_and_disruption_budgets_are_discovered() {
    let (_c, client) = cluster().await;
    let discovery = Discovery::new(client).run().await.unwrap();
    let find = |group: &str, plural: &str| {
        discovery
            .groups()
            .filter(|g| g.name() == group)
            .flat_map(|g| g.recommended_resources())
            .find(|(r, _)| r.plural == plural)
            .map(|(r, caps)| (r.kind, caps.scope))
    };
    assert_eq!(
        find("apps", "deployments"),
        Some(("Deployment".into(), kube::discovery::Scope::Namespaced))
    );
    assert_eq!(
        find("policy", "poddisruptionbudgets"),
        Some((
            "PodDisruptionBudget".into(),
            kube::discovery::Scope::Namespaced
        ))
    );
}

#[tokio::test]
async fn a_deployment_is_created_and_a_dry_run_stores_nothing() {
    let (_c, client) = cluster().await;
    let api: Api<Deployment> = Api::namespaced(client, "default");

    let answered = api
        .create(&dry_run(), &deployment("dry", "dry"))
        .await
        .unwrap();
    assert_eq!(answered.metadata.name.as_deref(), Some("dry"));
    assert!(api.get_opt("dry").await.unwrap().is_none());
    assert!(
        api.list(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );

    let created = api
        .create(&PostParams::default(), &deployment("web", "web"))
        .await
        .unwrap();
    assert_eq!(created.spec.unwrap().replicas, Some(2));
    // A dry-run change answers the changed object and leaves the stored one as it was.
    let scaled = api
        .patch(
            "web",
            &PatchParams {
                dry_run: true,
                ..Default::default()
            },
            &Patch::Merge(json!({"spec": {"replicas": 5}})),
        )
        .await
        .unwrap();
    assert_eq!(scaled.spec.unwrap().replicas, Some(5));
    let stored = api.get("web").await.unwrap();
    assert_eq!(stored.spec.unwrap().replicas, Some(2));
}

#[tokio::test]
async fn a_deployment_that_selects_other_pods_is_invalid_even_in_a_dry_run() {
    let (_c, client) = cluster().await;
    let api: Api<Deployment> = Api::namespaced(client, "default");
    let err = api
        .create(&dry_run(), &deployment("web", "api"))
        .await
        .unwrap_err();
    match err {
        kube::Error::Api(status) => {
            assert_eq!(status.code, 422);
            assert!(
                status
                    .message
                    .contains("`selector` does not match template `labels`"),
                "{}",
                status.message
            );
        }
        other => panic!("expected 422, got {other:?}"),
    }
}

#[tokio::test]
async fn a_disruption_budget_is_created_and_a_dry_run_stores_nothing() {
    let (_c, client) = cluster().await;
    let api: Api<PodDisruptionBudget> = Api::namespaced(client, "default");
    api.create(&dry_run(), &budget("dry")).await.unwrap();
    assert!(api.get_opt("dry").await.unwrap().is_none());
    api.create(&PostParams::default(), &budget("web"))
        .await
        .unwrap();
    assert!(api.get_opt("web").await.unwrap().is_some());
    let mut both = budget("both");
    both.spec.as_mut().unwrap().max_unavailable =
        Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(1));
    assert_eq!(
        status_code(api.create(&dry_run(), &both).await.unwrap_err()),
        422
    );
}

/// kubectl's default `--validate=strict`: a field the Go type lacks is a 400 naming it.
#[tokio::test]
async fn an_unknown_field_of_a_builtin_kind_is_refused_when_strict() {
    let (_c, client) = cluster().await;
    let mut body = serde_json::to_value(deployment("web", "web")).unwrap();
    body["spec"]["template"]["spec"]["containers"][0]["imagePullPolice"] = json!("Always");
    let request = |validation: &str| {
        http::Request::post(format!(
            "/apis/apps/v1/namespaces/default/deployments?dryRun=All&fieldValidation={validation}"
        ))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body).unwrap())
        .unwrap()
    };
    let refused = client
        .request::<Value>(request("Strict"))
        .await
        .unwrap_err();
    match refused {
        kube::Error::Api(status) => {
            assert_eq!(status.code, 400);
            assert!(
                status
                    .message
                    .contains("unknown field \"spec.template.spec.containers[0].imagePullPolice\""),
                "{}",
                status.message
            );
        }
        other => panic!("expected 400, got {other:?}"),
    }
    // Ignored: the field is dropped, as decoding into the Go type drops it.
    let answered = client.request::<Value>(request("Ignore")).await.unwrap();
    assert!(answered["spec"]["template"]["spec"]["containers"][0]["imagePullPolice"].is_null());
}

/// Events are checked as kube-apiserver checks them: one about a cluster-scoped object (a
/// KubeSphere User) belongs in `default`, not beside the reporter's other records.
#[tokio::test]
async fn an_event_about_a_cluster_scoped_object_lives_in_default() {
    use k8s_openapi::api::core::v1::Event;
    let (_cluster, client) = cluster().await;
    let event = |name: &str| -> Event {
        serde_json::from_value(json!({
            "metadata": {"name": name},
            "involvedObject": {"apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "User", "name": "alice"},
            "reason": "UserDeleted", "action": "UserDeleted", "type": "Normal",
            "message": "admin deleted user alice",
            "eventTime": "2026-12-03T10:00:00.000000Z",
            "reportingComponent": "tandem", "reportingInstance": "tandem-1",
        }))
        .unwrap()
    };
    let in_default: Api<Event> = Api::namespaced(client.clone(), "default");
    in_default
        .create(&PostParams::default(), &event("tandem.1"))
        .await
        .unwrap();
    let elsewhere: Api<Event> = Api::namespaced(client, "kube-public");
    let refused = elsewhere
        .create(&PostParams::default(), &event("tandem.2"))
        .await
        .unwrap_err();
    assert_eq!(status_code(refused), 422);
}

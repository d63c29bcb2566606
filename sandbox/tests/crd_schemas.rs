//! KubeSphere's and kubefed's objects are held to their real CRDs' schemas: unknown fields
//! are pruned (and named in a `Warning`, or refused under `fieldValidation=Strict`), and what
//! the real CRD's validation refuses is a 422 naming every broken rule.

mod common;

use common::kubesphere_host as host;
use kube::Client;
use serde_json::{Value, json};

struct Answer {
    code: u16,
    warnings: Vec<String>,
    body: Value,
}

async fn send(
    client: &Client,
    method: &str,
    path: &str,
    content_type: &str,
    body: &Value,
) -> Answer {
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", content_type)
        .body(kube::client::Body::from(body.to_string().into_bytes()))
        .unwrap();
    let response = client.send(request).await.unwrap();
    let code = response.status().as_u16();
    let warnings = response
        .headers()
        .get_all("warning")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    Answer {
        code,
        warnings,
        body: serde_json::from_slice(&bytes).unwrap(),
    }
}

const USERS: &str = "/apis/iam.kubesphere.io/v1alpha2/users";

fn user(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "User", "metadata": {"name": name}, "spec": spec})
}

fn causes(answer: &Answer) -> Vec<(String, String)> {
    answer.body["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["field"].as_str().unwrap().to_string(),
                c["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_user_is_refused_as_its_real_crd_refuses_it() {
    let (_host, client) = host().await;
    let post = |body: Value| {
        let client = client.clone();
        async move { send(&client, "POST", USERS, "application/json", &body).await }
    };

    let no_email = post(user("bob", json!({"password": "Passw0rd-ok"}))).await;
    assert_eq!(no_email.code, 422, "{}", no_email.body);
    assert_eq!(
        no_email.body["message"],
        "User.iam.kubesphere.io \"bob\" is invalid: spec.email: Required value"
    );

    // KubeSphere's password rule: 8 to 64 characters, a lower-case letter, an upper-case
    // letter and a digit (or a bcrypt hash). Both broken rules are listed.
    let weak = post(user(
        "bob",
        json!({"email": "bob@example.com", "password": "weak"}),
    ))
    .await;
    assert_eq!(weak.code, 422);
    assert_eq!(
        causes(&weak),
        [
            ("spec.password".into(), "FieldValueInvalid".into()),
            ("spec.password".into(), "FieldValueInvalid".into())
        ]
    );
    let message = weak.body["message"].as_str().unwrap();
    assert!(
        message.contains("should be at least 8 chars long"),
        "{message}"
    );
    assert!(message.contains("in body should match"), "{message}");

    let mistyped = post(user("bob", json!({"email": 7}))).await;
    assert_eq!(
        causes(&mistyped),
        [("spec.email".into(), "FieldValueTypeInvalid".into())]
    );

    let hashed = format!("$2a$10${}", "a".repeat(53));
    assert_eq!(hashed.len(), 60);
    let created = post(user(
        "bob",
        json!({"email": "bob@example.com", "password": hashed}),
    ))
    .await;
    assert_eq!(
        created.code, 201,
        "a bcrypt hash passes the rule: {}",
        created.body
    );

    let late = send(
        &client,
        "PATCH",
        &format!("{USERS}/bob"),
        "application/merge-patch+json",
        &json!({"status": {"lastLoginTime": "yesterday"}}),
    )
    .await;
    assert_eq!(
        causes(&late),
        [("status.lastLoginTime".into(), "FieldValueInvalid".into())]
    );
}

#[tokio::test]
async fn unknown_fields_are_pruned_and_named() {
    let (_host, client) = host().await;
    let body = user(
        "carol",
        json!({"email": "carol@example.com", "nickname": "caz", "groups": ["ops"]}),
    );
    let mut with_meta = body.clone();
    with_meta["metadata"]["colour"] = json!("red");
    let created = send(&client, "POST", USERS, "application/json", &with_meta).await;
    assert_eq!(created.code, 201, "{}", created.body);
    assert_eq!(
        created.warnings,
        [
            r#"299 - "unknown field \"metadata.colour\"""#,
            r#"299 - "unknown field \"spec.nickname\"""#
        ]
    );
    assert_eq!(
        created.body["spec"],
        json!({"email": "carol@example.com", "groups": ["ops"]})
    );
    assert!(created.body["metadata"].get("colour").is_none());

    // kubectl's default: the write is refused and nothing changes.
    let strict = send(
        &client,
        "PUT",
        &format!("{USERS}/carol?fieldValidation=Strict"),
        "application/json",
        &body,
    )
    .await;
    assert_eq!(strict.code, 400, "{}", strict.body);
    assert_eq!(
        strict.body["message"],
        "strict decoding error: unknown field \"spec.nickname\""
    );

    // A null in a field that is not nullable is dropped quietly, as kube-apiserver does.
    let nulled = send(
        &client,
        "PUT",
        &format!("{USERS}/carol"),
        "application/json",
        &user("carol", json!({"email": "carol@example.com", "lang": null})),
    )
    .await;
    assert_eq!(nulled.code, 200, "{}", nulled.body);
    assert!(nulled.warnings.is_empty());
    assert_eq!(nulled.body["spec"], json!({"email": "carol@example.com"}));
}

#[tokio::test]
async fn a_workspace_templates_template_metadata_is_pruned_as_on_a_real_cluster() {
    let (_host, client) = host().await;
    let template = json!({
        "apiVersion": "tenant.kubesphere.io/v1alpha2",
        "kind": "WorkspaceTemplate",
        "metadata": {"name": "team-a", "labels": {"kept": "yes"}},
        "spec": {
            "placement": {"clusters": [{"name": "host"}]},
            "template": {"metadata": {"labels": {"dropped": "yes"}}, "spec": {"manager": "admin"}},
        }
    });
    let created = send(
        &client,
        "POST",
        "/apis/tenant.kubesphere.io/v1alpha2/workspacetemplates",
        "application/json",
        &template,
    )
    .await;
    assert_eq!(created.code, 201, "{}", created.body);
    assert_eq!(created.body["metadata"]["labels"], json!({"kept": "yes"}));
    assert_eq!(
        created.body["spec"]["template"],
        json!({"metadata": {}, "spec": {"manager": "admin"}})
    );

    let unplaced = json!({
        "apiVersion": "tenant.kubesphere.io/v1alpha2",
        "kind": "WorkspaceTemplate",
        "metadata": {"name": "team-b"},
        "spec": {"template": {}},
    });
    let refused = send(
        &client,
        "POST",
        "/apis/tenant.kubesphere.io/v1alpha2/workspacetemplates",
        "application/json",
        &unplaced,
    )
    .await;
    assert_eq!(
        causes(&refused),
        [("spec.placement".into(), "FieldValueRequired".into())]
    );
}

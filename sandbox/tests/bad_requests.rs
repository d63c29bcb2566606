//! Bad requests get a Kubernetes `Status` error with the right code, never a crash.

mod common;

use common::cluster;
use kube::Client;

async fn send(
    client: &Client,
    method: &str,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Result<String, (u16, String)> {
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", content_type)
        .body(body)
        .unwrap();
    client.request_text(request).await.map_err(|e| match e {
        kube::Error::Api(status) => (status.code, status.reason),
        other => panic!("expected a Status error for {method} {path}, got {other:?}"),
    })
}

#[tokio::test]
async fn malformed_unknown_unsupported_and_oversized() {
    let (_c, client) = cluster().await;
    let cms = "/api/v1/namespaces/default/configmaps";
    assert_eq!(
        send(
            &client,
            "POST",
            cms,
            "application/json",
            b"{not json".to_vec()
        )
        .await
        .unwrap_err(),
        (400, "BadRequest".into())
    );
    assert_eq!(
        send(&client, "POST", cms, "application/json", b"[1,2]".to_vec())
            .await
            .unwrap_err()
            .0,
        400
    );
    assert_eq!(
        send(
            &client,
            "POST",
            "/api/v1/namespaces/default/widgets",
            "application/json",
            b"{}".to_vec()
        )
        .await
        .unwrap_err(),
        (404, "NotFound".into())
    );
    assert_eq!(
        send(
            &client,
            "GET",
            "/apis/nope.io/v1/things",
            "application/json",
            vec![]
        )
        .await
        .unwrap_err()
        .0,
        404
    );
    assert_eq!(
        send(&client, "POST", cms, "text/plain", b"{}".to_vec())
            .await
            .unwrap_err(),
        (415, "UnsupportedMediaType".into())
    );
    let kind_mismatch = br#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"}}"#.to_vec();
    assert_eq!(
        send(&client, "POST", cms, "application/json", kind_mismatch)
            .await
            .unwrap_err()
            .0,
        400
    );
    let nameless = br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{}}"#.to_vec();
    assert_eq!(
        send(&client, "POST", cms, "application/json", nameless)
            .await
            .unwrap_err(),
        (422, "Invalid".into())
    );
    let bad_name =
        br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Not_Valid"}}"#.to_vec();
    assert_eq!(
        send(&client, "POST", cms, "application/json", bad_name)
            .await
            .unwrap_err(),
        (422, "Invalid".into())
    );
    let mut huge =
        br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"x":""#
            .to_vec();
    huge.extend(std::iter::repeat_n(b'a', 4 * 1024 * 1024));
    huge.extend(br#""}}"#);
    assert_eq!(
        send(&client, "POST", cms, "application/json", huge)
            .await
            .unwrap_err(),
        (413, "RequestEntityTooLarge".into())
    );
    assert_eq!(
        send(
            &client,
            "POST",
            &format!("{cms}/x"),
            "application/json",
            b"{}".to_vec()
        )
        .await
        .unwrap_err()
        .0,
        405
    );
    // The server is still fine after all of that.
    let ok = br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fine"}}"#.to_vec();
    send(&client, "POST", cms, "application/json", ok)
        .await
        .unwrap();
}

#[tokio::test]
async fn json_patch_applies_atomically() {
    let (_c, client) = cluster().await;
    let cms = "/api/v1/namespaces/default/configmaps";
    let cm = br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"p"},"data":{"a":"1"}}"#
        .to_vec();
    send(&client, "POST", cms, "application/json", cm)
        .await
        .unwrap();
    let patch = br#"[{"op":"add","path":"/data/b","value":"2"},{"op":"replace","path":"/data/a","value":"3"}]"#.to_vec();
    let patched: serde_json::Value = serde_json::from_str(
        &send(
            &client,
            "PATCH",
            &format!("{cms}/p"),
            "application/json-patch+json",
            patch,
        )
        .await
        .unwrap(),
    )
    .unwrap();
    assert_eq!(patched["data"], serde_json::json!({"a": "3", "b": "2"}));
    let failing = br#"[{"op":"add","path":"/data/c","value":"x"},{"op":"test","path":"/data/a","value":"nope"}]"#.to_vec();
    assert_eq!(
        send(
            &client,
            "PATCH",
            &format!("{cms}/p"),
            "application/json-patch+json",
            failing
        )
        .await
        .unwrap_err()
        .0,
        422
    );
    let unchanged: serde_json::Value = serde_json::from_str(
        &send(
            &client,
            "GET",
            &format!("{cms}/p"),
            "application/json",
            vec![],
        )
        .await
        .unwrap(),
    )
    .unwrap();
    assert!(unchanged["data"].get("c").is_none());
    assert_eq!(
        send(
            &client,
            "PATCH",
            &format!("{cms}/p"),
            "application/json-patch+json",
            b"{}".to_vec()
        )
        .await
        .unwrap_err()
        .0,
        400
    );
}

/// Where a real API server is stricter than a permissive model: custom objects must name
/// their type, and KubeSphere 3.4.1's `Cluster` and `User` have no status subresource.
#[tokio::test]
async fn as_strict_as_a_real_api_server_for_kubesphere_objects() {
    let (_cluster, client) = common::kubesphere_host().await;
    let bindings = "/apis/iam.kubesphere.io/v1alpha2/globalrolebindings";
    let untyped = serde_json::json!({
        "metadata": {"name": "alice-platform-regular"},
        "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"}],
        "roleRef": {"apiGroup": "iam.kubesphere.io", "kind": "GlobalRole", "name": "platform-regular"},
    });
    assert_eq!(
        send(
            &client,
            "POST",
            bindings,
            "application/json",
            untyped.to_string().into_bytes()
        )
        .await
        .unwrap_err(),
        (400, "BadRequest".into()),
        "a custom object without apiVersion/kind"
    );
    let mut typed = untyped.clone();
    typed["apiVersion"] = "iam.kubesphere.io/v1alpha2".into();
    typed["kind"] = "GlobalRoleBinding".into();
    send(
        &client,
        "POST",
        bindings,
        "application/json",
        typed.to_string().into_bytes(),
    )
    .await
    .unwrap();
    let mut wrong = typed.clone();
    wrong["kind"] = "GlobalRole".into();
    wrong["metadata"]["name"] = "other".into();
    assert_eq!(
        send(
            &client,
            "POST",
            bindings,
            "application/json",
            wrong.to_string().into_bytes()
        )
        .await
        .unwrap_err()
        .0,
        400
    );
    // A built-in object without them takes the URL's type, as kube-apiserver does.
    send(
        &client,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        "application/json",
        br#"{"metadata": {"name": "plain"}}"#.to_vec(),
    )
    .await
    .unwrap();

    // No status subresource on Cluster and User: `/status` is not found, and status travels
    // in the object itself.
    let status = br#"{"status": {"state": "Disabled"}}"#.to_vec();
    assert_eq!(
        send(
            &client,
            "PATCH",
            "/apis/iam.kubesphere.io/v1alpha2/users/admin/status",
            "application/merge-patch+json",
            status.clone(),
        )
        .await
        .unwrap_err()
        .0,
        404
    );
    let patched = send(
        &client,
        "PATCH",
        "/apis/iam.kubesphere.io/v1alpha2/users/admin",
        "application/merge-patch+json",
        status,
    )
    .await
    .unwrap();
    assert!(patched.contains("Disabled"), "{patched}");
    assert_eq!(
        send(
            &client,
            "PATCH",
            "/apis/cluster.kubesphere.io/v1alpha1/clusters/host/status",
            "application/merge-patch+json",
            br#"{"status": {}}"#.to_vec(),
        )
        .await
        .unwrap_err()
        .0,
        404
    );
}

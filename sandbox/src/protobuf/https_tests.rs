//! The protobuf path through the sandbox's HTTPS server, as client-go's typed clients use it.

use axum::body::{Body, to_bytes};
use axum::http::header;
use k8s_pb::api::core::v1 as core;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::runtime::Unknown;
use prost::Message;
use serde_json::{Value, json};

use super::{MEDIA_TYPE, decode_body, encode};
use crate::kinds::Registry;

/// Writes and reads over HTTPS as client-go's typed clients make them.
#[tokio::test]
async fn typed_clients_create_replace_and_read_in_protobuf() {
    let cluster = crate::SandboxCluster::start("protobuf").await.unwrap();
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&cluster.kubeconfig_yaml()).unwrap();
    let options = kube::config::KubeConfigOptions::default();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .unwrap();
    let client = kube::Client::try_from(config).unwrap();
    let send = async |method: &str, path: &str, accept: &str, body: Vec<u8>| {
        let request = http::Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", MEDIA_TYPE)
            .header("accept", accept)
            .body(kube::client::Body::from(body))
            .unwrap();
        let response = client.send(request).await.unwrap();
        let status = response.status().as_u16();
        let content_type = response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_string();
        let body = to_bytes(Body::new(response.into_body()), usize::MAX)
            .await
            .unwrap();
        (status, content_type, body)
    };
    let configmaps = Registry::builtin()
        .find("", "v1", "configmaps")
        .cloned()
        .unwrap();
    let both = "application/vnd.kubernetes.protobuf, application/json";
    let object = |value: Value| encode(&value).unwrap().unwrap();

    let namespace =
        object(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "pb"}}));
    let (status, content_type, body) = send("POST", "/api/v1/namespaces", both, namespace).await;
    assert_eq!(
        (status, content_type.as_str()),
        (201, "application/json"),
        "{body:?}"
    );
    let created: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(created["status"]["phase"], "Active");

    let cms = "/api/v1/namespaces/pb/configmaps";
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"mode": "quiet"}});
    let (status, _, body) = send("POST", cms, both, object(cm)).await;
    assert_eq!(status, 201, "{body:?}");
    let mut stored: Value = serde_json::from_slice(&body).unwrap();
    stored["data"]["mode"] = json!("loud");
    let (status, content_type, body) =
        send("PUT", &format!("{cms}/c"), MEDIA_TYPE, object(stored)).await;
    assert_eq!(
        (status, content_type.as_str()),
        (200, MEDIA_TYPE),
        "{body:?}"
    );
    let replaced = decode_body(&body, &configmaps, "v1").unwrap();
    assert_eq!(replaced["data"]["mode"], "loud");

    let (status, content_type, body) = send("GET", cms, MEDIA_TYPE, vec![]).await;
    assert_eq!((status, content_type.as_str()), (200, MEDIA_TYPE));
    let unknown = Unknown::decode(&body[4..]).unwrap();
    let list = core::ConfigMapList::decode(unknown.raw.unwrap().as_slice()).unwrap();
    assert_eq!(list.items[0].data["mode"], "loud");

    let (status, content_type, body) =
        send("GET", &format!("{cms}/nope"), MEDIA_TYPE, vec![]).await;
    assert_eq!((status, content_type.as_str()), (404, MEDIA_TYPE));
    let unknown = Unknown::decode(&body[4..]).unwrap();
    let not_found = meta::Status::decode(unknown.raw.unwrap().as_slice()).unwrap();
    assert_eq!(not_found.reason.as_deref(), Some("NotFound"));

    let (status, _, _) = send("POST", cms, both, b"k8s\0\xff".to_vec()).await;
    assert_eq!(status, 400);
}

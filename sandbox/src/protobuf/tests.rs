use axum::http::HeaderMap;
use k8s_pb::api::core::v1 as core;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::runtime::{TypeMeta, Unknown};
use prost::Message;
use serde_json::{Value, json};

use super::*;
use crate::kinds::{RBAC_GROUP, Registry};

fn kind(group: &str, plural: &str) -> ResourceKind {
    Registry::builtin()
        .find(group, "v1", plural)
        .cloned()
        .unwrap()
}

/// Encodes `object` as a client would send it, decodes it as the server reads it.
fn round_trip(object: &Value, group: &str, plural: &str) -> Value {
    let bytes = encode(object).expect("has a protobuf form").unwrap();
    assert_eq!(&bytes[..4], b"k8s\0");
    decode_body(&bytes, &kind(group, plural), "v1").unwrap()
}

/// An envelope as client-go writes it, around `raw`.
fn envelope(api_version: &str, kind: &str, raw: Vec<u8>) -> Vec<u8> {
    let unknown = Unknown {
        type_meta: Some(TypeMeta {
            api_version: Some(api_version.into()),
            kind: Some(kind.into()),
        }),
        raw: Some(raw),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    };
    [b"k8s\0".as_slice(), &unknown.encode_to_vec()].concat()
}

#[test]
fn a_namespace_round_trips() {
    let namespace = json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": "team-a",
            "uid": "0b6c7e2a-0000-4000-8000-000000000001",
            "resourceVersion": "42",
            "generation": 1,
            "creationTimestamp": "2026-03-01T12:30:05Z",
            "labels": {"kubernetes.io/metadata.name": "team-a"},
            "annotations": {"note": ""},
            "managedFields": [{"manager": "kubectl", "operation": "Update", "apiVersion": "v1",
                "time": "1969-07-20T20:17:40Z", "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:labels": {".": {}}}}}]
        },
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active", "conditions": [{"type": "NamespaceDeletionContentFailure",
            "status": "False", "lastTransitionTime": "2026-03-01T12:30:05Z", "reason": "ContentDeleted"}]}
    });
    assert_eq!(round_trip(&namespace, "", "namespaces"), namespace);
}

#[test]
fn a_config_map_round_trips() {
    let config_map = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "default",
            "ownerReferences": [{"apiVersion": "v1", "kind": "Namespace", "name": "default",
                "uid": "u", "controller": false}]},
        "data": {"mode": "quiet", "empty": ""},
        "binaryData": {"blob": "AAEC/w=="},
        "immutable": false
    });
    assert_eq!(round_trip(&config_map, "", "configmaps"), config_map);
}

#[test]
fn secrets_service_accounts_services_and_rbac_round_trip() {
    let objects = [
        (
            "",
            "secrets",
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
            "type": "Opaque", "data": {"password": "c2VjcmV0"}}),
        ),
        (
            "",
            "serviceaccounts",
            json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "robot"}, "secrets": [{"name": "robot-token"}],
            "imagePullSecrets": [{"name": "registry"}], "automountServiceAccountToken": false}),
        ),
        (
            "",
            "services",
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"type": "ClusterIP", "selector": {"app": "web"}, "ports": [
                {"name": "http", "protocol": "TCP", "port": 80, "targetPort": "http"},
                {"name": "metrics", "protocol": "TCP", "port": 9090, "targetPort": 9090}]}}),
        ),
        (
            RBAC_GROUP,
            "clusterroles",
            json!({"apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole", "metadata": {"name": "reader"},
            "rules": [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]},
                {"verbs": ["get"], "nonResourceURLs": ["/healthz"]}],
            "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"agg": "true"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a"]}]}]}}),
        ),
        (
            RBAC_GROUP,
            "rolebindings",
            json!({"apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding", "metadata": {"name": "read", "namespace": "default"},
            "subjects": [{"kind": "ServiceAccount", "name": "robot", "namespace": "default"},
                {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "ada"}],
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "reader"}}),
        ),
    ];
    for (group, plural, object) in objects {
        assert_eq!(round_trip(&object, group, plural), object, "{plural}");
    }
}

#[test]
fn go_zero_values_are_left_out_as_json_leaves_them_out() {
    // client-go writes every non-pointer field, empty or not, and the zero time as an
    // empty message.
    let config_map = core::ConfigMap {
        metadata: Some(meta::ObjectMeta {
            name: Some("settings".into()),
            generate_name: Some(String::new()),
            namespace: Some(String::new()),
            generation: Some(0),
            creation_timestamp: Some(meta::Time::default()),
            ..Default::default()
        }),
        data: [("mode".to_string(), "quiet".to_string())].into(),
        ..Default::default()
    };
    let bytes = envelope("v1", "ConfigMap", config_map.encode_to_vec());
    let decoded = decode_body(&bytes, &kind("", "configmaps"), "v1").unwrap();
    assert_eq!(
        decoded,
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"},
            "data": {"mode": "quiet"}})
    );
}

#[test]
fn an_envelope_without_a_type_takes_the_url_type() {
    let namespace = core::Namespace {
        metadata: Some(meta::ObjectMeta {
            name: Some("x".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let bytes = envelope("", "", namespace.encode_to_vec());
    let decoded = decode_body(&bytes, &kind("", "namespaces"), "v1").unwrap();
    assert_eq!(decoded["kind"], "Namespace");
    assert_eq!(decoded["apiVersion"], "v1");
}

#[test]
fn malformed_bodies_are_bad_requests() {
    let namespaces = kind("", "namespaces");
    let bodies: [&[u8]; 6] = [
        b"",
        b"{\"kind\": \"Namespace\"}",
        b"k8s\0\x0a\xff\xff\xff\xff\x0f",
        // metadata longer than the body; a name sent as a number; a name not UTF-8
        &envelope("v1", "Namespace", vec![0x0a, 0x05, 0x0a]),
        &envelope("v1", "Namespace", vec![0x0a, 0x02, 0x08, 0x01]),
        &envelope("v1", "Namespace", vec![0x0a, 0x03, 0x0a, 0x01, 0xff]),
    ];
    for body in bodies {
        let err = decode_body(body, &namespaces, "v1").unwrap_err();
        assert_eq!(
            err.code,
            StatusCode::BAD_REQUEST,
            "{body:?}: {}",
            err.message
        );
    }
    // A creation time past year 9999 has no JSON form.
    let far = core::Namespace {
        metadata: Some(meta::ObjectMeta {
            creation_timestamp: Some(meta::Time {
                seconds: Some(i64::MAX),
                nanos: None,
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let err = decode_body(
        &envelope("v1", "Namespace", far.encode_to_vec()),
        &namespaces,
        "v1",
    )
    .unwrap_err();
    assert_eq!(err.code, StatusCode::BAD_REQUEST);
    assert!(
        err.message.contains("metadata.creationTimestamp"),
        "{}",
        err.message
    );
}

#[test]
fn arbitrary_bytes_never_panic() {
    let namespaces = kind("", "namespaces");
    let valid = envelope("v1", "ConfigMap", {
        let object = json!({"metadata": {"name": "a", "labels": {"b": "c"}}, "data": {"d": "e"}});
        core::ConfigMap::from_json(&object).unwrap().encode_to_vec()
    });
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for round in 0..20_000 {
        let mut body = valid.clone();
        for _ in 0..1 + round % 4 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let at = 4 + (seed as usize) % (body.len() - 4);
            body[at] = (seed >> 32) as u8;
        }
        body.truncate(4 + (seed >> 40) as usize % (body.len() - 3));
        let _ = decode_body(&body, &namespaces, "v1");
    }
}

#[test]
fn kinds_without_a_protobuf_form_are_unsupported_media_types() {
    let widget = ResourceKind {
        crd: Some("widgets.example.io".into()),
        schema: None,
        group: "example.io".into(),
        kind: "Widget".into(),
        ..kind("", "configmaps")
    };
    let body = envelope("example.io/v1", "Widget", vec![0x0a, 0x00]);
    let err = decode_body(&body, &widget, "v1").unwrap_err();
    assert_eq!(err.code, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        err.message.contains("Widget (example.io/v1)"),
        "{}",
        err.message
    );
    assert!(err.message.contains("application/json"), "{}", err.message);
    let custom = json!({"apiVersion": "example.io/v1", "kind": "Widget", "metadata": {}});
    assert!(encode(&custom).is_none());
}

#[test]
fn a_mismatched_kind_reaches_the_type_check() {
    // The envelope's type is kept, so the write path refuses a ConfigMap sent to /secrets.
    let bytes = envelope(
        "v1",
        "ConfigMap",
        core::ConfigMap::default().encode_to_vec(),
    );
    let secrets = kind("", "secrets");
    let decoded = decode_body(&bytes, &secrets, "v1").unwrap();
    let err = crate::type_meta::check(&secrets, "v1", &decoded, crate::type_meta::BodyUse::Write)
        .unwrap_err();
    assert_eq!(err.code, StatusCode::BAD_REQUEST);
}

#[test]
fn lists_status_and_delete_options_convert() {
    let list = json!({"apiVersion": "v1", "kind": "ConfigMapList",
        "metadata": {"resourceVersion": "7", "continue": "abc", "remainingItemCount": 0},
        "items": [{"metadata": {"name": "a"}, "data": {"k": "v"}}]});
    let bytes = encode(&list).unwrap().unwrap();
    let unknown = Unknown::decode(&bytes[4..]).unwrap();
    let decoded = core::ConfigMapList::decode(unknown.raw.unwrap().as_slice()).unwrap();
    assert_eq!(decoded.items[0].data["k"], "v");
    assert_eq!(decoded.metadata.unwrap().remaining_item_count, Some(0));
    let status = crate::errors::ApiError::bad_request("no").status_body();
    assert!(encode(&status).unwrap().is_ok());
    let options = meta::DeleteOptions {
        propagation_policy: Some("Foreground".into()),
        dry_run: vec!["All".into()],
        ..Default::default()
    };
    let body = envelope(
        "rbac.authorization.k8s.io/v1",
        "DeleteOptions",
        options.encode_to_vec(),
    );
    let decoded = decode_body(&body, &kind(RBAC_GROUP, "roles"), "v1").unwrap();
    assert_eq!(decoded["propagationPolicy"], "Foreground");
    assert_eq!(decoded["dryRun"], json!(["All"]));
}

#[test]
fn times_convert_both_ways() {
    for (text, seconds) in [
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59Z", -1),
        ("0001-01-01T00:00:00Z", -62_135_596_800),
        ("2026-02-28T23:00:00Z", 1_772_319_600),
    ] {
        let time = meta::Time::from_json(&json!(text)).unwrap();
        assert_eq!(time.seconds, Some(seconds), "{text}");
        assert_eq!(time.to_json().unwrap(), json!(text));
    }
    let offset = meta::Time::from_json(&json!("2026-02-28T23:30:00.5+00:30")).unwrap();
    assert_eq!(
        (offset.seconds, offset.nanos),
        (Some(1_772_319_600), Some(500_000_000))
    );
    let micro = meta::MicroTime::from_json(&json!("2026-02-28T23:00:00.123456Z")).unwrap();
    assert_eq!(
        micro.to_json().unwrap(),
        json!("2026-02-28T23:00:00.123456Z")
    );
    for bad in [
        "2026-02-28",
        "2026-13-01T00:00:00Z",
        "2026-02-28T23:00:00",
        "yesterday",
    ] {
        assert!(meta::Time::from_json(&json!(bad)).is_err(), "{bad}");
    }
}

#[test]
fn only_a_client_that_accepts_nothing_else_gets_protobuf() {
    let accepts = |value: &str| {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, value.parse().unwrap());
        wants_protobuf(&headers)
    };
    assert!(accepts("application/vnd.kubernetes.protobuf"));
    assert!(accepts("application/vnd.kubernetes.protobuf; q=1"));
    assert!(!accepts(
        "application/vnd.kubernetes.protobuf, application/json"
    ));
    assert!(!accepts(
        "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io"
    ));
    assert!(!accepts("*/*"));
    assert!(!wants_protobuf(&HeaderMap::new()));
}

#[tokio::test]
async fn responses_are_re_encoded_but_streams_are_not() {
    let object = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}});
    let response = respond(axum::Json(object.clone()).into_response()).await;
    assert_eq!(response.headers()[header::CONTENT_TYPE], MEDIA_TYPE);
    let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    let decoded = decode_body(&bytes, &kind("", "namespaces"), "v1").unwrap();
    assert_eq!(decoded, object);

    let custom = json!({"apiVersion": "example.io/v1", "kind": "Widget"});
    let response = respond(axum::Json(custom).into_response()).await;
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");

    let stream = futures_util::stream::iter([Ok::<_, std::io::Error>(object.to_string())]);
    let watch = (
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(stream),
    );
    let response = respond(watch.into_response()).await;
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
}

use serde_json::{Value, json};

use super::*;
use crate::kubesphere::crd_schemas::schema_of;

fn real(kind: &str) -> Schema {
    Schema::parse(&schema_of(kind)).unwrap()
}

#[test]
fn pruning_keeps_declared_and_preserved_fields_only() {
    let schema = Schema::parse(&json!({
        "type": "object",
        "properties": {
            "spec": {"type": "object", "properties": {
                "size": {"type": "integer"},
                "tags": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                         "properties": {"known": {"type": "object", "properties": {}}}},
                "nothing": {"type": "object"},
                "opt": {"type": "string", "nullable": true},
            }}
        }
    }))
    .unwrap();
    let mut object = json!({
        "apiVersion": "example.io/v1", "kind": "Widget",
        "metadata": {"name": "w", "labels": {"a": "b"}, "colour": "red"},
        "spec": {
            "size": 3, "extra": 1,
            "tags": [{"name": "x", "why": "?"}],
            "labels": {"any": "key"},
            "free": {"anything": {"deep": true}, "known": {"gone": 1}},
            "nothing": {"a": 1},
            "opt": null,
        },
        "status": {"phase": "Up"},
    });
    let unknown = prune(&schema, &mut object);
    assert_eq!(
        unknown,
        [
            "metadata.colour",
            "spec.extra",
            "spec.free.known.gone",
            "spec.nothing.a",
            "spec.tags[0].why",
            "status"
        ]
    );
    assert_eq!(
        object,
        json!({
            "apiVersion": "example.io/v1", "kind": "Widget",
            "metadata": {"name": "w", "labels": {"a": "b"}},
            "spec": {
                "size": 3,
                "tags": [{"name": "x"}],
                "labels": {"any": "key"},
                "free": {"anything": {"deep": true}, "known": {}},
                "nothing": {},
                "opt": null,
            },
        })
    );
}

#[test]
fn non_nullable_nulls_are_dropped_without_a_warning() {
    let mut object = json!({"spec": {"email": "a@b.c", "lang": null}});
    assert!(prune(&real("User"), &mut object).is_empty());
    assert_eq!(object, json!({"spec": {"email": "a@b.c"}}));
}

fn fields(errors: &[FieldError]) -> Vec<(&str, &str)> {
    errors
        .iter()
        .map(|e| (e.field.as_str(), e.reason))
        .collect()
}

#[test]
fn the_real_user_rules() {
    let user = real("User");
    let check = |spec: Value| validate(&user, &json!({"metadata": {"name": "u"}, "spec": spec}));
    assert!(check(json!({"email": "a@b.c", "password": "P@88w0rd"})).is_empty());
    assert!(check(json!({"email": "a@b.c", "password": "1aA-aaaa"})).is_empty());
    assert!(
        check(json!({"email": "a@b.c", "password": format!("$2a$10${}", "x".repeat(53))}))
            .is_empty()
    );
    assert_eq!(
        fields(&check(json!({"password": "P@88w0rd"}))),
        [("spec.email", "FieldValueRequired")]
    );
    let lower_only = check(json!({"email": "a@b.c", "password": "password"}));
    assert_eq!(
        fields(&lower_only),
        [("spec.password", "FieldValueInvalid")]
    );
    assert!(lower_only[0].message.contains("should match"));
    let long = check(json!({"email": "a@b.c", "password": format!("Aa1{}", "x".repeat(62))}));
    assert_eq!(fields(&long), [("spec.password", "FieldValueTooLong")]);
    assert_eq!(
        fields(&validate(&user, &json!({"metadata": {}}))),
        [("spec", "FieldValueRequired")]
    );
    let typed = check(json!({"email": ["a@b.c"], "groups": "ops"}));
    assert_eq!(
        fields(&typed),
        [
            ("spec.email", "FieldValueTypeInvalid"),
            ("spec.groups", "FieldValueTypeInvalid")
        ]
    );
    assert_eq!(
        typed[0].message,
        "Invalid value: \"array\": spec.email in body must be of type string: \"array\""
    );
}

#[test]
fn the_real_cluster_and_kubefed_rules() {
    let cluster = real("Cluster");
    let ok = json!({"spec": {"connection": {"type": "direct", "kubeconfig": "YWJj"}, "joinFederation": true},
        "status": {"conditions": [{"type": "Ready", "status": "True", "lastUpdateTime": "2026-12-03T12:00:00Z"}]}});
    assert!(validate(&cluster, &ok).is_empty());
    let bad = json!({"spec": {"connection": {"kubeconfig": "not base64!"}, "enable": "yes"},
        "status": {"conditions": [{"type": "Ready"}], "nodeCount": 1.5}});
    assert_eq!(
        fields(&validate(&cluster, &bad)),
        [
            ("spec.connection.kubeconfig", "FieldValueInvalid"),
            ("spec.enable", "FieldValueTypeInvalid"),
            ("status.conditions[0].status", "FieldValueRequired"),
            ("status.nodeCount", "FieldValueTypeInvalid"),
        ]
    );

    let federated = real("FederatedUser");
    let overridden = json!({"spec": {"template": {"anything": 1},
        "overrides": [{"clusterName": "m", "clusterOverrides": [{"op": "merge", "path": "/spec"}]}]}});
    assert_eq!(
        fields(&validate(&federated, &overridden)),
        [(
            "spec.overrides[0].clusterOverrides[0].op",
            "FieldValueInvalid"
        )]
    );
    let kfc = real("KubeFedCluster");
    assert_eq!(
        fields(&validate(
            &kfc,
            &json!({"spec": {"apiEndpoint": "https://127.0.0.1:6443"}})
        )),
        [("spec.secretRef", "FieldValueRequired")]
    );
}

#[test]
fn enums_ranges_and_int_or_string() {
    let schema = Schema::parse(&json!({"type": "object", "properties": {
        "mode": {"type": "string", "enum": ["a", "b"]},
        "count": {"type": "integer", "minimum": 1, "maximum": 3, "format": "int32"},
        "port": {"x-kubernetes-int-or-string": true},
        "list": {"type": "array", "maxItems": 1, "items": {"type": "string"}},
    }}))
    .unwrap();
    let errors = validate(
        &schema,
        &json!({"mode": "c", "count": 9, "port": true, "list": ["x", "y"]}),
    );
    assert_eq!(
        fields(&errors),
        [
            ("count", "FieldValueInvalid"),
            ("list", "FieldValueTooMany"),
            ("mode", "FieldValueNotSupported"),
            ("port", "FieldValueTypeInvalid"),
        ]
    );
    assert_eq!(
        errors[2].message,
        "Unsupported value: \"c\": supported values: \"a\", \"b\""
    );
    assert!(validate(&schema, &json!({"mode": "a", "count": 2, "port": "http"})).is_empty());
}

#[test]
fn a_schema_that_cannot_be_used_is_refused() {
    assert!(
        Schema::parse(&json!({"type": "object", "properties": {"a": {"type": "str"}}})).is_err()
    );
    assert!(Schema::parse(&json!({"type": "string", "pattern": "(unclosed"})).is_err());
}

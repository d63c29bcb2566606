//! Fuzz targets for what a sandbox cluster reads from its clients: selectors, patches of
//! every type, protobuf bodies, and custom objects against the real CRD schemas. A short run
//! is part of `make test`; `make fuzz` runs them for an hour (`crate::fuzz`).

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::fuzz::{fuzz, json as any_json};
use crate::kinds::Registry;
use crate::patch::{self, PatchType};
use crate::schema::{Schema, prune, unknown_fields, validate};
use crate::selector::{FieldSelector, LabelSelector};

/// Selector text: the characters selectors are made of, in any order.
fn selector_text() -> impl Strategy<Value = String> {
    "[a-z0-9./_=!,() -]{0,40}|(in|notin|!|=|==|!=|,| |[a-z]{1,3}|\\(|\\))*"
}

#[test]
fn fuzz_label_and_field_selectors() {
    let objects = any_json();
    fuzz("selectors", (selector_text(), objects), |(text, object)| {
        if let Ok(selector) = LabelSelector::parse(text) {
            selector.matches_object(object);
        }
        if let Ok(selector) = FieldSelector::parse(text) {
            selector.matches_object(object);
        }
        Ok(())
    });
}

#[test]
fn fuzz_patches_of_every_type() {
    let kinds = prop_oneof![Just("ConfigMap"), Just("Namespace"), Just("ClusterRole")];
    let types = prop_oneof![
        Just(PatchType::Merge),
        Just(PatchType::Json),
        Just(PatchType::StrategicMerge)
    ];
    fuzz(
        "patches",
        (types, kinds, any_json(), any_json()),
        |(patch_type, kind, target, doc)| {
            let target = json!({"metadata": {"name": "x"}, "data": target});
            match patch::apply(*patch_type, kind, &target, doc) {
                Ok(result) if !result.is_object() && *patch_type == PatchType::Merge => Err(
                    format!("a merge patch of an object gave a non-object: {result}"),
                ),
                _ => Ok(()),
            }
        },
    );
}

#[test]
fn fuzz_protobuf_bodies() {
    let kind = Registry::builtin()
        .find("", "v1", "configmaps")
        .cloned()
        .unwrap();
    let bodies = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200),
        // The envelope's magic number first, so the decoder gets past it.
        proptest::collection::vec(any::<u8>(), 0..200).prop_map(|rest| {
            let mut body = b"k8s\0".to_vec();
            body.extend(rest);
            body
        }),
    ];
    fuzz("protobuf bodies", bodies, |bytes| {
        let _ = crate::protobuf::decode_body(bytes, &kind, "v1");
        Ok(())
    });
}

#[test]
fn fuzz_custom_objects_against_the_real_schemas() {
    let kinds = prop_oneof![
        Just("User"),
        Just("Cluster"),
        Just("WorkspaceTemplate"),
        Just("GlobalRoleBinding"),
        Just("FederatedUser"),
        Just("KubeFedCluster"),
    ];
    let schemas: std::collections::HashMap<&str, Schema> = [
        "User",
        "Cluster",
        "WorkspaceTemplate",
        "GlobalRoleBinding",
        "FederatedUser",
        "KubeFedCluster",
    ]
    .into_iter()
    .map(|kind| {
        let schema = crate::kubesphere::crd_schemas::schema_of(kind);
        (
            kind,
            Schema::parse(&schema).expect("the real schemas parse"),
        )
    })
    .collect();
    fuzz("CRD schemas", (kinds, any_json()), |(kind, body)| {
        let schema = &schemas[kind];
        let mut object = json!({"apiVersion": "x/v1", "kind": kind, "metadata": {"name": "x"}});
        if let Value::Object(fields) = body {
            for (k, v) in fields {
                object[k] = v.clone();
            }
        }
        prune(schema, &mut object);
        let left = unknown_fields(schema, &object);
        if !left.is_empty() {
            return Err(format!("pruning twice finds more unknown fields: {left:?}"));
        }
        validate(schema, &object);
        Ok(())
    });
}

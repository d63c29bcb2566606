//! The JSON names of every field of the messages the sandbox reads and writes as protobuf:
//! object and list metadata, Status and DeleteOptions, and the built-in kinds it serves but
//! Node, CustomResourceDefinition, Deployment and PodDisruptionBudget (Tandem and `kubectl
//! apply` send those as JSON; a typed `kubectl create deployment` gets a 415 naming JSON).

use k8s_pb::api::core::v1 as core;
use k8s_pb::api::rbac::v1 as rbac;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;

use super::convert::{Json, as_object, put, take};

/// Implements [`Json`] for messages, each field with its JSON name.
macro_rules! message {
    ($($ty:ty { $($field:ident: $json:literal),* $(,)? })*) => {$(
        impl Json for $ty {
            fn to_json(&self) -> Result<serde_json::Value, String> {
                let mut map = serde_json::Map::new();
                $(put(&mut map, $json, self.$field.to_json())?;)*
                Ok(serde_json::Value::Object(map))
            }
            fn from_json(value: &serde_json::Value) -> Result<Self, String> {
                let _map = as_object(value)?;
                Ok(Self { $($field: take(_map, $json)?,)* })
            }
        }
    )*};
}

message! {
    meta::ObjectMeta {
        name: "name", generate_name: "generateName", namespace: "namespace",
        self_link: "selfLink", uid: "uid", resource_version: "resourceVersion",
        generation: "generation", creation_timestamp: "creationTimestamp",
        deletion_timestamp: "deletionTimestamp",
        deletion_grace_period_seconds: "deletionGracePeriodSeconds",
        labels: "labels", annotations: "annotations", owner_references: "ownerReferences",
        finalizers: "finalizers", managed_fields: "managedFields",
    }
    meta::OwnerReference {
        api_version: "apiVersion", kind: "kind", name: "name", uid: "uid",
        controller: "controller", block_owner_deletion: "blockOwnerDeletion",
    }
    meta::ManagedFieldsEntry {
        manager: "manager", operation: "operation", api_version: "apiVersion", time: "time",
        fields_type: "fieldsType", fields_v1: "fieldsV1", subresource: "subresource",
    }
    meta::ListMeta {
        self_link: "selfLink", resource_version: "resourceVersion", r#continue: "continue",
        remaining_item_count: "remainingItemCount",
    }
    meta::Status {
        metadata: "metadata", status: "status", message: "message", reason: "reason",
        details: "details", code: "code",
    }
    meta::StatusDetails {
        name: "name", group: "group", kind: "kind", uid: "uid", causes: "causes",
        retry_after_seconds: "retryAfterSeconds",
    }
    meta::StatusCause { reason: "reason", message: "message", field: "field" }
    meta::DeleteOptions {
        grace_period_seconds: "gracePeriodSeconds", preconditions: "preconditions",
        orphan_dependents: "orphanDependents", propagation_policy: "propagationPolicy",
        dry_run: "dryRun",
        ignore_store_read_error_with_cluster_breaking_potential:
            "ignoreStoreReadErrorWithClusterBreakingPotential",
    }
    meta::Preconditions { uid: "uid", resource_version: "resourceVersion" }
    meta::LabelSelector { match_labels: "matchLabels", match_expressions: "matchExpressions" }
    meta::LabelSelectorRequirement { key: "key", operator: "operator", values: "values" }
    meta::Condition {
        r#type: "type", status: "status", observed_generation: "observedGeneration",
        last_transition_time: "lastTransitionTime", reason: "reason", message: "message",
    }
}

message! {
    core::Namespace { metadata: "metadata", spec: "spec", status: "status" }
    core::NamespaceSpec { finalizers: "finalizers" }
    core::NamespaceStatus { phase: "phase", conditions: "conditions" }
    core::NamespaceCondition {
        r#type: "type", status: "status", last_transition_time: "lastTransitionTime",
        reason: "reason", message: "message",
    }
    core::ConfigMap {
        metadata: "metadata", immutable: "immutable", data: "data", binary_data: "binaryData",
    }
    core::Secret {
        metadata: "metadata", immutable: "immutable", data: "data", string_data: "stringData",
        r#type: "type",
    }
    core::ServiceAccount {
        metadata: "metadata", secrets: "secrets", image_pull_secrets: "imagePullSecrets",
        automount_service_account_token: "automountServiceAccountToken",
    }
    core::ObjectReference {
        kind: "kind", namespace: "namespace", name: "name", uid: "uid",
        api_version: "apiVersion", resource_version: "resourceVersion", field_path: "fieldPath",
    }
    core::LocalObjectReference { name: "name" }
    core::Service { metadata: "metadata", spec: "spec", status: "status" }
    core::ServiceSpec {
        ports: "ports", selector: "selector", cluster_ip: "clusterIP", cluster_ips: "clusterIPs",
        r#type: "type", external_ips: "externalIPs", session_affinity: "sessionAffinity",
        load_balancer_ip: "loadBalancerIP",
        load_balancer_source_ranges: "loadBalancerSourceRanges",
        external_name: "externalName", external_traffic_policy: "externalTrafficPolicy",
        health_check_node_port: "healthCheckNodePort",
        publish_not_ready_addresses: "publishNotReadyAddresses",
        session_affinity_config: "sessionAffinityConfig", ip_families: "ipFamilies",
        ip_family_policy: "ipFamilyPolicy",
        allocate_load_balancer_node_ports: "allocateLoadBalancerNodePorts",
        load_balancer_class: "loadBalancerClass",
        internal_traffic_policy: "internalTrafficPolicy",
        traffic_distribution: "trafficDistribution",
    }
    core::ServicePort {
        name: "name", protocol: "protocol", app_protocol: "appProtocol", port: "port",
        target_port: "targetPort", node_port: "nodePort",
    }
    core::SessionAffinityConfig { client_ip: "clientIP" }
    core::ClientIpConfig { timeout_seconds: "timeoutSeconds" }
    core::ServiceStatus { load_balancer: "loadBalancer", conditions: "conditions" }
    core::LoadBalancerStatus { ingress: "ingress" }
    core::LoadBalancerIngress { ip: "ip", hostname: "hostname", ip_mode: "ipMode", ports: "ports" }
    core::PortStatus { port: "port", protocol: "protocol", error: "error" }
    core::Event {
        metadata: "metadata", involved_object: "involvedObject", reason: "reason",
        message: "message", source: "source", first_timestamp: "firstTimestamp",
        last_timestamp: "lastTimestamp", count: "count", r#type: "type", event_time: "eventTime",
        series: "series", action: "action", related: "related",
        reporting_component: "reportingComponent", reporting_instance: "reportingInstance",
    }
    core::EventSource { component: "component", host: "host" }
    core::EventSeries { count: "count", last_observed_time: "lastObservedTime" }
}

message! {
    rbac::Role { metadata: "metadata", rules: "rules" }
    rbac::ClusterRole { metadata: "metadata", rules: "rules", aggregation_rule: "aggregationRule" }
    rbac::AggregationRule { cluster_role_selectors: "clusterRoleSelectors" }
    rbac::PolicyRule {
        verbs: "verbs", api_groups: "apiGroups", resources: "resources",
        resource_names: "resourceNames", non_resource_ur_ls: "nonResourceURLs",
    }
    rbac::RoleBinding { metadata: "metadata", subjects: "subjects", role_ref: "roleRef" }
    rbac::ClusterRoleBinding { metadata: "metadata", subjects: "subjects", role_ref: "roleRef" }
    rbac::Subject { kind: "kind", api_group: "apiGroup", name: "name", namespace: "namespace" }
    rbac::RoleRef { api_group: "apiGroup", kind: "kind", name: "name" }
}

/// Lists: their metadata and items.
macro_rules! lists {
    ($($ty:ty),* $(,)?) => {
        message! { $($ty { metadata: "metadata", items: "items" })* }
    };
}

lists!(
    core::NamespaceList,
    core::ConfigMapList,
    core::SecretList,
    core::ServiceAccountList,
    core::ServiceList,
    core::EventList,
    rbac::RoleList,
    rbac::ClusterRoleList,
    rbac::RoleBindingList,
    rbac::ClusterRoleBindingList,
);

//! The `openAPIV3Schema`s of the CRDs KubeSphere 3.4.1 (its `config/ks-core/crds`, ks-installer
//! v3.4.1's ClusterConfiguration) and kubefed (ks-installer v3.4.1's kubefed chart and
//! `federatedcrds`) install: the same fields, types, required fields, formats and patterns,
//! without the descriptions. A field Tandem writes that the real CRD does not declare is
//! pruned here as it is on a real cluster; a value the real CRD refuses is a 422 here too.

use serde_json::{Map, Value, json};

fn typed(name: &str) -> Value {
    json!({ "type": name })
}

fn string() -> Value {
    typed("string")
}

fn integer() -> Value {
    typed("integer")
}

fn int64() -> Value {
    json!({"type": "integer", "format": "int64"})
}

fn boolean() -> Value {
    typed("boolean")
}

fn date_time() -> Value {
    json!({"type": "string", "format": "date-time"})
}

fn array(items: Value) -> Value {
    json!({"type": "array", "items": items})
}

fn strings() -> Value {
    array(string())
}

fn map_of(values: Value) -> Value {
    json!({"type": "object", "additionalProperties": values})
}

/// An object that keeps whatever it is given.
fn open_object() -> Value {
    json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})
}

fn object(properties: &[(&str, Value)]) -> Value {
    let properties: Map<String, Value> = properties
        .iter()
        .map(|(name, schema)| (name.to_string(), schema.clone()))
        .collect();
    json!({"type": "object", "properties": properties})
}

fn required(mut schema: Value, fields: &[&str]) -> Value {
    schema["required"] = json!(fields);
    schema
}

/// A whole object: its own fields next to `apiVersion`, `kind` and `metadata`.
fn root(fields: &[(&str, Value)]) -> Value {
    let mut all = vec![
        ("apiVersion", string()),
        ("kind", string()),
        ("metadata", typed("object")),
    ];
    all.extend(fields.iter().cloned());
    object(&all)
}

fn condition(extra: &[(&str, Value)], needed: &[&str]) -> Value {
    let mut fields = vec![
        ("lastTransitionTime", date_time()),
        ("reason", string()),
        ("status", string()),
        ("type", string()),
    ];
    fields.extend(extra.iter().cloned());
    required(object(&fields), needed)
}

fn label_selector() -> Value {
    object(&[
        (
            "matchExpressions",
            array(required(
                object(&[
                    ("key", string()),
                    ("operator", string()),
                    ("values", strings()),
                ]),
                &["key", "operator"],
            )),
        ),
        ("matchLabels", map_of(string())),
    ])
}

fn placement() -> Value {
    object(&[
        ("clusterSelector", label_selector()),
        (
            "clusters",
            array(required(object(&[("name", string())]), &["name"])),
        ),
    ])
}

/// `spec.overrides` of a federated object (and of a WorkspaceTemplate, whose `value` must
/// be an object).
fn overrides(value: Value, op: Value) -> Value {
    array(object(&[
        ("clusterName", string()),
        (
            "clusterOverrides",
            array(required(
                object(&[("op", op), ("path", string()), ("value", value)]),
                &["path"],
            )),
        ),
    ]))
}

fn rules() -> Value {
    array(required(
        object(&[
            ("apiGroups", strings()),
            ("nonResourceURLs", strings()),
            ("resourceNames", strings()),
            ("resources", strings()),
            ("verbs", strings()),
        ]),
        &["verbs"],
    ))
}

fn binding() -> Value {
    let role_ref = required(
        object(&[
            ("apiGroup", string()),
            ("kind", string()),
            ("name", string()),
        ]),
        &["apiGroup", "kind", "name"],
    );
    let subject = required(
        object(&[
            ("apiGroup", string()),
            ("kind", string()),
            ("name", string()),
            ("namespace", string()),
        ]),
        &["kind", "name"],
    );
    required(
        root(&[("roleRef", role_ref), ("subjects", array(subject))]),
        &["roleRef"],
    )
}

/// KubeSphere's password rule: 8 to 64 characters with a lower-case letter, an upper-case
/// letter and a digit in any order (RE2 has no look-ahead, hence six orders), or a bcrypt hash.
const PASSWORD_PATTERN: &str = r"^(.*[a-z].*[A-Z].*[0-9].*)$|^(.*[a-z].*[0-9].*[A-Z].*)$|^(.*[A-Z].*[a-z].*[0-9].*)$|^(.*[A-Z].*[0-9].*[a-z].*)$|^(.*[0-9].*[a-z].*[A-Z].*)$|^(.*[0-9].*[A-Z].*[a-z].*)$|^(\$2[ayb]\$.{56})$";

fn cluster() -> Value {
    let connection = object(&[
        ("externalKubernetesAPIEndpoint", string()),
        ("kubeconfig", json!({"type": "string", "format": "byte"})),
        ("kubernetesAPIEndpoint", string()),
        ("kubernetesAPIServerPort", integer()),
        ("kubesphereAPIEndpoint", string()),
        ("kubesphereAPIServerPort", integer()),
        ("token", string()),
        ("type", string()),
    ]);
    let spec = object(&[
        ("connection", connection),
        ("enable", boolean()),
        ("externalKubeAPIEnabled", boolean()),
        ("joinFederation", boolean()),
        ("provider", string()),
    ]);
    let status = object(&[
        (
            "conditions",
            array(condition(
                &[("lastUpdateTime", date_time()), ("message", string())],
                &["status", "type"],
            )),
        ),
        ("configz", map_of(boolean())),
        ("kubeSphereVersion", string()),
        ("kubernetesVersion", string()),
        ("nodeCount", integer()),
        ("region", string()),
        ("uid", string()),
        ("zones", strings()),
    ]);
    root(&[("spec", spec), ("status", status)])
}

fn user() -> Value {
    let password = json!({
        "type": "string", "minLength": 8, "maxLength": 64, "pattern": PASSWORD_PATTERN,
    });
    let spec = required(
        object(&[
            ("description", string()),
            ("displayName", string()),
            ("email", string()),
            ("groups", strings()),
            ("lang", string()),
            ("password", password),
        ]),
        &["email"],
    );
    let status = object(&[
        ("lastLoginTime", date_time()),
        ("lastTransitionTime", date_time()),
        ("reason", string()),
        ("state", string()),
    ]);
    required(root(&[("spec", spec), ("status", status)]), &["spec"])
}

fn login_record() -> Value {
    let spec = required(
        object(&[
            ("provider", string()),
            ("reason", string()),
            ("sourceIP", string()),
            ("success", boolean()),
            ("type", string()),
            ("userAgent", string()),
        ]),
        &["provider", "reason", "sourceIP", "success", "type"],
    );
    required(root(&[("spec", spec)]), &["spec"])
}

fn workspace_template() -> Value {
    let template = object(&[
        // ObjectMeta in Go, but declared without properties: a real API server prunes every
        // field written here.
        ("metadata", typed("object")),
        (
            "spec",
            object(&[("manager", string()), ("networkIsolation", boolean())]),
        ),
    ]);
    let spec = required(
        object(&[
            ("overrides", overrides(open_object(), string())),
            ("placement", placement()),
            ("template", template),
        ]),
        &["placement", "template"],
    );
    root(&[("spec", spec)])
}

fn workspace() -> Value {
    root(&[
        (
            "spec",
            object(&[("manager", string()), ("networkIsolation", boolean())]),
        ),
        ("status", typed("object")),
    ])
}

fn api_type() -> Value {
    required(
        object(&[
            ("group", string()),
            ("kind", string()),
            ("pluralName", string()),
            ("scope", string()),
            ("version", string()),
        ]),
        &["kind", "pluralName", "scope", "version"],
    )
}

fn kubefed_cluster() -> Value {
    let spec = required(
        object(&[
            ("apiEndpoint", string()),
            ("caBundle", json!({"type": "string", "format": "byte"})),
            ("disabledTLSValidations", strings()),
            ("proxyURL", string()),
            (
                "secretRef",
                required(object(&[("name", string())]), &["name"]),
            ),
        ]),
        &["apiEndpoint", "secretRef"],
    );
    let status = required(
        object(&[
            (
                "conditions",
                array(condition(
                    &[("lastProbeTime", date_time()), ("message", string())],
                    &["lastProbeTime", "status", "type"],
                )),
            ),
            ("region", string()),
            ("zones", strings()),
        ]),
        &["conditions"],
    );
    required(root(&[("spec", spec), ("status", status)]), &["spec"])
}

fn federated_type_config() -> Value {
    let spec = required(
        object(&[
            ("federatedType", api_type()),
            ("propagation", string()),
            ("statusCollection", string()),
            ("statusType", api_type()),
            ("targetType", api_type()),
        ]),
        &["federatedType", "propagation", "targetType"],
    );
    let status = required(
        object(&[
            ("observedGeneration", int64()),
            ("propagationController", string()),
            ("statusController", string()),
        ]),
        &["observedGeneration", "propagationController"],
    );
    required(root(&[("spec", spec), ("status", status)]), &["spec"])
}

/// Every `Federated*` type ks-installer registers has this one schema.
fn federated() -> Value {
    let op = json!({"type": "string", "pattern": "^(add|remove|replace)?$"});
    let spec = object(&[
        (
            "overrides",
            overrides(json!({"x-kubernetes-preserve-unknown-fields": true}), op),
        ),
        ("placement", placement()),
        ("template", open_object()),
    ]);
    let status = object(&[
        (
            "clusters",
            array(required(
                object(&[
                    ("name", string()),
                    ("remoteStatus", open_object()),
                    ("status", string()),
                ]),
                &["name"],
            )),
        ),
        (
            "conditions",
            array(condition(
                &[("lastUpdateTime", date_time())],
                &["type", "status"],
            )),
        ),
        ("observedGeneration", int64()),
    ]);
    root(&[("spec", spec), ("status", status)])
}

/// The schema of the CRD serving `kind`, as the real one declares it.
pub fn schema_of(kind: &str) -> Value {
    match kind {
        "Cluster" => cluster(),
        "User" => user(),
        "LoginRecord" => login_record(),
        "GlobalRole" | "WorkspaceRole" => root(&[("rules", rules())]),
        "GlobalRoleBinding" | "WorkspaceRoleBinding" => binding(),
        "RoleBase" => required(
            root(&[(
                "role",
                json!({"type": "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true}),
            )]),
            &["role"],
        ),
        "WorkspaceTemplate" => workspace_template(),
        "Workspace" => workspace(),
        "KubeFedCluster" => kubefed_cluster(),
        "FederatedTypeConfig" => federated_type_config(),
        federated_kind if federated_kind.starts_with("Federated") => federated(),
        // ClusterConfiguration: ks-installer keeps spec and status open.
        _ => root(&[("spec", open_object()), ("status", open_object())]),
    }
}

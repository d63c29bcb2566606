//! What kube-apiserver checks of the two workload kinds the sandbox stores, apps/v1
//! Deployment and policy/v1 PodDisruptionBudget: the rules of `ValidateDeployment` and
//! `ValidatePodDisruptionBudget` a manifest most often breaks (a selector that does not match
//! the pod template's labels, a volume mount naming no volume), each answered as the real
//! server's 422 with every broken rule listed. Type errors and unknown fields are
//! [`crate::field_validation`]'s. Nothing runs a Deployment here: no controller, no pods.

use std::collections::{BTreeMap, HashSet};

use serde_json::Value;

use crate::errors::{ApiError, ApiResult};
use crate::kinds::{APPS_GROUP, POLICY_GROUP, ResourceKind};
use crate::schema::FieldError;
use crate::selector::{LabelSelector, object_labels};

/// Checks a Deployment, PodDisruptionBudget or Event about to be stored (`old`: the stored
/// object, on an update); other kinds pass.
pub(crate) fn check(
    kind: &ResourceKind,
    name: &str,
    object: &Value,
    old: Option<&Value>,
) -> ApiResult<()> {
    let broken = match (kind.group.as_str(), kind.kind.as_str()) {
        (APPS_GROUP, "Deployment") => deployment(object, old),
        (POLICY_GROUP, "PodDisruptionBudget") => pod_disruption_budget(object),
        ("", "Event") => crate::event_rules::core_event(
            object,
            object["metadata"]["namespace"].as_str().unwrap_or_default(),
        ),
        _ => return Ok(()),
    };
    if broken.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid_fields(kind, name, &broken))
    }
}

fn error(field: &str, reason: &'static str, message: String) -> FieldError {
    FieldError {
        field: field.to_string(),
        reason,
        message,
    }
}

fn required(field: &str) -> FieldError {
    error(field, "FieldValueRequired", "Required value".into())
}

fn invalid(field: &str, value: &Value, why: &str) -> FieldError {
    error(
        field,
        "FieldValueInvalid",
        format!("Invalid value: {value}: {why}"),
    )
}

fn deployment(object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let mut broken = Vec::new();
    let spec = &object["spec"];
    if spec["replicas"].as_i64().is_some_and(|r| r < 0) {
        broken.push(invalid(
            "spec.replicas",
            &spec["replicas"],
            "must be greater than or equal to 0",
        ));
    }
    let selector = &spec["selector"];
    if selector.is_null() {
        broken.push(required("spec.selector"));
    } else {
        match label_selector(selector, "spec.selector") {
            Err(problem) => broken.push(problem),
            Ok(None) => broken.push(invalid(
                "spec.selector",
                selector,
                "empty selector is invalid for deployment",
            )),
            Ok(Some(parsed)) => {
                let labels = object_labels(&spec["template"]);
                if !parsed.matches(&labels) {
                    broken.push(invalid(
                        "spec.template.metadata.labels",
                        &spec["template"]["metadata"]["labels"],
                        "`selector` does not match template `labels`",
                    ));
                }
            }
        }
    }
    if let Some(old) = old
        && old["spec"]["selector"] != *selector
    {
        broken.push(invalid("spec.selector", selector, "field is immutable"));
    }
    let strategy = &spec["strategy"]["rollingUpdate"];
    if strategy["maxSurge"].as_i64() == Some(0) && strategy["maxUnavailable"].as_i64() == Some(0) {
        broken.push(invalid(
            "spec.strategy.rollingUpdate.maxUnavailable",
            &strategy["maxUnavailable"],
            "may not be 0 when `maxSurge` is 0",
        ));
    }
    pod_template(&spec["template"]["spec"], "spec.template.spec", &mut broken);
    broken
}

/// The pod template's containers, volumes and restart policy.
fn pod_template(pod: &Value, at: &str, broken: &mut Vec<FieldError>) {
    let mut volumes = HashSet::new();
    for (i, volume) in pod["volumes"].as_array().into_iter().flatten().enumerate() {
        let name = volume["name"].as_str().unwrap_or_default();
        let field = format!("{at}.volumes[{i}].name");
        if name.is_empty() {
            broken.push(required(&field));
        } else if !volumes.insert(name) {
            broken.push(error(
                &field,
                "FieldValueDuplicate",
                format!("Duplicate value: {name:?}"),
            ));
        }
    }
    let containers = pod["containers"].as_array().cloned().unwrap_or_default();
    if containers.is_empty() {
        broken.push(required(&format!("{at}.containers")));
    }
    let mut names = HashSet::new();
    for (i, container) in containers.iter().enumerate() {
        let here = format!("{at}.containers[{i}]");
        match container["name"].as_str().unwrap_or_default() {
            "" => broken.push(required(&format!("{here}.name"))),
            name if !names.insert(name.to_string()) => broken.push(error(
                &format!("{here}.name"),
                "FieldValueDuplicate",
                format!("Duplicate value: {name:?}"),
            )),
            _ => {}
        }
        if container["image"].as_str().unwrap_or_default().is_empty() {
            broken.push(required(&format!("{here}.image")));
        }
        let mounts = container["volumeMounts"].as_array().into_iter().flatten();
        for (j, mount) in mounts.enumerate() {
            let name = mount["name"].as_str().unwrap_or_default();
            if !volumes.contains(name) {
                broken.push(error(
                    &format!("{here}.volumeMounts[{j}].name"),
                    "FieldValueNotFound",
                    format!("Not found: {name:?}"),
                ));
            }
        }
    }
    // A Deployment's pods are restarted, never left finished.
    if let Some(policy) = pod["restartPolicy"].as_str().filter(|p| *p != "Always") {
        broken.push(error(
            &format!("{at}.restartPolicy"),
            "FieldValueNotSupported",
            format!("Unsupported value: {policy:?}: supported values: \"Always\""),
        ));
    }
}

fn pod_disruption_budget(object: &Value) -> Vec<FieldError> {
    let mut broken = Vec::new();
    let spec = &object["spec"];
    let (min, max) = (&spec["minAvailable"], &spec["maxUnavailable"]);
    if !min.is_null() && !max.is_null() {
        broken.push(invalid(
            "spec",
            spec,
            "minAvailable and maxUnavailable cannot be both set",
        ));
    }
    for (field, value) in [("spec.minAvailable", min), ("spec.maxUnavailable", max)] {
        if let Some(why) = int_or_percent_problem(value) {
            broken.push(invalid(field, value, why));
        }
    }
    if !spec["selector"].is_null()
        && let Err(problem) = label_selector(&spec["selector"], "spec.selector")
    {
        broken.push(problem);
    }
    broken
}

/// What is wrong with a non-negative count or a percentage up to 100%, if anything.
fn int_or_percent_problem(value: &Value) -> Option<&'static str> {
    match value {
        Value::Null => None,
        Value::Number(n) if n.as_i64().is_some_and(|n| n >= 0) => None,
        Value::Number(_) => Some("must be greater than or equal to 0"),
        Value::String(s) => match s.strip_suffix('%').map(str::parse::<u32>) {
            Some(Ok(p)) if p <= 100 => None,
            Some(Ok(_)) => Some("must not be greater than 100%"),
            _ => Some("a valid percent string must be a numeric string followed by an ending '%'"),
        },
        _ => Some("must be an integer or a percentage"),
    }
}

/// A `LabelSelector` object (`matchLabels`, `matchExpressions`) as the selector it stands
/// for; `None` when it selects everything.
fn label_selector(selector: &Value, at: &str) -> Result<Option<LabelSelector>, FieldError> {
    let mut requirements = Vec::new();
    let labels: BTreeMap<String, String> =
        serde_json::from_value(selector["matchLabels"].clone()).unwrap_or_default();
    for (key, value) in &labels {
        requirements.push(format!("{key}={value}"));
    }
    let expressions = selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten();
    for (i, expression) in expressions.enumerate() {
        let key = expression["key"].as_str().unwrap_or_default();
        let values: Vec<&str> = expression["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let here = format!("{at}.matchExpressions[{i}]");
        let operator = &expression["operator"];
        requirements.push(match (operator.as_str().unwrap_or_default(), values.is_empty()) {
            ("In", false) => format!("{key} in ({})", values.join(",")),
            ("NotIn", false) => format!("{key} notin ({})", values.join(",")),
            ("In" | "NotIn", true) => return Err(required(&format!("{here}.values"))),
            ("Exists", true) => key.to_string(),
            ("DoesNotExist", true) => format!("!{key}"),
            ("Exists" | "DoesNotExist", false) => {
                return Err(error(
                    &format!("{here}.values"),
                    "FieldValueForbidden",
                    "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'".into(),
                ));
            }
            _ => {
                return Err(invalid(
                    &format!("{here}.operator"),
                    operator,
                    "not a valid selector operator",
                ));
            }
        });
    }
    if requirements.is_empty() {
        return Ok(None);
    }
    LabelSelector::parse(&requirements.join(","))
        .map(Some)
        .map_err(|why| invalid(at, selector, &why))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kind(group: &str, plural: &str) -> ResourceKind {
        crate::kinds::Registry::builtin()
            .find(group, "v1", plural)
            .unwrap()
            .clone()
    }

    fn deployment(selector: Value, labels: Value) -> Value {
        json!({"spec": {"selector": selector, "template": {
            "metadata": {"labels": labels},
            "spec": {"containers": [{"name": "web", "image": "nginx",
                "volumeMounts": [{"name": "config", "mountPath": "/etc/web"}]}],
                "volumes": [{"name": "config", "configMap": {"name": "web"}}]}}}})
    }

    #[test]
    fn a_deployment_selects_its_own_pods() {
        let deployments = kind(APPS_GROUP, "deployments");
        let good = deployment(
            json!({"matchLabels": {"app": "web"}}),
            json!({"app": "web"}),
        );
        assert!(check(&deployments, "web", &good, None).is_ok());
        let expressions = json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]});
        assert!(
            check(
                &deployments,
                "web",
                &deployment(expressions, json!({"app": "web"})),
                None
            )
            .is_ok()
        );

        let other = deployment(
            json!({"matchLabels": {"app": "api"}}),
            json!({"app": "web"}),
        );
        let refused = check(&deployments, "web", &other, None).unwrap_err();
        assert_eq!(refused.code, 422);
        assert!(
            refused.message.contains("spec.template.metadata.labels"),
            "{}",
            refused.message
        );
        let empty = deployment(json!({}), json!({"app": "web"}));
        assert!(
            check(&deployments, "web", &empty, None)
                .unwrap_err()
                .message
                .contains("empty selector")
        );
        let mut none = good.clone();
        none["spec"].as_object_mut().unwrap().remove("selector");
        assert!(
            check(&deployments, "web", &none, None)
                .unwrap_err()
                .message
                .contains("spec.selector: Required value")
        );
        let changed = deployment(
            json!({"matchLabels": {"app": "web", "tier": "x"}}),
            json!({"app": "web", "tier": "x"}),
        );
        assert!(
            check(&deployments, "web", &changed, Some(&good))
                .unwrap_err()
                .message
                .contains("field is immutable")
        );
    }

    #[test]
    fn every_broken_rule_of_a_pod_template_is_listed() {
        let deployments = kind(APPS_GROUP, "deployments");
        let mut broken = deployment(
            json!({"matchLabels": {"app": "web"}}),
            json!({"app": "web"}),
        );
        let pod = &mut broken["spec"]["template"]["spec"];
        pod["volumes"][0]["name"] = json!("settings");
        pod["containers"][0]["image"] = json!("");
        pod["restartPolicy"] = json!("Never");
        let message = check(&deployments, "web", &broken, None)
            .unwrap_err()
            .message;
        for expected in [
            "spec.template.spec.containers[0].image: Required value",
            "spec.template.spec.containers[0].volumeMounts[0].name: Not found: \"config\"",
            "spec.template.spec.restartPolicy: Unsupported value: \"Never\"",
        ] {
            assert!(message.contains(expected), "{expected} not in {message}");
        }
    }

    #[test]
    fn a_disruption_budget_sets_one_bound() {
        let budgets = kind(POLICY_GROUP, "poddisruptionbudgets");
        let budget = |spec: Value| json!({"spec": spec});
        assert!(check(&budgets, "web", &budget(json!({"minAvailable": 1})), None).is_ok());
        assert!(
            check(
                &budgets,
                "web",
                &budget(json!({"maxUnavailable": "50%"})),
                None
            )
            .is_ok()
        );
        let both = budget(json!({"minAvailable": 1, "maxUnavailable": 1}));
        assert!(
            check(&budgets, "web", &both, None)
                .unwrap_err()
                .message
                .contains("cannot be both set")
        );
        let over = budget(json!({"minAvailable": "150%"}));
        assert!(
            check(&budgets, "web", &over, None)
                .unwrap_err()
                .message
                .contains("100%")
        );
        let negative = budget(json!({"minAvailable": -1}));
        assert!(check(&budgets, "web", &negative, None).is_err());
    }
}

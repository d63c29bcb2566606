//! What kube-apiserver checks of a core/v1 Event (`ValidateEventCreate`, the v1 request's
//! rules): an Event about a cluster-scoped object lives in `default` (or, with an
//! `eventTime`, also `kube-system`), one about a namespaced object in that object's
//! namespace; an Event with an `eventTime` names its reporting controller and instance, its
//! action and reason; and the length limits. A console writing Events into another namespace
//! is refused on a real cluster, so it is here.

use serde_json::Value;

use crate::schema::FieldError;

const REPORTING_INSTANCE_LIMIT: usize = 128;
const ACTION_LIMIT: usize = 128;
const REASON_LIMIT: usize = 128;
const NOTE_LIMIT: usize = 1024;

fn error(field: &str, reason: &'static str, message: String) -> FieldError {
    FieldError {
        field: field.to_string(),
        reason,
        message,
    }
}

fn text<'a>(object: &'a Value, field: &str) -> &'a str {
    object[field].as_str().unwrap_or_default()
}

/// The broken rules of `event`, stored in `namespace`.
pub(crate) fn core_event(event: &Value, namespace: &str) -> Vec<FieldError> {
    let mut broken = Vec::new();
    let involved = event["involvedObject"]["namespace"]
        .as_str()
        .unwrap_or_default();
    let has_event_time = event["eventTime"].as_str().is_some_and(|t| !t.is_empty());
    let mismatch = || {
        error(
            "involvedObject.namespace",
            "FieldValueInvalid",
            format!("Invalid value: \"{involved}\": does not match event.namespace"),
        )
    };
    if !has_event_time {
        if involved.is_empty() {
            if !namespace.is_empty() && namespace != "default" {
                broken.push(mismatch());
            }
        } else if involved != namespace {
            broken.push(mismatch());
        }
    } else {
        if involved.is_empty() && namespace != "default" && namespace != "kube-system" {
            broken.push(mismatch());
        }
        if !involved.is_empty() && involved != namespace {
            broken.push(mismatch());
        }
        let controller = text(event, "reportingComponent");
        if controller.is_empty() {
            broken.push(error(
                "reportingComponent",
                "FieldValueRequired",
                "Required value".into(),
            ));
        }
        let instance = text(event, "reportingInstance");
        if instance.is_empty() {
            broken.push(error(
                "reportingInstance",
                "FieldValueRequired",
                "Required value".into(),
            ));
        } else if instance.len() > REPORTING_INSTANCE_LIMIT {
            broken.push(error(
                "reportingInstance",
                "FieldValueInvalid",
                format!(
                    "Invalid value: \"\": can have at most {REPORTING_INSTANCE_LIMIT} characters"
                ),
            ));
        }
        let action = text(event, "action");
        if action.is_empty() {
            broken.push(error(
                "action",
                "FieldValueRequired",
                "Required value".into(),
            ));
        } else if action.len() > ACTION_LIMIT {
            broken.push(error(
                "action",
                "FieldValueInvalid",
                format!("Invalid value: \"\": can have at most {ACTION_LIMIT} characters"),
            ));
        }
        let reason = text(event, "reason");
        if reason.is_empty() {
            broken.push(error(
                "reason",
                "FieldValueRequired",
                "Required value".into(),
            ));
        } else if reason.len() > REASON_LIMIT {
            broken.push(error(
                "reason",
                "FieldValueInvalid",
                format!("Invalid value: \"\": can have at most {REASON_LIMIT} characters"),
            ));
        }
    }
    if text(event, "message").len() > NOTE_LIMIT {
        broken.push(error(
            "message",
            "FieldValueInvalid",
            format!("Invalid value: \"\": can have at most {NOTE_LIMIT} characters"),
        ));
    }
    broken
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(involved_ns: &str, event_time: bool) -> Value {
        let mut e = json!({
            "involvedObject": {"kind": "User", "name": "alice", "namespace": involved_ns},
            "reason": "UserDeleted", "action": "UserDeleted", "message": "admin deleted user alice",
            "reportingComponent": "tandem", "reportingInstance": "tandem-1",
        });
        if event_time {
            e["eventTime"] = json!("2026-12-03T10:00:00.000000Z");
        }
        e
    }

    #[test]
    fn a_cluster_scoped_object_has_its_events_in_default() {
        assert!(core_event(&event("", true), "default").is_empty());
        assert!(core_event(&event("", true), "kube-system").is_empty());
        assert!(core_event(&event("", false), "default").is_empty());
        let refused = core_event(&event("", true), "kubesphere-system");
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].field, "involvedObject.namespace");
        assert!(!core_event(&event("", false), "kube-system").is_empty());
    }

    #[test]
    fn a_namespaced_object_has_its_events_beside_it() {
        assert!(core_event(&event("team", true), "team").is_empty());
        assert!(!core_event(&event("team", true), "default").is_empty());
    }

    #[test]
    fn a_new_style_event_names_its_reporter_and_keeps_to_the_limits() {
        let mut e = event("", true);
        e["reportingInstance"] = json!("");
        e["action"] = json!("a".repeat(129));
        e["message"] = json!("m".repeat(1025));
        let fields: Vec<String> = core_event(&e, "default")
            .into_iter()
            .map(|f| f.field)
            .collect();
        assert_eq!(fields, ["reportingInstance", "action", "message"]);
    }
}

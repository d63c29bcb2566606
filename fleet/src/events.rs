//! Every change made through the console, also as a Kubernetes `Event` on the host it was
//! made on: who did what to which object, where platform teams already look (`kubectl get
//! events`, their event exporters). The objects are cluster-scoped (User, Cluster,
//! WorkspaceTemplate), whose Events kube-apiserver accepts in `default` only (or
//! `kube-system`), so that is where they are. Written in the background: a host that refuses
//! the Event never fails the action itself.
//!
//! Messages name objects and people, never a secret (no password, token or kubeconfig).

use crate::federation::KindResources;
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use kube::Client;
use kube::api::{Api, ObjectMeta};

/// Where the Events are: kube-apiserver keeps those of cluster-scoped objects in `default`.
pub const EVENT_NAMESPACE: &str = "default";
/// kube-apiserver's limit on an Event's message (bytes).
const MESSAGE_LIMIT: usize = 1024;

/// `reportingComponent` and `source.component` of Tandem's Events.
pub const COMPONENT: &str = "tandem";

/// The kind of object an action changed, as its API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    User,
    WorkspaceTemplate,
    Cluster,
    /// A federated object (`FederatedUser`, …), as kubefed's type names it.
    Federated(crate::federation::FederatedKind),
    /// The sync group's shared record (the `tandem-sync` ConfigMap).
    SyncRecord,
}

impl ObjectKind {
    fn api_version_and_kind(self) -> (String, String) {
        let fixed = |v: &str, k: &str| (v.to_string(), k.to_string());
        match self {
            Self::User => fixed("iam.kubesphere.io/v1alpha2", "User"),
            Self::WorkspaceTemplate => fixed("tenant.kubesphere.io/v1alpha2", "WorkspaceTemplate"),
            Self::Cluster => fixed("cluster.kubesphere.io/v1alpha1", "Cluster"),
            Self::Federated(kind) => {
                let resource = kind.federated();
                (resource.api_version, resource.kind)
            }
            Self::SyncRecord => fixed("v1", "ConfigMap"),
        }
    }
}

/// One change made through the console.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsoleAction {
    /// CamelCase, as Kubernetes reasons are: `UserCreated`, `ClusterRemoved`, …
    pub reason: &'static str,
    pub kind: ObjectKind,
    pub name: String,
    /// Who did it (the signed-in user).
    pub actor: String,
    /// What happened, in a sentence that starts with the actor.
    pub message: String,
    /// A change that did not go as asked (a join that failed): `Warning`, else `Normal`.
    pub warning: bool,
}

impl ConsoleAction {
    /// `actor` did `what` (a phrase: "deleted user alice") to the object.
    pub fn by(
        actor: &str,
        reason: &'static str,
        kind: ObjectKind,
        name: &str,
        what: impl std::fmt::Display,
    ) -> Self {
        Self {
            reason,
            kind,
            name: name.into(),
            actor: actor.into(),
            message: format!("{actor} {what}"),
            warning: false,
        }
    }
}

/// The Event `action` becomes, as replica `instance` reports it.
pub fn event_for(
    action: &ConsoleAction,
    instance: &str,
    now: k8s_openapi::jiff::Timestamp,
) -> Event {
    let (api_version, kind) = action.kind.api_version_and_kind();
    let mut suffix = [0u8; 8];
    let _ = getrandom::fill(&mut suffix);
    let suffix: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    Event {
        metadata: ObjectMeta {
            name: Some(format!("tandem.{suffix}")),
            namespace: Some(EVENT_NAMESPACE.into()),
            labels: Some(BTreeMap::from([
                (
                    "app.kubernetes.io/managed-by".to_string(),
                    COMPONENT.to_string(),
                ),
                ("tandem.io/actor".to_string(), label_value(&action.actor)),
            ])),
            ..Default::default()
        },
        involved_object: ObjectReference {
            api_version: Some(api_version),
            kind: Some(kind),
            name: Some(action.name.clone()),
            ..Default::default()
        },
        reason: Some(action.reason.into()),
        message: Some(shortened(&action.message)),
        type_: Some(if action.warning { "Warning" } else { "Normal" }.into()),
        count: Some(1),
        first_timestamp: Some(Time(now)),
        last_timestamp: Some(Time(now)),
        event_time: Some(MicroTime(now)),
        action: Some(action.reason.into()),
        reporting_component: Some(COMPONENT.into()),
        reporting_instance: Some(instance.into()),
        source: Some(EventSource {
            component: Some(COMPONENT.into()),
            host: None,
        }),
        ..Default::default()
    }
}

/// `message` within kube-apiserver's limit, cut at a character boundary with an ellipsis.
fn shortened(message: &str) -> String {
    if message.len() <= MESSAGE_LIMIT {
        return message.into();
    }
    let mut end = MESSAGE_LIMIT - '…'.len_utf8();
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &message[..end])
}

/// A user name as a label value (63 characters of `[A-Za-z0-9._-]`, alphanumeric ends);
/// a name that cannot be one is left out of the label, never of the message.
fn label_value(name: &str) -> String {
    let ok = name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .last()
            .is_some_and(|b| b.is_ascii_alphanumeric());
    if ok { name.into() } else { String::new() }
}

/// Writes `action` as an Event on `client`'s host, in the background.
pub fn record(client: Client, action: ConsoleAction, instance: String) {
    tokio::spawn(async move {
        let event = event_for(&action, &instance, k8s_openapi::jiff::Timestamp::now());
        let api: Api<Event> = Api::namespaced(client, EVENT_NAMESPACE);
        if let Err(error) = api.create(&crate::writes::post_params(), &event).await {
            tracing::warn!(reason = action.reason, %error, "the action's Event was not written on the host");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_action_becomes_an_event_naming_the_object_and_the_actor() {
        let action = ConsoleAction {
            reason: "UserDeleted",
            kind: ObjectKind::User,
            name: "alice".into(),
            actor: "admin".into(),
            message: "admin deleted user alice".into(),
            warning: false,
        };
        let now = k8s_openapi::jiff::Timestamp::from_second(1_780_000_000).unwrap();
        let event = event_for(&action, "tandem-7f9c-1a2b", now);
        assert_eq!(event.involved_object.kind.as_deref(), Some("User"));
        assert_eq!(
            event.involved_object.api_version.as_deref(),
            Some("iam.kubesphere.io/v1alpha2")
        );
        assert_eq!(event.reason.as_deref(), Some("UserDeleted"));
        assert_eq!(event.type_.as_deref(), Some("Normal"));
        assert_eq!(
            event.reporting_instance.as_deref(),
            Some("tandem-7f9c-1a2b")
        );
        assert_eq!(event.metadata.namespace.as_deref(), Some("default"));
        assert_eq!(event.metadata.labels.unwrap()["tandem.io/actor"], "admin");
        assert!(event.metadata.name.unwrap().starts_with("tandem."));
    }

    #[test]
    fn a_long_message_is_cut_to_the_servers_limit_at_a_character() {
        let long = "加".repeat(400); // 1200 bytes
        let cut = shortened(&long);
        assert!(cut.len() <= MESSAGE_LIMIT, "{}", cut.len());
        assert!(cut.ends_with('…'));
        assert_eq!(shortened("short"), "short");
    }

    #[test]
    fn a_name_that_is_no_label_value_stays_out_of_the_label() {
        assert_eq!(label_value("alice@example.com"), "");
        assert_eq!(label_value("ops.team-1"), "ops.team-1");
        assert_eq!(label_value(&"a".repeat(64)), "");
    }
}

//! The one way Tandem writes Kubernetes objects.
//!
//! - Every body carries `apiVersion` and `kind`. Tandem reads KubeSphere's kinds through
//!   partial types that do not hold them, and a real API server refuses a custom object
//!   without them (400 "Object 'Kind' is missing"); kube's `Api::create` sends the value as
//!   it is, so the type is added here, once, for every write.
//! - Every write is made as field manager `tandem`. Fields Tandem owns (a joined cluster's
//!   connection) are server-side applied ([`apply_owned`]). A person's edit of a few fields of an
//!   object others made (a description, an email) is a merge patch of just those fields (a
//!   cleared field is removed, which server-side apply cannot do for fields another manager
//!   set); whole-object replaces go with the resourceVersion that was read, so a controller's
//!   write in between is a 409, never silently undone.
//! - Status is written through `/status` only where the CRD has that subresource; v3.4.1's
//!   `Cluster` and `User` have none, and their controllers write status in the object.

use std::fmt::Debug;

use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::{Client, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The field manager of every write Tandem makes.
pub const FIELD_MANAGER: &str = "tandem";

/// `object` as JSON with its `apiVersion` and `kind`.
pub fn typed_body<K>(object: &K) -> Result<Value, kube::Error>
where
    K: Resource<DynamicType = ()> + Serialize,
{
    let mut value = serde_json::to_value(object).map_err(kube::Error::SerdeError)?;
    if let Some(map) = value.as_object_mut() {
        map.insert("apiVersion".into(), K::api_version(&()).into());
        map.insert("kind".into(), K::kind(&()).into());
    }
    Ok(value)
}

/// Parameters of a merge or JSON patch made by Tandem.
pub fn patch_params() -> PatchParams {
    PatchParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..Default::default()
    }
}

/// Parameters of a create or replace made by Tandem.
pub fn post_params() -> PostParams {
    PostParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..Default::default()
    }
}

/// Creates `object` (409 when the name is taken).
pub async fn create<K>(api: &Api<K>, object: &K) -> Result<K, kube::Error>
where
    K: Resource<DynamicType = ()> + Serialize + DeserializeOwned + Clone + Debug,
{
    let body = serde_json::to_vec(&typed_body(object)?).map_err(kube::Error::SerdeError)?;
    let request = kube::core::Request::new(api.resource_url())
        .create(&post_params(), body)
        .map_err(kube::Error::BuildRequest)?;
    Client::from(api.clone()).request::<K>(request).await
}

/// Creates `object`, a value that names its own type (a `DynamicObject`, a `k8s-openapi` type
/// or a derived `CustomResource`); refused before sending when it does not.
pub async fn create_self_typed<K>(api: &Api<K>, object: &K) -> Result<K, kube::Error>
where
    K: Resource + Serialize + DeserializeOwned + Clone + Debug,
{
    let body = serde_json::to_value(object).map_err(kube::Error::SerdeError)?;
    let names = |field: &str| {
        body.get(field)
            .and_then(Value::as_str)
            .is_some_and(|v| !v.is_empty())
    };
    if !names("apiVersion") || !names("kind") {
        return Err(kube::Error::BuildRequest(
            kube::core::request::Error::Validation(format!(
                "{} carries no apiVersion/kind, which a real API server needs",
                api.resource_url()
            )),
        ));
    }
    let bytes = serde_json::to_vec(&body).map_err(kube::Error::SerdeError)?;
    let request = kube::core::Request::new(api.resource_url())
        .create(&post_params(), bytes)
        .map_err(kube::Error::BuildRequest)?;
    Client::from(api.clone()).request::<K>(request).await
}

/// Merge-patches `status` of an object whose CRD has no status subresource (v3.4.1's
/// `User`, `Cluster`, `Workspace`): there, status is a field of the object, written like any
/// other, and a `/status` write is a 404.
pub async fn patch_status_in_object<K>(
    api: &Api<K>,
    name: &str,
    status: Value,
) -> Result<K, kube::Error>
where
    K: Resource<DynamicType = ()> + DeserializeOwned + Clone + Debug,
{
    let patch = serde_json::json!({ "status": status });
    api.patch(name, &patch_params(), &Patch::Merge(&patch))
        .await
}

/// Server-side applies `body` (which names its `apiVersion` and `kind`) to the existing
/// object `name`, as field manager `tandem`, forced: for fields Tandem owns, such as a joined
/// cluster's connection. Apply would create a missing object, so callers read it first.
pub async fn apply_owned<K>(api: &Api<K>, name: &str, body: &Value) -> Result<K, kube::Error>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    api.patch(
        name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(body),
    )
    .await
}

/// How a host answered a write it did not carry out, for a message people can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostRefusal {
    /// Someone else wrote the object meanwhile (409).
    Conflict(String),
    /// The console's credentials may not do this (403).
    Forbidden(String),
    /// The object is not there (any more) (404).
    Gone(String),
    /// The API server refused the object itself (400, 422): a bug in what Tandem sent.
    Rejected(String),
    /// Any other answer, or none (connection refused, timeout, 5xx).
    Unavailable(String),
}

impl HostRefusal {
    pub fn of(error: &kube::Error) -> Self {
        match error {
            kube::Error::Api(status) => {
                let message = status.message.clone();
                match status.code {
                    409 => Self::Conflict(message),
                    403 => Self::Forbidden(message),
                    404 => Self::Gone(message),
                    400 | 422 => Self::Rejected(message),
                    _ => Self::Unavailable(format!("{} ({})", message, status.code)),
                }
            }
            other => Self::Unavailable(other.to_string()),
        }
    }
}

/// How the coordinated delete (`federation::resolve`) deletes a host's own object that
/// KubeSphere federates: in the foreground, so its `Federated*` twin goes first and the object
/// itself last. Deleted in the background, the object is gone while its twin lives on for a
/// moment, and the host's kubefed — which places the twin on the host's own cluster too —
/// writes it back from the twin's template (seen on real KubeSphere 3.4.1: a deleted user
/// back on its host, not deleting, written by kubefed-controller-manager). Only with a
/// follow-up that clears kubefed's finalizer once the members are clean, as the coordinated
/// delete has: kubefed does not let the twin go while the host's object is itself pending
/// deletion, so a foreground delete alone never finishes (`iam::user_delete`).
pub fn source_delete() -> kube::api::DeleteParams {
    kube::api::DeleteParams::foreground()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::resources::GlobalRoleBinding;

    #[test]
    fn partial_types_are_written_with_their_type() {
        let mut binding = GlobalRoleBinding::default();
        binding.metadata.name = Some("alice-platform-regular".into());
        let body = typed_body(&binding).unwrap();
        assert_eq!(body["apiVersion"], "iam.kubesphere.io/v1alpha2");
        assert_eq!(body["kind"], "GlobalRoleBinding");
        assert_eq!(body["metadata"]["name"], "alice-platform-regular");
    }

    #[test]
    fn refusals_are_told_by_what_to_do() {
        let api = |code: u16| {
            kube::Error::Api(
                kube::core::Status::failure("the message", "Reason")
                    .with_code(code)
                    .boxed(),
            )
        };
        assert_eq!(
            HostRefusal::of(&api(409)),
            HostRefusal::Conflict("the message".into())
        );
        assert_eq!(
            HostRefusal::of(&api(403)),
            HostRefusal::Forbidden("the message".into())
        );
        assert_eq!(
            HostRefusal::of(&api(422)),
            HostRefusal::Rejected("the message".into())
        );
        assert!(
            matches!(HostRefusal::of(&api(503)), HostRefusal::Unavailable(m) if m.contains("503"))
        );
    }
}

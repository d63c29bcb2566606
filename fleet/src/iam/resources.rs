//! KubeSphere's IAM objects, typed (KUBESPHERE.md 1.2–1.6). The password hash is declared
//! because login checks it, but it is kept out of `Debug` so it never reaches a log line.

use std::collections::BTreeMap;

use k8s_openapi::api::rbac::v1::{PolicyRule, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use serde::{Deserialize, Serialize};

/// Label KubeSphere puts on bindings and login records that belong to one user.
pub const USER_REF_LABEL: &str = "iam.kubesphere.io/user-ref";
/// Annotation listing the role templates a role is built from (a JSON array of names).
pub const AGGREGATION_ROLES_ANNOTATION: &str = "iam.kubesphere.io/aggregation-roles";
/// Label on the roles that are building blocks of other roles.
pub const ROLE_TEMPLATE_LABEL: &str = "iam.kubesphere.io/role-template";
/// Annotation with the description a person gave an object.
pub const DESCRIPTION_ANNOTATION: &str = "kubesphere.io/description";
/// Annotation KubeSphere sets when a password was set.
pub const LAST_PASSWORD_CHANGE_ANNOTATION: &str = "iam.kubesphere.io/last-password-change-time";

/// KubeSphere's own roles, never offered to people: `system:*` (as ks-console hides them) and
/// the roles of anonymous, authenticated and pre-registration requests.
pub fn is_system_role(name: &str) -> bool {
    name.starts_with("system:")
        || matches!(name, "anonymous" | "authenticated" | "pre-registration")
}

/// Annotation on a user who must change the password before anything else.
pub const UNINITIALIZED_ANNOTATION: &str = "iam.kubesphere.io/uninitialized";

/// `users.iam.kubesphere.io`.
#[derive(CustomResource, Clone, Default, Deserialize, Serialize, PartialEq)]
#[kube(
    group = "iam.kubesphere.io",
    version = "v1alpha2",
    kind = "User",
    plural = "users",
    status = "UserStatus",
    schema = "disabled"
)]
#[serde(rename_all = "camelCase")]
pub struct UserSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// The bcrypt hash (KubeSphere's controller replaces a plain value with one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

impl std::fmt::Debug for UserSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserSpec")
            .field("email", &self.email)
            .field("lang", &self.lang)
            .field("display_name", &self.display_name)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UserStatus {
    /// `Active`, `Disabled` or `AuthLimitExceeded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_login_time: Option<Time>,
}

/// `loginrecords.iam.kubesphere.io`: one per login attempt of a known user.
#[derive(CustomResource, Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[kube(
    group = "iam.kubesphere.io",
    version = "v1alpha2",
    kind = "LoginRecord",
    plural = "loginrecords",
    schema = "disabled"
)]
#[serde(rename_all = "camelCase")]
pub struct LoginRecordSpec {
    /// `Token` for password logins, as ks-apiserver records them.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub provider: String,
    #[serde(rename = "sourceIP", default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    pub success: bool,
    pub reason: String,
}

/// The rules of a global or workspace role, and the templates it aggregates.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoleRules {
    pub rules: Vec<PolicyRule>,
    pub aggregation_roles: Vec<String>,
}

/// Reads `iam.kubesphere.io/aggregation-roles`; a malformed value aggregates nothing.
pub fn aggregation_roles(annotations: Option<&BTreeMap<String, String>>) -> Vec<String> {
    annotations
        .and_then(|a| a.get(AGGREGATION_ROLES_ANNOTATION))
        .and_then(|v| serde_json::from_str(v).ok())
        .unwrap_or_default()
}

/// `globalroles.iam.kubesphere.io`. Its `rules` sit at the top level, beside `metadata`, as
/// in an RBAC ClusterRole; kube's derive needs a spec, so the object is read untyped and
/// turned into [`RoleRules`] by [`role_rules`].
pub const GLOBAL_ROLE: (&str, &str, &str) = ("iam.kubesphere.io", "v1alpha2", "GlobalRole");
pub const GLOBAL_ROLE_BINDING: (&str, &str, &str) =
    ("iam.kubesphere.io", "v1alpha2", "GlobalRoleBinding");
pub const FEDERATED_USER: (&str, &str, &str) = ("types.kubefed.io", "v1beta1", "FederatedUser");
pub const WORKSPACE_ROLE: (&str, &str, &str) = ("iam.kubesphere.io", "v1alpha2", "WorkspaceRole");
pub const WORKSPACE_ROLE_BINDING: (&str, &str, &str) =
    ("iam.kubesphere.io", "v1alpha2", "WorkspaceRoleBinding");

/// A role object read untyped: its rules and its aggregation list.
pub fn role_rules(object: &kube::api::DynamicObject) -> RoleRules {
    let rules = object
        .data
        .get("rules")
        .cloned()
        .and_then(|r| serde_json::from_value::<Vec<PolicyRule>>(r).ok())
        .unwrap_or_default();
    RoleRules {
        rules,
        aggregation_roles: aggregation_roles(object.metadata.annotations.as_ref()),
    }
}

/// A binding read untyped: who it binds, and to which role.
#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    pub name: String,
    pub subjects: Vec<Subject>,
    pub role: String,
    /// `kubesphere.io/workspace` for workspace role bindings.
    pub workspace: Option<String>,
}

impl Binding {
    pub fn from_object(object: &kube::api::DynamicObject) -> Option<Self> {
        let subjects = object
            .data
            .get("subjects")
            .cloned()
            .and_then(|s| serde_json::from_value::<Vec<Subject>>(s).ok())
            .unwrap_or_default();
        let role = object
            .data
            .get("roleRef")?
            .get("name")?
            .as_str()?
            .to_string();
        Some(Self {
            name: object.metadata.name.clone().unwrap_or_default(),
            subjects,
            role,
            workspace: object
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("kubesphere.io/workspace"))
                .cloned(),
        })
    }

    /// True when the binding names this user (KubeSphere binds kind `User`).
    pub fn binds_user(&self, username: &str) -> bool {
        self.subjects
            .iter()
            .any(|s| s.kind == "User" && s.name == username)
    }
}

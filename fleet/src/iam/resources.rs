//! KubeSphere's IAM objects, typed (docs/KUBESPHERE.md 1.2–1.6). The password hash is declared
//! because login checks it, but it is kept out of `Debug` so it never reaches a log line.

use std::collections::BTreeMap;

use k8s_openapi::api::rbac::v1::{PolicyRule, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
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
    /// Required by the CRD (`""` when unknown, as ks-apiserver writes it): a record without
    /// it is a 422 on a real cluster.
    #[serde(rename = "sourceIP", default)]
    pub source_ip: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    pub success: bool,
    pub reason: String,
}

/// Implements kube's resource traits for a cluster-scoped KubeSphere kind that Tandem reads
/// in part: serde drops the fields it does not declare, so caches keep only what is used.
macro_rules! partial_resource {
    ($ty:ident, $group:literal, $version:literal, $kind:literal, $plural:literal) => {
        impl k8s_openapi::Resource for $ty {
            const API_VERSION: &'static str = concat!($group, "/", $version);
            const GROUP: &'static str = $group;
            const KIND: &'static str = $kind;
            const VERSION: &'static str = $version;
            const URL_PATH_SEGMENT: &'static str = $plural;
            type Scope = k8s_openapi::ClusterResourceScope;
        }

        impl k8s_openapi::Metadata for $ty {
            type Ty = ObjectMeta;

            fn metadata(&self) -> &ObjectMeta {
                &self.metadata
            }

            fn metadata_mut(&mut self) -> &mut ObjectMeta {
                &mut self.metadata
            }
        }
    };
}

/// `globalroles.iam.kubesphere.io`: its rules sit beside `metadata`, as in an RBAC ClusterRole.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct GlobalRole {
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub rules: Vec<PolicyRule>,
}
partial_resource!(
    GlobalRole,
    "iam.kubesphere.io",
    "v1alpha2",
    "GlobalRole",
    "globalroles"
);

/// `globalrolebindings.iam.kubesphere.io`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GlobalRoleBinding {
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub subjects: Vec<Subject>,
    pub role_ref: RoleRef,
}
partial_resource!(
    GlobalRoleBinding,
    "iam.kubesphere.io",
    "v1alpha2",
    "GlobalRoleBinding",
    "globalrolebindings"
);

/// `federatedusers.types.kubefed.io`, status only: the template (a copy of the user, password
/// hash included) is never kept.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct FederatedUser {
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub status: Option<FederatedStatus>,
}
partial_resource!(
    FederatedUser,
    "types.kubefed.io",
    "v1beta1",
    "FederatedUser",
    "federatedusers"
);

/// `workspacetemplates.tenant.kubesphere.io` (docs/KUBESPHERE.md 1.7): the workspace a host
/// federates to the clusters of its placement.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct WorkspaceTemplate {
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: WorkspaceTemplateSpec,
}
partial_resource!(
    WorkspaceTemplate,
    "tenant.kubesphere.io",
    "v1alpha2",
    "WorkspaceTemplate",
    "workspacetemplates"
);

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceTemplateSpec {
    #[serde(default)]
    pub template: WorkspaceTemplateBody,
    #[serde(default)]
    pub placement: Placement,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct WorkspaceTemplateBody {
    #[serde(default)]
    pub spec: WorkspaceSpec,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<String>,
}

/// kubefed's placement: named clusters, or a selector (`{}`: every cluster).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Placement {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clusters: Option<Vec<PlacementCluster>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_selector: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct PlacementCluster {
    pub name: String,
}

/// `federatedworkspaces.types.kubefed.io`, status only.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct FederatedWorkspace {
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub status: Option<FederatedStatus>,
}
partial_resource!(
    FederatedWorkspace,
    "types.kubefed.io",
    "v1beta1",
    "FederatedWorkspace",
    "federatedworkspaces"
);

/// `workspaceroles.iam.kubesphere.io`: the `<ws>-<role>` roles and the workspace role
/// templates they aggregate.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct WorkspaceRole {
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub rules: Vec<PolicyRule>,
}
partial_resource!(
    WorkspaceRole,
    "iam.kubesphere.io",
    "v1alpha2",
    "WorkspaceRole",
    "workspaceroles"
);

impl WorkspaceRole {
    pub fn role_rules(&self) -> RoleRules {
        RoleRules {
            rules: self.rules.clone(),
            aggregation_roles: aggregation_roles(self.metadata.annotations.as_ref()),
        }
    }
}

/// `workspacerolebindings.iam.kubesphere.io`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceRoleBinding {
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub subjects: Vec<Subject>,
    pub role_ref: RoleRef,
}
partial_resource!(
    WorkspaceRoleBinding,
    "iam.kubesphere.io",
    "v1alpha2",
    "WorkspaceRoleBinding",
    "workspacerolebindings"
);

/// Label that puts roles, bindings and namespaces in a workspace.
pub const WORKSPACE_LABEL: &str = "kubesphere.io/workspace";
/// Annotation with an object's display name.
pub const ALIAS_ANNOTATION: &str = "kubesphere.io/alias-name";
/// Annotation naming who created an object.
pub const CREATOR_ANNOTATION: &str = "kubesphere.io/creator";

/// kubefed's per-cluster outcome of a federated object.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct FederatedStatus {
    #[serde(default)]
    pub clusters: Vec<FederatedClusterStatus>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct FederatedClusterStatus {
    pub name: String,
    /// Empty on success; kubefed's reason otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
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

impl GlobalRole {
    pub fn role_rules(&self) -> RoleRules {
        RoleRules {
            rules: self.rules.clone(),
            aggregation_roles: aggregation_roles(self.metadata.annotations.as_ref()),
        }
    }
}

/// A binding as permission checks read it: who it binds, and to which role.
#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    pub name: String,
    pub subjects: Vec<Subject>,
    pub role: String,
    /// `kubesphere.io/workspace` for workspace role bindings.
    pub workspace: Option<String>,
}

impl Binding {
    pub fn from_global(binding: &GlobalRoleBinding) -> Self {
        Self {
            name: binding.metadata.name.clone().unwrap_or_default(),
            subjects: binding.subjects.clone(),
            role: binding.role_ref.name.clone(),
            workspace: None,
        }
    }

    /// True when the binding names this user (KubeSphere binds kind `User`).
    pub fn binds_user(&self, username: &str) -> bool {
        binds_user(&self.subjects, username)
    }
}

/// The subject KubeSphere writes when it binds a user to a role.
pub fn user_subject(user: &str) -> Subject {
    Subject {
        api_group: Some("rbac.authorization.k8s.io".into()),
        kind: "User".into(),
        name: user.into(),
        namespace: None,
    }
}

pub fn binds_user(subjects: &[Subject], username: &str) -> bool {
    subjects
        .iter()
        .any(|s| s.kind == "User" && s.name == username)
}

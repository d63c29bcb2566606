//! Workspaces as a KubeSphere host keeps them (docs/KUBESPHERE.md 1.5, 1.7, 4.3, 5.3): a
//! `WorkspaceTemplate` placed on member clusters, its members as `WorkspaceRoleBinding`s to
//! the `<ws>-<role>` roles the host's controller makes, its propagation from the
//! `FederatedWorkspace`.

use std::collections::BTreeMap;
use std::time::SystemTime;

use k8s_openapi::api::rbac::v1::RoleRef;
use kube::api::{DeleteParams, ListParams, ObjectMeta};
use kube::{Api, Client, ResourceExt};

use super::cache::IamCache;
use super::host_write::{HostWriteError, from_host_write};
use super::propagation::{MemberPropagation, status_propagation};
use super::resources::{
    ALIAS_ANNOTATION, CREATOR_ANNOTATION, DESCRIPTION_ANNOTATION, Placement, PlacementCluster,
    USER_REF_LABEL, WORKSPACE_LABEL, WorkspaceRoleBinding, WorkspaceSpec, WorkspaceTemplate,
    WorkspaceTemplateBody, WorkspaceTemplateSpec,
};
use super::role_change::give_only_role;

pub use wire::users::WORKSPACE_ROLES;

#[derive(Debug, Clone, PartialEq)]
pub struct WorkspaceRow {
    pub name: String,
    pub alias: Option<String>,
    pub description: Option<String>,
    pub manager: Option<String>,
    /// Named clusters; `None` when the placement is a selector (`{}`: every cluster).
    pub clusters: Option<Vec<String>>,
    pub members: Vec<WorkspaceMember>,
    pub propagation: Vec<MemberPropagation>,
    pub created: Option<SystemTime>,
    pub deleting: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct WorkspaceMember {
    pub user: String,
    /// The role without its `<ws>-` prefix: admin, regular, viewer, self-provisioner.
    pub role: String,
}

#[derive(Clone, Debug)]
pub struct NewWorkspace {
    pub name: String,
    pub alias: String,
    pub manager: String,
    pub description: String,
    pub clusters: Vec<String>,
    pub creator: String,
}

#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error("the workspace name {0}")]
    InvalidName(&'static str),
    #[error("a workspace named `{0}` already exists on this host")]
    NameTaken(String),
    #[error("a workspace named `{name}` exists on host `{host}`, which manages the same members")]
    ExistsOnOtherHost { name: String, host: String },
    #[error("there is no user `{0}` on this host")]
    UnknownUser(String),
    #[error("`{0}` is not a workspace role (admin, self-provisioner, regular, viewer)")]
    UnknownRole(String),
    #[error("there is no cluster `{0}` managed by this host")]
    UnknownCluster(String),
    #[error("there is no workspace `{0}`")]
    NotFound(String),
    #[error("the alias or description is too long (63 and 256 characters at most)")]
    TooLong,
    #[error(transparent)]
    Host(#[from] HostWriteError),
}

from_host_write!(WorkspaceError);

/// ks-console's `PATTERN_NAME` (a DNS-1123 label, at most 63), and not `workspaces`.
pub fn check_workspace_name(name: &str) -> Result<(), WorkspaceError> {
    if let Some(problem) = crate::config::dns1123_label_problem(name) {
        return Err(WorkspaceError::InvalidName(problem));
    }
    if name == "workspaces" {
        return Err(WorkspaceError::InvalidName("`workspaces` is reserved"));
    }
    Ok(())
}

impl IamCache {
    /// Every workspace of the host, by name, with its members and propagation.
    pub fn workspaces(&self) -> Vec<WorkspaceRow> {
        let mut rows: Vec<WorkspaceRow> = self
            .workspace_templates()
            .iter()
            .map(|t| {
                let name = t.name_any();
                let annotation = |key: &str| t.annotations().get(key).cloned();
                WorkspaceRow {
                    alias: annotation(ALIAS_ANNOTATION),
                    description: annotation(DESCRIPTION_ANNOTATION),
                    manager: t.spec.template.spec.manager.clone(),
                    clusters: t
                        .spec
                        .placement
                        .clusters
                        .as_ref()
                        .map(|c| c.iter().map(|c| c.name.clone()).collect()),
                    members: self.workspace_members(&name),
                    propagation: self
                        .federated_workspace(&name)
                        .map(|f| status_propagation(f.status.as_ref()))
                        .unwrap_or_default(),
                    created: t
                        .metadata
                        .creation_timestamp
                        .as_ref()
                        .map(|c| SystemTime::from(c.0)),
                    deleting: t.metadata.deletion_timestamp.is_some(),
                    name,
                }
            })
            .collect();
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        rows
    }

    /// The users bound to the workspace's roles, by user.
    pub fn workspace_members(&self, workspace: &str) -> Vec<WorkspaceMember> {
        let prefix = format!("{workspace}-");
        let mut members: Vec<WorkspaceMember> = self
            .workspace_role_bindings_in(workspace)
            .iter()
            .flat_map(|b| {
                let role = b
                    .role_ref
                    .name
                    .strip_prefix(&prefix)
                    .unwrap_or(&b.role_ref.name)
                    .to_string();
                b.subjects
                    .iter()
                    .filter(|s| s.kind == "User")
                    .map(move |s| WorkspaceMember {
                        user: s.name.clone(),
                        role: role.clone(),
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        members.sort();
        members.dedup();
        members
    }
}

/// Creates the workspace template; the host's controller then makes its roles, the manager's
/// binding and the `FederatedWorkspace`.
pub async fn create_workspace(
    client: &Client,
    cache: &IamCache,
    new: &NewWorkspace,
    known_clusters: &[String],
) -> Result<(), WorkspaceError> {
    check_workspace_name(&new.name)?;
    if new.alias.chars().count() > 63 || new.description.chars().count() > 256 {
        return Err(WorkspaceError::TooLong);
    }
    if cache.user(&new.manager).is_none() {
        return Err(WorkspaceError::UnknownUser(new.manager.clone()));
    }
    if let Some(unknown) = new.clusters.iter().find(|c| !known_clusters.contains(c)) {
        return Err(WorkspaceError::UnknownCluster(unknown.clone()));
    }
    let api: Api<WorkspaceTemplate> = Api::all(client.clone());
    if api.get_opt(&new.name).await?.is_some() {
        return Err(WorkspaceError::NameTaken(new.name.clone()));
    }
    let mut annotations = BTreeMap::from([(CREATOR_ANNOTATION.to_string(), new.creator.clone())]);
    for (key, value) in [
        (ALIAS_ANNOTATION, &new.alias),
        (DESCRIPTION_ANNOTATION, &new.description),
    ] {
        if !value.trim().is_empty() {
            annotations.insert(key.into(), value.trim().into());
        }
    }
    let template = WorkspaceTemplate {
        metadata: ObjectMeta {
            name: Some(new.name.clone()),
            annotations: Some(annotations),
            ..Default::default()
        },
        spec: WorkspaceTemplateSpec {
            template: WorkspaceTemplateBody {
                spec: WorkspaceSpec {
                    manager: Some(new.manager.clone()),
                },
            },
            placement: Placement {
                clusters: Some(
                    new.clusters
                        .iter()
                        .map(|c| PlacementCluster { name: c.clone() })
                        .collect(),
                ),
                cluster_selector: None,
            },
        },
    };
    crate::writes::create(&api, &template)
        .await
        .map_err(|e| match e {
            kube::Error::Api(ref s) if s.code == 409 => WorkspaceError::NameTaken(new.name.clone()),
            other => other.into(),
        })?;
    Ok(())
}

/// Makes `user` a member with `role`, replacing the user's other roles in the workspace (as
/// ks-apiserver's `CreateUserWorkspaceRoleBinding`).
pub async fn set_workspace_member(
    client: &Client,
    cache: &IamCache,
    workspace: &str,
    user: &str,
    role: &str,
) -> Result<(), WorkspaceError> {
    if !WORKSPACE_ROLES.contains(&role) {
        return Err(WorkspaceError::UnknownRole(role.into()));
    }
    if cache.user(user).is_none() {
        return Err(WorkspaceError::UnknownUser(user.into()));
    }
    let templates: Api<WorkspaceTemplate> = Api::all(client.clone());
    if templates.get_opt(workspace).await?.is_none() {
        return Err(WorkspaceError::NotFound(workspace.into()));
    }
    let role_name = format!("{workspace}-{role}");
    let api: Api<WorkspaceRoleBinding> = Api::all(client.clone());
    let wanted = WorkspaceRoleBinding {
        metadata: ObjectMeta {
            name: Some(format!("{user}-{role_name}")),
            labels: Some(BTreeMap::from([
                (USER_REF_LABEL.to_string(), user.to_string()),
                (WORKSPACE_LABEL.to_string(), workspace.to_string()),
            ])),
            ..Default::default()
        },
        subjects: vec![super::resources::user_subject(user)],
        role_ref: RoleRef {
            api_group: "iam.kubesphere.io".into(),
            kind: "WorkspaceRole".into(),
            name: role_name,
        },
    };
    let current = user_bindings(&api, workspace, user).await?;
    give_only_role(&api, current, user, wanted).await?;
    Ok(())
}

/// Removes every binding of `user` in the workspace.
pub async fn remove_workspace_member(
    client: &Client,
    workspace: &str,
    user: &str,
) -> Result<(), WorkspaceError> {
    let api: Api<WorkspaceRoleBinding> = Api::all(client.clone());
    for binding in user_bindings(&api, workspace, user).await? {
        if binding.subjects.len() == 1 {
            api.delete(&binding.name_any(), &DeleteParams::default())
                .await?;
        }
    }
    Ok(())
}

async fn user_bindings(
    api: &Api<WorkspaceRoleBinding>,
    workspace: &str,
    user: &str,
) -> Result<Vec<WorkspaceRoleBinding>, kube::Error> {
    let selector = format!("{WORKSPACE_LABEL}={workspace}");
    Ok(api
        .list(&ListParams::default().labels(&selector))
        .await?
        .items
        .into_iter()
        .filter(|b| super::resources::binds_user(&b.subjects, user))
        .collect())
}

/// Deletes the workspace template; the host's controller removes its roles and bindings, and
/// kubefed the members' copies.
pub async fn delete_workspace(client: &Client, workspace: &str) -> Result<(), WorkspaceError> {
    let api: Api<WorkspaceTemplate> = Api::all(client.clone());
    match api.delete(workspace, &DeleteParams::default()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 => {
            Err(WorkspaceError::NotFound(workspace.into()))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_names_follow_ks_console() {
        assert!(check_workspace_name("team-a").is_ok());
        assert!(check_workspace_name("Team").is_err());
        assert!(check_workspace_name("-team").is_err());
        assert!(check_workspace_name(&"a".repeat(64)).is_err());
        assert!(check_workspace_name("workspaces").is_err());
        assert!(check_workspace_name("").is_err());
        assert!(check_workspace_name("team.a").is_err());
    }
}

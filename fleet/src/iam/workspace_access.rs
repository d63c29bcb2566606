//! What a user may do inside one workspace, from their workspace roles (docs/KUBESPHERE.md 1.5,
//! 1.6): `<ws>-admin`, `-self-provisioner`, `-regular`, `-viewer`, each with the workspace role
//! templates it aggregates — so a workspace's administrator manages its members without any
//! platform role, as in KubeSphere.

use std::collections::{HashMap, HashSet};

use super::authorize::Permissions;
use super::cache::IamCache;
use super::resources::{Binding, RoleRules, WORKSPACE_LABEL};

/// What can be done to one workspace, each as the API request KubeSphere's roles grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkspaceAction {
    View,
    ManageMembers,
    Delete,
}

impl WorkspaceAction {
    pub fn request(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::View => ("get", "tenant.kubesphere.io", "workspaces"),
            Self::ManageMembers => ("create", "iam.kubesphere.io", "workspacemembers"),
            Self::Delete => ("delete", "tenant.kubesphere.io", "workspaces"),
        }
    }
}

impl IamCache {
    /// The user's rules inside `workspace`.
    pub fn workspace_permissions(&self, user: &str, workspace: &str) -> Permissions {
        let bindings: Vec<Binding> = self
            .workspace_role_bindings_of(user)
            .iter()
            .filter(|b| {
                b.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(WORKSPACE_LABEL))
                    .map(String::as_str)
                    == Some(workspace)
            })
            .map(|b| Binding {
                name: b.metadata.name.clone().unwrap_or_default(),
                subjects: b.subjects.clone(),
                role: b.role_ref.name.clone(),
                workspace: Some(workspace.to_string()),
            })
            .collect();
        let mut roles: HashMap<String, RoleRules> = HashMap::new();
        for binding in &bindings {
            let Some(role) = self.workspace_role(&binding.role) else {
                continue;
            };
            let rules = role.role_rules();
            for template in &rules.aggregation_roles {
                if let Some(t) = self.workspace_role(template) {
                    roles.insert(template.clone(), t.role_rules());
                }
            }
            roles.insert(binding.role.clone(), rules);
        }
        Permissions::resolve(user, &bindings, &roles)
    }

    /// May `user` do `action` in `workspace` by their workspace roles alone?
    pub fn may_in_workspace(&self, user: &str, workspace: &str, action: WorkspaceAction) -> bool {
        let (verb, group, resource) = action.request();
        self.workspace_permissions(user, workspace)
            .allows_request(verb, group, resource)
    }

    /// The workspaces `user` is a member of.
    pub fn workspaces_of(&self, user: &str) -> HashSet<String> {
        self.workspace_role_bindings_of(user)
            .iter()
            .filter_map(|b| b.metadata.labels.as_ref()?.get(WORKSPACE_LABEL).cloned())
            .collect()
    }
}

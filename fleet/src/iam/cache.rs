//! A host's IAM objects kept in memory by watches (kube-runtime reflectors), so that checking
//! a permission or listing users never costs a request to the cluster. Only the fields Tandem
//! reads are kept (see the partial kinds in `resources`), without managed fields.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures_util::StreamExt;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, ResourceExt};

use super::authorize::Permissions;
use super::resources::{
    Binding, FederatedUser, FederatedWorkspace, GlobalRole, GlobalRoleBinding, ROLE_TEMPLATE_LABEL,
    RoleRules, User, WORKSPACE_LABEL, WorkspaceRole, WorkspaceRoleBinding, WorkspaceTemplate,
    binds_user, is_system_role,
};

#[derive(Clone)]
pub struct IamCache {
    pub users: Store<User>,
    global_roles: Store<GlobalRole>,
    global_role_bindings: Store<GlobalRoleBinding>,
    federated_users: Store<FederatedUser>,
    workspace_templates: Store<WorkspaceTemplate>,
    federated_workspaces: Store<FederatedWorkspace>,
    workspace_role_bindings: Store<WorkspaceRoleBinding>,
    workspace_roles: Store<WorkspaceRole>,
}

impl IamCache {
    /// Starts the watches; they reconnect on their own with back-off for as long as the
    /// process runs.
    pub fn start(client: &Client) -> Self {
        Self {
            users: Kind(Api::all(client.clone())).reflected(),
            global_roles: Kind(Api::all(client.clone())).reflected(),
            global_role_bindings: Kind(Api::all(client.clone())).reflected(),
            federated_users: Kind(Api::all(client.clone())).reflected(),
            workspace_templates: Kind(Api::all(client.clone())).reflected(),
            federated_workspaces: Kind(Api::all(client.clone())).reflected(),
            workspace_role_bindings: Kind(Api::all(client.clone())).reflected(),
            workspace_roles: Kind(Api::all(client.clone())).reflected(),
        }
    }

    /// A cache filled by listing once, with no watch: what a per-request read (or a one-shot
    /// command) costs, and the baseline the watch-fed cache is measured against.
    pub async fn list_once(client: &Client) -> Result<Self, kube::Error> {
        Ok(Self {
            users: Kind(Api::all(client.clone())).filled().await?,
            global_roles: Kind(Api::all(client.clone())).filled().await?,
            global_role_bindings: Kind(Api::all(client.clone())).filled().await?,
            federated_users: Kind(Api::all(client.clone())).filled().await?,
            workspace_templates: Kind(Api::all(client.clone())).filled().await?,
            federated_workspaces: Kind(Api::all(client.clone())).filled().await?,
            workspace_role_bindings: Kind(Api::all(client.clone())).filled().await?,
            workspace_roles: Kind(Api::all(client.clone())).filled().await?,
        })
    }

    /// Waits until every watch has listed once.
    pub async fn ready(&self) {
        let _ = self.users.wait_until_ready().await;
        let _ = self.global_roles.wait_until_ready().await;
        let _ = self.global_role_bindings.wait_until_ready().await;
        let _ = self.federated_users.wait_until_ready().await;
        let _ = self.workspace_templates.wait_until_ready().await;
        let _ = self.federated_workspaces.wait_until_ready().await;
        let _ = self.workspace_role_bindings.wait_until_ready().await;
        let _ = self.workspace_roles.wait_until_ready().await;
    }

    /// What `username` may do on this host, from its global role bindings. Runs on every
    /// request, so it reads only the user's bindings and the roles they name.
    pub fn permissions(&self, username: &str) -> Permissions {
        let bindings: Vec<Binding> = self
            .global_role_bindings
            .state_filter(|b| binds_user(&b.subjects, username))
            .iter()
            .map(|b| Binding::from_global(b))
            .collect();
        let mut roles: HashMap<String, RoleRules> = HashMap::new();
        for binding in &bindings {
            let Some(role) = self.global_role(&binding.role) else {
                continue;
            };
            let rules = role.role_rules();
            for template in &rules.aggregation_roles {
                if let Some(t) = self.global_role(template) {
                    roles.insert(template.clone(), t.role_rules());
                }
            }
            roles.insert(binding.role.clone(), rules);
        }
        Permissions::resolve(username, &bindings, &roles)
    }

    fn global_role(&self, name: &str) -> Option<Arc<GlobalRole>> {
        self.global_roles.get(&ObjectRef::new(name))
    }

    /// The global roles a person can be given: not role templates, not KubeSphere's system
    /// roles (what ks-console's role picker offers).
    pub fn assignable_global_roles(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .global_roles
            .state()
            .iter()
            .filter(|r| !r.labels().contains_key(ROLE_TEMPLATE_LABEL))
            .map(|r| r.name_any())
            .filter(|n| !is_system_role(n))
            .collect();
        names.sort();
        names
    }

    /// The platform role of each of `users` (KubeSphere keeps one; the first by name if a
    /// user has several).
    pub fn global_role_of(&self, users: &HashSet<&str>) -> HashMap<String, String> {
        let mut out: HashMap<String, String> = HashMap::new();
        for binding in self.global_role_bindings.state() {
            for subject in binding.subjects.iter().filter(|s| s.kind == "User") {
                if !users.contains(subject.name.as_str()) {
                    continue;
                }
                let role = &binding.role_ref.name;
                let entry = out.entry(subject.name.clone()).or_insert(role.clone());
                if role < entry {
                    *entry = role.clone();
                }
            }
        }
        out
    }

    /// Per member cluster: how many federated users and workspaces reached it, and the
    /// kubefed reasons of those that did not (reason → count). An object kubefed calls
    /// propagated but `in_trouble` says is not (the console saw two hosts fight over it
    /// there, say) is not counted as reached: kubefed's word is the one that lies then.
    pub fn propagation_by_cluster(
        &self,
        in_trouble: impl Fn(&str, crate::federation::FederatedKind, &str) -> bool,
    ) -> HashMap<String, (usize, HashMap<String, usize>)> {
        use super::propagation::{PropagationStatus, status_propagation};
        use crate::federation::FederatedKind;
        let mut out: HashMap<String, (usize, HashMap<String, usize>)> = HashMap::new();
        let users = self.federated_users.state();
        let workspaces = self.federated_workspaces.state();
        let statuses = users
            .iter()
            .map(|u| (FederatedKind::User, u.name_any(), u.status.as_ref()))
            .chain(
                workspaces
                    .iter()
                    .map(|w| (FederatedKind::Workspace, w.name_any(), w.status.as_ref())),
            );
        for (kind, name, status) in statuses {
            for entry in status_propagation(status) {
                let troubled = in_trouble(&entry.cluster, kind, &name);
                let counts = out.entry(entry.cluster).or_default();
                match entry.status {
                    PropagationStatus::Propagated if !troubled => counts.0 += 1,
                    PropagationStatus::Propagated => {}
                    PropagationStatus::Failed(reason) => *counts.1.entry(reason).or_default() += 1,
                }
            }
        }
        out
    }

    pub fn federated_user(&self, name: &str) -> Option<Arc<FederatedUser>> {
        self.federated_users.get(&ObjectRef::new(name))
    }

    pub fn workspace_templates(&self) -> Vec<Arc<WorkspaceTemplate>> {
        self.workspace_templates.state()
    }

    pub fn federated_workspace(&self, name: &str) -> Option<Arc<FederatedWorkspace>> {
        self.federated_workspaces.get(&ObjectRef::new(name))
    }

    pub fn workspace_role_bindings_in(&self, workspace: &str) -> Vec<Arc<WorkspaceRoleBinding>> {
        self.workspace_role_bindings.state_filter(|b| {
            b.labels().get(WORKSPACE_LABEL).map(String::as_str) == Some(workspace)
        })
    }

    pub fn workspace_role(&self, name: &str) -> Option<Arc<WorkspaceRole>> {
        self.workspace_roles.get(&ObjectRef::new(name))
    }

    /// Every workspace role binding that names `user`.
    pub fn workspace_role_bindings_of(&self, user: &str) -> Vec<Arc<WorkspaceRoleBinding>> {
        self.workspace_role_bindings
            .state_filter(|b| binds_user(&b.subjects, user))
    }

    /// The cached user, if the watch has seen it.
    pub fn user(&self, username: &str) -> Option<Arc<User>> {
        self.users.get(&ObjectRef::new(username))
    }
}

/// Managed fields and kubectl's last-applied copy are never read and can be larger than
/// the rest of the object.
fn slim<K: kube::Resource>(object: &mut K) {
    let meta = object.meta_mut();
    meta.managed_fields = None;
    if let Some(annotations) = meta.annotations.as_mut() {
        annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
    }
}

/// One kind's objects in a store: listed once (`filled`) or kept current by a watch
/// (`reflected`).
struct Kind<K>(Api<K>);

impl<K> Kind<K>
where
    K: kube::Resource<DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    async fn filled(self) -> Result<Store<K>, kube::Error> {
        let api = self.0;
        let mut writer = reflector::store::Writer::new(());
        writer.apply_watcher_event(&watcher::Event::Init);
        for mut object in api.list(&Default::default()).await?.items {
            slim(&mut object);
            writer.apply_watcher_event(&watcher::Event::InitApply(object));
        }
        writer.apply_watcher_event(&watcher::Event::InitDone);
        // The data lives as long as a reader does; the writer is not needed any more.
        Ok(writer.as_reader())
    }

    fn reflected(self) -> Store<K> {
        let api = self.0;
        let writer = reflector::store::Writer::new(());
        let reader = writer.as_reader();
        let stream = watcher(api, watcher::Config::default())
            .modify(slim)
            .default_backoff();
        let stream = reflector::reflector(writer, stream).applied_objects();
        tokio::spawn(async move {
            let mut stream = std::pin::pin!(stream);
            while let Some(event) = stream.next().await {
                if let Err(e) = event {
                    tracing::debug!(error = %e, "IAM watch error; retrying with back-off");
                }
            }
        });
        reader
    }
}

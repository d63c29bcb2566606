//! A host's IAM objects kept in memory by watches (kube-runtime reflectors), so that checking
//! a permission or listing users never costs a request to the cluster.

use std::collections::HashMap;

use futures_util::StreamExt;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};

use super::authorize::Permissions;
use super::resources::{
    Binding, FEDERATED_USER, GLOBAL_ROLE, GLOBAL_ROLE_BINDING, ROLE_TEMPLATE_LABEL, RoleRules,
    User, is_system_role, role_rules,
};

#[derive(Clone)]
pub struct IamCache {
    pub users: Store<User>,
    global_roles: Store<DynamicObject>,
    global_role_bindings: Store<DynamicObject>,
    federated_users: Store<DynamicObject>,
    federated_user_resource: ApiResource,
}

impl IamCache {
    /// Starts the watches; they reconnect on their own with back-off for as long as the
    /// process runs.
    pub fn start(client: &Client) -> Self {
        let users = reflect(Api::<User>::all(client.clone()), ());
        let global_roles = reflect_dynamic(client, GLOBAL_ROLE, "globalroles");
        let global_role_bindings =
            reflect_dynamic(client, GLOBAL_ROLE_BINDING, "globalrolebindings");
        let federated_user_resource = api_resource(FEDERATED_USER, "federatedusers");
        let federated_users = reflect(
            Api::<DynamicObject>::all_with(client.clone(), &federated_user_resource),
            federated_user_resource.clone(),
        );
        Self {
            users,
            global_roles,
            global_role_bindings,
            federated_users,
            federated_user_resource,
        }
    }

    /// Waits until every watch has listed once.
    pub async fn ready(&self) {
        let _ = self.users.wait_until_ready().await;
        let _ = self.global_roles.wait_until_ready().await;
        let _ = self.global_role_bindings.wait_until_ready().await;
        let _ = self.federated_users.wait_until_ready().await;
    }

    /// What `username` may do on this host, from its global role bindings.
    pub fn permissions(&self, username: &str) -> Permissions {
        Permissions::resolve(username, &self.global_role_bindings(), &self.global_roles())
    }

    pub fn global_role_bindings(&self) -> Vec<Binding> {
        self.global_role_bindings
            .state()
            .iter()
            .filter_map(|b| Binding::from_object(b))
            .collect()
    }

    /// Every global role by name, role templates included.
    pub fn global_roles(&self) -> HashMap<String, RoleRules> {
        self.global_roles
            .state()
            .iter()
            .filter_map(|r| Some((r.metadata.name.clone()?, role_rules(r))))
            .collect()
    }

    /// The global roles a person can be given: not role templates, not KubeSphere's system
    /// roles (what ks-console's role picker offers).
    pub fn assignable_global_roles(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .global_roles
            .state()
            .iter()
            .filter(|r| {
                !r.metadata
                    .labels
                    .as_ref()
                    .is_some_and(|l| l.contains_key(ROLE_TEMPLATE_LABEL))
            })
            .filter_map(|r| r.metadata.name.clone())
            .filter(|n| !is_system_role(n))
            .collect();
        names.sort();
        names
    }

    pub fn federated_user(&self, name: &str) -> Option<std::sync::Arc<DynamicObject>> {
        self.federated_users.get(&reflector::ObjectRef::new_with(
            name,
            self.federated_user_resource.clone(),
        ))
    }

    /// The cached user, if the watch has seen it.
    pub fn user(&self, username: &str) -> Option<std::sync::Arc<User>> {
        self.users.get(&reflector::ObjectRef::new(username))
    }
}

fn reflect<K>(api: Api<K>, dyntype: K::DynamicType) -> Store<K>
where
    K: kube::Resource
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
    K::DynamicType: Clone + Eq + std::hash::Hash + Send + Sync,
{
    let writer = reflector::store::Writer::new(dyntype);
    let reader = writer.as_reader();
    let stream = reflector::reflector(writer, watcher(api, watcher::Config::default()))
        .default_backoff()
        .applied_objects();
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

fn reflect_dynamic(
    client: &Client,
    (group, version, kind): (&str, &str, &str),
    plural: &str,
) -> Store<DynamicObject> {
    let resource = api_resource((group, version, kind), plural);
    let api = Api::<DynamicObject>::all_with(client.clone(), &resource);
    reflect(api, resource)
}

fn api_resource((group, version, kind): (&str, &str, &str), plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
}

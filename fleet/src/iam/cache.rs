//! A host's IAM objects kept in memory by watches (kube-runtime reflectors), so that checking
//! a permission or listing users never costs a request to the cluster.

use std::collections::HashMap;

use futures_util::StreamExt;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};

use super::authorize::Permissions;
use super::resources::{Binding, GLOBAL_ROLE, GLOBAL_ROLE_BINDING, RoleRules, User, role_rules};

#[derive(Clone)]
pub struct IamCache {
    pub users: Store<User>,
    global_roles: Store<DynamicObject>,
    global_role_bindings: Store<DynamicObject>,
}

impl IamCache {
    /// Starts the watches; they reconnect on their own with back-off for as long as the
    /// process runs.
    pub fn start(client: &Client) -> Self {
        let users = reflect(Api::<User>::all(client.clone()), ());
        let global_roles = reflect_dynamic(client, GLOBAL_ROLE, "globalroles");
        let global_role_bindings =
            reflect_dynamic(client, GLOBAL_ROLE_BINDING, "globalrolebindings");
        Self {
            users,
            global_roles,
            global_role_bindings,
        }
    }

    /// Waits until every watch has listed once.
    pub async fn ready(&self) {
        let _ = self.users.wait_until_ready().await;
        let _ = self.global_roles.wait_until_ready().await;
        let _ = self.global_role_bindings.wait_until_ready().await;
    }

    /// What `username` may do on this host, from its global role bindings.
    pub fn permissions(&self, username: &str) -> Permissions {
        let bindings: Vec<Binding> = self
            .global_role_bindings
            .state()
            .iter()
            .filter_map(|b| Binding::from_object(b))
            .collect();
        let roles: HashMap<String, RoleRules> = self
            .global_roles
            .state()
            .iter()
            .filter_map(|r| Some((r.metadata.name.clone()?, role_rules(r))))
            .collect();
        Permissions::resolve(username, &bindings, &roles)
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
    let resource =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
    let api = Api::<DynamicObject>::all_with(client.clone(), &resource);
    reflect(api, resource)
}

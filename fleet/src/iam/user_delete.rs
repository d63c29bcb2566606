//! Deleting a user on a host the way KubeSphere can finish it.
//!
//! On a real KubeSphere 3.4.1 host the host is a kubefed member of itself, and a `User` is
//! both the source of its `FederatedUser` and that template's target on the host. Deleted in
//! the foreground, the user waits for its `FederatedUser`, whose kubefed finalizer waits for
//! the host's user ("resource is pending deletion"): neither ever goes (seen on the real rig,
//! session 13). So a user is deleted as ks-console deletes it, in the background: KubeSphere's
//! finalizer removes its bindings and login records, the user goes, garbage collection takes
//! the `FederatedUser`, kubefed clears the members.
//!
//! In the moment between the user going and garbage collection marking its `FederatedUser`,
//! the host's kubefed may write the user back from the template (seen on real 3.4.1: a user
//! labelled `kubefed.io/managed: "true"`, written by kubefed-controller-manager). Such a copy
//! is nobody's source; it is deleted again until the `FederatedUser` is gone.

use std::time::Duration;

use kube::Client;
use kube::api::{Api, DeleteParams, DynamicObject};

use super::resources::User;
use super::user_admin::UserError;
use crate::federation::{FederatedKind, KindResources};

/// How long a deleted user's `FederatedUser` is waited for, checking for a copy kubefed wrote
/// back.
const WATCH_FOR: Duration = Duration::from_secs(90);

/// Deletes `user`; KubeSphere's controller then removes its bindings and login records.
pub async fn delete_user(client: &Client, acting_user: &str, user: &str) -> Result<(), UserError> {
    if acting_user == user {
        return Err(UserError::OwnAccount("delete"));
    }
    let users: Api<User> = Api::all(client.clone());
    match users.delete(user, &DeleteParams::default()).await {
        Ok(_) => {
            tokio::spawn(remove_written_back(client.clone(), user.to_string()));
            Ok(())
        }
        Err(kube::Error::Api(e)) if e.code == 404 => Err(UserError::NotFound(user.into())),
        Err(e) => Err(e.into()),
    }
}

/// Deletes a user Tandem just made, when the rest of its creation failed.
pub(super) async fn undo_create(client: &Client, user: &str) {
    let users: Api<User> = Api::all(client.clone());
    if users.delete(user, &DeleteParams::default()).await.is_ok() {
        tokio::spawn(remove_written_back(client.clone(), user.to_string()));
    }
}

/// Until the user's `FederatedUser` is gone: a copy of the user kubefed wrote back is deleted.
pub async fn remove_written_back(client: Client, name: String) {
    let users: Api<User> = Api::all(client.clone());
    let federated: Api<DynamicObject> = Api::all_with(client, &FederatedKind::User.federated());
    let started = tokio::time::Instant::now();
    while started.elapsed() < WATCH_FOR {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let user = match users.get_opt(&name).await {
            Ok(user) => user,
            Err(_) => continue,
        };
        if let Some(copy) = &user
            && crate::sync::written_by_kubefed(&copy.metadata)
            && copy.metadata.deletion_timestamp.is_none()
        {
            tracing::info!(user = %name, "deleting the copy kubefed wrote back after the user's delete");
            let _ = users.delete(&name, &DeleteParams::default()).await;
            continue;
        }
        if user.is_none() && matches!(federated.get_opt(&name).await, Ok(None)) {
            return;
        }
    }
}

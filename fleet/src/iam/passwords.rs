//! Setting passwords (docs/KUBESPHERE.md 4.2 "change password"): an administrator sets anyone's, a
//! user changes their own after giving the current one. Only bcrypt hashes are written, with
//! KubeSphere's last-change annotation; the `uninitialized` mark goes with the first change.

use kube::api::Patch;
use kube::{Api, Client};

use super::resources::{LAST_PASSWORD_CHANGE_ANNOTATION, UNINITIALIZED_ANNOTATION, User};
use super::user_admin::{UserError, bcrypt_hash, check_password, now_rfc3339};

/// Sets a new password for `user`.
pub async fn set_password(client: &Client, user: &str, password: &str) -> Result<(), UserError> {
    check_password(password)?;
    let users: Api<User> = Api::all(client.clone());
    if users.get_opt(user).await?.is_none() {
        return Err(UserError::NotFound(user.into()));
    }
    let hash = bcrypt_hash(password.to_string()).await?;
    let patch = serde_json::json!({
        "metadata": {"annotations": {
            LAST_PASSWORD_CHANGE_ANNOTATION: now_rfc3339(),
            UNINITIALIZED_ANNOTATION: null,
        }},
        "spec": {"password": hash},
    });
    users
        .patch(user, &crate::writes::patch_params(), &Patch::Merge(&patch))
        .await?;
    Ok(())
}

/// A user changes their own password: the current one must match (ks-apiserver's
/// `incorrect old password`), the new one must follow KubeSphere's rules.
pub async fn change_own_password(
    client: &Client,
    user: &str,
    current: &str,
    new: &str,
    confirmation: &str,
) -> Result<(), UserError> {
    if new != confirmation {
        return Err(UserError::PasswordMismatch);
    }
    check_password(new)?;
    let users: Api<User> = Api::all(client.clone());
    let stored = users
        .get_opt(user)
        .await?
        .ok_or_else(|| UserError::NotFound(user.into()))?;
    let hash = stored.spec.password.clone().unwrap_or_default();
    let current = current.to_string();
    let matches =
        tokio::task::spawn_blocking(move || bcrypt::verify(current, &hash).unwrap_or(false))
            .await
            .unwrap_or(false);
    if !matches {
        return Err(UserError::IncorrectCurrentPassword);
    }
    set_password(client, user, new).await
}

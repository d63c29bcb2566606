//! Changing users the way ks-apiserver does (docs/KUBESPHERE.md 1.2, 1.4, 4.2, 5.2): KubeSphere's
//! name, email and password rules, one platform role per user as a `<user>-<role>` binding,
//! and only bcrypt hashes written (a plain password would reach members before the hash).

use std::collections::BTreeMap;

use k8s_openapi::api::rbac::v1::RoleRef;
use kube::api::{ObjectMeta, Patch};
use kube::{Api, Client};

use super::cache::IamCache;
use super::host_write::{HostWriteError, from_host_write};
use super::resources::{
    DESCRIPTION_ANNOTATION, GlobalRoleBinding, LAST_PASSWORD_CHANGE_ANNOTATION, USER_REF_LABEL,
    User, UserSpec,
};
use super::role_change::give_only_role;

/// What the create-user form sends.
#[derive(Clone)]
pub struct NewUser {
    pub name: String,
    pub email: String,
    pub password: String,
    pub global_role: String,
    pub description: String,
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("the username {0}")]
    InvalidName(&'static str),
    #[error("the email address is not valid")]
    InvalidEmail,
    #[error("the password {0}")]
    WeakPassword(&'static str),
    #[error("the description is longer than 256 characters")]
    DescriptionTooLong,
    #[error("there is no platform role `{0}` that can be given to users")]
    UnknownRole(String),
    #[error("a user named `{0}` already exists on this host")]
    NameTaken(String),
    #[error("the email address is already used by user `{0}`")]
    EmailTaken(String),
    #[error("a user named `{name}` exists on host `{host}`, which manages the same members")]
    ExistsOnOtherHost { name: String, host: String },
    #[error("there is no user `{0}`")]
    NotFound(String),
    #[error("you cannot {0} your own account")]
    OwnAccount(&'static str),
    #[error("the current password is not right")]
    IncorrectCurrentPassword,
    #[error("the new password and its confirmation differ")]
    PasswordMismatch,
    #[error(transparent)]
    Host(#[from] HostWriteError),
}

from_host_write!(UserError);

/// KubeSphere's `PATTERN_USER_NAME`, at most 32 characters.
pub fn check_username(name: &str) -> Result<(), UserError> {
    if name.is_empty() {
        return Err(UserError::InvalidName("is empty"));
    }
    if name.chars().count() > 32 {
        return Err(UserError::InvalidName("is longer than 32 characters"));
    }
    // Dot-separated DNS labels (the 32-character limit is stricter than theirs).
    if name
        .split('.')
        .any(|label| crate::config::dns1123_label_problem(label).is_some())
    {
        return Err(UserError::InvalidName(
            "may hold only lowercase letters, digits, '-' and '.', and must start and end with a letter or digit",
        ));
    }
    Ok(())
}

/// KubeSphere's `PATTERN_PASSWORD` (and the CRD's): 8–64 characters with a lowercase letter,
/// an uppercase letter and a digit.
pub fn check_password(password: &str) -> Result<(), UserError> {
    let len = password.chars().count();
    if !(8..=64).contains(&len) {
        return Err(UserError::WeakPassword("must be 8 to 64 characters long"));
    }
    if !password.chars().any(|c| c.is_ascii_lowercase())
        || !password.chars().any(|c| c.is_ascii_uppercase())
        || !password.chars().any(|c| c.is_ascii_digit())
    {
        return Err(UserError::WeakPassword(
            "needs a lowercase letter, an uppercase letter and a digit",
        ));
    }
    // The CRD's pattern is RE2 without the `s` flag: `.` stops at a line feed, so a real API
    // server refuses a password holding one (422) that the letters above would let through.
    if password.contains('\n') {
        return Err(UserError::WeakPassword("may not contain a line break"));
    }
    Ok(())
}

/// An address ks-apiserver's webhook (Go's `mail.ParseAddress`) would take, in its plain form.
pub fn check_email(email: &str) -> Result<(), UserError> {
    let Some((local, domain)) = email.split_once('@') else {
        return Err(UserError::InvalidEmail);
    };
    let ok = !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.starts_with('.')
        && !domain.ends_with('.');
    if ok {
        Ok(())
    } else {
        Err(UserError::InvalidEmail)
    }
}

impl NewUser {
    /// Every rule that needs no cluster: the form's own checks, done again on the server.
    pub fn validate(&self, assignable_roles: &[String]) -> Result<(), UserError> {
        check_username(&self.name)?;
        check_email(&self.email)?;
        check_password(&self.password)?;
        if self.description.chars().count() > 256 {
            return Err(UserError::DescriptionTooLong);
        }
        if !assignable_roles.contains(&self.global_role) {
            return Err(UserError::UnknownRole(self.global_role.clone()));
        }
        Ok(())
    }
}

pub(crate) async fn bcrypt_hash(password: String) -> Result<String, UserError> {
    tokio::task::spawn_blocking(move || bcrypt::hash(password, bcrypt::DEFAULT_COST))
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or(UserError::WeakPassword("could not be hashed"))
}

pub(crate) fn now_rfc3339() -> String {
    k8s_openapi::jiff::Timestamp::now().to_string()
}

/// Creates the user and its platform-role binding on one host; if the binding cannot be made
/// the user is removed again, so nothing half-made stays behind.
pub async fn create_user(
    client: &Client,
    cache: &IamCache,
    new: &NewUser,
) -> Result<(), UserError> {
    new.validate(&cache.assignable_global_roles())?;
    let users: Api<User> = Api::all(client.clone());
    if users.get_opt(&new.name).await?.is_some() {
        return Err(UserError::NameTaken(new.name.clone()));
    }
    let wanted = new.email.to_lowercase();
    if let Some(owner) = cache.users.state().iter().find(|u| {
        u.spec
            .email
            .as_deref()
            .is_some_and(|e| e.to_lowercase() == wanted)
    }) {
        return Err(UserError::EmailTaken(
            owner.metadata.name.clone().unwrap_or_default(),
        ));
    }
    let mut annotations =
        BTreeMap::from([(LAST_PASSWORD_CHANGE_ANNOTATION.to_string(), now_rfc3339())]);
    if !new.description.trim().is_empty() {
        annotations.insert(DESCRIPTION_ANNOTATION.into(), new.description.trim().into());
    }
    let user = User {
        metadata: ObjectMeta {
            name: Some(new.name.clone()),
            annotations: Some(annotations),
            ..Default::default()
        },
        spec: UserSpec {
            email: Some(new.email.clone()),
            password: Some(bcrypt_hash(new.password.clone()).await?),
            ..Default::default()
        },
        status: None,
    };
    crate::writes::create(&users, &user)
        .await
        .map_err(|e| match e {
            kube::Error::Api(ref s) if s.code == 409 => UserError::NameTaken(new.name.clone()),
            other => other.into(),
        })?;
    if let Err(e) = bind_global_role(client, &new.name, &new.global_role).await {
        super::user_delete::undo_create(client, &new.name).await;
        return Err(e);
    }
    Ok(())
}

/// Gives the user exactly this platform role: other bindings of the user go first, as
/// ks-apiserver's `CreateGlobalRoleBinding` does.
pub async fn assign_global_role(
    client: &Client,
    cache: &IamCache,
    user: &str,
    role: &str,
) -> Result<(), UserError> {
    if !cache.assignable_global_roles().iter().any(|r| r == role) {
        return Err(UserError::UnknownRole(role.into()));
    }
    bind_global_role(client, user, role).await
}

async fn bind_global_role(client: &Client, user: &str, role: &str) -> Result<(), UserError> {
    let api: Api<GlobalRoleBinding> = Api::all(client.clone());
    let wanted = GlobalRoleBinding {
        metadata: ObjectMeta {
            name: Some(format!("{user}-{role}")),
            labels: Some(BTreeMap::from([(USER_REF_LABEL.into(), user.into())])),
            ..Default::default()
        },
        subjects: vec![super::resources::user_subject(user)],
        role_ref: RoleRef {
            api_group: "iam.kubesphere.io".into(),
            kind: "GlobalRole".into(),
            name: role.into(),
        },
    };
    let current = api.list(&Default::default()).await?.items;
    give_only_role(&api, current, user, wanted).await?;
    Ok(())
}

/// Changes what a person may edit about a user: the email (valid, not another user's) and
/// the description.
pub async fn update_user(
    client: &Client,
    cache: &IamCache,
    user: &str,
    email: &str,
    description: &str,
) -> Result<(), UserError> {
    check_email(email)?;
    if description.chars().count() > 256 {
        return Err(UserError::DescriptionTooLong);
    }
    let wanted = email.to_lowercase();
    if let Some(owner) = cache.users.state().iter().find(|u| {
        u.metadata.name.as_deref() != Some(user)
            && u.spec
                .email
                .as_deref()
                .is_some_and(|e| e.to_lowercase() == wanted)
    }) {
        return Err(UserError::EmailTaken(
            owner.metadata.name.clone().unwrap_or_default(),
        ));
    }
    let users: Api<User> = Api::all(client.clone());
    if users.get_opt(user).await?.is_none() {
        return Err(UserError::NotFound(user.into()));
    }
    let description = description.trim();
    let patch = serde_json::json!({
        "metadata": {"annotations": {
            DESCRIPTION_ANNOTATION: if description.is_empty() { serde_json::Value::Null } else { description.into() },
        }},
        "spec": {"email": email},
    });
    users
        .patch(user, &crate::writes::patch_params(), &Patch::Merge(&patch))
        .await?;
    Ok(())
}

/// Enables or disables a user (`status.state`), as the console's enable/disable does.
pub async fn set_enabled(
    client: &Client,
    acting_user: &str,
    user: &str,
    enabled: bool,
) -> Result<(), UserError> {
    if !enabled && acting_user == user {
        return Err(UserError::OwnAccount("disable"));
    }
    let users: Api<User> = Api::all(client.clone());
    if users.get_opt(user).await?.is_none() {
        return Err(UserError::NotFound(user.into()));
    }
    let status = serde_json::json!({
        "state": if enabled { "Active" } else { "Disabled" },
        "reason": null,
        "lastTransitionTime": now_rfc3339(),
    });
    crate::writes::patch_status_in_object(&users, user, status).await?;
    Ok(())
}

pub use super::user_delete::delete_user;

#[cfg(test)]
mod tests {
    use super::*;

    fn new_user() -> NewUser {
        NewUser {
            name: "alice".into(),
            email: "alice@example.com".into(),
            password: "Passw0rdA".into(),
            global_role: "platform-regular".into(),
            description: String::new(),
        }
    }

    #[test]
    fn kubesphere_rules_for_new_users() {
        let roles = vec!["platform-admin".to_string(), "platform-regular".to_string()];
        assert!(new_user().validate(&roles).is_ok());
        let with = |f: &dyn Fn(&mut NewUser)| {
            let mut u = new_user();
            f(&mut u);
            u.validate(&roles).unwrap_err().to_string()
        };
        assert!(with(&|u| u.name = "Alice".into()).contains("lowercase"));
        assert!(with(&|u| u.name = "-alice".into()).contains("start and end"));
        assert!(with(&|u| u.name = "a".repeat(33)).contains("32"));
        assert!(with(&|u| u.name = String::new()).contains("empty"));
        assert!(check_username("dev.team-1").is_ok());
        assert!(with(&|u| u.email = "alice".into()).contains("email"));
        assert!(with(&|u| u.email = "al ice@example.com".into()).contains("email"));
        assert!(with(&|u| u.password = "short1A".into()).contains("8 to 64"));
        assert!(with(&|u| u.password = "alllowercase1".into()).contains("uppercase"));
        assert!(with(&|u| u.password = "NoDigitsHere".into()).contains("digit"));
        assert!(with(&|u| u.description = "x".repeat(257)).contains("256"));
        assert!(with(&|u| u.global_role = "anonymous".into()).contains("anonymous"));
    }
}

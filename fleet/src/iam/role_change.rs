//! Giving a person exactly one role — a platform role (`GlobalRoleBinding`) or a role in a
//! workspace (`WorkspaceRoleBinding`) — without a moment in which they have none.
//!
//! ks-apiserver deletes the person's other bindings and then creates the new one. On a real
//! cluster a refused create then left the person with no role at all (pressing "Save role" on
//! `admin` locked the administrator out). Here the new binding comes first; the old ones go
//! only once it exists, and a role the person already has changes nothing.

use std::fmt::Debug;

use k8s_openapi::api::rbac::v1::Subject;
use kube::api::{Api, DeleteParams};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::resources::{GlobalRoleBinding, WorkspaceRoleBinding, binds_user};

/// A binding of people to one role.
pub trait RoleBinding:
    Resource<DynamicType = ()> + Serialize + DeserializeOwned + Clone + Debug
{
    fn subjects(&self) -> &[Subject];
    fn role(&self) -> &str;
}

impl RoleBinding for GlobalRoleBinding {
    fn subjects(&self) -> &[Subject] {
        &self.subjects
    }
    fn role(&self) -> &str {
        &self.role_ref.name
    }
}

impl RoleBinding for WorkspaceRoleBinding {
    fn subjects(&self) -> &[Subject] {
        &self.subjects
    }
    fn role(&self) -> &str {
        &self.role_ref.name
    }
}

/// What a role change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleChange {
    /// The person had exactly this role already: nothing was written.
    Unchanged,
    /// The role was given (`created` names the new binding, if one was made) and these
    /// bindings of other roles were removed.
    Changed {
        created: Option<String>,
        removed: Vec<String>,
    },
}

/// Why a role change stopped; in both cases the person keeps a role.
#[derive(Debug, thiserror::Error)]
pub enum RoleChangeError {
    /// The new binding could not be made; nothing else was touched.
    #[error("the new role could not be given, the previous one is kept: {0}")]
    NotGiven(#[source] kube::Error),
    /// The new role was given, but a binding of another role could not be removed: the
    /// person has both until it is.
    #[error(
        "the new role was given, but the binding {binding} of the previous role could not be removed (the person has both until it is): {source}"
    )]
    OldKept {
        binding: String,
        #[source]
        source: kube::Error,
    },
}

impl RoleChangeError {
    /// The host's answer behind the failure.
    pub fn cluster_error(&self) -> &kube::Error {
        match self {
            Self::NotGiven(e) | Self::OldKept { source: e, .. } => e,
        }
    }
}

/// Leaves `user` with the role `wanted` and no other among `current` (the user's bindings in
/// scope: all platform bindings, or those of one workspace). Bindings shared with other
/// people are never touched.
pub async fn give_only_role<B: RoleBinding>(
    api: &Api<B>,
    current: Vec<B>,
    user: &str,
    wanted: B,
) -> Result<RoleChange, RoleChangeError> {
    let role = wanted.role().to_string();
    let own: Vec<B> = current
        .into_iter()
        .filter(|b| binds_user(b.subjects(), user))
        .collect();
    let kept = own
        .iter()
        .find(|b| b.role() == role && b.name_any() == wanted.name_any())
        .or_else(|| own.iter().find(|b| b.role() == role))
        .map(|b| b.name_any());
    let stale: Vec<String> = own
        .iter()
        .filter(|b| b.subjects().len() == 1 && Some(b.name_any()) != kept && b.role() != role)
        .map(|b| b.name_any())
        .collect();
    if kept.is_some() && stale.is_empty() {
        return Ok(RoleChange::Unchanged);
    }
    let created = match kept {
        Some(_) => None,
        None => {
            let name = wanted.name_any();
            match crate::writes::create(api, &wanted).await {
                Ok(_) => Some(name),
                // Made meanwhile (by another console, or a retry): fine if it is this role.
                Err(kube::Error::Api(s)) if s.code == 409 => match api.get_opt(&name).await {
                    Ok(Some(existing)) if existing.role() == role => None,
                    Ok(_) => return Err(RoleChangeError::NotGiven(kube::Error::Api(s))),
                    Err(e) => return Err(RoleChangeError::NotGiven(e)),
                },
                Err(e) => return Err(RoleChangeError::NotGiven(e)),
            }
        }
    };
    let mut removed = Vec::new();
    for binding in stale {
        match api.delete(&binding, &DeleteParams::default()).await {
            Ok(_) => removed.push(binding),
            Err(kube::Error::Api(s)) if s.code == 404 => removed.push(binding),
            Err(source) => return Err(RoleChangeError::OldKept { binding, source }),
        }
    }
    Ok(RoleChange::Changed { created, removed })
}

//! Who may do what: the user's global role on a host, with the role templates it aggregates,
//! checked against the API request each console action stands for — the same question
//! ks-apiserver's RBAC authorizer answers (docs/KUBESPHERE.md 1.4–1.6).

use std::collections::{BTreeSet, HashMap};

use k8s_openapi::api::rbac::v1::PolicyRule;

use super::resources::{Binding, RoleRules};

pub use wire::users::Action;

/// True when one of `rules` grants `verb` on `group`/`resource`.
pub fn rules_allow(rules: &[PolicyRule], verb: &str, group: &str, resource: &str) -> bool {
    let has = |list: &Option<Vec<String>>, wanted: &str| {
        list.as_ref()
            .is_some_and(|l| l.iter().any(|v| v == "*" || v == wanted))
    };
    rules.iter().any(|rule| {
        rule.verbs.iter().any(|v| v == "*" || v == verb)
            && has(&rule.api_groups, group)
            && has(&rule.resources, resource)
    })
}

/// The rules a user holds on one host: those of every global role bound to them, each
/// role's own rules plus those of the templates it aggregates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Permissions {
    /// Names of the user's global roles, sorted (KubeSphere keeps one per user).
    pub roles: Vec<String>,
    rules: Vec<PolicyRule>,
}

impl Permissions {
    pub fn resolve(
        username: &str,
        bindings: &[Binding],
        roles: &HashMap<String, RoleRules>,
    ) -> Self {
        let names: BTreeSet<String> = bindings
            .iter()
            .filter(|b| b.binds_user(username))
            .map(|b| b.role.clone())
            .collect();
        let mut rules = Vec::new();
        for name in &names {
            let Some(role) = roles.get(name) else {
                continue; // a binding to a role that is gone grants nothing
            };
            rules.extend(role.rules.iter().cloned());
            // One level deep, as ks-apiserver's getAggregateRoles: templates do not aggregate.
            for template in &role.aggregation_roles {
                if let Some(t) = roles.get(template) {
                    rules.extend(t.rules.iter().cloned());
                }
            }
        }
        Self {
            roles: names.into_iter().collect(),
            rules,
        }
    }

    /// Whether the rules grant one API request (for checks inside a workspace).
    pub fn allows_request(&self, verb: &str, group: &str, resource: &str) -> bool {
        rules_allow(&self.rules, verb, group, resource)
    }

    pub fn allows(&self, action: Action) -> bool {
        match action.request() {
            None => true,
            Some((verb, group, resource)) => rules_allow(&self.rules, verb, group, resource),
        }
    }

    /// Every action this user may take, for the pages to hide what would be refused.
    pub fn allowed_actions(&self) -> Vec<Action> {
        Action::ALL
            .into_iter()
            .filter(|a| self.allows(*a))
            .collect()
    }
}

#[cfg(test)]
#[path = "authorize_tests.rs"]
mod tests;

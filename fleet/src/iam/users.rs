//! The users list: search, sort and paging over a host's cached `User` objects, each with its
//! platform role and its propagation to members — all from memory, whatever the user count.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::cache::IamCache;
use super::propagation::{MemberPropagation, member_propagation};
use super::resources::User;

pub use wire::users::{UserProfile, UserSort, UserState};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserQuery {
    /// Matches name, email or display name, ignoring case.
    pub search: String,
    pub sort: UserSort,
    pub descending: bool,
    /// From 0.
    pub page: usize,
    pub page_size: usize,
}

pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 500;

#[derive(Debug, Clone, PartialEq)]
pub struct UserRow {
    pub profile: UserProfile,
    pub last_login: Option<SystemTime>,
    pub created: Option<SystemTime>,
    pub propagation: Vec<MemberPropagation>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UserPage {
    pub rows: Vec<UserRow>,
    /// Users that match the search, on all pages.
    pub matching: usize,
    /// Users on the host.
    pub total: usize,
}

impl IamCache {
    pub fn user_page(&self, query: &UserQuery) -> UserPage {
        let users = self.users.state();
        let total = users.len();
        let needle = query.search.trim().to_lowercase();
        let mut matching: Vec<&User> = users
            .iter()
            .map(|u| u.as_ref())
            .filter(|u| needle.is_empty() || matches(u, &needle))
            .collect();
        let key_time = |t: Option<SystemTime>| t.unwrap_or(SystemTime::UNIX_EPOCH);
        match query.sort {
            UserSort::Name => matching.sort_by(|a, b| name(a).cmp(name(b))),
            UserSort::Created => matching.sort_by(|a, b| {
                key_time(created(a))
                    .cmp(&key_time(created(b)))
                    .then_with(|| name(a).cmp(name(b)))
            }),
            UserSort::LastLogin => matching.sort_by(|a, b| {
                key_time(last_login(a))
                    .cmp(&key_time(last_login(b)))
                    .then_with(|| name(a).cmp(name(b)))
            }),
            UserSort::State => {
                matching.sort_by(|a, b| state(a).cmp(&state(b)).then_with(|| name(a).cmp(name(b))))
            }
        }
        if query.descending {
            matching.reverse();
        }
        let size = match query.page_size {
            0 => DEFAULT_PAGE_SIZE,
            n => n.min(MAX_PAGE_SIZE),
        };
        let count = matching.len();
        let page: Vec<&User> = matching
            .into_iter()
            .skip(query.page.saturating_mul(size))
            .take(size)
            .collect();
        // Only the shown rows need their role and propagation.
        let shown: std::collections::HashSet<&str> = page.iter().map(|u| name(u)).collect();
        let roles = self.global_role_of(&shown);
        let rows = page
            .into_iter()
            .map(|u| {
                let name = name(u).to_string();
                UserRow {
                    last_login: last_login(u),
                    created: created(u),
                    propagation: self
                        .federated_user(&name)
                        .map(|f| member_propagation(&f))
                        .unwrap_or_default(),
                    profile: UserProfile {
                        email: u.spec.email.clone(),
                        display_name: u.spec.display_name.clone(),
                        description: u
                            .metadata
                            .annotations
                            .as_ref()
                            .and_then(|a| a.get(super::resources::DESCRIPTION_ANNOTATION))
                            .cloned(),
                        state: state(u),
                        reason: u.status.as_ref().and_then(|s| s.reason.clone()),
                        global_role: roles.get(name.as_str()).cloned(),
                        name,
                    },
                }
            })
            .collect();
        UserPage {
            rows,
            matching: count,
            total,
        }
    }
}

fn matches(user: &User, needle: &str) -> bool {
    name(user).to_lowercase().contains(needle)
        || user
            .spec
            .email
            .as_deref()
            .is_some_and(|e| e.to_lowercase().contains(needle))
        || user
            .spec
            .display_name
            .as_deref()
            .is_some_and(|d| d.to_lowercase().contains(needle))
}

fn name(user: &User) -> &str {
    user.metadata.name.as_deref().unwrap_or_default()
}

fn state(user: &User) -> UserState {
    UserState::from_status(user.status.as_ref().and_then(|s| s.state.as_deref()))
}

fn created(user: &User) -> Option<SystemTime> {
    user.metadata
        .creation_timestamp
        .as_ref()
        .map(|t| SystemTime::from(t.0))
}

fn last_login(user: &User) -> Option<SystemTime> {
    user.status
        .as_ref()
        .and_then(|s| s.last_login_time.as_ref())
        .map(|t| SystemTime::from(t.0))
}

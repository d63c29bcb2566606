//! Which federated objects a list shows: the rules of the federation page (filter by state,
//! kind and name; worst state first; pages; counts per state; the members by name), kept
//! here so that they are tested without a browser, as [`crate::iam::users::UserQuery`] is.

use super::{HostLinks, ObjectRow, StateKey};

/// What a list asks for, as the page's address says it. `state` and `kind` are
/// [`StateKey::as_str`] and [`super::FederatedKind::key`] values, empty for any; a value no
/// state or kind has matches nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FederationQuery {
    pub state: String,
    pub kind: String,
    /// Part of the name, ignoring case.
    pub search: String,
    /// From 0; past the end, the last page.
    pub page: usize,
    pub page_size: usize,
}

/// One page of rows, with what the page shows around them.
#[derive(Debug, PartialEq)]
pub struct FederationPage<'a> {
    pub rows: Vec<&'a ObjectRow>,
    /// Rows matching the query, on all pages.
    pub matching: usize,
    /// The page shown (the asked one, or the last).
    pub page: usize,
    /// Every state with its count over all rows, worst first.
    pub counts: Vec<(StateKey, usize)>,
}

impl FederationQuery {
    pub fn page<'a>(&self, rows: &'a [ObjectRow]) -> FederationPage<'a> {
        let needle = self.search.trim().to_lowercase();
        let mut selected: Vec<&ObjectRow> = rows
            .iter()
            .filter(|r| self.state.is_empty() || r.state.key().as_str() == self.state)
            .filter(|r| self.kind.is_empty() || r.key.kind.key() == self.kind)
            .filter(|r| needle.is_empty() || r.key.name.to_lowercase().contains(&needle))
            .collect();
        selected.sort_by(|a, b| {
            // State keys sort worst first.
            (a.state.key(), a.key.kind, &a.key.name).cmp(&(b.state.key(), b.key.kind, &b.key.name))
        });
        let size = self.page_size.max(1);
        let matching = selected.len();
        let page = self.page.min(matching.saturating_sub(1) / size);
        FederationPage {
            rows: selected.into_iter().skip(page * size).take(size).collect(),
            matching,
            page,
            counts: state_counts(rows),
        }
    }
}

/// How many objects are in each state, worst first (the Overview shows these too).
pub fn state_counts(rows: &[ObjectRow]) -> Vec<(StateKey, usize)> {
    StateKey::SEEN
        .into_iter()
        .map(|key| (key, rows.iter().filter(|r| r.state.key() == key).count()))
        .collect()
}

/// Every member of the fleet once (by kube-system UID), by the first host's name for it.
pub fn member_names(topology: &[HostLinks]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for m in topology.iter().flat_map(|h| &h.members) {
        if !seen.contains(&m.uid.as_str()) {
            seen.push(&m.uid);
            names.push(m.name.clone());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::federation::fixtures::row;
    use crate::federation::{FederatedKind, FederatedState, MemberLink};

    fn names(page: &FederationPage) -> Vec<String> {
        page.rows.iter().map(|r| r.key.name.clone()).collect()
    }

    #[test]
    fn worst_first_filtered_by_state_kind_and_name_in_pages() {
        let flapping = FederatedState::Flapping {
            hosts: vec!["host".into(), "host2".into()],
        };
        let mut rows = vec![
            row(FederatedKind::User, "alice", FederatedState::InSync),
            row(FederatedKind::User, "xxp", flapping),
            row(
                FederatedKind::GlobalRoleBinding,
                "xxr-platform-regular",
                FederatedState::SyncFailing {
                    host: "host2".into(),
                    reason: "CreationFailed".into(),
                },
            ),
        ];
        for i in 0..250 {
            rows.push(row(
                FederatedKind::Workspace,
                &format!("ws-{i:03}"),
                FederatedState::InSync,
            ));
        }
        let query = |q: FederationQuery| FederationQuery {
            page_size: 100,
            ..q
        };
        let all = query(FederationQuery::default()).page(&rows);
        assert_eq!((all.matching, all.rows.len()), (253, 100));
        assert_eq!(
            names(&all)[..2],
            ["xxp", "xxr-platform-regular"],
            "worst first"
        );
        assert_eq!(all.counts[0], (StateKey::Flapping, 1));
        assert_eq!(all.counts[7], (StateKey::InSync, 251));

        let last = query(FederationQuery {
            page: 9,
            ..Default::default()
        })
        .page(&rows);
        assert_eq!(
            (last.page, last.rows.len()),
            (2, 53),
            "past the end: the last"
        );

        let flapping = query(FederationQuery {
            state: "flapping".into(),
            ..Default::default()
        });
        assert_eq!(names(&flapping.page(&rows)), ["xxp"]);
        let alice = query(FederationQuery {
            kind: "user".into(),
            search: " AL".into(),
            ..Default::default()
        });
        assert_eq!(names(&alice.page(&rows)), ["alice"]);
        let unknown = query(FederationQuery {
            state: "fine".into(),
            ..Default::default()
        })
        .page(&rows);
        assert_eq!(
            (unknown.matching, unknown.page),
            (0, 0),
            "an unknown state matches nothing, never everything"
        );
    }

    #[test]
    fn a_member_two_hosts_manage_is_named_once() {
        let member = |host: &str, name: &str| HostLinks {
            host: host.into(),
            reachable: true,
            members: vec![MemberLink {
                uid: "uid-member".into(),
                name: name.into(),
                ready: true,
            }],
        };
        let topology = vec![member("host", "member"), member("host2", "shared")];
        assert_eq!(member_names(&topology), ["member"]);
    }
}

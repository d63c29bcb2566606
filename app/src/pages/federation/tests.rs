//! The list's selection (state, kind, name, worst first, pages) and the topology's link
//! counts, from monitor rows made by hand.

use fleet::federation::fixtures::row;
use fleet::federation::{FederatedKind, FederatedState, HostLinks, MemberLink};

use super::*;

fn topology() -> Vec<HostLinks> {
    let member = |ready| MemberLink {
        uid: "uid-member".into(),
        name: "member".into(),
        ready,
    };
    vec![
        HostLinks {
            host: "host".into(),
            reachable: true,
            members: vec![member(true)],
        },
        HostLinks {
            host: "host2".into(),
            reachable: true,
            members: vec![member(false)],
        },
    ]
}

/// The selection itself is `fleet::federation::FederationQuery`'s (tested there); the page
/// takes its rows, counts and members.
#[test]
fn the_list_view_carries_the_query_page_counts_and_members() {
    let mut rows = vec![row(
        FederatedKind::User,
        "xxp",
        FederatedState::Flapping {
            hosts: vec!["host".into(), "host2".into()],
        },
    )];
    for i in 0..150 {
        rows.push(row(
            FederatedKind::Workspace,
            &format!("ws-{i:03}"),
            FederatedState::InSync,
        ));
    }
    let list = federation_list(
        &rows,
        &topology(),
        &FederationFilter {
            page: 1,
            ..Default::default()
        },
    );
    assert_eq!((list.matching, list.page, list.rows.len()), (151, 1, 51));
    assert_eq!(list.counts[0], (fleet::federation::StateKey::Flapping, 1));
    assert_eq!(list.members, vec!["member".to_string()]);
    assert_eq!(list.hosts, vec!["host".to_string(), "host2".to_string()]);
}

#[test]
fn topology_links_count_flapping_and_failing_objects_per_host() {
    let rows = vec![
        row(
            FederatedKind::User,
            "xxp",
            FederatedState::Flapping {
                hosts: vec!["host".into(), "host2".into()],
            },
        ),
        row(
            FederatedKind::User,
            "zzp",
            FederatedState::StuckDeleting {
                host: "host".into(),
            },
        ),
    ];
    let view = topology::topology_view(&topology(), &rows);
    assert_eq!(view.members.len(), 1);
    assert_eq!(view.members[0].hosts, 2, "shared by both hosts");
    let link = |h: &str| view.links.iter().find(|l| l.host == h).unwrap();
    assert_eq!((link("host").flapping, link("host").failing), (1, 1));
    assert_eq!((link("host2").flapping, link("host2").failing), (1, 0));
    assert!(link("host").ready && !link("host2").ready);
}

#[test]
fn list_addresses_keep_the_other_filters() {
    let f = FederationFilter {
        state: "flapping".into(),
        kind: "user".into(),
        search: "x p".into(),
        page: 3,
    };
    assert_eq!(
        list_href(&f, Some("in-sync"), None),
        "/federation?state=in-sync&kind=user&q=x%20p"
    );
    assert_eq!(
        list_href(&FederationFilter::default(), None, Some(1)),
        "/federation?page=1"
    );
}

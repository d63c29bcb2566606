//! The list's selection (state, kind, name, worst first, pages) and the topology's link
//! counts, from monitor rows made by hand.

use std::time::SystemTime;

use fleet::multihost::{
    FederatedKind, FederatedState, HostCell, HostLinks, MemberCell, MemberLink, ObjectKey,
    ObjectRow,
};

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

fn row(kind: FederatedKind, name: &str, state: FederatedState) -> ObjectRow {
    let host = |h: &str| HostCell {
        host: h.into(),
        fingerprint: None,
        deleting_since: None,
        changed_at: None,
        known: true,
    };
    ObjectRow {
        key: ObjectKey {
            kind,
            name: name.into(),
        },
        state: state.clone(),
        hosts: vec![host("host"), host("host2")],
        members: vec![MemberCell {
            member: "member".into(),
            uid: "uid-member".into(),
            fingerprint: None,
            written_by: None,
            changed_at: Some(SystemTime::now()),
            propagation: Vec::new(),
            state,
        }],
    }
}

#[test]
fn worst_first_filtered_by_state_kind_and_name_in_pages() {
    let flapping = FederatedState::Flapping {
        hosts: vec!["host".into(), "host2".into()],
    };
    let mut rows = vec![
        row(FederatedKind::User, "alice", FederatedState::InSync),
        row(FederatedKind::User, "xxp", flapping.clone()),
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
    let all = federation_list(&rows, &topology(), &FederationFilter::default());
    assert_eq!(all.matching, 253);
    assert_eq!(all.rows.len(), PAGE_SIZE);
    assert_eq!(
        (all.rows[0].name.as_str(), all.rows[1].name.as_str()),
        ("xxp", "xxr-platform-regular"),
        "worst first"
    );
    assert_eq!(all.counts[0], ("flapping".to_string(), 1));
    assert_eq!(all.counts[7], ("in-sync".to_string(), 251));
    assert_eq!(all.members, vec!["member".to_string()]);

    let last = federation_list(
        &rows,
        &topology(),
        &FederationFilter {
            page: 9,
            ..Default::default()
        },
    );
    assert_eq!(
        (last.page, last.rows.len()),
        (2, 53),
        "a page past the end shows the last"
    );

    let only = |f: FederationFilter| {
        federation_list(&rows, &topology(), &f)
            .rows
            .into_iter()
            .map(|r| r.name)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        only(FederationFilter {
            state: "flapping".into(),
            ..Default::default()
        }),
        vec!["xxp"]
    );
    assert_eq!(
        only(FederationFilter {
            kind: "user".into(),
            search: "AL".into(),
            ..Default::default()
        }),
        vec!["alice"]
    );
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

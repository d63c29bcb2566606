use std::time::{Duration, SystemTime};

use serde_json::json;

use super::*;

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
}

fn user(email: &str, uid: &str, managed: &str) -> serde_json::Value {
    json!({
        "apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "User",
        "metadata": {"name": "xxp", "uid": uid, "resourceVersion": uid, "generation": 4,
                     "creationTimestamp": "2026-11-25T10:00:00Z",
                     "labels": {"kubefed.io/managed": managed, "team": "a"}},
        "spec": {"email": email},
    })
}

#[test]
fn fingerprints_ignore_what_each_copy_gets_and_see_what_a_person_changed() {
    let host_copy = propagated_fingerprint(&user("xxp@163.com", "1", "false"));
    let member_copy = propagated_fingerprint(&user("xxp@163.com", "2", "true"));
    assert_eq!(
        host_copy, member_copy,
        "uid, versions and kubefed's label do not count"
    );
    assert_ne!(
        host_copy,
        propagated_fingerprint(&user("xxp-2@163.com", "1", "false"))
    );
    // Key order does not matter.
    let reordered =
        json!({"spec": {"email": "xxp@163.com"}, "metadata": {"labels": {"team": "a"}}});
    assert_eq!(host_copy, propagated_fingerprint(&reordered));
}

/// A workspace as kubefed propagates it: the FederatedWorkspace's template has no labels (the
/// WorkspaceTemplate CRD prunes them), the member's `Workspace` only kubefed's mark.
#[test]
fn no_labels_and_only_kubefeds_label_are_the_same_content() {
    let template = json!({"metadata": {}, "spec": {"manager": "fk-a"}});
    let member = json!({
        "apiVersion": "tenant.kubesphere.io/v1alpha1", "kind": "Workspace",
        "metadata": {"name": "fk-ws", "uid": "u", "generation": 4, "annotations": {},
                     "labels": {"kubefed.io/managed": "true"}},
        "spec": {"manager": "fk-a"},
    });
    assert_eq!(
        propagated_fingerprint(&template),
        propagated_fingerprint(&member)
    );
    let other_manager = json!({"metadata": {}, "spec": {"manager": "fk-b"}});
    assert_ne!(
        propagated_fingerprint(&other_manager),
        propagated_fingerprint(&member)
    );
}

fn host(name: &str, fingerprint: Option<&str>) -> HostCopy {
    HostCopy {
        host: name.into(),
        fingerprint: fingerprint.map(|f| Fingerprint(f.into())),
        deleting: false,
        sync_failure: None,
        placed: true,
        settling: false,
    }
}

#[test]
fn alternating_writers_are_flapping_after_the_third_change() {
    let (a, b) = (Fingerprint("aaa".into()), Fingerprint("bbb".into()));
    let hosts = [host("host", Some("aaa")), host("host2", Some("bbb"))];
    let mut member = MemberTimeline::default();
    let mut writes = [(&a, "host"), (&b, "host2"), (&a, "host"), (&b, "host2")].into_iter();
    let (f, w) = writes.next().unwrap();
    member.observe(at(0), Some(f.clone()), Some(w.into()));
    member.observe(at(5), Some(f.clone()), Some(w.into())); // the same version again
    assert_eq!(
        classify(&hosts, &member),
        FederatedState::DiffersBetweenHosts
    );
    for (i, (f, w)) in writes.enumerate() {
        member.observe(at(10 * (i as u64 + 1)), Some(f.clone()), Some(w.into()));
        let state = classify(&hosts, &member);
        if i + 1 < FLAPPING_ALTERNATIONS {
            assert_eq!(
                state,
                FederatedState::DiffersBetweenHosts,
                "after {} changes",
                i + 1
            );
        } else {
            assert_eq!(
                state,
                FederatedState::Flapping {
                    hosts: vec!["host".into(), "host2".into()]
                }
            );
        }
    }
    // Once the hosts agree (a winner was picked), past alternations are history.
    let agreed = [host("host", Some("bbb")), host("host2", Some("bbb"))];
    assert_eq!(classify(&agreed, &member), FederatedState::InSync);
    // Changes spread over a long time are edits, not a fight.
    let mut slow = MemberTimeline::default();
    for i in 0..4u64 {
        let (f, w) = if i % 2 == 0 {
            (&a, "host")
        } else {
            (&b, "host2")
        };
        slow.observe(at(i * 600), Some(f.clone()), Some(w.into()));
    }
    assert!(slow.flapping_writers().is_empty());
}

#[test]
fn deletes_failures_differences_and_missing_copies() {
    let mut member = MemberTimeline::default();
    member.observe(at(0), Some(Fingerprint("aaa".into())), Some("host2".into()));
    let mut deleting = host("host", Some("aaa"));
    deleting.deleting = true;
    assert_eq!(
        classify(&[deleting.clone(), host("host2", Some("aaa"))], &member),
        FederatedState::StuckDeleting {
            host: "host".into()
        }
    );
    // Deleted everywhere and gone from the member: nothing is stuck.
    let mut gone = MemberTimeline::default();
    gone.observe(at(0), None, None);
    assert_eq!(
        classify(&[deleting, host("host2", None)], &gone),
        FederatedState::InSync
    );

    let mut failing = host("host", Some("aaa"));
    failing.sync_failure = Some("CreationFailed".into());
    assert_eq!(
        classify(&[failing, host("host2", Some("aaa"))], &member),
        FederatedState::SyncFailing {
            host: "host".into(),
            reason: "CreationFailed".into()
        }
    );
    assert_eq!(
        classify(&[host("host", Some("aaa")), host("host2", None)], &member),
        FederatedState::MissingOnHost {
            hosts: vec!["host2".into()]
        }
    );
    assert_eq!(
        classify(
            &[host("host", Some("aaa")), host("host2", Some("aaa"))],
            &member
        ),
        FederatedState::InSync
    );
    assert_eq!(FederatedState::InSync.key().as_str(), "in-sync");
}

#[test]
fn an_object_the_member_never_received_is_not_in_sync() {
    // kubefed's status says nothing for the member, and the member holds no copy: on a real
    // rig every such row once read "In sync".
    let never_seen = MemberTimeline::default();
    let hosts = [host("host", Some("aaa")), host("host2", Some("aaa"))];
    assert_eq!(classify(&hosts, &never_seen), FederatedState::NotOnMember);
    let mut deleted_there = MemberTimeline::default();
    deleted_there.observe(at(0), Some(Fingerprint("aaa".into())), Some("host".into()));
    deleted_there.observe(at(5), None, None);
    assert_eq!(
        classify(&hosts, &deleted_there),
        FederatedState::NotOnMember
    );
    // Not placed on this member by any host: its absence is right.
    let mut elsewhere = hosts.clone();
    for h in &mut elsewhere {
        h.placed = false;
    }
    assert_eq!(classify(&elsewhere, &never_seen), FederatedState::InSync);
    // Just created on its host: kubefed is carrying it, which is no fault (yet).
    let mut new = hosts.clone();
    for h in &mut new {
        h.settling = true;
    }
    assert_eq!(classify(&new, &never_seen), FederatedState::Propagating);
    // One host's copy is old news: the member should have had it by now.
    new[0].settling = false;
    assert_eq!(classify(&new, &never_seen), FederatedState::NotOnMember);
}

#[test]
fn placement_follows_kubefed() {
    use super::view::Placement;
    let named =
        json!({"spec": {"placement": {"clusters": [{"name": "member"}], "clusterSelector": {}}}});
    assert!(Placement::of(&named).includes("member"));
    assert!(!Placement::of(&named).includes("other"));
    let everywhere = json!({"spec": {"placement": {"clusterSelector": {}}}});
    assert!(Placement::of(&everywhere).includes("other"));
    let nowhere = json!({"spec": {"placement": {}}});
    assert!(!Placement::of(&nowhere).includes("member"));
}

#[test]
fn a_member_that_left_the_fleet_holds_nothing() {
    let link = |uid: &str| MemberLink {
        uid: uid.into(),
        name: format!("member-{uid}"),
        ready: true,
    };
    let hosts = |members: Vec<MemberLink>| {
        vec![HostLinks {
            host: "host".into(),
            reachable: true,
            members,
        }]
    };
    let key = ObjectKey {
        kind: FederatedKind::User,
        name: "xxp".into(),
    };
    let mut view = FederationView::default();
    view.set_topology(hosts(vec![link("a"), link("b")]));
    let copy = user("xxp@163.com", "1", "true");
    view.member_changed("a", FederatedKind::User, "xxp", Some(&copy), at(0));
    view.member_changed("b", FederatedKind::User, "xxp", Some(&copy), at(0));
    let mut holding = view.members_holding(&key);
    holding.sort();
    assert_eq!(holding, vec!["a".to_string(), "b".to_string()]);
    // Unjoined from every host: kubefed will never clean it, a delete must not wait for it.
    view.set_topology(hosts(vec![link("a")]));
    assert_eq!(view.members_holding(&key), vec!["a".to_string()]);
    view.forget_member("b");
    view.set_topology(hosts(vec![link("a"), link("b")]));
    assert_eq!(
        view.members_holding(&key),
        vec!["a".to_string()],
        "what was seen on b is gone"
    );
}

#[test]
fn a_member_not_listed_yet_may_hold_anything_and_a_list_shows_what_went() {
    let key = ObjectKey {
        kind: FederatedKind::User,
        name: "xxp".into(),
    };
    let mut view = FederationView::default();
    view.set_topology(vec![HostLinks {
        host: "host".into(),
        reachable: true,
        members: vec![MemberLink {
            uid: "a".into(),
            name: "member".into(),
            ready: true,
        }],
    }]);
    // Watched but not through its list: nothing may be concluded clean there.
    assert!(view.members_holding(&key).is_empty());
    assert_eq!(
        view.members_unseen(FederatedKind::User),
        vec!["a".to_string()]
    );
    let copy = user("xxp@163.com", "1", "true");
    view.member_changed("a", FederatedKind::User, "xxp", Some(&copy), at(0));
    view.member_listed("a", FederatedKind::User, &["xxp".to_string()].into(), at(1));
    assert!(view.members_unseen(FederatedKind::User).is_empty());
    assert_eq!(
        view.members_unseen(FederatedKind::GlobalRole),
        vec!["a".to_string()]
    );
    assert_eq!(view.members_holding(&key), vec!["a".to_string()]);
    // The watch broke and relisted: until the list ends the member is unknown again, and a
    // copy deleted meanwhile is gone once it does.
    view.member_listing("a", FederatedKind::User);
    assert_eq!(
        view.members_unseen(FederatedKind::User),
        vec!["a".to_string()]
    );
    view.member_listed("a", FederatedKind::User, &Default::default(), at(5));
    assert!(view.members_holding(&key).is_empty());
    assert!(view.members_unseen(FederatedKind::User).is_empty());
}

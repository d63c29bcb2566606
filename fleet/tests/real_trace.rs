//! Flapping detection against a recording of real KubeSphere 3.4.1 + kubefed (two hosts, one
//! member, the same user with the same input on both hosts: see
//! `fixtures/two-hosts-identical-user/README.md`). The member's copy keeps alternating between
//! each host's own bcrypt hash while kubefed reports success on both hosts; the console must
//! call it flapping and name both hosts, and attribute each version to the host that wrote it.

use std::time::{Duration, SystemTime};

use fleet::federation::{
    FederatedKind, FederatedState, FederationView, HostLinks, MemberLink, ObjectKey,
};
use kube::api::DynamicObject;
use serde_json::Value;

const TRACE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/two-hosts-identical-user"
);
const MEMBER_UID: &str = "member-kube-system-uid";

fn federated_user(file: &str) -> DynamicObject {
    let text = std::fs::read_to_string(format!("{TRACE}/{file}")).unwrap();
    serde_norway::from_str(&text).unwrap()
}

/// Every version of the member's `User xxp` the recording's `kubectl get -w -o json` saw.
fn member_versions() -> Vec<Value> {
    let text = std::fs::read_to_string(format!("{TRACE}/member-user-xxp-watch-40s.json")).unwrap();
    serde_json::Deserializer::from_str(&text)
        .into_iter::<Value>()
        .map(Result::unwrap)
        .collect()
}

fn link(host: &str) -> HostLinks {
    HostLinks {
        host: host.into(),
        reachable: true,
        members: vec![MemberLink {
            uid: MEMBER_UID.into(),
            name: "member".into(),
            ready: true,
        }],
    }
}

#[test]
fn the_recorded_real_fight_is_flapping_between_both_hosts() {
    let start = SystemTime::now();
    let mut view = FederationView::default();
    view.set_topology(vec![link("host"), link("host2")]);
    for (host, file) in [
        ("host", "host-federateduser-xxp-after60s.yaml"),
        ("host2", "host2-federateduser-xxp-after60s.yaml"),
    ] {
        view.host_applied(host, FederatedKind::User, &federated_user(file), start);
    }
    let key = ObjectKey {
        kind: FederatedKind::User,
        name: "xxp".into(),
    };
    // The recording has no times per version; the README says each host rewrites about every
    // 10 s, so the writer changes about every 5 s.
    let mut writers = Vec::new();
    let mut states = Vec::new();
    for (i, version) in member_versions().iter().enumerate() {
        let at = start + Duration::from_secs(5 * i as u64);
        view.member_changed(MEMBER_UID, FederatedKind::User, "xxp", Some(version), at);
        let row = view.row(&key, at).unwrap();
        writers.push(row.members[0].written_by.clone());
        states.push(row.state);
    }
    // The first version still had host2's old email (patched away during the recording): it
    // matches neither host's template now. Then each host's hash in turn.
    let by = |h: &str| Some(h.to_string());
    assert_eq!(
        writers,
        [
            None,
            by("host2"),
            by("host"),
            by("host2"),
            by("host"),
            by("host2")
        ]
    );
    let flapping = FederatedState::Flapping {
        hosts: vec!["host".into(), "host2".into()],
    };
    // Flagged at the third change of writer, and not before.
    let first_flagged = states.iter().position(|s| s == &flapping);
    assert_eq!(first_flagged, Some(4), "{states:?}");
    assert!(states[4..].iter().all(|s| s == &flapping), "{states:?}");
}

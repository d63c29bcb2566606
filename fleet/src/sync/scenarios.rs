//! The merge rules on the cases people will meet, one by one.

use serde_json::{Value, json};

use super::fields;
use super::merge::{Action, Copy, Identity, Resolution, resolve};

fn identity() -> Identity {
    Identity {
        api_version: "iam.kubesphere.io/v1alpha2".into(),
        kind: "User".into(),
        name: "alice".into(),
    }
}

fn user(spec: Value) -> Value {
    json!({"apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "User", "metadata": {"name": "alice"}, "spec": spec})
}

fn present(host: &str, object: &Value) -> (String, Copy) {
    (host.to_string(), Copy::Present(object.clone()))
}

/// The object every host gets, when all agree.
fn written(resolution: &Resolution, host: &str) -> Value {
    match &resolution
        .actions
        .iter()
        .find(|(h, _)| h == host)
        .unwrap()
        .1
    {
        Action::Create(object) | Action::Update(object) => object.clone(),
        other => panic!("{host}: {other:?}"),
    }
}

/// The hosts in sync on `object` (host2 and host3 created from host's), as the engine leaves
/// them once a second round has read every copy's uid. Each host's copy is the returned
/// object: one uid stands for all three, which the tests need not tell apart.
fn synced(mut object: Value, now: u64) -> Value {
    object["metadata"]["uid"] = json!("uid-alice");
    let absent = |h: &str| (h.to_string(), Copy::Absent);
    let first = resolve(
        &identity(),
        &[present("host", &object), absent("host2"), absent("host3")],
        now,
    );
    let mut made = written(&first, "host2");
    made["metadata"]["uid"] = json!("uid-alice");
    let second = resolve(
        &identity(),
        &[
            present("host", &made),
            present("host2", &made),
            present("host3", &made),
        ],
        now,
    );
    written_or_kept(&second, "host", &made)
}

fn gone(host: &str) -> (String, Copy) {
    (host.to_string(), Copy::Absent)
}

fn set(object: &Value, pointer: &str, value: Value) -> Value {
    let mut fields = fields::replicated(object);
    fields.insert(pointer.into(), value);
    fields::rebuild(object, &fields)
}

#[test]
fn edits_of_different_fields_on_two_hosts_both_survive() {
    let base = synced(
        user(json!({"email": "a@example.com", "description": "old"})),
        10,
    );
    let on_host = set(&base, "/spec/email", json!("new@example.com"));
    let on_host2 = set(&base, "/spec/description", json!("tester"));
    let merged = resolve(
        &identity(),
        &[present("host", &on_host), present("host2", &on_host2)],
        20,
    );
    assert!(merged.conflicts.is_empty(), "{:?}", merged.conflicts);
    let one = written(&merged, "host");
    assert_eq!(
        fields::replicated(&one),
        fields::replicated(&written(&merged, "host2"))
    );
    assert_eq!(one["spec"]["email"], "new@example.com");
    assert_eq!(one["spec"]["description"], "tester");
}

#[test]
fn the_same_field_written_on_both_sides_keeps_the_later_and_logs_the_other() {
    let base = synced(user(json!({"email": "a@example.com"})), 10);
    let earlier = set(&base, "/spec/email", json!("first@example.com"));
    let later = set(&base, "/spec/email", json!("second@example.com"));
    // The engine saw host's edit first (a round over host alone), host2's after.
    let first = resolve(&identity(), &[present("host", &earlier)], 20);
    let earlier = written_or_kept(&first, "host", &earlier);
    let merged = resolve(
        &identity(),
        &[present("host", &earlier), present("host2", &later)],
        30,
    );
    assert_eq!(
        written(&merged, "host")["spec"]["email"],
        "second@example.com"
    );
    let [conflict] = merged.conflicts.as_slice() else {
        panic!("{:?}", merged.conflicts)
    };
    assert_eq!(conflict.field, "/spec/email");
    assert_eq!(conflict.superseded.host, "host");
    assert_eq!(conflict.superseded.value, Some(json!("first@example.com")));
    assert_eq!(conflict.kept.host, "host2");
}

fn written_or_kept(resolution: &Resolution, host: &str, object: &Value) -> Value {
    match &resolution
        .actions
        .iter()
        .find(|(h, _)| h == host)
        .unwrap()
        .1
    {
        Action::Keep => object.clone(),
        Action::Create(o) | Action::Update(o) => o.clone(),
        Action::Delete => panic!("deleted"),
    }
}

#[test]
fn an_edit_over_a_value_its_writer_had_is_no_conflict() {
    let base = synced(user(json!({"email": "a@example.com"})), 10);
    let edited = set(&base, "/spec/email", json!("b@example.com"));
    let merged = resolve(
        &identity(),
        &[present("host", &base), present("host2", &edited)],
        20,
    );
    assert!(merged.conflicts.is_empty());
    assert_eq!(written(&merged, "host")["spec"]["email"], "b@example.com");
    // And once equal, nothing is written again.
    let again = written(&merged, "host");
    let quiet = resolve(
        &identity(),
        &[
            present("host", &again),
            present("host2", &written(&merged, "host2")),
        ],
        30,
    );
    assert!(
        quiet.actions.iter().all(|(_, a)| *a == Action::Keep),
        "{:?}",
        quiet.actions
    );
}

#[test]
fn a_delete_removes_unchanged_copies_everywhere_and_they_never_come_back() {
    let base = synced(user(json!({"email": "a@example.com"})), 10);
    // Deleted on host while host3 is away: host2's copy goes too.
    let merged = resolve(&identity(), &[gone("host"), present("host2", &base)], 20);
    assert_eq!(merged.actions[1].1, Action::Delete);
    assert!(merged.conflicts.is_empty());
    assert_eq!(
        merged.tombstone.as_ref().map(|t| t.host.as_str()),
        Some("host")
    );
    // host3 comes back with its old copy, which says where the others were: it goes too,
    // with no memory of the engine's involved.
    let back = resolve(
        &identity(),
        &[gone("host"), gone("host2"), present("host3", &base)],
        30,
    );
    assert_eq!(back.actions[2].1, Action::Delete, "a stale copy came back");
    assert!(back.conflicts.is_empty());
}

#[test]
fn a_delete_made_during_a_partition_is_honoured_when_the_host_returns() {
    let base = synced(user(json!({"email": "a@example.com"})), 10);
    // Rounds without host3 leave its place on the others' copies.
    let quiet = resolve(
        &identity(),
        &[present("host", &base), present("host2", &base)],
        20,
    );
    assert!(
        quiet.actions.iter().all(|(_, a)| *a == Action::Keep),
        "{:?}",
        quiet.actions
    );
    // host3 deleted it while away.
    let back = resolve(
        &identity(),
        &[
            present("host", &base),
            present("host2", &base),
            gone("host3"),
        ],
        30,
    );
    assert_eq!(back.actions[0].1, Action::Delete);
    assert_eq!(back.actions[1].1, Action::Delete);
    assert_eq!(back.tombstone.map(|t| t.host), Some("host3".to_string()));
}

#[test]
fn a_delete_wins_over_an_edit_it_did_not_see_and_the_edit_is_logged() {
    let base = synced(user(json!({"email": "a@example.com"})), 10);
    let edited = set(&base, "/spec/email", json!("b@example.com"));
    let merged = resolve(&identity(), &[gone("host"), present("host2", &edited)], 20);
    assert_eq!(merged.actions[1].1, Action::Delete);
    let [conflict] = merged.conflicts.as_slice() else {
        panic!("{:?}", merged.conflicts)
    };
    assert_eq!(conflict.superseded.value, Some(json!("b@example.com")));
    assert_eq!(conflict.kept.value, None, "kept: the delete");
}

#[test]
fn a_new_user_made_after_a_delete_lives() {
    let base = synced(user(json!({"email": "a@example.com"})), 10);
    // host3 still has the old one; host deleted it and made a new one with the same name.
    let new = user(json!({"email": "new-alice@example.com"}));
    let merged = resolve(
        &identity(),
        &[
            present("host", &new),
            gone("host2"),
            present("host3", &base),
        ],
        30,
    );
    assert!(merged.tombstone.is_some());
    for host in ["host2", "host3"] {
        assert_eq!(
            written(&merged, host)["spec"]["email"],
            "new-alice@example.com",
            "{host}"
        );
    }
    assert!(merged.conflicts.is_empty(), "host3's copy held nothing new");
}

#[test]
fn the_same_user_made_on_two_hosts_becomes_one_with_the_difference_logged() {
    // The article's first experiment: one form, two hosts, two salts.
    let on_host = user(json!({"email": "a@example.com", "password": "$2a$10$host-salt"}));
    let on_host2 = user(json!({"email": "a@example.com", "password": "$2a$10$host2-salt"}));
    let merged = resolve(
        &identity(),
        &[present("host", &on_host), present("host2", &on_host2)],
        10,
    );
    assert_eq!(
        fields::replicated(&written(&merged, "host")),
        fields::replicated(&written(&merged, "host2"))
    );
    let fields: Vec<&str> = merged.conflicts.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, ["/spec/password"], "equal emails are no conflict");
}

#[test]
fn a_copy_a_partition_kept_lends_nothing_to_a_new_user_of_the_same_name() {
    let base = synced(user(json!({"email": "a@example.com", "lang": "zh"})), 10);
    // While host3 was away, host deleted alice and made a new one without a language; a
    // round over host alone stamped it.
    let new = user(json!({"email": "new-alice@example.com"}));
    let alone = resolve(&identity(), &[present("host", &new)], 20);
    let new = written(&alone, "host");
    // host3 comes back with the old alice.
    let healed = resolve(
        &identity(),
        &[present("host", &new), present("host3", &base)],
        30,
    );
    let on_host3 = written(&healed, "host3");
    assert_eq!(on_host3["spec"]["email"], "new-alice@example.com");
    assert_eq!(
        on_host3["spec"].get("lang"),
        None,
        "the old alice's language came back into the new one"
    );
    let logged: Vec<(&str, Option<&Value>)> = healed
        .conflicts
        .iter()
        .map(|c| (c.field.as_str(), c.superseded.value.as_ref()))
        .collect();
    assert!(
        logged.contains(&("/spec/lang", Some(&json!("zh")))),
        "the old language is not in the conflict log: {logged:?}"
    );
    assert_eq!(
        fields::replicated(&written_or_kept(&healed, "host", &new)),
        fields::replicated(&new),
        "host's new alice changed"
    );
}

#[test]
fn a_copy_made_again_under_another_uid_reads_as_deleted() {
    // Three hosts hold alice, each copy known by its uid.
    let with_uid = |uid: &str| {
        let mut object = user(json!({"email": "a@example.com"}));
        object["metadata"]["uid"] = json!(uid);
        object
    };
    let first = resolve(
        &identity(),
        &[
            present("host", &with_uid("u1")),
            present("host2", &with_uid("u2")),
            present("host3", &with_uid("u3")),
        ],
        10,
    );
    let on = |host: &str| written(&first, host);
    // Every copy carries the same sync annotations: global roles' templates carry annotations
    // to the members, and a per-host difference would have each host's kubefed push its own.
    let annotations = |host: &str| on(host)["metadata"]["annotations"].clone();
    assert_eq!(annotations("host"), annotations("host2"));
    assert_eq!(annotations("host"), annotations("host3"));
    // host deleted its copy while host3 was away, and a round that did not know it had one
    // (its only witness away) put one there again: same stamp, new uid.
    let mut again = on("host");
    again["metadata"]["uid"] = json!("u9");
    let merged = resolve(
        &identity(),
        &[
            present("host", &again),
            present("host2", &on("host2")),
            present("host3", &on("host3")),
        ],
        20,
    );
    assert_eq!(merged.tombstone.map(|t| t.host), Some("host".to_string()));
    assert!(
        merged.actions.iter().all(|(_, a)| *a == Action::Delete),
        "{:?}",
        merged.actions
    );
    // The copies as they were stay: the uids each one names are the ones there.
    let quiet = resolve(
        &identity(),
        &[
            present("host", &on("host")),
            present("host2", &on("host2")),
            present("host3", &on("host3")),
        ],
        30,
    );
    assert!(quiet.tombstone.is_none());
    assert!(
        quiet.actions.iter().all(|(_, a)| *a == Action::Keep),
        "{:?}",
        quiet.actions
    );
}

/// The seed's third experiment, met when sync goes on: a user deleted on host before sync
/// (its twin stuck deleting) while host2 still has the one made before — deleted there too,
/// its fields logged. One made after the delete is a new user: it lives, host gets it.
#[test]
fn a_delete_under_way_before_sync_wins_over_copies_made_before_it() {
    let made_at = |time: &str| {
        let mut object = user(json!({"email": "zzp-2@163.com"}));
        object["metadata"]["creationTimestamp"] = json!(time);
        object
    };
    let deleting = super::deletes::time_ms("2026-12-07T10:00:05Z").unwrap();
    let group = |copy: &Value| {
        [
            ("host".to_string(), Copy::Deleting(deleting)),
            present("host2", copy),
        ]
    };
    let before = resolve(&identity(), &group(&made_at("2026-12-07T10:00:05Z")), 10);
    assert_eq!(before.tombstone.map(|t| t.host), Some("host".to_string()));
    assert_eq!(
        before.actions,
        [
            ("host".into(), Action::Keep),
            ("host2".into(), Action::Delete)
        ]
    );
    assert!(before.conflicts.iter().any(|c| c.field == "/spec/email"));
    let after = resolve(&identity(), &group(&made_at("2026-12-07T10:00:06Z")), 10);
    assert!(after.tombstone.is_none() && after.conflicts.is_empty());
    assert_eq!(written(&after, "host")["spec"]["email"], "zzp-2@163.com");
}

/// Three hosts: host is deleting alice (from before sync), host2 holds a new alice made after
/// that delete and already stamped, host3 (away until now) the old one. The delete ends only
/// the old copy: the new alice lives on every host.
#[test]
fn a_delete_under_way_ends_only_the_copies_made_before_it() {
    let made_at = |time: &str, email: &str| {
        let mut object = user(json!({ "email": email }));
        object["metadata"]["creationTimestamp"] = json!(time);
        object
    };
    let deleting = super::deletes::time_ms("2026-12-07T10:00:05Z").unwrap();
    let new = made_at("2026-12-07T10:00:09Z", "new@example.com");
    let first = resolve(&identity(), &[present("host2", &new)], 10);
    let stamped = written_or_kept(&first, "host2", &new);
    let old = made_at("2026-12-07T10:00:01Z", "old@example.com");
    let merged = resolve(
        &identity(),
        &[
            ("host".to_string(), Copy::Deleting(deleting)),
            present("host2", &stamped),
            present("host3", &old),
        ],
        20,
    );
    assert_eq!(written(&merged, "host")["spec"]["email"], "new@example.com");
    assert_eq!(
        written(&merged, "host3")["spec"]["email"],
        "new@example.com"
    );
    assert!(
        merged
            .conflicts
            .iter()
            .any(|c| c.superseded.host == "host3" && c.field == "/spec/email"),
        "{:?}",
        merged.conflicts
    );
}

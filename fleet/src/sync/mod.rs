//! Two-way sync of KubeSphere's IAM and tenant objects between the hosts of a sync group, so
//! that every host's kubefed pushes the same version to the members and they stop flipping.
//!
//! This module is the engine's core, without clusters: how a copy's fields are read
//! ([`fields`]), versioned ([`hlc`]) and stamped ([`stamp`]), where the engine put a copy
//! ([`placed`]), and how the copies of one object become one again ([`merge`]). It decides; the layer that watches the hosts and writes
//! (to come) carries out its [`merge::Action`]s.
//!
//! Why stamps on the objects rather than a store beside them: a copy then says by itself which
//! of its fields changed since the engine last wrote it — whoever changed them (Tandem,
//! ks-console, kubectl, KubeSphere's controllers) — and the engine's own writes are never
//! mistaken for edits, so nothing it writes comes back to it. And the engine keeps no state of
//! its own that a restart could lose: the copies say everything it needs.

pub mod bindings;
mod carry;
pub mod deletes;
pub mod engine;
pub mod fields;
pub mod gauges;
pub mod hlc;
pub mod incarnation;
pub mod logins;
pub mod merge;
pub mod placed;
pub mod record;
pub mod service;
pub mod snapshot;
pub mod stamp;
pub mod stores;
pub mod twins;

use crate::federation::FederatedKind;

#[cfg(test)]
mod scenarios;
#[cfg(test)]
mod simulation;

/// The annotation holding an object's [`stamp::Stamp`].
pub const STAMP_ANNOTATION: &str = "sync.tandem.io/stamp";
/// The label kubefed puts on the copies it writes (`"true"`); a host's own sources carry
/// `"false"`.
pub const KUBEFED_MANAGED: &str = "kubefed.io/managed";
/// The annotation holding where the engine put an object ([`placed::Placed`]).
pub const PLACED_ANNOTATION: &str = "sync.tandem.io/placed";
/// The annotation holding which life of its name an object is ([`incarnation`]).
pub const INCARNATION_ANNOTATION: &str = "sync.tandem.io/incarnation";

/// The kinds a sync group keeps equal (their host-side `source()` resources, all
/// cluster-scoped). Roles before their bindings, so a binding never arrives before its role.
pub const SYNCED_KINDS: [FederatedKind; 6] = [
    FederatedKind::GlobalRole,
    FederatedKind::User,
    FederatedKind::GlobalRoleBinding,
    FederatedKind::Workspace,
    FederatedKind::WorkspaceRole,
    FederatedKind::WorkspaceRoleBinding,
];

/// Whether kubefed wrote this copy (`kubefed.io/managed: "true"`): on a host, not a source.
pub fn written_by_kubefed(meta: &kube::api::ObjectMeta) -> bool {
    meta.labels
        .as_ref()
        .and_then(|l| l.get(KUBEFED_MANAGED))
        .is_some_and(|v| v == "true")
}

/// Whether a copy is ready to replicate. A `User` written with a plain password waits until
/// its host's KubeSphere controller has replaced it with a bcrypt hash: passwords cross hosts
/// only as hashes, and each host hashing the same plain text with its own salt would only
/// make two versions to choose between.
pub fn settled(kind: FederatedKind, object: &serde_json::Value) -> bool {
    if kind != FederatedKind::User {
        return true;
    }
    match object.pointer("/spec/password").and_then(|p| p.as_str()) {
        None | Some("") => true,
        Some(password) => is_bcrypt(password),
    }
}

/// `$2a$10$` + 53 characters, as KubeSphere's controller writes (also `$2b$`, `$2y$`).
fn is_bcrypt(text: &str) -> bool {
    let bytes = text.as_bytes();
    text.len() == 60
        && (text.starts_with("$2a$") || text.starts_with("$2b$") || text.starts_with("$2y$"))
        && bytes[4].is_ascii_digit()
        && bytes[5].is_ascii_digit()
        && bytes[6] == b'$'
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_plain_password_waits_for_its_host_to_hash_it() {
        let hash = "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy";
        let user = |password: &str| json!({"spec": {"password": password}});
        assert!(settled(FederatedKind::User, &user(hash)));
        assert!(!settled(FederatedKind::User, &user("P@88w0rd")));
        assert!(!settled(FederatedKind::User, &user("$2a$10$short")));
        assert!(settled(
            FederatedKind::User,
            &json!({"spec": {"email": "a@example.com"}})
        ));
        assert!(settled(
            FederatedKind::GlobalRole,
            &json!({"spec": {"password": "plain"}})
        ));
    }
}

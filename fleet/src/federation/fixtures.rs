//! Federation rows made by hand, for tests of what is built from them (here and in the
//! console's pages).

use std::time::SystemTime;

use super::{FederatedKind, FederatedState, HostCell, MemberCell, ObjectKey, ObjectRow};

/// An object both `host` and `host2` federate to one `member` (UID `uid-member`), in `state`.
pub fn row(kind: FederatedKind, name: &str, state: FederatedState) -> ObjectRow {
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

//! What the person adding a cluster should know about a kubeconfig that passed: the fields
//! Tandem ignores and an identity it acts as, worded with what to do by `app::messages`.
//! Without these the field would simply have no effect, and the person would learn it from a
//! later failure.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::Entry;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum KubeconfigNote {
    /// `tls-server-name` is dropped: the certificate is checked against the `server:` address.
    TlsServerNameIgnored { cluster: String },
    /// Keys that are not kubeconfig fields (a typo, or another tool's), by name.
    UnknownFields {
        owner: Entry,
        name: String,
        fields: Vec<String>,
    },
    /// A username and password: basic authentication, gone from Kubernetes since 1.19.
    BasicAuth { user: String },
    /// `as`, `as-uid`, `as-groups` or `as-user-extra`: requests act as another identity.
    Impersonation {
        user: String,
        fields: Vec<Cow<'static, str>>,
    },
}

impl KubeconfigNote {
    /// Whether there is something to do about it (the step is then a warning).
    pub fn has_fix(&self) -> bool {
        !matches!(self, Self::Impersonation { .. })
    }
}

/// What an unknown key is called when its name is not repeated (see `entries::shown_names`).
pub const UNUSUAL_NAME: &str = "a field with a long or unusual name";

/// "`foo`", "`foo` and `bar`", "`a`, `b` and a field with a long or unusual name".
pub(super) fn field_list(fields: &[String]) -> String {
    let shown: Vec<String> = fields
        .iter()
        .map(|f| {
            if f == UNUSUAL_NAME {
                f.clone()
            } else {
                format!("`{f}`")
            }
        })
        .collect();
    match shown.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => shown.concat(),
    }
}

//! What the person adding a cluster should know about a kubeconfig that passed: the fields
//! Tandem ignores, each named with what to do, and an identity it acts as. Without these the
//! field would simply have no effect, and the person would learn it from a later failure.

use std::borrow::Cow;
use std::fmt;

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

impl fmt::Display for KubeconfigNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TlsServerNameIgnored { cluster } => write!(
                f,
                "cluster `{cluster}`: `tls-server-name` is not used: KubeSphere's federation (kubefed) checks the API server's certificate against the `server:` address and cannot be given another name, so the console checks the same"
            ),
            Self::UnknownFields {
                owner,
                name,
                fields,
            } => {
                let verb = if fields.len() == 1 {
                    "is not a kubeconfig field; it is"
                } else {
                    "are not kubeconfig fields; they are"
                };
                write!(f, "{owner} `{name}`: {} {verb} ignored", field_list(fields))
            }
            Self::BasicAuth { user } => write!(
                f,
                "user `{user}` signs in with a username and password, which Kubernetes API servers no longer accept (basic authentication was removed in Kubernetes 1.19)"
            ),
            Self::Impersonation { user, fields } => write!(
                f,
                "user `{user}` acts as another identity (`{}`): the rights checked, and used by the join, are that identity's",
                fields.join("`, `")
            ),
        }
    }
}

impl KubeconfigNote {
    /// Whether there is something to do about it (the step is then a warning).
    pub fn has_fix(&self) -> bool {
        !matches!(self, Self::Impersonation { .. })
    }

    /// What to do about it; `None` for what is only worth knowing.
    pub fn fix(&self) -> Option<String> {
        match self {
            Self::TlsServerNameIgnored { .. } => Some("remove `tls-server-name`; if the API server's certificate does not name the `server:` address, use an address it names (its SANs) or add this one to the certificate (kubeadm: `apiServer.certSANs`)".into()),
            Self::UnknownFields { owner, fields, .. } => {
                let whose = if fields.len() == 1 { "its" } else { "their" };
                let known = if *owner == Entry::Cluster {
                    "a cluster's address is in `server`, its CA in `certificate-authority-data`"
                } else {
                    "a user signs in with `token`, or with `client-certificate-data` and `client-key-data`"
                };
                Some(format!(
                    "remove {} or correct {whose} spelling: {known}",
                    field_list(fields)
                ))
            }
            Self::BasicAuth { .. } => Some("use a service-account token (`kubectl create token`) or a client certificate; a username and password work only with API servers older than 1.19".into()),
            Self::Impersonation { .. } => None,
        }
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

//! The first step of adding a cluster: is the uploaded kubeconfig one Tandem may use?
//!
//! The kubeconfig comes from a browser, so it is untrusted: it must not make the server run a
//! program (exec plugins), call out to an identity provider (auth-provider) or read its local
//! files (paths), and it must be small. Its secrets never appear in an error, in a log line or
//! in what is sent back: a problem names the context, cluster or user and the field, never a
//! value. A field the console does not use (`tls-server-name`, an unknown key) is named in a
//! [`KubeconfigNote`] rather than dropped in silence.

use std::borrow::Cow;

use kube::config::Kubeconfig;
use serde::{Deserialize, Serialize};

mod entries;
mod notes;

pub(crate) use entries::field_no_header_carries;
pub use notes::{KubeconfigNote, UNUSUAL_NAME};

/// Largest kubeconfig accepted; a real one is a few kilobytes.
pub const MAX_KUBECONFIG_BYTES: usize = 256 * 1024;

/// Why a kubeconfig cannot be used, each with what to do about it (see [`Self::fix`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum KubeconfigProblem {
    #[error("the kubeconfig is {bytes} bytes, more than the {limit} allowed")]
    TooLarge { bytes: usize, limit: usize },
    #[error("the kubeconfig is empty")]
    Empty,
    #[error("the kubeconfig is not valid YAML (line {line}, column {column}): {message}")]
    NotYaml {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("this is YAML but not a kubeconfig: {message}")]
    NotAKubeconfig { message: String },
    #[error("the kubeconfig has no contexts")]
    NoContexts,
    #[error("context `{wanted}` is not in the kubeconfig")]
    ContextNotFound {
        wanted: String,
        available: Vec<String>,
    },
    #[error("the kubeconfig has several contexts and no current-context")]
    ChooseContext { available: Vec<String> },
    #[error("context `{context}` names cluster `{cluster}`, which the kubeconfig does not define")]
    MissingCluster { context: String, cluster: String },
    #[error("context `{context}` names user `{user}`, which the kubeconfig does not define")]
    MissingUser { context: String, user: String },
    #[error("cluster `{cluster}` has no server address")]
    NoServer { cluster: String },
    #[error("cluster `{cluster}` is reached through a proxy (`proxy-url`)")]
    ProxyUrl { cluster: String },
    #[error(
        "cluster `{cluster}` has both `insecure-skip-tls-verify: true` and a CA: they contradict each other (the CA would be ignored)"
    )]
    InsecureWithCa { cluster: String },
    #[error("user `{user}` runs a program to get credentials (exec plugin `{command}`)")]
    ExecPlugin { user: String, command: String },
    #[error("user `{user}` uses the `{provider}` auth-provider")]
    AuthProvider { user: String, provider: String },
    #[error("{owner} `{name}` refers to a local file in `{field}`")]
    FilePath {
        owner: Entry,
        name: String,
        field: Cow<'static, str>,
    },
    /// `unknown`: fields of the user that are not kubeconfig fields (a misspelt `token`?).
    #[error("user `{user}` has no credentials{}", entries::misspelt(unknown))]
    NoCredentials { user: String, unknown: Vec<String> },
    #[error(
        "user `{user}` has both a token and a username and password: one way to sign in is allowed (kubectl refuses this too)"
    )]
    TokenAndPassword { user: String },
    #[error(
        "user `{user}`: `{field}` holds a line break or another character an HTTP header cannot carry"
    )]
    NotAHeader {
        user: String,
        field: Cow<'static, str>,
    },
    #[error("{owner} `{name}`: `{field}` is not valid base64")]
    BadBase64 {
        owner: Entry,
        name: String,
        field: Cow<'static, str>,
    },
}

/// The kind of kubeconfig entry a problem or a note is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Entry {
    Cluster,
    User,
}

impl std::fmt::Display for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Cluster => "cluster",
            Self::User => "user",
        })
    }
}

/// How the chosen user proves who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Credentials {
    Token,
    ClientCertificate,
    BasicAuth,
}

/// A kubeconfig that passed the policy, with the context to use chosen.
#[derive(Clone)]
pub struct CheckedKubeconfig {
    pub context: String,
    pub cluster: String,
    pub user: String,
    pub server: String,
    pub credentials: Credentials,
    /// `insecure-skip-tls-verify: true`: allowed, but the connection is not authenticated.
    pub insecure_skip_tls_verify: bool,
    /// PEM of the client certificate, when there is one (for the expiry check).
    pub client_certificate_pem: Option<String>,
    /// What the person should know although the kubeconfig passed: fields ignored, an
    /// identity impersonated.
    pub notes: Vec<KubeconfigNote>,
    kubeconfig: Kubeconfig,
}

// Hand-written: the kubeconfig holds tokens and keys.
impl std::fmt::Debug for CheckedKubeconfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckedKubeconfig")
            .field("context", &self.context)
            .field("cluster", &self.cluster)
            .field("server", &self.server)
            .field("credentials", &self.credentials)
            .field("notes", &self.notes)
            .finish_non_exhaustive()
    }
}

impl CheckedKubeconfig {
    /// The kubeconfig itself, for building a client; never for display.
    pub fn kubeconfig(&self) -> &Kubeconfig {
        &self.kubeconfig
    }

    /// The chosen context alone, with its cluster and user, as the current context: what a
    /// host stores for the member (`kubectl config view --minify --flatten`). Holds secrets.
    pub fn minified_yaml(&self) -> String {
        let mut minified = Kubeconfig {
            current_context: Some(self.context.clone()),
            ..Default::default()
        };
        minified.api_version = self.kubeconfig.api_version.clone().or(Some("v1".into()));
        minified.kind = self.kubeconfig.kind.clone().or(Some("Config".into()));
        minified.contexts = self
            .kubeconfig
            .contexts
            .iter()
            .filter(|c| c.name == self.context)
            .cloned()
            .collect();
        minified.clusters = self
            .kubeconfig
            .clusters
            .iter()
            .filter(|c| c.name == self.cluster)
            .cloned()
            .collect();
        minified.auth_infos = self
            .kubeconfig
            .auth_infos
            .iter()
            .filter(|u| u.name == self.user)
            .cloned()
            .collect();
        // Serialising plain data to YAML cannot fail.
        serde_norway::to_string(&minified).unwrap_or_default()
    }

    /// The cluster's `certificate-authority-data` (base64 PEM), if any.
    pub fn certificate_authority_data(&self) -> Option<String> {
        self.kubeconfig
            .clusters
            .iter()
            .find(|c| c.name == self.cluster)
            .and_then(|c| c.cluster.as_ref())
            .and_then(|c| c.certificate_authority_data.clone())
            .map(|d| d.split_whitespace().collect())
    }
}

/// Checks `text` against the policy and picks the context: `wanted`, else the
/// current-context, else the only one.
pub fn check_kubeconfig(
    text: &str,
    wanted: Option<&str>,
) -> Result<CheckedKubeconfig, KubeconfigProblem> {
    if text.len() > MAX_KUBECONFIG_BYTES {
        return Err(KubeconfigProblem::TooLarge {
            bytes: text.len(),
            limit: MAX_KUBECONFIG_BYTES,
        });
    }
    if text.trim().is_empty() {
        return Err(KubeconfigProblem::Empty);
    }
    let value: serde_norway::Value = serde_norway::from_str(text).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        KubeconfigProblem::NotYaml {
            line,
            column,
            message: redact(&e.to_string()),
        }
    })?;
    let mut kubeconfig: Kubeconfig =
        serde_norway::from_value(value).map_err(|e| KubeconfigProblem::NotAKubeconfig {
            message: redact(&e.to_string()),
        })?;

    let available: Vec<String> = kubeconfig.contexts.iter().map(|c| c.name.clone()).collect();
    if available.is_empty() {
        return Err(KubeconfigProblem::NoContexts);
    }
    let context_name = match (wanted, kubeconfig.current_context.as_deref()) {
        (Some(w), _) => w.to_string(),
        (None, Some(current)) if !current.is_empty() => current.to_string(),
        (None, _) if available.len() == 1 => available[0].clone(),
        (None, _) => return Err(KubeconfigProblem::ChooseContext { available }),
    };
    let Some(context) = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == context_name)
        .and_then(|c| c.context.clone())
    else {
        return Err(KubeconfigProblem::ContextNotFound {
            wanted: context_name,
            available,
        });
    };
    let mut notes = Vec::new();
    let (insecure_skip_tls_verify, server) =
        entries::check_cluster(&mut kubeconfig, &context_name, &context.cluster, &mut notes)?;
    let user_name = context.user.clone().unwrap_or_default();
    let user = kubeconfig
        .auth_infos
        .iter()
        .find(|u| u.name == user_name)
        .and_then(|u| u.auth_info.clone())
        .ok_or_else(|| KubeconfigProblem::MissingUser {
            context: context_name.clone(),
            user: user_name.clone(),
        })?;
    let credentials = entries::check_user(&user_name, &user, &mut notes)?;

    Ok(CheckedKubeconfig {
        context: context_name,
        cluster: context.cluster.clone(),
        user: user_name,
        server,
        credentials,
        insecure_skip_tls_verify,
        client_certificate_pem: user
            .client_certificate_data
            .as_deref()
            .and_then(decode_base64),
        notes,
        kubeconfig,
    })
}

fn decode_base64(data: &str) -> Option<String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// YAML and serde errors quote the offending value, which may be a token: keep the shape of
/// the message, drop every quoted value.
fn redact(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut inside = false;
    for c in message.chars() {
        match (c, inside) {
            ('"', false) => {
                inside = true;
                out.push_str("\"…");
            }
            ('"', true) => {
                inside = false;
                out.push('"');
            }
            (_, true) => {}
            (c, false) => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;

//! The chosen cluster and user entries, field by field: what Tandem refuses (a program, a
//! local file, a proxy, contradictions, values kube would choke on), what it uses, and what
//! it ignores — the last said in a [`KubeconfigNote`], never silently.

use std::borrow::Cow;

use kube::config::{AuthInfo, Kubeconfig};
use secrecy::ExposeSecret;

use super::{Credentials, Entry, KubeconfigNote, KubeconfigProblem};

/// (insecure-skip-tls-verify, server) of the context's cluster, after the policy. Its
/// `tls-server-name` is removed from `kubeconfig`, so neither the console's client nor the
/// kubeconfig the host stores uses it (see below).
pub(super) fn check_cluster(
    kubeconfig: &mut Kubeconfig,
    context: &str,
    name: &str,
    notes: &mut Vec<KubeconfigNote>,
) -> Result<(bool, String), KubeconfigProblem> {
    let cluster = kubeconfig
        .clusters
        .iter_mut()
        .find(|c| c.name == name)
        .and_then(|c| c.cluster.as_mut())
        .ok_or_else(|| KubeconfigProblem::MissingCluster {
            context: context.to_string(),
            cluster: name.to_string(),
        })?;
    if cluster
        .certificate_authority
        .as_deref()
        .is_some_and(|p| !p.is_empty())
    {
        return Err(KubeconfigProblem::FilePath {
            owner: Entry::Cluster,
            name: name.to_string(),
            field: "certificate-authority".into(),
        });
    }
    if cluster
        .certificate_authority_data
        .as_deref()
        .is_some_and(|d| !is_base64(d))
    {
        return Err(KubeconfigProblem::BadBase64 {
            owner: Entry::Cluster,
            name: name.to_string(),
            field: "certificate-authority-data".into(),
        });
    }
    if cluster.insecure_skip_tls_verify == Some(true)
        && cluster
            .certificate_authority_data
            .as_deref()
            .is_some_and(|d| !d.trim().is_empty())
    {
        return Err(KubeconfigProblem::InsecureWithCa {
            cluster: name.to_string(),
        });
    }
    if cluster
        .proxy_url
        .as_deref()
        .is_some_and(|p| !p.trim().is_empty())
    {
        return Err(KubeconfigProblem::ProxyUrl {
            cluster: name.to_string(),
        });
    }
    let server = cluster
        .server
        .clone()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| KubeconfigProblem::NoServer {
            cluster: name.to_string(),
        })?;
    // kube would honour it, and so would KubeSphere's cluster controller; but the join hands
    // the member to kubefed, whose KubeFedCluster has no such field and checks the certificate
    // against the address. Checking what kubefed will check means a member that passes here
    // does not fail federation later. A name equal to the address's host changes nothing.
    if let Some(tls_name) = cluster.tls_server_name.take()
        && !tls_name.trim().is_empty()
        && !host_of(&server).is_some_and(|host| tls_name.eq_ignore_ascii_case(&host))
    {
        notes.push(KubeconfigNote::TlsServerNameIgnored {
            cluster: name.to_string(),
        });
    }
    let unknown = shown_names(cluster.other.keys());
    if !unknown.is_empty() {
        notes.push(KubeconfigNote::UnknownFields {
            owner: Entry::Cluster,
            name: name.to_string(),
            fields: unknown,
        });
    }
    Ok((cluster.insecure_skip_tls_verify.unwrap_or(false), server))
}

/// How the user signs in, after the policy.
pub(super) fn check_user(
    name: &str,
    user: &AuthInfo,
    notes: &mut Vec<KubeconfigNote>,
) -> Result<Credentials, KubeconfigProblem> {
    refused_sources(name, user)?;
    headers(name, user)?;
    let has = |v: Option<&str>| v.is_some_and(|v| !v.is_empty());
    let token = user.token.as_ref().map(|t| t.expose_secret());
    let password = user.password.as_ref().map(|p| p.expose_secret());
    // kube would send the password and not the token; kubectl refuses the pair.
    if has(token) && (has(user.username.as_deref()) || has(password)) {
        return Err(KubeconfigProblem::TokenAndPassword {
            user: name.to_string(),
        });
    }
    let credentials = if has(token) {
        Credentials::Token
    } else if user.client_certificate_data.is_some() && user.client_key_data.is_some() {
        Credentials::ClientCertificate
    } else if user.username.is_some() && user.password.is_some() {
        notes.push(KubeconfigNote::BasicAuth {
            user: name.to_string(),
        });
        Credentials::BasicAuth
    } else {
        return Err(KubeconfigProblem::NoCredentials {
            user: name.to_string(),
            unknown: shown_names(user.other.keys()),
        });
    };
    let impersonation: Vec<Cow<'static, str>> = [
        ("as", user.impersonate.is_some()),
        ("as-uid", user.impersonate_uid.is_some()),
        ("as-groups", user.impersonate_groups.is_some()),
        ("as-user-extra", user.impersonate_user_extra.is_some()),
    ]
    .into_iter()
    .filter_map(|(field, set)| set.then_some(field.into()))
    .collect();
    if !impersonation.is_empty() {
        notes.push(KubeconfigNote::Impersonation {
            user: name.to_string(),
            fields: impersonation,
        });
    }
    let unknown = shown_names(user.other.keys());
    if !unknown.is_empty() {
        notes.push(KubeconfigNote::UnknownFields {
            owner: Entry::User,
            name: name.to_string(),
            fields: unknown,
        });
    }
    Ok(credentials)
}

/// Credentials from a program, an identity provider or a local file; data that is not base64.
fn refused_sources(name: &str, user: &AuthInfo) -> Result<(), KubeconfigProblem> {
    if let Some(exec) = &user.exec {
        return Err(KubeconfigProblem::ExecPlugin {
            user: name.to_string(),
            command: exec.command.clone().unwrap_or_default(),
        });
    }
    if let Some(provider) = &user.auth_provider {
        return Err(KubeconfigProblem::AuthProvider {
            user: name.to_string(),
            provider: provider.name.clone(),
        });
    }
    for (field, value) in [
        ("client-certificate", &user.client_certificate),
        ("client-key", &user.client_key),
        ("tokenFile", &user.token_file),
    ] {
        if value.as_deref().is_some_and(|p| !p.is_empty()) {
            return Err(KubeconfigProblem::FilePath {
                owner: Entry::User,
                name: name.to_string(),
                field: field.into(),
            });
        }
    }
    // The key is looked at only to see that it decodes; it is never kept or shown.
    let key = user.client_key_data.as_ref().map(|k| k.expose_secret());
    for (field, value) in [
        (
            "client-certificate-data",
            user.client_certificate_data.as_deref(),
        ),
        ("client-key-data", key),
    ] {
        if value.is_some_and(|d| !is_base64(d)) {
            return Err(KubeconfigProblem::BadBase64 {
                owner: Entry::User,
                name: name.to_string(),
                field: field.into(),
            });
        }
    }
    Ok(())
}

/// Fields kube sends as HTTP header values: one it cannot build is a panic (the token) or an
/// internal error (impersonation) at the first request, so it is refused here, by name.
fn headers(name: &str, user: &AuthInfo) -> Result<(), KubeconfigProblem> {
    match field_no_header_carries(user) {
        Some(field) => Err(KubeconfigProblem::NotAHeader {
            user: name.to_string(),
            field: field.into(),
        }),
        None => Ok(()),
    }
}

/// The first of `user`'s values kube sends as an HTTP header (the token, impersonation) that
/// no header can carry, by its kubeconfig field name. Host kubeconfigs in the configuration
/// file are held to the same rule.
pub(crate) fn field_no_header_carries(user: &AuthInfo) -> Option<&'static str> {
    let mut values: Vec<(&'static str, &str)> = Vec::new();
    if let Some(token) = &user.token {
        values.push(("token", token.expose_secret()));
    }
    if let Some(value) = &user.impersonate {
        values.push(("as", value));
    }
    if let Some(value) = &user.impersonate_uid {
        values.push(("as-uid", value));
    }
    for group in user.impersonate_groups.iter().flatten() {
        values.push(("as-groups", group));
    }
    for value in user
        .impersonate_user_extra
        .iter()
        .flat_map(|m| m.values())
        .flatten()
    {
        values.push(("as-user-extra", value));
    }
    values
        .into_iter()
        .find(|(_, value)| http::HeaderValue::from_str(value).is_err())
        .map(|(field, _)| field)
}

/// The host in a `server:` address, without brackets around an IPv6 address.
fn host_of(server: &str) -> Option<String> {
    let uri: http::Uri = server.parse().ok()?;
    Some(uri.host()?.trim_matches(['[', ']']).to_string())
}

/// Unknown keys as they can be shown. A key is chosen by whoever wrote the kubeconfig and
/// could be a value pasted in the wrong place, so only what looks like a kubeconfig field
/// (letters and dashes, short: `tokn`, `certificate-authority-dta`) is repeated; a secret
/// nearly always holds a digit, a dot or an underscore.
fn shown_names<'a>(keys: impl Iterator<Item = &'a String>) -> Vec<String> {
    keys.map(|key| {
        let field_like =
            key.len() <= 32 && key.chars().all(|c| c.is_ascii_alphabetic() || c == '-');
        if field_like {
            key.clone()
        } else {
            super::notes::UNUSUAL_NAME.to_string()
        }
    })
    .collect()
}

/// " (`tokn` is not a kubeconfig field)", or nothing: for a user without credentials.
pub(super) fn misspelt(unknown: &[String]) -> String {
    match unknown.len() {
        0 => String::new(),
        1 => format!(
            " ({} is not a kubeconfig field)",
            super::notes::field_list(unknown)
        ),
        _ => format!(
            " ({} are not kubeconfig fields)",
            super::notes::field_list(unknown)
        ),
    }
}

fn is_base64(data: &str) -> bool {
    use base64::Engine;
    let compact: String = data.split_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .is_ok()
}

//! A kubeconfig's problems and notes (`fleet::clusters::kubeconfig`), with what to do.

use fleet::clusters::kubeconfig::{Entry, KubeconfigNote, KubeconfigProblem, UNUSUAL_NAME};

use super::{Words, code_list, list, say};
use crate::i18n::Locale;

fn entry(l: Locale, entry: Entry) -> String {
    match entry {
        Entry::Cluster => say!(l, entry_cluster),
        Entry::User => say!(l, entry_user),
    }
}

/// Field names as code, the one too odd to repeat in words.
fn fields(l: Locale, names: &[impl AsRef<str>]) -> String {
    let shown: Vec<String> = names
        .iter()
        .map(|n| match n.as_ref() {
            UNUSUAL_NAME => say!(l, unusual_field),
            name => format!("`{name}`"),
        })
        .collect();
    list(l, &shown)
}

pub(super) fn problem(l: Locale, p: &KubeconfigProblem) -> Words {
    use KubeconfigProblem as P;
    let summary = match p {
        P::TooLarge { bytes, limit } => say!(l, kp_too_large, bytes = bytes, limit = limit),
        P::Empty => say!(l, kp_empty),
        P::NotYaml {
            line,
            column,
            message,
        } => say!(
            l,
            kp_not_yaml,
            line = line,
            column = column,
            message = message
        ),
        P::NotAKubeconfig { message } => say!(l, kp_not_kubeconfig, message = message),
        P::NoContexts => say!(l, kp_no_contexts),
        P::ContextNotFound { wanted, .. } => say!(l, kp_context_not_found, wanted = wanted),
        P::ChooseContext { .. } => say!(l, kp_choose_context),
        P::MissingCluster { context, cluster } => {
            say!(l, kp_missing_cluster, context = context, cluster = cluster)
        }
        P::MissingUser { context, user } => {
            say!(l, kp_missing_user, context = context, user = user)
        }
        P::NoServer { cluster } => say!(l, kp_no_server, cluster = cluster),
        P::ProxyUrl { cluster } => say!(l, kp_proxy_url, cluster = cluster),
        P::InsecureWithCa { cluster } => say!(l, kp_insecure_with_ca, cluster = cluster),
        P::ExecPlugin { user, command } => {
            say!(l, kp_exec_plugin, user = user, command = command)
        }
        P::AuthProvider { user, provider } => {
            say!(l, kp_auth_provider, user = user, provider = provider)
        }
        P::FilePath { owner, name, field } => say!(
            l,
            kp_file_path,
            owner = entry(l, *owner),
            name = name,
            field = field
        ),
        P::NoCredentials { user, unknown } if unknown.is_empty() => {
            say!(l, kp_no_credentials, user = user)
        }
        P::NoCredentials { user, unknown } => say!(
            l,
            kp_no_credentials_misspelt,
            user = user,
            fields = fields(l, unknown)
        ),
        P::TokenAndPassword { user } => say!(l, kp_token_and_password, user = user),
        P::NotAHeader { user, field } => say!(l, kp_not_a_header, user = user, field = field),
        P::BadBase64 { owner, name, field } => say!(
            l,
            kp_bad_base64,
            owner = entry(l, *owner),
            name = name,
            field = field
        ),
    };
    let fix = match p {
        P::TooLarge { .. } => say!(l, kpf_smaller),
        P::Empty | P::NotYaml { .. } | P::NotAKubeconfig { .. } => say!(l, kpf_paste),
        P::NoContexts => say!(l, kpf_add_context),
        P::ContextNotFound { available, .. } | P::ChooseContext { available } => {
            say!(l, kpf_pick_context, contexts = code_list(l, available))
        }
        P::MissingCluster { .. } | P::MissingUser { .. } => say!(l, kpf_export_again),
        P::NoServer { .. } => say!(l, kpf_set_server),
        P::InsecureWithCa { .. } => say!(l, kpf_insecure_with_ca),
        P::ProxyUrl { .. } => say!(l, kpf_proxy),
        P::NoCredentials { unknown, .. } if !unknown.is_empty() => say!(l, kpf_spelling),
        P::ExecPlugin { .. } | P::AuthProvider { .. } | P::NoCredentials { .. } => {
            say!(l, kpf_no_login_tool)
        }
        P::TokenAndPassword { .. } => say!(l, kpf_keep_token),
        P::NotAHeader { .. } => say!(l, kpf_one_line),
        P::FilePath { field, .. } if field == "tokenFile" => say!(l, kpf_token_file),
        P::FilePath { .. } => say!(l, kpf_embed_file),
        P::BadBase64 { .. } => say!(l, kpf_base64),
    };
    Words::new(summary, Some(fix))
}

pub(super) fn note(l: Locale, n: &KubeconfigNote) -> Words {
    use KubeconfigNote as N;
    match n {
        N::TlsServerNameIgnored { cluster } => Words::new(
            say!(l, kn_tls_server_name, cluster = cluster),
            Some(say!(l, kn_tls_server_name_fix)),
        ),
        N::UnknownFields {
            owner,
            name,
            fields: names,
        } => {
            let (owner_word, shown) = (entry(l, *owner), fields(l, names));
            let summary = if names.len() == 1 {
                say!(
                    l,
                    kn_unknown_field,
                    owner = owner_word,
                    name = name,
                    fields = &shown
                )
            } else {
                say!(
                    l,
                    kn_unknown_fields,
                    owner = owner_word,
                    name = name,
                    fields = &shown
                )
            };
            let fix = match owner {
                Entry::Cluster => say!(l, kn_unknown_cluster_fix, fields = &shown),
                Entry::User => say!(l, kn_unknown_user_fix, fields = &shown),
            };
            Words::new(summary, Some(fix))
        }
        N::BasicAuth { user } => Words::new(
            say!(l, kn_basic_auth, user = user),
            Some(say!(l, kn_basic_auth_fix)),
        ),
        N::Impersonation {
            user,
            fields: names,
        } => Words::new(
            say!(l, kn_impersonation, user = user, fields = fields(l, names)),
            None,
        ),
    }
}

use super::*;

const SECRET: &str = "eyJhbGciOiJSUzI1NiJ9.very-secret-token";

fn kubeconfig(user: &str, extra_cluster: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster:\n    server: https://10.0.0.1:6443\n{extra_cluster}contexts:\n- name: admin@prod\n  context: {{cluster: prod, user: admin}}\ncurrent-context: admin@prod\nusers:\n- name: admin\n  user:\n{user}"
    )
}

fn token_user() -> String {
    format!("    token: {SECRET}\n")
}

#[test]
fn a_token_kubeconfig_passes() {
    let checked = check_kubeconfig(&kubeconfig(&token_user(), ""), None).unwrap();
    assert_eq!(checked.context, "admin@prod");
    assert_eq!(checked.cluster, "prod");
    assert_eq!(checked.server, "https://10.0.0.1:6443");
    assert_eq!(checked.credentials, Credentials::Token);
    assert!(!checked.insecure_skip_tls_verify);
    assert!(checked.client_certificate_pem.is_none());
    assert!(!format!("{checked:?}").contains(SECRET));
}

#[test]
fn insecure_skip_tls_verify_is_reported_not_refused() {
    let checked = check_kubeconfig(
        &kubeconfig(&token_user(), "    insecure-skip-tls-verify: true\n"),
        None,
    )
    .unwrap();
    assert!(checked.insecure_skip_tls_verify);
}

#[test]
fn client_certificates_are_decoded_for_the_expiry_check() {
    use base64::Engine;
    let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    let b64 = base64::engine::general_purpose::STANDARD.encode(pem);
    let user = format!("    client-certificate-data: {b64}\n    client-key-data: a2V5\n");
    let checked = check_kubeconfig(&kubeconfig(&user, ""), None).unwrap();
    assert_eq!(checked.credentials, Credentials::ClientCertificate);
    assert_eq!(checked.client_certificate_pem.as_deref(), Some(pem));
}

fn problem(text: &str) -> KubeconfigProblem {
    let err = check_kubeconfig(text, None).unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(SECRET), "a secret leaked into: {shown}");
    assert!(
        !shown.contains("very-secret"),
        "a secret leaked into: {shown}"
    );
    err
}

#[test]
fn exec_plugins_are_refused() {
    let user = "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: aws\n      args: [eks, get-token]\n";
    assert_eq!(
        problem(&kubeconfig(user, "")),
        KubeconfigProblem::ExecPlugin {
            user: "admin".into(),
            command: "aws".into()
        }
    );
}

#[test]
fn auth_providers_are_refused() {
    let user = "    auth-provider:\n      name: oidc\n      config: {idp-issuer-url: https://login.example}\n";
    assert_eq!(
        problem(&kubeconfig(user, "")),
        KubeconfigProblem::AuthProvider {
            user: "admin".into(),
            provider: "oidc".into()
        }
    );
}

#[test]
fn local_file_paths_are_refused() {
    let cases = [
        (
            kubeconfig(
                &token_user(),
                "    certificate-authority: /etc/kubernetes/pki/ca.crt\n",
            ),
            "certificate-authority",
        ),
        (
            kubeconfig(
                "    client-certificate: /home/me/.kube/cert\n    client-key-data: a2V5\n",
                "",
            ),
            "client-certificate",
        ),
        (
            kubeconfig(
                "    client-certificate-data: Y2VydA==\n    client-key: /home/me/key\n",
                "",
            ),
            "client-key",
        ),
        (
            kubeconfig("    tokenFile: /var/run/secrets/token\n", ""),
            "tokenFile",
        ),
    ];
    for (text, expected) in cases {
        match problem(&text) {
            KubeconfigProblem::FilePath { field, .. } => assert_eq!(field, expected),
            other => panic!("expected a file-path refusal for {expected}, got {other:?}"),
        }
    }
}

#[test]
fn size_emptiness_and_syntax() {
    let huge = format!(
        "{}{}",
        kubeconfig(&token_user(), ""),
        "#".repeat(MAX_KUBECONFIG_BYTES)
    );
    assert!(matches!(problem(&huge), KubeconfigProblem::TooLarge { .. }));
    assert_eq!(problem(" \n"), KubeconfigProblem::Empty);
    assert!(matches!(
        problem("clusters: [unclosed\n"),
        KubeconfigProblem::NotYaml { line: 2, .. } | KubeconfigProblem::NotYaml { .. }
    ));
}

#[test]
fn type_errors_never_quote_values() {
    // A token where a list belongs: serde would quote it in its message.
    let text = format!("apiVersion: v1\nkind: Config\nusers: \"{SECRET}\"\n");
    assert!(matches!(
        problem(&text),
        KubeconfigProblem::NotAKubeconfig { .. }
    ));
}

#[test]
fn contexts_are_chosen_or_asked_for() {
    let two = kubeconfig(&token_user(), "").replace(
        "current-context: admin@prod\n",
        "- name: viewer@prod\n  context: {cluster: prod, user: admin}\n",
    );
    assert_eq!(
        problem(&two),
        KubeconfigProblem::ChooseContext {
            available: vec!["admin@prod".into(), "viewer@prod".into()]
        }
    );
    assert_eq!(
        check_kubeconfig(&two, Some("viewer@prod")).unwrap().context,
        "viewer@prod"
    );
    let err = check_kubeconfig(&two, Some("nope")).unwrap_err();
    assert!(matches!(
        err,
        KubeconfigProblem::ContextNotFound { available, .. } if available == ["admin@prod", "viewer@prod"]
    ));
}

#[test]
fn dangling_references_and_missing_pieces() {
    let no_cluster =
        kubeconfig(&token_user(), "").replace("cluster: prod, user", "cluster: other, user");
    assert!(matches!(
        problem(&no_cluster),
        KubeconfigProblem::MissingCluster { .. }
    ));
    let no_user = kubeconfig(&token_user(), "").replace("user: admin}", "user: ghost}");
    assert!(matches!(
        problem(&no_user),
        KubeconfigProblem::MissingUser { .. }
    ));
    let no_server = kubeconfig(&token_user(), "").replace(
        "    server: https://10.0.0.1:6443\n",
        "    insecure-skip-tls-verify: false\n",
    );
    assert!(matches!(
        problem(&no_server),
        KubeconfigProblem::NoServer { .. }
    ));
    assert!(matches!(
        problem(&kubeconfig("    username: admin\n", "")),
        KubeconfigProblem::NoCredentials { .. }
    ));
    let no_contexts = "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n";
    assert_eq!(problem(no_contexts), KubeconfigProblem::NoContexts);
}

#[test]
fn the_sandbox_kubeconfig_passes() {
    // What `tandem sandbox` writes is what a user would upload from a real cluster.
    let text = "apiVersion: v1\nkind: Config\nclusters:\n- name: member\n  cluster:\n    server: https://127.0.0.1:40000\n    certificate-authority-data: Y2E=\ncontexts:\n- name: member\n  context:\n    cluster: member\n    user: member-admin\ncurrent-context: member\nusers:\n- name: member-admin\n  user:\n    token: abc\npreferences: {}\n";
    assert_eq!(check_kubeconfig(text, None).unwrap().user, "member-admin");
}

#[test]
fn the_minified_kubeconfig_keeps_only_the_chosen_context_and_its_secret() {
    let two = "apiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster:\n    server: https://10.0.0.1:6443\n- name: dev\n  cluster:\n    server: https://10.0.0.2:6443\ncontexts:\n- name: admin@prod\n  context: {cluster: prod, user: admin}\n- name: admin@dev\n  context: {cluster: dev, user: dev}\ncurrent-context: admin@prod\nusers:\n- name: admin\n  user:\n    token: prod-token\n- name: dev\n  user:\n    token: dev-token\n";
    let checked = check_kubeconfig(two, Some("admin@dev")).unwrap();
    let minified = checked.minified_yaml();
    let again = check_kubeconfig(&minified, None).unwrap();
    assert_eq!(again.context, "admin@dev");
    assert_eq!(again.server, "https://10.0.0.2:6443");
    assert!(minified.contains("dev-token"), "the credentials are kept");
    assert!(
        !minified.contains("prod"),
        "nothing of the other context: {minified}"
    );
}

#[test]
fn fields_that_are_not_base64_are_named() {
    let cases = [
        (
            kubeconfig(
                &token_user(),
                "    certificate-authority-data: not*base64!\n",
            ),
            "certificate-authority-data",
        ),
        (
            kubeconfig(
                "    client-certificate-data: '%%%'\n    client-key-data: a2V5\n",
                "",
            ),
            "client-certificate-data",
        ),
        (
            kubeconfig(
                "    client-certificate-data: Y2VydA==\n    client-key-data: 'k e y ?'\n",
                "",
            ),
            "client-key-data",
        ),
    ];
    for (text, expected) in cases {
        match problem(&text) {
            KubeconfigProblem::BadBase64 { field, .. } => assert_eq!(field, expected),
            other => panic!("expected bad base64 in {expected}, got {other:?}"),
        }
    }
    // Line breaks inside the data, as some editors leave them, are fine.
    let wrapped = kubeconfig(
        &token_user(),
        "    certificate-authority-data: |\n      Y2Vy\n      dA==\n",
    );
    assert!(check_kubeconfig(&wrapped, None).is_ok());
}

#[test]
fn a_proxy_url_is_refused_with_why() {
    let refused = problem(&kubeconfig(
        &token_user(),
        "    proxy-url: http://10.0.0.9:3128\n",
    ));
    assert_eq!(
        refused,
        KubeconfigProblem::ProxyUrl {
            cluster: "prod".into()
        }
    );
}

#[test]
fn insecure_skip_tls_verify_with_a_ca_is_refused_as_kubectl_refuses_it() {
    let refused = problem(&kubeconfig(
        &token_user(),
        "    insecure-skip-tls-verify: true\n    certificate-authority-data: Y2E=\n",
    ));
    assert_eq!(
        refused,
        KubeconfigProblem::InsecureWithCa {
            cluster: "prod".into()
        }
    );
}

/// The fields Tandem ignores or refuses with an explanation: `tls-server-name`, unknown
/// keys, impersonation, basic authentication, header values.
mod fields;

use super::*;

fn notes(text: &str) -> Vec<KubeconfigNote> {
    let checked = check_kubeconfig(text, None).unwrap();
    for note in &checked.notes {
        let shown = format!("{note:?}");
        assert!(!shown.contains(SECRET), "a secret leaked into: {shown}");
    }
    checked.notes
}

#[test]
fn tls_server_name_is_dropped_and_said_so() {
    let text = kubeconfig(&token_user(), "    tls-server-name: other.example\n");
    let checked = check_kubeconfig(&text, None).unwrap();
    assert_eq!(
        checked.notes,
        vec![KubeconfigNote::TlsServerNameIgnored {
            cluster: "prod".into()
        }]
    );
    // Neither the console's client nor what the host stores checks another name.
    assert_eq!(
        checked.kubeconfig().clusters[0]
            .cluster
            .as_ref()
            .unwrap()
            .tls_server_name,
        None
    );
    assert!(!checked.minified_yaml().contains("tls-server-name"));
    // A malformed name is dropped too, instead of failing inside the TLS library.
    let odd = kubeconfig(&token_user(), "    tls-server-name: 'not a name!'\n");
    assert_eq!(notes(&odd).len(), 1);
    // The address's own host, or nothing, changes nothing and is not worth a word.
    for same in ["10.0.0.1", "''"] {
        let text = kubeconfig(&token_user(), &format!("    tls-server-name: {same}\n"));
        assert_eq!(notes(&text), vec![], "{same}");
    }
}

#[test]
fn unknown_fields_are_named_and_ignored() {
    let user = format!("{}    colour: blue\n    shape: round\n", token_user());
    let found = notes(&kubeconfig(&user, "    foo: bar\n"));
    assert_eq!(
        found,
        vec![
            KubeconfigNote::UnknownFields {
                owner: Entry::Cluster,
                name: "prod".into(),
                fields: vec!["foo".into()],
            },
            KubeconfigNote::UnknownFields {
                owner: Entry::User,
                name: "admin".into(),
                fields: vec!["colour".into(), "shape".into()],
            },
        ]
    );
}

#[test]
fn an_unknown_key_that_may_be_a_secret_is_not_repeated() {
    let user = format!("{}    {SECRET}: x\n", token_user());
    let found = notes(&kubeconfig(&user, ""));
    assert_eq!(
        found,
        vec![KubeconfigNote::UnknownFields {
            owner: Entry::User,
            name: "admin".into(),
            fields: vec![UNUSUAL_NAME.into()],
        }]
    );
}

#[test]
fn a_misspelt_token_is_named() {
    let err = problem(&kubeconfig(&format!("    tokn: {SECRET}\n"), ""));
    assert_eq!(
        err,
        KubeconfigProblem::NoCredentials {
            user: "admin".into(),
            unknown: vec!["tokn".into()]
        }
    );
    assert_eq!(
        err.to_string(),
        "user `admin` has no credentials (`tokn` is not a kubeconfig field)"
    );
}

#[test]
fn impersonation_is_said_not_hidden() {
    let user = format!(
        "{}    as: alice\n    as-groups: [developers]\n",
        token_user()
    );
    let found = notes(&kubeconfig(&user, ""));
    assert_eq!(
        found,
        vec![KubeconfigNote::Impersonation {
            user: "admin".into(),
            fields: vec!["as".into(), "as-groups".into()]
        }]
    );
    assert!(!found[0].has_fix(), "only worth knowing");
}

#[test]
fn a_username_and_password_pass_with_a_warning() {
    let text = kubeconfig(
        &format!("    username: admin\n    password: {SECRET}\n"),
        "",
    );
    assert_eq!(
        check_kubeconfig(&text, None).unwrap().credentials,
        Credentials::BasicAuth
    );
    let found = notes(&text);
    assert_eq!(
        found,
        vec![KubeconfigNote::BasicAuth {
            user: "admin".into()
        }]
    );
    assert!(found[0].has_fix());
}

#[test]
fn a_token_and_a_password_together_are_refused() {
    let user = format!(
        "{}    username: admin\n    password: {SECRET}\n",
        token_user()
    );
    let err = problem(&kubeconfig(&user, ""));
    assert_eq!(
        err,
        KubeconfigProblem::TokenAndPassword {
            user: "admin".into()
        }
    );
}

#[test]
fn values_sent_as_headers_must_be_one_line() {
    // kube panics on such a token and fails with an internal error on the others.
    let cases = [
        (format!("    token: \"{SECRET}\\n\"\n"), "token"),
        (format!("{}    as: \"alice\\nbob\"\n", token_user()), "as"),
        (
            format!("{}    as-uid: \"1\\t2\\r\"\n", token_user()),
            "as-uid",
        ),
        (
            format!("{}    as-groups: [ok, \"b\\u007fd\"]\n", token_user()),
            "as-groups",
        ),
        (
            format!(
                "{}    as-user-extra: {{scopes: [\"a\\nb\"]}}\n",
                token_user()
            ),
            "as-user-extra",
        ),
    ];
    for (user, expected) in cases {
        let err = problem(&kubeconfig(&user, ""));
        assert_eq!(
            err,
            KubeconfigProblem::NotAHeader {
                user: "admin".into(),
                field: expected.into()
            }
        );
    }
}

#[test]
fn a_token_file_is_told_to_go_in_token() {
    let err = problem(&kubeconfig("    tokenFile: /var/run/secrets/token\n", ""));
    assert_eq!(
        err,
        KubeconfigProblem::FilePath {
            owner: Entry::User,
            name: "admin".into(),
            field: "tokenFile".into(),
        }
    );
}

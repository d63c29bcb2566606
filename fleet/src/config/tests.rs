use super::*;

const KUBECONFIG: &str = r#"
apiVersion: v1
kind: Config
clusters:
- name: c1
  cluster:
    server: https://127.0.0.1:6443
contexts:
- name: ctx1
  context: {cluster: c1, user: u1}
- name: ctx2
  context: {cluster: c1, user: u1}
current-context: ctx1
users:
- name: u1
  user: {token: secret-token-value}
"#;

/// A directory holding `tandem.yaml` with `config`, plus `host.kubeconfig`.
fn load(config: &str) -> (tempfile::TempDir, Result<ConsoleConfig, ConfigError>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("host.kubeconfig"), KUBECONFIG).unwrap();
    let file = dir.path().join("tandem.yaml");
    std::fs::write(&file, config).unwrap();
    let result = ConsoleConfig::load(&file);
    (dir, result)
}

/// Loads `config`, expects a field error on `field` whose text contains `fragment`.
fn expect_field_error(config: &str, field: &str, fragment: &str) {
    let (_dir, result) = load(config);
    let err = result.expect_err("config should be refused");
    assert_eq!(err.field(), Some(field), "wrong field in: {err}");
    let text = err.to_string();
    assert!(text.contains("tandem.yaml"), "file not named in: {text}");
    assert!(text.contains("Fix: "), "no fix in: {text}");
    assert!(text.contains(fragment), "`{fragment}` not in: {text}");
}

#[test]
fn loads_a_complete_config() {
    let (dir, result) = load(
        "listen: 0.0.0.0:8080\nprobeIntervalSeconds: 2\nhosts:\n  - name: host\n    kubeconfig: host.kubeconfig\n    context: ctx2\n  - name: local\n    inCluster: true\n",
    );
    let config = result.unwrap();
    assert_eq!(config.listen, "0.0.0.0:8080".parse().unwrap());
    assert_eq!(config.probe_interval, Duration::from_secs(2));
    assert_eq!(config.hosts.len(), 2);
    assert_eq!(config.hosts[0].name, "host");
    match &config.hosts[0].credentials {
        HostCredentials::Kubeconfig { path, context, .. } => {
            assert_eq!(path, &dir.path().join("host.kubeconfig"));
            assert_eq!(context.as_deref(), Some("ctx2"));
        }
        other => panic!("unexpected credentials {other:?}"),
    }
    assert!(matches!(
        config.hosts[1].credentials,
        HostCredentials::InCluster
    ));
}

#[test]
fn defaults_listen_and_interval() {
    let (_dir, result) = load("hosts:\n  - name: host\n    kubeconfig: host.kubeconfig\n");
    let config = result.unwrap();
    assert_eq!(config.listen, DEFAULT_LISTEN.parse().unwrap());
    assert_eq!(config.probe_interval, DEFAULT_PROBE_INTERVAL);
    assert_eq!(config.replica_namespace, "kubesphere-system");
}

#[test]
fn metrics_get_a_port_of_their_own() {
    let (_dir, result) = load(
        "metricsListen: 0.0.0.0:9090\nhosts:\n  - name: host\n    kubeconfig: host.kubeconfig\n",
    );
    assert_eq!(
        result.unwrap().metrics_listen,
        Some("0.0.0.0:9090".parse().unwrap())
    );
    expect_field_error(
        "listen: 0.0.0.0:3000\nmetricsListen: 0.0.0.0:3000\nhosts:\n  - name: host\n    kubeconfig: host.kubeconfig\n",
        "metricsListen",
        "a port of its own",
    );
    expect_field_error(
        "metricsListen: metrics\nhosts:\n  - name: host\n    kubeconfig: host.kubeconfig\n",
        "metricsListen",
        "IP:PORT",
    );
}

#[test]
fn replica_namespace_must_be_a_namespace_name() {
    expect_field_error(
        "replicaNamespace: Tandem_System\nhosts:\n  - name: host\n    kubeconfig: host.kubeconfig\n",
        "replicaNamespace",
        "existing namespace of the first host",
    );
}

#[test]
fn debug_output_never_contains_the_token() {
    let (_dir, result) = load("hosts:\n  - name: host\n    kubeconfig: host.kubeconfig\n");
    let text = format!("{:?}", result.unwrap());
    assert!(!text.contains("secret-token-value"), "{text}");
    assert!(text.contains("host.kubeconfig"));
}

#[test]
fn missing_file_names_the_file_and_the_flag() {
    let err = ConsoleConfig::load(Path::new("/nonexistent/tandem.yaml")).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ConfigError::Read { .. }));
    assert!(text.contains("/nonexistent/tandem.yaml"), "{text}");
    assert!(text.contains("--config"), "{text}");
}

#[test]
fn broken_yaml_gives_line_and_column() {
    let (_dir, result) = load("hosts:\n  - name: \"unterminated\n");
    match result.unwrap_err() {
        ConfigError::Syntax { line, file, .. } => {
            assert!(line >= 2, "line {line}");
            assert!(file.ends_with("tandem.yaml"));
        }
        other => panic!("expected a syntax error, got {other}"),
    }
}

#[test]
fn a_list_instead_of_a_mapping() {
    let (_dir, result) = load("- host\n- host2\n");
    match result.unwrap_err() {
        ConfigError::Syntax { problem, fix, .. } => {
            assert!(problem.contains("not a mapping"), "{problem}");
            assert!(fix.contains("hosts:"), "{fix}");
        }
        other => panic!("expected a syntax error, got {other}"),
    }
}

#[test]
fn empty_file_asks_for_hosts() {
    expect_field_error("  \n", "hosts", "the file is empty");
}

#[test]
fn unknown_top_level_field_is_refused() {
    expect_field_error("hostz: []\n", "hostz", "the known fields are");
    // The fix lists every setting the file knows.
    expect_field_error("hostz: []\n", "hostz", "`secureCookies`, `memberAddresses`");
}

#[test]
fn unknown_member_addresses_field_says_what_it_knows() {
    expect_field_error(
        "memberAddresses:\n  allowHttp: true\nhosts:\n  - name: host\n    kubeconfig: host.kubeconfig\n",
        "memberAddresses.allowHttp",
        "`memberAddresses` knows `allowPlainHttp`, `allow` and `deny`",
    );
}

#[test]
fn unknown_host_field_names_the_host() {
    expect_field_error(
        "hosts:\n  - name: host\n    kubeConfig: host.kubeconfig\n",
        "hosts[0].kubeConfig",
        "unknown field `kubeConfig`",
    );
}

#[test]
fn wrong_type_names_the_field() {
    expect_field_error("hosts: 3\n", "hosts", "invalid type");
}

#[test]
fn bad_listen_address() {
    expect_field_error(
        "listen: localhost\nhosts:\n  - name: host\n    kubeconfig: host.kubeconfig\n",
        "listen",
        "IP:PORT",
    );
}

#[test]
fn probe_interval_out_of_range() {
    expect_field_error(
        "probeIntervalSeconds: 0\nhosts:\n  - name: host\n    kubeconfig: host.kubeconfig\n",
        "probeIntervalSeconds",
        "from 1 to 3600",
    );
}

#[test]
fn missing_hosts() {
    expect_field_error("listen: 127.0.0.1:3000\n", "hosts", "it is missing");
}

#[test]
fn empty_hosts() {
    expect_field_error("hosts: []\n", "hosts", "the list is empty");
}

#[test]
fn host_without_name() {
    expect_field_error(
        "hosts:\n  - kubeconfig: host.kubeconfig\n",
        "hosts[0].name",
        "it is missing",
    );
}

#[test]
fn host_name_not_a_dns_label() {
    expect_field_error(
        "hosts:\n  - name: Prod_EU\n    kubeconfig: host.kubeconfig\n",
        "hosts[0].name",
        "lowercase",
    );
    let long = "a".repeat(64);
    expect_field_error(
        &format!("hosts:\n  - name: {long}\n    kubeconfig: host.kubeconfig\n"),
        "hosts[0].name",
        "longer than 63",
    );
}

#[test]
fn duplicate_host_names() {
    expect_field_error(
        "hosts:\n  - name: host\n    kubeconfig: host.kubeconfig\n  - name: host\n    kubeconfig: host.kubeconfig\n",
        "hosts[1].name",
        "used by an earlier host",
    );
}

#[test]
fn host_without_credentials() {
    expect_field_error(
        "hosts:\n  - name: host\n",
        "hosts[0].kubeconfig",
        "`inCluster: true`",
    );
}

#[test]
fn host_with_both_credentials() {
    expect_field_error(
        "hosts:\n  - name: host\n    kubeconfig: host.kubeconfig\n    inCluster: true\n",
        "hosts[0].inCluster",
        "keep one",
    );
}

#[test]
fn two_in_cluster_hosts() {
    expect_field_error(
        "hosts:\n  - name: a\n    inCluster: true\n  - name: b\n    inCluster: true\n",
        "hosts[1].inCluster",
        "already uses the in-cluster credentials",
    );
}

#[test]
fn context_with_in_cluster() {
    expect_field_error(
        "hosts:\n  - name: a\n    inCluster: true\n    context: ctx1\n",
        "hosts[0].context",
        "only applies to a kubeconfig",
    );
}

#[test]
fn kubeconfig_file_missing() {
    expect_field_error(
        "hosts:\n  - name: host\n    kubeconfig: nothere.kubeconfig\n",
        "hosts[0].kubeconfig",
        "nothere.kubeconfig",
    );
}

#[test]
fn kubeconfig_not_a_kubeconfig() {
    let (dir, _) = load("hosts: []\n");
    std::fs::write(dir.path().join("bad.kubeconfig"), "clusters: 12\n").unwrap();
    let file = dir.path().join("tandem.yaml");
    std::fs::write(
        &file,
        "hosts:\n  - name: host\n    kubeconfig: bad.kubeconfig\n",
    )
    .unwrap();
    let err = ConsoleConfig::load(&file).unwrap_err();
    assert_eq!(err.field(), Some("hosts[0].kubeconfig"));
    assert!(err.to_string().contains("not a valid kubeconfig"), "{err}");
}

#[test]
fn unknown_context_lists_the_available_ones() {
    expect_field_error(
        "hosts:\n  - name: host\n    kubeconfig: host.kubeconfig\n    context: prod\n",
        "hosts[0].context",
        "use one of: ctx1, ctx2",
    );
}

#[test]
fn kubeconfig_without_current_context_needs_one() {
    let (dir, _) = load("hosts: []\n");
    let text = KUBECONFIG.replace("current-context: ctx1\n", "");
    std::fs::write(dir.path().join("nocurrent.kubeconfig"), text).unwrap();
    let file = dir.path().join("tandem.yaml");
    std::fs::write(
        &file,
        "hosts:\n  - name: host\n    kubeconfig: nocurrent.kubeconfig\n",
    )
    .unwrap();
    let err = ConsoleConfig::load(&file).unwrap_err();
    assert_eq!(err.field(), Some("hosts[0].context"));
    assert!(err.to_string().contains("no current-context"), "{err}");
}

/// kube would panic sending such a token; the file is refused instead, without the token.
#[test]
fn a_host_token_no_header_can_carry_is_refused() {
    let (dir, _) = load("hosts: []\n");
    let text = KUBECONFIG.replace(
        "{token: secret-token-value}",
        "{token: \"secret-token\\nvalue\"}",
    );
    std::fs::write(dir.path().join("broken.kubeconfig"), text).unwrap();
    let file = dir.path().join("tandem.yaml");
    std::fs::write(
        &file,
        "hosts:\n  - name: host\n    kubeconfig: broken.kubeconfig\n",
    )
    .unwrap();
    let err = ConsoleConfig::load(&file).unwrap_err();
    assert_eq!(err.field(), Some("hosts[0].kubeconfig"));
    let text = err.to_string();
    assert!(text.contains("token of user `u1`"), "{text}");
    assert!(text.contains("as one line"), "{text}");
    assert!(!text.contains("secret-token"), "the token shown: {text}");
}

#[test]
fn dns_labels() {
    assert_eq!(dns1123_label_problem("member-1"), None);
    assert!(dns1123_label_problem("").is_some());
    assert!(dns1123_label_problem("-a").is_some());
    assert!(dns1123_label_problem("a.b").is_some());
}

#[test]
fn secure_cookies_default_follows_the_listen_address() {
    let (_d, loopback) = load("hosts:\n  - name: host\n    kubeconfig: host.kubeconfig\n");
    assert!(
        !loopback.unwrap().cookies_secure(),
        "plain HTTP on loopback"
    );
    let (_d, public) =
        load("listen: 0.0.0.0:3000\nhosts:\n  - name: host\n    kubeconfig: host.kubeconfig\n");
    assert!(public.unwrap().cookies_secure(), "behind TLS in production");
    let (_d, forced) = load(
        "listen: 0.0.0.0:3000\nsecureCookies: false\nhosts:\n  - name: host\n    kubeconfig: host.kubeconfig\n",
    );
    assert!(!forced.unwrap().cookies_secure());
}

#[test]
fn member_addresses_are_read_and_bad_blocks_named() {
    let (_d, config) = load(
        "listen: 0.0.0.0:3000\nmemberAddresses:\n  allowPlainHttp: true\n  allow: [10.20.0.0/16]\n  deny: [10.20.99.0/24]\nhosts:\n  - name: host\n    kubeconfig: host.kubeconfig\n",
    );
    let policy = config.unwrap().member_address_policy();
    assert!(policy.allow_plain_http);
    assert_eq!(policy.allow[0].to_string(), "10.20.0.0/16");
    assert_eq!(policy.deny[0].to_string(), "10.20.99.0/24");
    assert_eq!(policy.console, ["0.0.0.0:3000".parse().unwrap()]);

    let (_d, defaults) = load("hosts:\n  - name: host\n    kubeconfig: host.kubeconfig\n");
    let defaults = defaults.unwrap().member_address_policy();
    assert!(!defaults.allow_plain_http && defaults.allow.is_empty());

    let (_d, bad) = load(
        "memberAddresses:\n  deny: [10.0.0.0/8, 10.1.0.0/99]\nhosts:\n  - name: host\n    kubeconfig: host.kubeconfig\n",
    );
    let err = bad.unwrap_err();
    assert_eq!(err.field(), Some("memberAddresses.deny[1]"));
    assert!(err.to_string().contains("CIDR block"), "{err}");
}

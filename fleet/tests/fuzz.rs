//! Fuzz targets for what reaches `fleet` from outside: kubeconfigs (from browsers and hosts'
//! `Cluster`s), member addresses, the operator's configuration file and session tokens. Each
//! must answer with a refusal, never a panic, and never echo a secret. A short run is part of
//! `make test`; `make fuzz` runs them for an hour (`sandbox::fuzz`).

use std::time::SystemTime;

use fleet::ConsoleConfig;
use fleet::clusters::MemberAddressPolicy;
use fleet::clusters::kubeconfig::check_kubeconfig;
use fleet::iam::JwtSecret;
use sandbox::fuzz::proptest::prelude::*;
use sandbox::fuzz::{fuzz, proptest};

const SECRET: &str = "s3cr3t-t0ken-value";

/// Values a hostile or broken kubeconfig puts in a field.
fn field_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("~".into()),
        Just("[]".into()),
        Just("{}".into()),
        Just("\"\"".into()),
        Just("https://10.0.0.1:6443".into()),
        Just("https://169.254.169.254/latest".into()),
        Just("file:///etc/passwd".into()),
        Just("http://[::1]:80".into()),
        Just("!!binary aGk=".into()),
        Just("*anchor".into()),
        "[ -~]{0,30}",
        "[a-zA-Z0-9+/=]{0,40}",
    ]
}

/// A kubeconfig with each field either sane or replaced by a fuzzed value, and optional
/// extra keys (exec, auth-provider, file paths, proxy-url, insecure flags).
fn kubeconfig() -> impl Strategy<Value = String> {
    let extras = proptest::sample::subsequence(
        vec![
            "    exec: {command: aws}\n",
            "    auth-provider: {name: oidc}\n",
            "    tokenFile: /var/run/token\n",
            "    client-certificate: /tmp/c.pem\n",
            "    client-certificate-data: bm90IGEgY2VydA==\n",
            "    client-key-data: a2V5\n",
            "    username: u\n    password: p\n",
        ],
        0..3,
    );
    let cluster_extras = proptest::sample::subsequence(
        vec![
            "    insecure-skip-tls-verify: true\n",
            "    certificate-authority-data: Y2E=\n",
            "    certificate-authority: /etc/ca.pem\n",
            "    proxy-url: http://10.0.0.9:3128\n",
            "    tls-server-name: kubernetes\n",
        ],
        0..3,
    );
    (
        field_value(),
        field_value(),
        field_value(),
        extras,
        cluster_extras,
        any::<bool>(),
    )
        .prop_map(|(server, context, user, extras, cluster_extras, token)| {
            let token = if token { format!("    token: {SECRET}\n") } else { String::new() };
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {server}\n{}contexts:\n- name: {context}\n  context: {{cluster: c, user: {user}}}\ncurrent-context: {context}\nusers:\n- name: {user}\n  user:\n{token}{}",
                cluster_extras.concat(),
                extras.concat()
            )
        })
}

#[test]
fn fuzz_kubeconfigs() {
    let inputs = prop_oneof![kubeconfig(), "[ -~\n]{0,200}"];
    fuzz("kubeconfig check", inputs, |text| {
        match check_kubeconfig(text, None) {
            Ok(checked) => {
                if format!("{checked:?}").contains(SECRET) {
                    return Err("the checked kubeconfig's Debug shows the token".into());
                }
            }
            Err(problem) => {
                let shown = format!("{problem} {problem:?}");
                if shown.contains(SECRET) {
                    return Err(format!("a refusal shows the token: {shown}"));
                }
            }
        }
        Ok(())
    });
}

#[test]
fn fuzz_member_addresses() {
    let hosts = prop_oneof![
        "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}",
        "\\[[0-9a-f:.]{0,24}\\]",
        "[a-z0-9.-]{0,20}",
        Just("169.254.169.254".to_string()),
        Just("[::ffff:169.254.1.1]".to_string()),
    ];
    let servers = (
        prop_oneof![
            Just("https"),
            Just("http"),
            Just("HTTPS"),
            Just("file"),
            Just("")
        ],
        "(user@)?",
        hosts,
        "(:[0-9]{0,6})?",
        "(/[ -~]{0,10})?",
    )
        .prop_map(|(scheme, user, host, port, path)| {
            format!("{scheme}://{user}{host}{port}{path}")
        });
    let policy = MemberAddressPolicy::default();
    fuzz(
        "member addresses",
        prop_oneof![servers, "[ -~]{0,40}"],
        |server| {
            let verdict = policy.check_server(server);
            let host = server
                .split_once("://")
                .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or_default())
                .map(|a| a.rsplit_once('@').map_or(a, |(_, h)| h))
                .unwrap_or_default();
            let bare = host
                .rsplit_once(':')
                .filter(|(h, p)| !h.contains(':') && p.chars().all(|c| c.is_ascii_digit()))
                .map_or(host, |(h, _)| h);
            if let Ok(std::net::IpAddr::V4(ip)) = bare.trim_matches(['[', ']']).parse()
                && ip.is_link_local()
                && verdict.is_ok()
            {
                return Err(format!("a link-local address passed: {server}"));
            }
            Ok(())
        },
    );
}

#[test]
fn fuzz_configuration_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("host.kubeconfig"),
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:6443'}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\nusers:\n- name: u\n  user: {token: t}\n",
    )
    .unwrap();
    let file = dir.path().join("tandem.yaml");
    let value = prop_oneof![
        "[a-z0-9.:/-]{0,16}",
        Just("host.kubeconfig".to_string()),
        Just("0.0.0.0:3000".to_string()),
        Just("[10.0.0.0/8, 10.1.0.0/99]".to_string()),
        Just("true".to_string()),
        Just("99999999999999999999".to_string()),
    ];
    // Kubeconfig paths stay file names in the temporary folder: no `/`, so no /dev/zero.
    let configs = (
        value.clone(),
        value.clone(),
        "[a-z.]{1,12}",
        value,
        any::<bool>(),
    )
        .prop_map(|(listen, name, path, block, member_addresses)| {
            let extra = if member_addresses {
                format!("memberAddresses:\n  allow: {block}\n")
            } else {
                String::new()
            };
            format!("listen: {listen}\n{extra}hosts:\n  - name: {name}\n    kubeconfig: {path}\n")
        });
    fuzz(
        "configuration files",
        prop_oneof![configs, "[ -~\n]{0,120}"],
        |text| {
            let _ = ConsoleConfig::parse(&file, text);
            Ok(())
        },
    );
}

#[test]
fn fuzz_session_tokens() {
    let secret = JwtSecret::new("fuzz-secret").unwrap();
    let genuine = secret.issue(
        "admin",
        Default::default(),
        SystemTime::now(),
        std::time::Duration::from_secs(3600),
    );
    let tokens = prop_oneof![
        "[A-Za-z0-9_.=-]{0,120}",
        (0..genuine.len(), any::<u8>()).prop_map(move |(at, byte)| {
            // The genuine token with one character changed.
            let mut bytes = genuine.clone().into_bytes();
            bytes[at] = b"AZaz09-_."[usize::from(byte) % 9];
            String::from_utf8(bytes).unwrap()
        }),
    ];
    // Only the genuine claims can ever verify: a changed header or payload breaks the HMAC.
    fuzz("session tokens", tokens, |token| {
        match secret.verify(token, SystemTime::now()) {
            Ok(claims) if claims.user() != "admin" => {
                Err(format!("a forged token was accepted for {}", claims.user()))
            }
            _ => Ok(()),
        }
    });
}

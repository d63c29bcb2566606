//! The add-cluster wizard's connectivity step tells each failure apart, against sandbox
//! clusters broken in each way a real one can be.

use fleet::clusters::kubeconfig::check_kubeconfig;
use fleet::health::probe_kubeconfig;
use fleet::{HostState, ProbeFailure};
use sandbox::{SandboxCluster, ServingCertificate};

async fn probe_yaml(yaml: &str) -> HostState {
    probe_kubeconfig(&check_kubeconfig(yaml, None).unwrap(), &Default::default()).await
}

/// The `server:` address of a sandbox cluster's kubeconfig (`https://127.0.0.1:PORT`).
fn server_of(yaml: &str) -> String {
    yaml.lines()
        .find_map(|l| l.trim().strip_prefix("server: "))
        .unwrap()
        .to_string()
}

fn failure(state: HostState) -> ProbeFailure {
    match state {
        HostState::Unreachable(f) => f,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test]
async fn each_connectivity_failure_has_its_own_reason() {
    let good = SandboxCluster::start("good").await.unwrap();
    assert!(matches!(
        probe_yaml(&good.kubeconfig_yaml()).await,
        HostState::Reachable { .. }
    ));

    let expired = SandboxCluster::start_with_certificate("expired", ServingCertificate::Expired)
        .await
        .unwrap();
    assert_eq!(
        failure(probe_yaml(&expired.kubeconfig_yaml()).await),
        ProbeFailure::CertificateExpired
    );

    let wrong_host = SandboxCluster::start_with_certificate("wrong", ServingCertificate::WrongHost)
        .await
        .unwrap();
    assert_eq!(
        failure(probe_yaml(&wrong_host.kubeconfig_yaml()).await),
        ProbeFailure::HostnameMismatch
    );

    // Another cluster's CA for this server.
    let other = SandboxCluster::start("other").await.unwrap();
    let crossed = other
        .kubeconfig_yaml()
        .replace(&other.server_url(), &good.server_url());
    assert_eq!(failure(probe_yaml(&crossed).await), ProbeFailure::UnknownCa);

    let token_line = good
        .kubeconfig_yaml()
        .lines()
        .find(|l| l.contains("token:"))
        .unwrap()
        .to_string();
    let forged = good
        .kubeconfig_yaml()
        .replace(&token_line, "    token: forged");
    assert_eq!(
        failure(probe_yaml(&forged).await),
        ProbeFailure::Unauthorized
    );

    let gone = SandboxCluster::start("gone").await.unwrap();
    let gone_yaml = gone.kubeconfig_yaml();
    drop(gone);
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert_eq!(failure(probe_yaml(&gone_yaml).await), ProbeFailure::Refused);

    // Plain HTTP where TLS was expected: a TLS failure, told by rustls' error type.
    let plain = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = plain.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        while let Ok((mut stream, _)) = plain.accept().await {
            let _ = stream
                .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                .await;
        }
    });
    let http = good
        .kubeconfig_yaml()
        .replace(&good.server_url(), &format!("https://127.0.0.1:{port}"));
    assert!(
        matches!(failure(probe_yaml(&http).await), ProbeFailure::Tls(_)),
        "plain HTTP on a TLS address"
    );
}

#[tokio::test]
async fn insecure_skip_tls_verify_connects_without_crashing() {
    // KubeSphere's join crashed on such kubeconfigs; ours must simply connect.
    let expired = SandboxCluster::start_with_certificate("expired", ServingCertificate::Expired)
        .await
        .unwrap();
    let yaml = expired.kubeconfig_yaml();
    let ca_line = yaml
        .lines()
        .find(|l| l.contains("certificate-authority-data"))
        .unwrap()
        .to_string();
    let insecure = yaml.replace(&ca_line, "    insecure-skip-tls-verify: true");
    let checked = check_kubeconfig(&insecure, None).unwrap();
    assert!(checked.insecure_skip_tls_verify);
    assert!(matches!(
        probe_kubeconfig(&checked, &Default::default()).await,
        HostState::Reachable { .. }
    ));
}

/// The member address policy holds at connect time, on every address a name resolves to:
/// `localhost` passes the kubeconfig step (a name), and is refused when it resolves into a
/// denied network — nothing is sent. Only loopback is involved.
#[tokio::test]
async fn a_name_resolving_into_a_refused_network_is_refused_at_connect_time() {
    use fleet::clusters::{AddressRefusal, Cidr, MemberAddressPolicy};
    use std::sync::Arc;

    let member = SandboxCluster::start("member").await.unwrap();
    let yaml = member.kubeconfig_yaml();
    let server = server_of(&yaml);
    let port = server.trim_start_matches("https://127.0.0.1:").to_string();
    let by_name = yaml.replace(&server, &format!("https://localhost:{port}"));
    let checked = check_kubeconfig(&by_name, None).unwrap();
    let closed = Arc::new(MemberAddressPolicy {
        deny: vec![
            Cidr::parse("127.0.0.0/8").unwrap(),
            Cidr::parse("::1/128").unwrap(),
        ],
        ..Default::default()
    });
    assert_eq!(
        closed.check_server(&checked.server),
        Ok(()),
        "a name passes the first check"
    );
    match failure(probe_kubeconfig(&checked, &closed).await) {
        ProbeFailure::AddressRefused(AddressRefusal::Denied { ip, .. }) => {
            assert!(ip.is_loopback())
        }
        other => panic!("expected the policy's refusal, got {other:?}"),
    }

    // The same member by address: refused before any connection when the console listens
    // there, or when only other networks are allowed.
    let direct = check_kubeconfig(&yaml, None).unwrap();
    let itself = Arc::new(MemberAddressPolicy {
        console: vec![format!("127.0.0.1:{port}").parse().unwrap()],
        ..Default::default()
    });
    assert!(matches!(
        failure(probe_kubeconfig(&direct, &itself).await),
        ProbeFailure::AddressRefused(AddressRefusal::Console { .. })
    ));
    let elsewhere = Arc::new(MemberAddressPolicy {
        allow: vec![Cidr::parse("10.20.0.0/16").unwrap()],
        ..Default::default()
    });
    assert!(matches!(
        failure(probe_kubeconfig(&direct, &elsewhere).await),
        ProbeFailure::AddressRefused(AddressRefusal::NotAllowed { .. })
    ));
    // And by default it is an ordinary member.
    assert!(matches!(
        probe_kubeconfig(&direct, &Default::default()).await,
        HostState::Reachable { .. }
    ));
}

/// A metadata address is refused before anything connects (the policy's own tests cover
/// every rule; this is the wizard's path).
#[tokio::test]
async fn a_metadata_address_is_never_connected_to() {
    let yaml = SandboxCluster::start("member")
        .await
        .unwrap()
        .kubeconfig_yaml();
    let hostile = yaml.replace(
        &server_of(&yaml),
        "https://169.254.169.254/latest/meta-data/",
    );
    assert!(matches!(
        failure(probe_yaml(&hostile).await),
        ProbeFailure::AddressRefused(fleet::clusters::AddressRefusal::Metadata { .. })
    ));
}

/// Refused means nothing was sent: a loopback listener standing for the console's own address,
/// and the same listener behind `localhost` in a denied network, see no connection at all;
/// with the default policy the same kubeconfig reaches it (so the count is real).
#[tokio::test]
async fn a_refused_address_is_never_connected_to() {
    use fleet::clusters::{AddressRefusal, Cidr, MemberAddressPolicy};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    let server = tokio::spawn(async move {
        while listener.accept().await.is_ok() {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    let yaml = SandboxCluster::start("member")
        .await
        .unwrap()
        .kubeconfig_yaml();
    let server_line = server_of(&yaml);
    let by_ip = check_kubeconfig(
        &yaml.replace(&server_line, &format!("https://127.0.0.1:{port}")),
        None,
    )
    .unwrap();
    let by_name = check_kubeconfig(
        &yaml.replace(&server_line, &format!("https://localhost:{port}")),
        None,
    )
    .unwrap();

    let itself = Arc::new(MemberAddressPolicy {
        console: vec![format!("127.0.0.1:{port}").parse().unwrap()],
        ..Default::default()
    });
    assert!(matches!(
        failure(probe_kubeconfig(&by_ip, &itself).await),
        ProbeFailure::AddressRefused(AddressRefusal::Console { .. })
    ));
    let closed = Arc::new(MemberAddressPolicy {
        deny: vec![
            Cidr::parse("127.0.0.0/8").unwrap(),
            Cidr::parse("::1/128").unwrap(),
        ],
        ..Default::default()
    });
    assert!(matches!(
        failure(probe_kubeconfig(&by_name, &closed).await),
        ProbeFailure::AddressRefused(AddressRefusal::Denied { .. })
    ));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        0,
        "a refused address was connected to"
    );

    // The control: allowed, the same address is reached (the TLS handshake then fails).
    let _ = probe_kubeconfig(&by_ip, &Default::default()).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(
        accepted.load(Ordering::SeqCst) >= 1,
        "the listener counts connections"
    );
    server.abort();
}

use super::*;

fn policy() -> MemberAddressPolicy {
    MemberAddressPolicy {
        console: vec!["127.0.0.1:3000".parse().unwrap()],
        ..Default::default()
    }
}

fn at(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

#[test]
fn metadata_link_local_and_non_machine_addresses_are_refused_by_default() {
    let p = policy();
    for (server, expected) in [
        (
            "https://169.254.169.254/latest/meta-data/",
            AddressRefusal::Metadata {
                address: "169.254.169.254".into(),
            },
        ),
        (
            "https://100.100.100.200:443",
            AddressRefusal::Metadata {
                address: "100.100.100.200".into(),
            },
        ),
        (
            "https://[fd00:ec2::254]/",
            AddressRefusal::Metadata {
                address: "fd00:ec2::254".into(),
            },
        ),
        (
            "https://[::ffff:169.254.169.254]:6443",
            AddressRefusal::Metadata {
                address: "169.254.169.254".into(),
            },
        ),
        (
            "https://Metadata.Google.Internal./computeMetadata/v1/",
            AddressRefusal::Metadata {
                address: "metadata.google.internal".into(),
            },
        ),
        (
            "https://169.254.10.1:6443",
            AddressRefusal::LinkLocal {
                ip: "169.254.10.1".parse().unwrap(),
            },
        ),
        (
            "https://[fe80::1]:6443",
            AddressRefusal::LinkLocal {
                ip: "fe80::1".parse().unwrap(),
            },
        ),
        (
            "https://0.0.0.0:6443",
            AddressRefusal::NotOneMachine {
                ip: "0.0.0.0".parse().unwrap(),
                what: "the unspecified address".into(),
            },
        ),
        (
            "https://[::]:6443",
            AddressRefusal::NotOneMachine {
                ip: "::".parse().unwrap(),
                what: "the unspecified address".into(),
            },
        ),
        (
            "https://224.0.0.1:6443",
            AddressRefusal::NotOneMachine {
                ip: "224.0.0.1".parse().unwrap(),
                what: "a multicast address".into(),
            },
        ),
        (
            "https://255.255.255.255:6443",
            AddressRefusal::NotOneMachine {
                ip: "255.255.255.255".parse().unwrap(),
                what: "the broadcast address".into(),
            },
        ),
        (
            "https://127.0.0.1:3000",
            AddressRefusal::Console {
                address: at("127.0.0.1:3000"),
            },
        ),
        (
            "file:///etc/kubernetes/admin.conf",
            AddressRefusal::Scheme {
                scheme: "file".into(),
            },
        ),
        (
            "ftp://10.0.0.1",
            AddressRefusal::Scheme {
                scheme: "ftp".into(),
            },
        ),
        (
            "10.0.0.1:6443",
            AddressRefusal::Scheme {
                scheme: "(none)".into(),
            },
        ),
        (
            "http://10.0.0.1:8080",
            AddressRefusal::PlainHttp {
                server: "http://10.0.0.1:8080".into(),
            },
        ),
    ] {
        assert_eq!(p.check_server(server), Err(expected), "{server}");
    }
}

#[test]
fn ordinary_members_pass() {
    let p = policy();
    for server in [
        "https://10.0.0.1:6443",
        "https://192.168.1.10",
        "https://127.0.0.1:46443",
        "https://[2001:db8::1]:6443",
        "https://kube.example.com:6443",
        "HTTPS://user@10.0.0.1:6443/",
    ] {
        assert_eq!(p.check_server(server), Ok(()), "{server}");
    }
}

#[test]
fn the_operator_allows_plain_http_and_narrows_or_widens_the_networks() {
    let p = MemberAddressPolicy {
        allow_plain_http: true,
        allow: vec![
            Cidr::parse("10.20.0.0/16").unwrap(),
            Cidr::parse("169.254.7.0/24").unwrap(),
        ],
        deny: vec![Cidr::parse("10.20.99.0/24").unwrap()],
        ..policy()
    };
    assert_eq!(p.check_server("http://10.20.1.1:8080"), Ok(()));
    assert_eq!(p.check_server("https://169.254.7.9:6443"), Ok(()));
    assert_eq!(
        p.check_server("https://169.254.169.254/"),
        Err(AddressRefusal::Metadata {
            address: "169.254.169.254".into()
        }),
        "no setting lets the metadata service in"
    );
    assert_eq!(
        p.check_address(at("10.21.0.1:6443")),
        Err(AddressRefusal::NotAllowed {
            ip: "10.21.0.1".parse().unwrap(),
            allowed: "10.20.0.0/16, 169.254.7.0/24".into()
        })
    );
    let denied = p.check_address(at("10.20.99.5:6443")).unwrap_err();
    assert_eq!(
        denied,
        AddressRefusal::Denied {
            ip: "10.20.99.5".parse().unwrap(),
            cidr: "10.20.99.0/24".into()
        }
    );
    assert_eq!(denied.setting(), Some("memberAddresses.deny"));
}

#[test]
fn a_console_on_every_interface_is_not_its_own_member() {
    let p = MemberAddressPolicy {
        console: vec![at("0.0.0.0:3000")],
        ..Default::default()
    };
    assert!(matches!(
        p.check_address(at("127.0.0.1:3000")),
        Err(AddressRefusal::Console { .. })
    ));
    assert_eq!(p.check_address(at("127.0.0.1:6443")), Ok(()));
}

#[test]
fn cidr_blocks() {
    let block = Cidr::parse("10.20.0.0/16").unwrap();
    assert!(block.contains("10.20.255.1".parse().unwrap()));
    assert!(!block.contains("10.21.0.1".parse().unwrap()));
    assert!(block.contains("::ffff:10.20.0.1".parse().unwrap()));
    assert!(
        Cidr::parse("fd00::/8")
            .unwrap()
            .contains("fd12::1".parse().unwrap())
    );
    assert!(
        Cidr::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap())
    );
    assert!(
        Cidr::parse("10.0.0.1")
            .unwrap()
            .contains("10.0.0.1".parse().unwrap())
    );
    assert!(Cidr::parse("10.0.0.0/33").is_err());
    assert!(Cidr::parse("ten/8").is_err());
}

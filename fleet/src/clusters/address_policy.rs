//! Where the console may connect to reach a member cluster.
//!
//! A member's kubeconfig comes from a browser (or a host's `Cluster`, which anyone with write
//! access to the host can edit), so its `server:` is an address chosen by someone else: without
//! a policy the console would connect wherever it points — a cloud's metadata service
//! (169.254.169.254 hands out the instance's credentials), the console's own port, a
//! link-local service — and report what answered. That is server-side request forgery through
//! cluster import, a known class of console vulnerability. The policy is applied to the
//! kubeconfig's address before anything connects, and again, at connect time, to every
//! address a host name resolves to, so DNS cannot smuggle a refused address in
//! (`guarded_connector`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// A CIDR block such as `10.20.0.0/16` or `fd00::/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `a.b.c.d/n`, `x::/n` or a bare address (a block of one).
    pub fn parse(text: &str) -> Result<Self, String> {
        let (address, prefix) = match text.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text.trim(), None),
        };
        let network: IpAddr = address
            .parse()
            .map_err(|_| format!("{text:?} is not an IP address or CIDR block"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{text:?}: the prefix length must be 0 to {max}"))?,
        };
        Ok(Self { network, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// An IPv4-mapped IPv6 address (`::ffff:169.254.169.254`) is the IPv4 address it maps.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// Cloud metadata services: refused whatever the configuration says. AWS, GCP, Azure,
/// OpenStack and most others answer on 169.254.169.254 (also AWS's IPv6 fd00:ec2::254);
/// Alibaba Cloud on 100.100.100.200.
const METADATA_ADDRESSES: &[IpAddr] = &[
    IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)),
    IpAddr::V4(Ipv4Addr::new(100, 100, 100, 200)),
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)),
];

/// Host names that resolve to a metadata service inside clouds.
const METADATA_HOSTS: &[&str] = &[
    "metadata.google.internal",
    "metadata.goog",
    "metadata",
    "instance-data",
    "instance-data.ec2.internal",
];

/// `memberAddresses` in the configuration file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemberAddressPolicy {
    /// `allowPlainHttp`: members over `http://` (labs only: the token travels in clear).
    pub allow_plain_http: bool,
    /// `allow`: when not empty, members only in these blocks (and a link-local block named
    /// here is allowed).
    pub allow: Vec<Cidr>,
    /// `deny`: never these blocks.
    pub deny: Vec<Cidr>,
    /// Where this console listens: a member there would be the console talking to itself.
    pub console: Vec<SocketAddr>,
}

/// Why the console will not connect to a member's address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[serde(tag = "rule", rename_all = "kebab-case")]
pub enum AddressRefusal {
    #[error("`{scheme}://` is not a way to reach a Kubernetes API server")]
    Scheme { scheme: String },
    #[error("{server} is plain http: the member's token would cross the network in clear")]
    PlainHttp { server: String },
    #[error(
        "{address} is a cloud metadata service, which hands out the console machine's own credentials"
    )]
    Metadata { address: String },
    #[error(
        "{ip} is a link-local address (169.254.0.0/16, fe80::/10), never a cluster's API server"
    )]
    LinkLocal { ip: IpAddr },
    #[error("{ip} is {what}, not one machine's address")]
    NotOneMachine {
        ip: IpAddr,
        what: std::borrow::Cow<'static, str>,
    },
    #[error("{address} is this console's own address")]
    Console { address: SocketAddr },
    #[error("{ip} is outside the member networks allowed ({allowed})")]
    NotAllowed { ip: IpAddr, allowed: String },
    #[error("{ip} is in a denied member network ({cidr})")]
    Denied { ip: IpAddr, cidr: String },
}

impl AddressRefusal {
    /// The configuration setting that changes the outcome, if any does.
    pub fn setting(&self) -> Option<&'static str> {
        match self {
            Self::PlainHttp { .. } => Some("memberAddresses.allowPlainHttp"),
            Self::LinkLocal { .. } | Self::NotAllowed { .. } => Some("memberAddresses.allow"),
            Self::Denied { .. } => Some("memberAddresses.deny"),
            Self::Scheme { .. }
            | Self::Metadata { .. }
            | Self::NotOneMachine { .. }
            | Self::Console { .. } => None,
        }
    }
}

impl MemberAddressPolicy {
    /// Checks a kubeconfig's `server:` before anything connects: its scheme, a metadata
    /// host name, and the address itself when it is an IP literal (host names are checked
    /// on every address they resolve to, at connect time).
    pub fn check_server(&self, server: &str) -> Result<(), AddressRefusal> {
        let (scheme, rest) = server.split_once("://").unwrap_or(("", server));
        match scheme.to_ascii_lowercase().as_str() {
            "https" => {}
            "http" if self.allow_plain_http => {}
            "http" => {
                return Err(AddressRefusal::PlainHttp {
                    server: server.to_string(),
                });
            }
            other => {
                return Err(AddressRefusal::Scheme {
                    scheme: if other.is_empty() { "(none)" } else { other }.to_string(),
                });
            }
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
        let (host, port) = split_host_port(authority);
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if METADATA_HOSTS.contains(&host.as_str()) {
            return Err(AddressRefusal::Metadata { address: host });
        }
        if let Ok(ip) = host.parse::<IpAddr>() {
            let default_port = if scheme.eq_ignore_ascii_case("http") {
                80
            } else {
                443
            };
            self.check_address(SocketAddr::new(ip, port.unwrap_or(default_port)))?;
        }
        Ok(())
    }

    /// Checks one address the console is about to connect to.
    pub fn check_address(&self, address: SocketAddr) -> Result<(), AddressRefusal> {
        let ip = canonical(address.ip());
        if METADATA_ADDRESSES.contains(&ip) {
            return Err(AddressRefusal::Metadata {
                address: ip.to_string(),
            });
        }
        if let Some(what) = not_one_machine(ip) {
            return Err(AddressRefusal::NotOneMachine {
                ip,
                what: what.into(),
            });
        }
        if self.console.iter().any(|own| {
            own.port() == address.port()
                && (canonical(own.ip()) == ip || own.ip().is_unspecified() && is_local(ip))
        }) {
            return Err(AddressRefusal::Console { address });
        }
        if let Some(cidr) = self.deny.iter().find(|c| c.contains(ip)) {
            return Err(AddressRefusal::Denied {
                ip,
                cidr: cidr.to_string(),
            });
        }
        let allowed_explicitly = self.allow.iter().any(|c| c.contains(ip));
        if is_link_local(ip) && !allowed_explicitly {
            return Err(AddressRefusal::LinkLocal { ip });
        }
        if !self.allow.is_empty() && !allowed_explicitly {
            let allowed: Vec<String> = self.allow.iter().map(Cidr::to_string).collect();
            return Err(AddressRefusal::NotAllowed {
                ip,
                allowed: allowed.join(", "),
            });
        }
        Ok(())
    }
}

/// `host:port`, `[v6]:port`, `host` or `[v6]`.
fn split_host_port(authority: &str) -> (&str, Option<u16>) {
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']').unwrap_or((rest, ""));
        let port = after.strip_prefix(':').and_then(|p| p.parse().ok());
        return (host, port);
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => (host, port.parse().ok()),
        _ => (authority, None),
    }
}

fn is_link_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

fn not_one_machine(ip: IpAddr) -> Option<&'static str> {
    match ip {
        _ if ip.is_unspecified() => Some("the unspecified address"),
        _ if ip.is_multicast() => Some("a multicast address"),
        IpAddr::V4(v4) if v4.is_broadcast() => Some("the broadcast address"),
        _ => None,
    }
}

/// Whether `ip` is one of this machine's: a console listening on 0.0.0.0 answers on all of
/// them; loopback is the one that can be known without asking the system.
fn is_local(ip: IpAddr) -> bool {
    ip.is_loopback()
}

#[cfg(test)]
#[path = "address_policy_tests.rs"]
mod tests;

//! The console's configuration file: where to listen and which host clusters to manage.
//!
//! The file is written by an operator, often late at night, so every mistake is reported with
//! the file, the field (as a path such as `hosts[1].kubeconfig`) and what to change.

use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kube::config::Kubeconfig;

use crate::clusters::MemberAddressPolicy;
use host_kubeconfig::{check_context, read_kubeconfig};
use serde::Deserialize;

/// Where the console listens when the file does not say.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:3000";
/// How often each host is probed when the file does not say.
pub const DEFAULT_PROBE_INTERVAL: Duration = Duration::from_secs(5);
/// Where replicas coordinate when the file does not say: beside KubeSphere's own settings,
/// a namespace every KubeSphere host has.
pub const DEFAULT_REPLICA_NAMESPACE: &str = "kubesphere-system";

/// A loaded, validated configuration.
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    pub listen: SocketAddr,
    pub probe_interval: Duration,
    pub hosts: Vec<HostSpec>,
    /// `secureCookies`: mark session cookies `Secure`. Unset means: yes, unless the console
    /// listens on loopback only (a developer's plain-HTTP machine).
    pub secure_cookies: Option<bool>,
    /// `memberAddresses`: where members may be; see [`Self::member_address_policy`].
    pub member_addresses: MemberAddressPolicy,
    /// `replicaNamespace`: where, on the first host, replicas keep the leader Lease, the
    /// published host health and the job records (`fleet::replicas`).
    pub replica_namespace: String,
    /// `metricsListen`: where `/metrics` is served for Prometheus, apart from the pages (it
    /// names hosts and clusters, and needs no session). `None`: not served.
    pub metrics_listen: Option<SocketAddr>,
}

impl ConsoleConfig {
    /// Whether session cookies carry `Secure` (browsers then send them over HTTPS only).
    pub fn cookies_secure(&self) -> bool {
        self.secure_cookies
            .unwrap_or(!self.listen.ip().is_loopback())
    }

    /// Where the console may connect to reach members: the file's `memberAddresses`, and
    /// never the console's own listening address.
    pub fn member_address_policy(&self) -> MemberAddressPolicy {
        MemberAddressPolicy {
            console: vec![self.listen],
            ..self.member_addresses.clone()
        }
    }
}

/// One host cluster: a KubeSphere host (or a plain cluster that will become one).
#[derive(Debug, Clone)]
pub struct HostSpec {
    pub name: String,
    pub credentials: HostCredentials,
}

/// How Tandem reaches a host's API server.
#[derive(Clone)]
pub enum HostCredentials {
    /// A kubeconfig file, already read and parsed at load time.
    Kubeconfig {
        path: PathBuf,
        context: Option<String>,
        kubeconfig: Box<Kubeconfig>,
    },
    /// The service account of the pod Tandem runs in.
    InCluster,
}

// Hand-written so that tokens and keys inside the kubeconfig never reach a log line.
impl fmt::Debug for HostCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Kubeconfig { path, context, .. } => f
                .debug_struct("Kubeconfig")
                .field("path", path)
                .field("context", context)
                .finish_non_exhaustive(),
            Self::InCluster => f.write_str("InCluster"),
        }
    }
}

/// Everything that can be wrong with a configuration file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "cannot read the configuration file {}: {source}. Fix: check the path given to --config and that tandem may read it",
        file.display()
    )]
    Read {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: line {line}, column {column}: {problem}. Fix: {fix}", file.display())]
    Syntax {
        file: PathBuf,
        line: usize,
        column: usize,
        problem: String,
        fix: String,
    },
    #[error("{}: field `{field}`: {problem}. Fix: {fix}", file.display())]
    Field {
        file: PathBuf,
        field: String,
        problem: String,
        fix: String,
    },
}

impl ConfigError {
    /// The field path the error is about (`hosts[0].name`), if it is about one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Field { field, .. } => Some(field),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawConfig {
    listen: Option<String>,
    probe_interval_seconds: Option<u64>,
    hosts: Option<Vec<RawHost>>,
    secure_cookies: Option<bool>,
    member_addresses: Option<member_addresses::RawMemberAddresses>,
    replica_namespace: Option<String>,
    metrics_listen: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawHost {
    name: Option<String>,
    kubeconfig: Option<String>,
    context: Option<String>,
    in_cluster: Option<bool>,
}

const HOSTS_FIX: &str = "list the host clusters under `hosts:`, each with a `name` and either `kubeconfig: PATH` or `inCluster: true`";

impl ConsoleConfig {
    /// Reads and validates the file at `file`. Relative kubeconfig paths are taken from the
    /// file's own directory, so a config and its kubeconfigs can be moved together.
    pub fn load(file: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(file).map_err(|source| ConfigError::Read {
            file: file.to_path_buf(),
            source,
        })?;
        Self::parse(file, &text)
    }

    /// Validates `text` as if it were read from `file`.
    pub fn parse(file: &Path, text: &str) -> Result<Self, ConfigError> {
        let field_err = |field: &str, problem: String, fix: &str| ConfigError::Field {
            file: file.to_path_buf(),
            field: field.to_string(),
            problem,
            fix: fix.to_string(),
        };
        if text.trim().is_empty() {
            return Err(field_err("hosts", "the file is empty".into(), HOSTS_FIX));
        }
        let raw = deserialize(file, text)?;

        let listen_text = raw.listen.as_deref().unwrap_or(DEFAULT_LISTEN);
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            field_err(
                "listen",
                format!("`{listen_text}` is not an address and port"),
                "write it as IP:PORT, for example 127.0.0.1:3000 or 0.0.0.0:3000",
            )
        })?;

        let metrics_listen = match raw.metrics_listen.as_deref() {
            None => None,
            Some(text) => Some(text.parse::<SocketAddr>().map_err(|_| {
                field_err(
                    "metricsListen",
                    format!("`{text}` is not an address and port"),
                    "write it as IP:PORT, for example 0.0.0.0:9090, or leave it out to serve no metrics",
                )
            })?),
        };
        if metrics_listen.is_some_and(|m| m.port() == listen.port() && m.port() != 0) {
            return Err(field_err(
                "metricsListen",
                format!("port {} is the console's own (`listen`)", listen.port()),
                "give /metrics a port of its own, for example 9090",
            ));
        }

        let probe_interval = match raw.probe_interval_seconds {
            None => DEFAULT_PROBE_INTERVAL,
            Some(s @ 1..=3600) => Duration::from_secs(s),
            Some(s) => {
                return Err(field_err(
                    "probeIntervalSeconds",
                    format!("{s} is out of range"),
                    "use a number of seconds from 1 to 3600 (default 5)",
                ));
            }
        };

        let replica_namespace = match raw.replica_namespace {
            None => DEFAULT_REPLICA_NAMESPACE.to_string(),
            Some(ns) => {
                if let Some(problem) = dns1123_label_problem(&ns) {
                    return Err(field_err(
                        "replicaNamespace",
                        format!("`{ns}` {problem}"),
                        "name an existing namespace of the first host (default kubesphere-system)",
                    ));
                }
                ns
            }
        };

        let raw_hosts = match raw.hosts {
            None => return Err(field_err("hosts", "it is missing".into(), HOSTS_FIX)),
            Some(h) if h.is_empty() => {
                return Err(field_err("hosts", "the list is empty".into(), HOSTS_FIX));
            }
            Some(h) => h,
        };

        let base_dir = file.parent().unwrap_or(Path::new("."));
        let mut names = HashSet::new();
        let mut in_cluster_seen = false;
        let mut hosts = Vec::with_capacity(raw_hosts.len());
        for (i, raw_host) in raw_hosts.into_iter().enumerate() {
            let at = |f: &str| format!("hosts[{i}].{f}");
            let name = raw_host.name.ok_or_else(|| {
                field_err(
                    &at("name"),
                    "it is missing".into(),
                    "give each host a short name, for example `name: host`",
                )
            })?;
            if let Some(problem) = dns1123_label_problem(&name) {
                return Err(field_err(
                    &at("name"),
                    format!("`{name}` {problem}"),
                    "use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit",
                ));
            }
            if !names.insert(name.clone()) {
                return Err(field_err(
                    &at("name"),
                    format!("`{name}` is used by an earlier host"),
                    "give every host a different name",
                ));
            }
            let credentials = match (raw_host.kubeconfig, raw_host.in_cluster.unwrap_or(false)) {
                (Some(_), true) => {
                    return Err(field_err(
                        &at("inCluster"),
                        "both `kubeconfig` and `inCluster: true` are set".into(),
                        "keep one: `kubeconfig: PATH` for a remote cluster, `inCluster: true` for the cluster Tandem runs in",
                    ));
                }
                (None, false) => {
                    return Err(field_err(
                        &at("kubeconfig"),
                        "the host has no credentials".into(),
                        "add `kubeconfig: PATH` or `inCluster: true`",
                    ));
                }
                (None, true) => {
                    if raw_host.context.is_some() {
                        return Err(field_err(
                            &at("context"),
                            "a context only applies to a kubeconfig".into(),
                            "remove `context`, or use `kubeconfig: PATH` instead of `inCluster: true`",
                        ));
                    }
                    if std::mem::replace(&mut in_cluster_seen, true) {
                        return Err(field_err(
                            &at("inCluster"),
                            "another host already uses the in-cluster credentials".into(),
                            "only the cluster Tandem runs in can be `inCluster: true`; reach the others with `kubeconfig: PATH`",
                        ));
                    }
                    HostCredentials::InCluster
                }
                (Some(path_text), false) => {
                    let path = base_dir.join(&path_text);
                    let kubeconfig = read_kubeconfig(&path).map_err(|problem| {
                        field_err(&at("kubeconfig"), problem.text, problem.fix)
                    })?;
                    let context = raw_host.context;
                    check_context(&kubeconfig, context.as_deref())
                        .map_err(|(problem, fix)| field_err(&at("context"), problem, &fix))?;
                    HostCredentials::Kubeconfig {
                        path,
                        context,
                        kubeconfig: Box::new(kubeconfig),
                    }
                }
            };
            hosts.push(HostSpec { name, credentials });
        }

        let member_addresses = raw
            .member_addresses
            .unwrap_or_default()
            .parse()
            .map_err(|(field, problem, fix)| field_err(&field, problem, fix))?;
        Ok(Self {
            listen,
            probe_interval,
            secure_cookies: raw.secure_cookies,
            hosts,
            member_addresses,
            replica_namespace,
            metrics_listen,
        })
    }
}

fn deserialize(file: &Path, text: &str) -> Result<RawConfig, ConfigError> {
    // Two passes: YAML syntax first (its errors carry a line and column), then the shape of
    // the settings (its errors carry a field path).
    let value: serde_norway::Value = serde_norway::from_str(text).map_err(|err| {
        let (line, column) = err
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        ConfigError::Syntax {
            file: file.to_path_buf(),
            line,
            column,
            problem: strip_location(&err.to_string()),
            fix: "correct the YAML there (indentation, quotes, brackets)".into(),
        }
    })?;
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let problem = strip_location(&err.into_inner().to_string());
        if path == "." || path.is_empty() {
            return ConfigError::Syntax {
                file: file.to_path_buf(),
                line: 1,
                column: 1,
                problem: format!("the file is not a mapping of settings ({problem})"),
                fix: "start with `hosts:`, see `tandem serve --help` for an example".into(),
            };
        }
        // serde_norway starts its message with the path too; say it once.
        let problem = problem
            .strip_prefix(&format!("{path}: "))
            .map(str::to_string)
            .unwrap_or(problem);
        let fix = if !problem.contains("unknown field") {
            "correct the value's type, see `tandem serve --help` for an example"
        } else if path.starts_with("memberAddresses.") {
            "remove it or correct its spelling; `memberAddresses` knows `allowPlainHttp`, `allow` and `deny`"
        } else if path.contains(['.', '[']) {
            "remove it or correct its spelling; a host knows `name`, `kubeconfig`, `context` and `inCluster`"
        } else {
            "remove it or correct its spelling; the known fields are `listen`, `probeIntervalSeconds`, `secureCookies`, `memberAddresses`, `replicaNamespace`, `metricsListen` and `hosts`"
        };
        ConfigError::Field {
            file: file.to_path_buf(),
            field: path,
            problem,
            fix: fix.into(),
        }
    })
}

/// serde_norway appends " at line L column C"; the error already says where.
fn strip_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// What is wrong with `name` as a Kubernetes DNS-1123 label, if anything.
pub fn dns1123_label_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("is empty");
    }
    if name.len() > 63 {
        return Some("is longer than 63 characters");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Some("may only contain lowercase letters, digits and '-'");
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Some("must start and end with a letter or digit");
    }
    None
}

mod host_kubeconfig;
mod member_addresses;
#[cfg(test)]
mod tests;

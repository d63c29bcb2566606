//! The configuration files the Kustomize manifests ship (deploy/) load as `tandem serve` loads
//! them, and agree with the Deployment that mounts them: the file where `--config` points, the
//! port the probes and Service use, each other host's kubeconfig where its Secret is mounted.
//! (`scripts/kustomize-check.sh` checks the manifests themselves against a sandbox cluster.)

use std::path::{Path, PathBuf};
use std::time::Duration;

use fleet::ConsoleConfig;
use fleet::config::HostCredentials;
use serde_norway::Value;

fn deploy(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy")
        .join(path)
}

fn yaml(path: &str) -> Value {
    serde_norway::from_str(&std::fs::read_to_string(deploy(path)).unwrap()).unwrap()
}

/// The base Deployment's container.
fn container() -> Value {
    yaml("base/deployment.yaml")["spec"]["template"]["spec"]["containers"][0].clone()
}

fn mount_path(container: &Value, volume: &str) -> String {
    container["volumeMounts"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|m| m["name"].as_str() == Some(volume))
        .and_then(|m| m["mountPath"].as_str())
        .unwrap()
        .to_string()
}

#[test]
fn the_base_configuration_is_the_one_the_deployment_runs() {
    let config = ConsoleConfig::load(&deploy("base/tandem.yaml")).unwrap();
    assert_eq!(config.hosts.len(), 1);
    assert!(matches!(
        config.hosts[0].credentials,
        HostCredentials::InCluster
    ));
    assert!(
        config.cookies_secure(),
        "beyond loopback, cookies are Secure"
    );

    let container = container();
    let args: Vec<&str> = container["args"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let config_arg = args[args.iter().position(|a| *a == "--config").unwrap() + 1];
    assert_eq!(
        Path::new(config_arg),
        Path::new(&mount_path(&container, "config")).join("tandem.yaml"),
        "--config names the file of the mounted ConfigMap"
    );
    assert_eq!(
        container["ports"][0]["containerPort"].as_u64(),
        Some(u64::from(config.listen.port())),
        "the probes and the Service reach the port the console listens on"
    );
    // Prometheus finds /metrics where the console serves it: the container's `metrics` port,
    // which the Service publishes and the ServiceMonitor scrapes by that name.
    let metrics_port = container["ports"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|p| p["name"].as_str() == Some("metrics"))
        .and_then(|p| p["containerPort"].as_u64());
    assert_eq!(
        metrics_port,
        config.metrics_listen.map(|m| u64::from(m.port())),
        "metricsListen is the container's metrics port"
    );
    let service = yaml("base/service.yaml");
    assert!(
        service["spec"]["ports"]
            .as_sequence()
            .unwrap()
            .iter()
            .any(|p| p["targetPort"].as_str() == Some("metrics")
                && p["name"].as_str() == Some("metrics"))
    );
    let monitor = yaml("overlays/prometheus/servicemonitor.yaml");
    assert_eq!(
        monitor["spec"]["endpoints"][0]["port"].as_str(),
        Some("metrics")
    );
    // The replicas coordinate in the pods' own namespace, where the least-privilege overlay
    // lets them hold the Lease and keep job records.
    let deployment = yaml("base/deployment.yaml");
    assert_eq!(
        deployment["metadata"]["namespace"].as_str(),
        Some(config.replica_namespace.as_str())
    );
    let roles = std::fs::read_to_string(deploy("overlays/least-privilege/roles.yaml")).unwrap();
    let replica_role = roles
        .split("\n---\n")
        .map(|doc| serde_norway::from_str::<Value>(doc).unwrap())
        .find(|doc| {
            doc["kind"].as_str() == Some("Role")
                && doc["metadata"]["namespace"].as_str() == Some(config.replica_namespace.as_str())
        })
        .expect("a Role in the replica namespace");
    let grants = |resource: &str, verb: &str| {
        replica_role["rules"]
            .as_sequence()
            .unwrap()
            .iter()
            .any(|rule| {
                let has = |key: &str, want: &str| {
                    rule[key]
                        .as_sequence()
                        .is_some_and(|l| l.iter().any(|v| v.as_str() == Some(want)))
                };
                has("resources", resource) && has("verbs", verb)
            })
    };
    for verb in ["get", "create", "update"] {
        assert!(grants("leases", verb), "leases: {verb}");
    }
    for verb in ["get", "list", "create", "update", "patch", "delete"] {
        assert!(grants("configmaps", verb), "configmaps: {verb}");
    }
}

#[test]
fn the_other_hosts_configuration_names_the_mounted_kubeconfig() {
    let file = deploy("overlays/other-hosts/tandem.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let patch = yaml("overlays/other-hosts/mount-kubeconfigs.yaml");
    let mounted = mount_path(
        &patch["spec"]["template"]["spec"]["containers"][0],
        "host-prod",
    );
    let in_pod = format!("{mounted}/kubeconfig");
    assert!(
        text.contains(&format!("kubeconfig: {in_pod}\n")),
        "the configuration reads prod's kubeconfig where its Secret is mounted ({in_pod})"
    );

    // Loaded as in the pod, with the placeholder kubeconfig where the Secret would put it.
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::copy(deploy("overlays/other-hosts/prod.kubeconfig"), &kubeconfig).unwrap();
    let local = dir.path().join("tandem.yaml");
    std::fs::write(&local, text.replace(&in_pod, kubeconfig.to_str().unwrap())).unwrap();
    let config = ConsoleConfig::load(&local).unwrap();
    let names: Vec<&str> = config.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["host", "prod"]);
    assert_eq!(config.probe_interval, Duration::from_secs(10));
    assert_eq!(config.replica_namespace, "tandem-system");
    match &config.hosts[1].credentials {
        HostCredentials::Kubeconfig { context, .. } => {
            assert_eq!(context.as_deref(), Some("tandem@prod"));
        }
        other => panic!("prod should use its kubeconfig, not {other:?}"),
    }
}

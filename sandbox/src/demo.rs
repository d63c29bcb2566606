//! The demo fleet: `host` and `host2`, KubeSphere 3.4 hosts, both managing `member`, with one
//! jwtSecret for all, and optionally the seed's conflicts between the two hosts.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;

use crate::{ClusterRole, KubeSphereInstall, SandboxCluster, SandboxError};

/// The demo's host clusters; `member` is started too but is not a host.
pub const DEMO_HOSTS: [&str; 2] = ["host", "host2"];
/// KubeSphere members no host has joined, to try the add-cluster wizard on: `spare` passes
/// every check; `stranger` has its own jwtSecret, so its jwtSecret check fails.
pub const DEMO_CANDIDATES: [&str; 2] = ["spare", "stranger"];

/// What to seed on top of the fleet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Scenario {
    #[default]
    Calm,
    /// Two hosts fighting over one member (the seed's experiments 1, 2 and 3): user `xxp`
    /// differs between the hosts and flips on the member; user `xxr` is bound to
    /// `platform-admin` on `host` and, once that binding is on the member, to
    /// `platform-regular` on `host2`, whose FederatedGlobalRoleBinding `xxr-platform-regular`
    /// reports `CreationFailed` for the member (that the member refuses a second platform
    /// role is a model, see `kubesphere::platform_role`); user `zzp` differed too and was
    /// deleted on `host`, whose FederatedUser stays stuck deleting while `host2` keeps
    /// recreating the member copy.
    Conflicts,
}

pub struct DemoFleet {
    /// In start order: host, host2, member, spare, stranger.
    pub clusters: Vec<(SandboxCluster, PathBuf)>,
    pub admin_password: String,
}

/// Starts the fleet with its state in `dir` (kept across restarts: clusters, jwtSecret,
/// admin password) and seeds `scenario`.
pub async fn start_demo_fleet(dir: &Path, scenario: Scenario) -> Result<DemoFleet, SandboxError> {
    let names: Vec<&str> = crate::DEFAULT_CLUSTERS
        .into_iter()
        .chain(DEMO_CANDIDATES)
        .collect();
    let clusters = crate::start_fleet(&names, dir).await?;
    let jwt_secret = kept_secret(&dir.join("jwt-secret"), |r| r)?;
    let stranger_secret = kept_secret(&dir.join("stranger-jwt-secret"), |r| r)?;
    // KubeSphere's password rules: a lowercase letter, an uppercase letter and a digit.
    let admin_password = kept_secret(&dir.join("admin-password"), |r| {
        format!("Tandem-{}-9", &r[..12])
    })?;
    for (cluster, _) in &clusters {
        let role = if DEMO_HOSTS.contains(&cluster.name()) {
            ClusterRole::Host
        } else {
            ClusterRole::Member
        };
        let jwt_secret = if cluster.name() == "stranger" {
            &stranger_secret
        } else {
            &jwt_secret
        };
        cluster.install_kubesphere(&KubeSphereInstall {
            role,
            jwt_secret: jwt_secret.clone(),
            admin_password: Some(admin_password.clone()),
        })?;
    }
    // Each host runs KubeSphere's cluster controller, as ks-controller-manager does on a real
    // host (re-joining every two minutes): a cluster added in the console is joined by it.
    for (host, _) in clusters
        .iter()
        .filter(|(c, _)| DEMO_HOSTS.contains(&c.name()))
    {
        host.run_cluster_controller(std::time::Duration::from_secs(120));
    }
    // Both hosts manage the member under the same name, as in the seed's experiments.
    if let Some((member, _)) = clusters.iter().find(|(c, _)| c.name() == "member") {
        for (host, _) in clusters
            .iter()
            .filter(|(c, _)| DEMO_HOSTS.contains(&c.name()))
        {
            host.join_member(member, "member")?;
        }
    }
    if scenario == Scenario::Conflicts {
        let cluster = |name: &str| {
            clusters
                .iter()
                .find(|(c, _)| c.name() == name)
                .map(|(c, _)| c)
                .ok_or_else(|| SandboxError::State(format!("the demo fleet has no {name}")))
        };
        seed_conflicts(cluster("host")?, cluster("host2")?, cluster("member")?).await?;
    }
    Ok(DemoFleet {
        clusters,
        admin_password,
    })
}

/// A KubeSphere host `host` with a member `member` joined under `join_name`, in memory: the
/// smallest fleet, for tests.
pub async fn start_joined_pair(
    join_name: &str,
) -> Result<(SandboxCluster, SandboxCluster), SandboxError> {
    let host = SandboxCluster::start("host").await?;
    let member = SandboxCluster::start("member").await?;
    let install = |role| KubeSphereInstall {
        role,
        jwt_secret: "shared-demo-secret".into(),
        admin_password: None,
    };
    host.install_kubesphere(&install(ClusterRole::Host))?;
    member.install_kubesphere(&install(ClusterRole::Member))?;
    host.join_member(&member, join_name)?;
    Ok((host, member))
}

fn user(name: &str, email: &str) -> serde_json::Value {
    json!({
        "apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "User",
        "metadata": {"name": name},
        "spec": {"email": email, "password": format!("P@88w0rd-{name}"), "lang": "en"},
    })
}

/// A GlobalRoleBinding as ks-apiserver creates one (docs/KUBESPHERE.md 1.4) and Tandem's
/// `bind_global_role` does: `<user>-<role>`, labelled with its user.
fn global_role_binding(user: &str, role: &str) -> serde_json::Value {
    json!({
        "apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "GlobalRoleBinding",
        "metadata": {"name": format!("{user}-{role}"), "labels": {"iam.kubesphere.io/user-ref": user}},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
        "roleRef": {"apiGroup": "iam.kubesphere.io", "kind": "GlobalRole", "name": role},
    })
}

/// Waits (bounded: 30 s) until `done` holds; `what` names it in the error.
async fn wait_until(what: &str, mut done: impl FnMut() -> bool) -> Result<(), SandboxError> {
    for _ in 0..300 {
        if done() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(SandboxError::State(format!(
        "the conflicts scenario: {what} never happened"
    )))
}

async fn seed_conflicts(
    host: &SandboxCluster,
    host2: &SandboxCluster,
    member: &SandboxCluster,
) -> Result<(), SandboxError> {
    // Experiment 1: a same-name user that differs between the hosts.
    host.create_object(user("xxp", "xxp@163.com"))?;
    host2.create_object(user("xxp", "xxp-2@163.com"))?;
    // Experiment 2: a same-name user (identical input, yet it flips on the member: each host
    // stores its own bcrypt hash) with a different platform role on each host. host2 binds it
    // once host's binding is on the member, so host2 is the later creator whose sync fails.
    host.create_object(user("xxr", "xxr@163.com"))?;
    host2.create_object(user("xxr", "xxr@163.com"))?;
    host.create_object(global_role_binding("xxr", "platform-admin"))?;
    // Experiment 3: a conflicted user deleted on one host, once kubefed has taken it in hand
    // there (its FederatedUser carries kubefed's finalizer).
    host.create_object(user("zzp", "zzp@163.com"))?;
    host2.create_object(user("zzp", "zzp-2@163.com"))?;
    wait_until("kubefed taking user zzp in hand on host", || {
        host.has_finalizer(
            "types.kubefed.io",
            "federatedusers",
            "zzp",
            crate::kubefed::sync::FINALIZER,
        )
    })
    .await?;
    host.delete_object("iam.kubesphere.io", "users", "zzp")?;
    wait_until(
        "host's GlobalRoleBinding xxr-platform-admin reaching member",
        || {
            member.lock().is_ok_and(|db| {
                db.store
                    .get(&crate::store::ObjectKey::new(
                        "iam.kubesphere.io",
                        "globalrolebindings",
                        "",
                        "xxr-platform-admin",
                    ))
                    .is_some()
            })
        },
    )
    .await?;
    host2.create_object(global_role_binding("xxr", "platform-regular"))
}

/// A secret kept in `path` (owner-only), made from 32 random hex digits on first use.
fn kept_secret(path: &Path, shape: impl FnOnce(String) -> String) -> Result<String, SandboxError> {
    if let Ok(existing) = std::fs::read_to_string(path)
        && !existing.trim().is_empty()
    {
        return Ok(existing.trim().to_string());
    }
    let secret = shape(
        crate::meta::random_bytes::<16>()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    );
    crate::write_private(path, secret.as_bytes())?;
    Ok(secret)
}

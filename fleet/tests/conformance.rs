//! Every write path of Tandem, end to end, against one fleet of two hosts and a member:
//! joins (as first and second host), a kubeconfig update, users, workspaces, the repairs of a
//! fight between hosts, removals. Each step is checked by reading the clusters back.
//!
//! The fleet is the sandbox's (hosts running the model of KubeSphere's cluster controller)
//! unless `TANDEM_REAL_RIG` names a directory holding `host.kubeconfig`, `host2.kubeconfig`
//! and `member.kubeconfig` (and optionally `member-front.kubeconfig`, the member as the
//! add-cluster checks reach it) of real kube-apiservers running KubeSphere 3.4.1 and kubefed:
//! then the same steps run there. The sandbox is a model; the real rig is the truth
//! (README, "Real KubeSphere").

mod common;

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use fleet::clusters::{Candidate, HostLink, join_cluster, remove_cluster, update_kubeconfig};
use fleet::federation::{FederatedKind, FederatedState, FederationMonitor, ObjectKey};
use fleet::iam::resources::{GlobalRoleBinding, User, WorkspaceTemplate, binds_user};
use fleet::iam::user_admin::{self, NewUser};
use fleet::iam::workspaces::{self, NewWorkspace};
use fleet::iam::{Iam, passwords};
use fleet::kubesphere::Cluster;
use kube::{Api, Client, ResourceExt};
use sandbox::{ClusterRole as Role, SandboxCluster};

/// The fleet under test: the clients, and what keeps a sandbox fleet running.
struct Fleet {
    real: bool,
    host: HostLink,
    host2: HostLink,
    member: Client,
    /// The member's kubeconfig as the add-cluster checks use it.
    member_kubeconfig: String,
    config: tempfile::TempDir,
    _sandbox: Vec<SandboxCluster>,
}

async fn client_from(yaml: &str) -> Client {
    let kubeconfig = kube::config::Kubeconfig::from_yaml(yaml).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap();
    Client::try_from(config).unwrap()
}

async fn fleet() -> Fleet {
    let config = tempfile::tempdir().unwrap();
    if let Some(dir) = std::env::var_os("TANDEM_REAL_RIG").map(PathBuf::from) {
        eprintln!("conformance: against the real rig in {}", dir.display());
        let read = |name: &str| std::fs::read_to_string(dir.join(name));
        let yaml = |name: &str| read(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        for name in ["host", "host2"] {
            std::fs::write(
                config.path().join(format!("{name}.kubeconfig")),
                yaml(&format!("{name}.kubeconfig")),
            )
            .unwrap();
        }
        let link = async |name: &str| {
            HostLink::new(
                name,
                client_from(&yaml(&format!("{name}.kubeconfig"))).await,
            )
        };
        return Fleet {
            real: true,
            host: link("host").await,
            host2: link("host2").await,
            member: client_from(&yaml("member.kubeconfig")).await,
            member_kubeconfig: read("member-front.kubeconfig")
                .unwrap_or_else(|_| yaml("member.kubeconfig")),
            config,
            _sandbox: Vec::new(),
        };
    }
    eprintln!("conformance: against the sandbox (set TANDEM_REAL_RIG to run it on a real rig)");
    // As on a real host, `admin` exists (ks-installer makes it).
    let start = async |name: &str, role: Role| {
        let cluster = SandboxCluster::start(name).await.unwrap();
        cluster
            .install_kubesphere(&sandbox::KubeSphereInstall {
                role,
                jwt_secret: "shared".into(),
                admin_password: Some("Admin-Pass-1".into()),
            })
            .unwrap();
        cluster
    };
    let host = start("host", Role::Host).await;
    let host2 = start("host2", Role::Host).await;
    let member = start("member", Role::Member).await;
    for h in [&host, &host2] {
        h.run_cluster_controller(Duration::from_secs(120));
        h.write_kubeconfig(config.path()).unwrap();
    }
    Fleet {
        real: false,
        host: common::host_link(&host).await,
        host2: common::host_link(&host2).await,
        member: common::client(&member).await,
        member_kubeconfig: member.kubeconfig_yaml(),
        config,
        _sandbox: vec![host, host2, member],
    }
}

impl Fleet {
    /// Tandem's IAM over both hosts.
    async fn iam(&self) -> Iam {
        let file = self.config.path().join("tandem.yaml");
        let hosts: String = ["host", "host2"]
            .iter()
            .map(|h| {
                format!(
                    "  - name: {h}\n    kubeconfig: {}\n",
                    self.config.path().join(format!("{h}.kubeconfig")).display()
                )
            })
            .collect();
        std::fs::write(&file, format!("hosts:\n{hosts}")).unwrap();
        let iam = Iam::start(
            &fleet::HostClients::connect(&fleet::ConsoleConfig::load(&file).unwrap()).await,
        )
        .await;
        tokio::time::timeout(Duration::from_secs(20), iam.ready())
            .await
            .expect("IAM caches ready");
        iam
    }

    fn candidate(&self, second_host: bool) -> Candidate {
        Candidate {
            name: "member".into(),
            kubeconfig: self.member_kubeconfig.clone(),
            second_host,
            creator: Some("admin".into()),
            ..Default::default()
        }
    }
}

/// A name no earlier run on a long-lived rig used.
fn fresh(prefix: &str) -> String {
    let stamp = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        % 1_000_000;
    format!("{prefix}{stamp}")
}

async fn platform_roles(client: &Client, user: &str) -> Vec<String> {
    let mut roles: Vec<String> = Api::<GlobalRoleBinding>::all(client.clone())
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|b| binds_user(&b.subjects, user))
        .map(|b| b.role_ref.name)
        .collect();
    roles.sort();
    roles
}

async fn cluster_ready(host: &HostLink, name: &str) -> bool {
    Api::<Cluster>::all(host.client.clone())
        .get_opt(name)
        .await
        .ok()
        .flatten()
        .is_some_and(|c| c.is_ready())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_path_ends_as_kubesphere_would_leave_it() {
    let f = fleet().await;
    let now = SystemTime::now;

    // Clusters: the member joins both hosts (the second on purpose), its kubeconfig is
    // replaced. On hosts running KubeSphere's cluster controller, that controller joins.
    for (host, others, second) in [
        (&f.host, vec![], false),
        (&f.host2, vec![f.host.clone()], true),
    ] {
        let outcome = join_cluster(
            host,
            &others,
            &f.candidate(second),
            now(),
            &mut |_| {},
            &mut |_| {},
        )
        .await
        .unwrap_or_else(|e| panic!("join to {}: {e}", host.name));
        assert!(!outcome.actions.is_empty());
        common::eventually(60, async || {
            cluster_ready(host, "member").await.then_some(())
        })
        .await;
    }
    update_kubeconfig(
        &f.host,
        "member",
        &f.member_kubeconfig,
        None,
        now(),
        &mut |_| {},
    )
    .await
    .expect("kubeconfig update");
    assert!(cluster_ready(&f.host, "member").await);
    if f.real {
        // A real API server records who wrote what: the connection fields are Tandem's,
        // server-side applied (the sandbox keeps no managed fields).
        let cluster = Api::<Cluster>::all(f.host.client.clone())
            .get("member")
            .await
            .unwrap();
        let kfc = Api::<fleet::clusters::objects::KubeFedCluster>::namespaced(
            f.host.client.clone(),
            fleet::clusters::objects::FEDERATION_NAMESPACE,
        )
        .get("member")
        .await
        .unwrap();
        for (what, meta) in [
            ("Cluster", cluster.metadata),
            ("KubeFedCluster", kfc.metadata),
        ] {
            let managers: Vec<(String, String)> = meta
                .managed_fields
                .unwrap_or_default()
                .into_iter()
                .map(|m| {
                    (
                        m.manager.unwrap_or_default(),
                        m.operation.unwrap_or_default(),
                    )
                })
                .collect();
            assert!(
                managers.contains(&("tandem".into(), "Apply".into())),
                "{what}: {managers:?}"
            );
        }
    }

    let iam = f.iam().await;
    let cache = iam.host("host").unwrap().cache().unwrap().clone();
    let c = f.host.client.clone();

    // Users: create, edit, disable and enable, set the password, keep and change the role,
    // delete.
    let alice = fresh("conf-alice-");
    iam.create_user(
        "host",
        &NewUser {
            name: alice.clone(),
            email: format!("{alice}@example.com"),
            password: "Conf-Pass-1".into(),
            global_role: "platform-regular".into(),
            description: "conformance".into(),
        },
    )
    .await
    .expect("create user");
    common::eventually(20, async || cache.user(&alice)).await;
    user_admin::update_user(
        &c,
        &cache,
        &alice,
        &format!("{alice}@example.org"),
        "edited",
    )
    .await
    .expect("edit user");
    for enabled in [false, true] {
        user_admin::set_enabled(&c, "admin", &alice, enabled)
            .await
            .expect("disable/enable");
        let state = Api::<User>::all(c.clone())
            .get(&alice)
            .await
            .unwrap()
            .status
            .and_then(|s| s.state);
        assert_eq!(
            state.as_deref(),
            Some(if enabled { "Active" } else { "Disabled" })
        );
    }
    passwords::set_password(&c, &alice, "Conf-Pass-2")
        .await
        .expect("set password");
    let stored = Api::<User>::all(c.clone()).get(&alice).await.unwrap();
    assert!(bcrypt::verify("Conf-Pass-2", stored.spec.password.as_deref().unwrap()).unwrap());
    assert_eq!(
        stored.spec.email.as_deref(),
        Some(format!("{alice}@example.org").as_str())
    );
    user_admin::assign_global_role(&c, &cache, &alice, "platform-regular")
        .await
        .expect("same role");
    assert_eq!(platform_roles(&c, &alice).await, ["platform-regular"]);
    user_admin::assign_global_role(&c, &cache, &alice, "platform-self-provisioner")
        .await
        .expect("change role");
    assert_eq!(
        platform_roles(&c, &alice).await,
        ["platform-self-provisioner"]
    );
    // admin's own role saved unchanged keeps ks-installer's binding.
    user_admin::assign_global_role(&c, &cache, "admin", "platform-admin")
        .await
        .expect("admin's role");
    assert_eq!(platform_roles(&c, "admin").await, ["platform-admin"]);

    // Workspaces: placed on the host itself and the member, a member added, their role
    // changed, removed, the workspace deleted.
    let own_cluster = Api::<Cluster>::all(c.clone())
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|c| c.is_host())
        .map(|c| c.name_any())
        .expect("the host's own Cluster");
    let ws = fresh("conf-ws-");
    iam.create_workspace(
        "host",
        &NewWorkspace {
            name: ws.clone(),
            alias: String::new(),
            manager: "admin".into(),
            description: String::new(),
            clusters: vec![own_cluster.clone(), "member".into()],
            creator: "admin".into(),
        },
        &[own_cluster, "member".into()],
    )
    .await
    .expect("create workspace");
    common::eventually(30, async || {
        let roles = Api::<fleet::iam::resources::WorkspaceRole>::all(c.clone());
        roles.get_opt(&format!("{ws}-viewer")).await.ok().flatten()
    })
    .await;
    for role in ["viewer", "regular"] {
        workspaces::set_workspace_member(&c, &cache, &ws, &alice, role)
            .await
            .unwrap_or_else(|e| panic!("member as {role}: {e}"));
    }
    workspaces::remove_workspace_member(&c, &ws, &alice)
        .await
        .expect("remove member");
    workspaces::delete_workspace(&c, &ws)
        .await
        .expect("delete workspace");
    common::eventually(30, async || {
        Api::<WorkspaceTemplate>::all(c.clone())
            .get_opt(&ws)
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    user_admin::delete_user(&c, "admin", &alice)
        .await
        .expect("delete user");
    // Gone for good from the host (a foreground delete never finished on a real host) and,
    // with it, from the member.
    for (cluster, client) in [("host", &c), ("member", &f.member)] {
        common::eventually(60, async || {
            Api::<User>::all(client.clone())
                .get_opt(&alice)
                .await
                .unwrap()
                .is_none()
                .then_some(())
        })
        .await;
        eprintln!("conformance: user deleted on {cluster}");
    }

    // Repairs: one user made on each host with other emails (as two consoles would) fights
    // on the member; keep host's version, then delete it everywhere.
    let monitor = FederationMonitor::start(
        vec![
            ("host".into(), f.host.client.clone()),
            ("host2".into(), f.host2.client.clone()),
        ],
        Default::default(),
    );
    let fought = fresh("conf-x-");
    for (client, email) in [(&f.host.client, "a"), (&f.host2.client, "b")] {
        let user: User = serde_json::from_value(serde_json::json!({
            "apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "User",
            "metadata": {"name": fought},
            "spec": {"email": format!("{fought}-{email}@example.com"),
                     "password": bcrypt::hash("Conf-Pass-1", 4).unwrap()},
        }))
        .unwrap();
        fleet::writes::create(&Api::<User>::all(client.clone()), &user)
            .await
            .unwrap();
    }
    let key = ObjectKey {
        kind: FederatedKind::User,
        name: fought.clone(),
    };
    common::eventually(60, async || {
        monitor
            .row(&key)
            // Both hosts known (the topology read) and both holding it.
            .filter(|r| r.hosts.len() == 2 && r.hosts.iter().all(|h| h.fingerprint.is_some()))
    })
    .await;
    monitor
        .pick_winner(&key, "host", "admin")
        .await
        .expect("keep host's version");
    let emails: Vec<Option<String>> =
        futures_util::future::join_all([&f.host.client, &f.host2.client].map(|c| async {
            Api::<User>::all((*c).clone())
                .get(&fought)
                .await
                .unwrap()
                .spec
                .email
        }))
        .await;
    assert_eq!(emails[0], emails[1], "both hosts hold host's version");
    monitor
        .coordinated_delete(&key, "admin")
        .await
        .expect("delete everywhere");
    for (cluster, client) in [
        ("host", &f.host.client),
        ("host2", &f.host2.client),
        ("member", &f.member),
    ] {
        let left = Api::<User>::all(client.clone())
            .get_opt(&fought)
            .await
            .unwrap();
        assert!(
            left.is_none(),
            "user {fought} left on {cluster}: {:?}",
            left.map(|u| u.metadata)
        );
    }
    assert!(
        !matches!(
            monitor.row(&key).map(|r| r.state),
            Some(FederatedState::StuckDeleting { .. })
        ),
        "nothing is left stuck"
    );

    // Removal: from host2 (host still manages the member: the shared credential stays),
    // then from host (the last one: the member's join objects go).
    remove_cluster(
        &f.host2,
        std::slice::from_ref(&f.host),
        "member",
        &mut |_| {},
    )
    .await
    .expect("remove from host2");
    remove_cluster(
        &f.host,
        std::slice::from_ref(&f.host2),
        "member",
        &mut |_| {},
    )
    .await
    .expect("remove from host");
    let accounts = Api::<k8s_openapi::api::core::v1::ServiceAccount>::namespaced(
        f.member.clone(),
        "kube-federation-system",
    );
    assert!(
        accounts
            .get_opt("member-kubesphere")
            .await
            .unwrap()
            .is_none(),
        "the member's full-rights account is gone with the last host"
    );
    eprintln!(
        "conformance: passed ({})",
        if f.real { "real rig" } else { "sandbox" }
    );
}

/// What several console replicas write on the first host (fleet/src/replicas) and the Events
/// every change leaves (fleet/src/events.rs), accepted by the API server as written: a Lease
/// taken, renewed, released and taken over; job records created, replaced, swept; the
/// published health applied server-side; Events where kube-apiserver keeps them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replica_coordination_and_events_are_accepted() {
    use fleet::replicas::{JobRecords, Leadership, Phase, shared_health};
    use k8s_openapi::api::core::v1::{Event, Namespace};
    use kube::api::{DeleteParams, PostParams};

    let f = fleet().await;
    let client = f.host.client.clone();
    // A namespace of its own, as `replicaNamespace` would name one.
    let namespace = fresh("tandem-conf-");
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(serde_json::json!({"metadata": {"name": namespace}})).unwrap(),
        )
        .await
        .unwrap();

    let first = Leadership::start(client.clone(), &namespace, fresh("first-"));
    common::eventually(10, async || first.is_leader().then_some(())).await;
    let second = Leadership::start(client.clone(), &namespace, fresh("second-"));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        first.is_leader() && !second.is_leader(),
        "renewals keep one leader"
    );
    let released = std::time::Instant::now();
    first.release(Duration::from_secs(2)).await;
    common::eventually(3, async || second.is_leader().then_some(())).await;
    assert!(
        released.elapsed() <= Duration::from_secs(2),
        "{:?}",
        released.elapsed()
    );

    let a = JobRecords::new(Some(client.clone()), &namespace, "replica-a".into());
    let b = JobRecords::new(Some(client.clone()), &namespace, "replica-b".into());
    let keeper = a.keep("cluster-join", "c0ffee", "admin", &vec!["kubeconfig"]);
    keeper.update(&vec!["kubeconfig", "connection"]);
    common::eventually(5, async || {
        b.read::<Vec<String>>("c0ffee", "admin")
            .await
            .filter(|j| j.payload.len() == 2)
    })
    .await;
    keeper.finish(&vec!["kubeconfig", "connection", "permissions"]);
    let done = common::eventually(5, async || {
        b.read::<Vec<String>>("c0ffee", "admin")
            .await
            .filter(|j| j.phase == Phase::Finished)
    })
    .await;
    assert_eq!(done.payload.len(), 3);
    assert_eq!(
        b.sweep().await.unwrap(),
        0,
        "a finished job is not abandoned"
    );
    // A claimed job (a repair) replaces the ended record of its id, at its resourceVersion,
    // and holds it against a second claim.
    let repair = b
        .claim("repair", "c0ffee", "admin", &vec!["claimed"])
        .await
        .expect("an ended record is replaced");
    assert_eq!(
        a.claim("repair", "c0ffee", "other", &vec!["second"])
            .await
            .err()
            .map(|held| held.owner),
        Some("admin".to_string())
    );
    repair.finish(&vec!["claimed", "done"]);
    // A job asked of the leader: written requested, refused to a second asker, taken once
    // by a resourceVersion-checked write, then run and finished by the taker.
    common::eventually(5, async || {
        b.read::<Vec<String>>("c0ffee", "admin")
            .await
            .filter(|j| j.phase == Phase::Finished)
    })
    .await;
    a.request("repair", "c0ffee", "asker", &vec!["asked"])
        .await
        .expect("an ended record is replaced by a request");
    assert!(matches!(
        b.request("repair", "c0ffee", "other", &vec!["again"]).await,
        Err(fleet::replicas::NotRequested::Held { owner }) if owner == "asker"
    ));
    let asked = b.requests::<Vec<String>>("repair").await;
    assert_eq!(
        asked,
        vec![("c0ffee".to_string(), vec!["asked".to_string()])]
    );
    let taken = b.take("repair", "c0ffee").await.expect("taken");
    assert!(a.take("repair", "c0ffee").await.is_none(), "taken once");
    taken.finish(&vec!["asked", "done"]);
    let ran = common::eventually(5, async || {
        a.read_any::<Vec<String>>("c0ffee")
            .await
            .filter(|j| j.phase == Phase::Finished)
    })
    .await;
    assert_eq!((ran.replica.as_str(), ran.payload.len()), ("replica-b", 2));

    // The leader's federation view: parts of binary data under a head, applied again with
    // a new round (a heartbeat), read back whole.
    {
        use fleet::federation::published::{self, FederationSnapshot, Head, Read};
        let snapshot = FederationSnapshot {
            rows: Vec::new(),
            topology: vec![fleet::federation::HostLinks {
                host: "host".into(),
                reachable: true,
                members: Vec::new(),
            }],
        };
        let encoded = snapshot.encode();
        let digest = published::digest(&encoded);
        let parts = published::write_parts(&client, &namespace, &digest, &encoded, || true)
            .await
            .unwrap();
        for round in [1, 2] {
            let head = Head {
                round,
                leader: "replica-a".into(),
                digest: digest.clone(),
                parts,
            };
            published::write_head(&client, &namespace, &head)
                .await
                .unwrap_or_else(|e| panic!("head {round} applied: {e}"));
        }
        match published::read(&client, &namespace, None).await.unwrap() {
            Read::New {
                head,
                snapshot: read,
            } => {
                assert_eq!((head.round, read), (2, snapshot));
            }
            other => panic!("the publication reads back: {other:?}"),
        }
        assert!(matches!(
            published::read(&client, &namespace, Some((1, &digest)))
                .await
                .unwrap(),
            Read::Same { round: 2 }
        ));
    }

    let hosts = vec![fleet::HostHealth {
        name: "host".into(),
        server: None,
        state: fleet::HostState::Pending,
        checked_at: Some(SystemTime::now()),
    }];
    for round in [1, 2] {
        shared_health::publish(&client, &namespace, round, "replica-a", &hosts)
            .await
            .unwrap_or_else(|e| panic!("round {round} applied: {e}"));
    }
    let published = shared_health::read(&client, &namespace)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((published.round, published.hosts), (2, hosts));

    // Events of cluster-scoped objects: accepted in `default`, refused beside Tandem's other
    // records, as the sandbox refuses them too.
    let action = fleet::events::ConsoleAction::by(
        "admin",
        "UserDeleted",
        fleet::events::ObjectKind::User,
        "conformance-user",
        "deleted user conformance-user",
    );
    let event = fleet::events::event_for(&action, "replica-a", k8s_openapi::jiff::Timestamp::now());
    let in_default: Api<Event> = Api::namespaced(client.clone(), fleet::events::EVENT_NAMESPACE);
    let written = in_default
        .create(&PostParams::default(), &event)
        .await
        .unwrap();
    let _ = in_default
        .delete(&written.name_any(), &DeleteParams::default())
        .await;
    let beside: Api<Event> = Api::namespaced(client.clone(), &namespace);
    let mut elsewhere = event.clone();
    elsewhere.metadata.namespace = Some(namespace.clone());
    match beside.create(&PostParams::default(), &elsewhere).await {
        Err(kube::Error::Api(s)) => assert_eq!(s.code, 422, "{s:?}"),
        other => panic!("an Event of a User outside default was accepted: {other:?}"),
    }

    second.release(Duration::from_secs(2)).await;
    namespaces
        .delete(&namespace, &DeleteParams::default())
        .await
        .unwrap();
    eprintln!(
        "conformance: replica coordination passed ({})",
        if f.real { "real rig" } else { "sandbox" }
    );
}

//! Users on a sandbox host with a joined member: created through Tandem, listed from the
//! cache with role and propagation, read back on the member; the rules KubeSphere enforces.

use fleet::iam::Iam;
use fleet::iam::propagation::PropagationStatus;
use fleet::iam::resources::User;
use fleet::iam::user_admin::{self, NewUser, UserError};
use fleet::iam::users::{UserQuery, UserSort, UserState};
use kube::{Api, Client};
use sandbox::SandboxCluster;

mod common;

struct Fleet {
    _host: SandboxCluster,
    member: SandboxCluster,
    _dir: tempfile::TempDir,
    host_client: Client,
    iam: Iam,
}

async fn fleet() -> Fleet {
    let (host, member) = sandbox::demo::start_joined_pair("member").await.unwrap();
    let (dir, iam) = common::iam_on(&host).await;
    Fleet {
        host_client: common::client(&host).await,
        _host: host,
        member,
        _dir: dir,
        iam,
    }
}

fn alice() -> NewUser {
    NewUser {
        name: "alice".into(),
        email: "alice@example.com".into(),
        password: "Alice-Pass-1".into(),
        global_role: "platform-regular".into(),
        description: "QA lead".into(),
    }
}

#[tokio::test]
async fn created_user_is_listed_with_role_and_propagates_to_the_member() {
    let f = fleet().await;
    f.iam.create_user("host", &alice()).await.unwrap();

    // Stored as KubeSphere stores it: a bcrypt hash, never the plain password.
    let stored = Api::<User>::all(f.host_client.clone())
        .get("alice")
        .await
        .unwrap();
    let hash = stored.spec.password.clone().unwrap();
    assert!(hash.starts_with("$2"), "not a bcrypt hash");
    assert!(bcrypt::verify("Alice-Pass-1", &hash).unwrap());
    let annotations = stored.metadata.annotations.unwrap();
    assert_eq!(annotations["kubesphere.io/description"], "QA lead");
    assert!(annotations.contains_key("iam.kubesphere.io/last-password-change-time"));

    let cache = f.iam.host("host").unwrap().cache().unwrap().clone();
    let row = common::eventually(20, async || {
        let page = cache.user_page(&UserQuery {
            search: "ALICE@".into(),
            ..Default::default()
        });
        page.rows.into_iter().find(|r| {
            r.profile.name == "alice"
                && !r.propagation.is_empty()
                && r.profile.state == UserState::Active
        })
    })
    .await;
    assert_eq!(row.profile.global_role.as_deref(), Some("platform-regular"));
    assert_eq!(row.propagation.len(), 1);
    assert_eq!(row.propagation[0].cluster, "member");
    assert_eq!(row.propagation[0].status, PropagationStatus::Propagated);
    // The cluster page's summary counts it for the member, and nothing as failing there.
    let summary = cache.propagation_by_cluster(|_, _, _| false);
    let (propagated, failing) = &summary["member"];
    assert!(*propagated >= 1, "{summary:?}");
    assert!(failing.is_empty(), "{summary:?}");
    // Unless the console saw it in trouble there: then kubefed's "propagated" is not counted.
    let doubted = cache.propagation_by_cluster(|cluster, kind, name| {
        (cluster, kind, name) == ("member", fleet::federation::FederatedKind::User, "alice")
    });
    assert_eq!(doubted["member"].0, propagated - 1, "{doubted:?}");
    assert!(
        !summary.contains_key("host"),
        "the host's own entry is not a member"
    );

    // Read back on the member: kubefed's copy, labelled managed "true".
    let member_users = Api::<User>::all(common::client(&f.member).await);
    let copy = member_users.get("alice").await.unwrap();
    assert_eq!(copy.metadata.labels.unwrap()["kubefed.io/managed"], "true");
    assert_eq!(copy.spec.email.as_deref(), Some("alice@example.com"));
}

#[tokio::test]
async fn duplicates_are_refused_and_changes_take_effect() {
    let f = fleet().await;
    f.iam.create_user("host", &alice()).await.unwrap();
    let again = f.iam.create_user("host", &alice()).await;
    assert!(matches!(again, Err(UserError::NameTaken(n)) if n == "alice"));

    let cache = f.iam.host("host").unwrap().cache().unwrap().clone();
    common::eventually(10, async || cache.user("alice").map(|_| ())).await;
    let same_email = NewUser {
        name: "alice2".into(),
        ..alice()
    };
    let refused = f.iam.create_user("host", &same_email).await;
    assert!(matches!(refused, Err(UserError::EmailTaken(owner)) if owner == "alice"));

    let c = &f.host_client;
    user_admin::assign_global_role(c, &cache, "alice", "platform-self-provisioner")
        .await
        .unwrap();
    user_admin::set_enabled(c, "admin", "alice", false)
        .await
        .unwrap();
    let page = common::eventually(10, async || {
        let page = cache.user_page(&UserQuery {
            sort: UserSort::State,
            ..Default::default()
        });
        let row = page
            .rows
            .iter()
            .find(|r| r.profile.name == "alice")?
            .clone();
        (row.profile.state == UserState::Disabled
            && row.profile.global_role.as_deref() == Some("platform-self-provisioner"))
        .then_some(page)
    })
    .await;
    assert_eq!(
        page.total, 1,
        "alice only: the sandbox pair has no admin user"
    );

    // Editing: another user's email is refused; a new one and a description are kept.
    f.iam
        .create_user(
            "host",
            &NewUser {
                name: "bob".into(),
                email: "bob@example.com".into(),
                ..alice()
            },
        )
        .await
        .unwrap();
    common::eventually(10, async || cache.user("bob").map(|_| ())).await;
    let taken = user_admin::update_user(c, &cache, "alice", "BOB@example.com", "").await;
    assert!(matches!(taken, Err(UserError::EmailTaken(owner)) if owner == "bob"));
    user_admin::update_user(c, &cache, "alice", "alice@new.example", "team lead")
        .await
        .unwrap();
    let edited = Api::<User>::all(c.clone()).get("alice").await.unwrap();
    assert_eq!(edited.spec.email.as_deref(), Some("alice@new.example"));
    assert_eq!(
        edited.metadata.annotations.unwrap()["kubesphere.io/description"],
        "team lead"
    );

    let own = user_admin::delete_user(c, "alice", "alice").await;
    assert!(matches!(own, Err(UserError::OwnAccount(_))));
    user_admin::delete_user(c, "admin", "alice").await.unwrap();
    common::eventually(20, async || cache.user("alice").is_none().then_some(())).await;
}

#[tokio::test]
async fn an_uninitialized_user_must_change_the_password_and_the_mark_goes() {
    use fleet::iam::LoginAttempt;
    use fleet::iam::passwords;
    use kube::api::{Patch, PatchParams};

    let f = fleet().await;
    f.iam.create_user("host", &alice()).await.unwrap();
    let users = Api::<User>::all(f.host_client.clone());
    users
        .patch(
            "alice",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"metadata": {"annotations": {"iam.kubesphere.io/uninitialized": "true"}}})),
        )
        .await
        .unwrap();
    let attempt = |password: &'static str| LoginAttempt {
        username: "alice",
        password,
        source_ip: None,
        user_agent: None,
    };
    let first = f.iam.login("host", attempt("Alice-Pass-1")).await.unwrap();
    assert!(
        first.uninitialized,
        "the token says the password must change"
    );

    let c = &f.host_client;
    let wrong =
        passwords::change_own_password(c, "alice", "Not-It-1", "Brand-New-2", "Brand-New-2").await;
    assert!(matches!(wrong, Err(UserError::IncorrectCurrentPassword)));
    let mismatch =
        passwords::change_own_password(c, "alice", "Alice-Pass-1", "Brand-New-2", "Brand-New-3")
            .await;
    assert!(matches!(mismatch, Err(UserError::PasswordMismatch)));
    let weak = passwords::change_own_password(c, "alice", "Alice-Pass-1", "weak", "weak").await;
    assert!(matches!(weak, Err(UserError::WeakPassword(_))));
    passwords::change_own_password(c, "alice", "Alice-Pass-1", "Brand-New-2", "Brand-New-2")
        .await
        .unwrap();

    let stored = users.get("alice").await.unwrap();
    assert!(
        !stored
            .metadata
            .annotations
            .unwrap_or_default()
            .contains_key("iam.kubesphere.io/uninitialized")
    );
    assert!(f.iam.login("host", attempt("Alice-Pass-1")).await.is_err());
    let after = f.iam.login("host", attempt("Brand-New-2")).await.unwrap();
    assert!(!after.uninitialized);
}

#[tokio::test]
async fn same_name_users_are_refused_only_between_hosts_of_one_member() {
    use std::time::Duration;
    let (host, member) = sandbox::demo::start_joined_pair("member").await.unwrap();
    let host2 = common::kubesphere("host2", sandbox::ClusterRole::Host, "shared-demo-secret").await;
    let dir = tempfile::tempdir().unwrap();
    host.write_kubeconfig(dir.path()).unwrap();
    host2.write_kubeconfig(dir.path()).unwrap();
    let file = dir.path().join("tandem.yaml");
    std::fs::write(&file, "hosts:\n  - name: host\n    kubeconfig: host.kubeconfig\n  - name: host2\n    kubeconfig: host2.kubeconfig\n").unwrap();
    let iam =
        Iam::start(&fleet::HostClients::connect(&fleet::ConsoleConfig::load(&file).unwrap()).await)
            .await;
    tokio::time::timeout(Duration::from_secs(10), iam.ready())
        .await
        .unwrap();
    let user = |name: &str| NewUser {
        name: name.into(),
        email: format!("{name}@example.com"),
        ..alice()
    };
    let host2_has = async |name: &str| {
        let cache = iam.host("host2").unwrap().cache().unwrap().clone();
        common::eventually(10, async || cache.user(name).map(|_| ())).await
    };

    // host2 manages no member of host's: the same name harms no one.
    iam.create_user("host2", &user("bob")).await.unwrap();
    host2_has("bob").await;
    iam.create_user("host", &user("bob")).await.unwrap();

    // Once host2 manages `member` too, the names would fight there: refused.
    iam.create_user("host2", &user("carol")).await.unwrap();
    host2_has("carol").await;
    host2.join_member(&member, "member").unwrap();
    let refused = iam.create_user("host", &user("carol")).await;
    assert!(
        matches!(&refused, Err(UserError::ExistsOnOtherHost { name, host }) if name == "carol" && host == "host2"),
        "{refused:?}"
    );
}

/// Tandem's password rule is the `User` CRD's (v3.4.1 `spec.password`: 8 to 64 characters,
/// the pattern): a password the form takes is never a 422 from the host, and one the host
/// would refuse is refused by the form with its own message.
#[tokio::test]
async fn the_password_rule_is_the_user_crds() {
    let host = common::kubesphere("host", sandbox::ClusterRole::Host, "secret").await;
    // Written as raw objects, so the password reaches the host exactly as given.
    let users: Api<kube::api::DynamicObject> = Api::all_with(
        common::client(&host).await,
        &kube::api::ApiResource::erase::<User>(&()),
    );
    let candidates = [
        "P@88w0rd".to_string(),
        "Aa1aaaaa".into(),
        "Aa1aaaa".into(),
        "password1".into(),
        "PASSWORD1".into(),
        "Password".into(),
        "Pässw0rd".into(),
        "Pass w0rd".into(),
        "Passw0rd\nnext".into(),
        "\tPassw0rd".into(),
        format!("Aa1{}", "x".repeat(61)),
        format!("Aa1{}", "x".repeat(62)),
    ];
    for (i, password) in candidates.iter().enumerate() {
        let user: kube::api::DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "User",
            "metadata": {"name": format!("u{i}")},
            "spec": {"email": "u@example.com", "password": password},
        }))
        .unwrap();
        let host_takes = users.create(&Default::default(), &user).await.is_ok();
        assert_eq!(
            user_admin::check_password(password).is_ok(),
            host_takes,
            "{password:?}"
        );
    }
}

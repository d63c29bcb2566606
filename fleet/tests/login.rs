//! Login, sessions and permissions against a sandbox KubeSphere host, read back from the
//! objects the host holds.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use fleet::iam::resources::{LoginRecord, User};
use fleet::iam::{Action, Iam, JwtSecret, LoginAttempt, LoginError, LoginFailure, SessionError};
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use sandbox::{ClusterRole, KubeSphereInstall, SandboxCluster};

mod common;

const SECRET: &str = "login-test-jwt-secret";
const ADMIN_PASSWORD: &str = "Admin-Pass-1";

struct Host {
    cluster: SandboxCluster,
    _dir: tempfile::TempDir,
    client: Client,
    iam: Iam,
}

async fn host() -> Host {
    let cluster = SandboxCluster::start("host").await.unwrap();
    cluster
        .install_kubesphere(&KubeSphereInstall {
            role: ClusterRole::Host,
            jwt_secret: SECRET.into(),
            admin_password: Some(ADMIN_PASSWORD.into()),
        })
        .unwrap();
    let (dir, iam) = common::iam_on(&cluster).await;
    Host {
        client: common::client(&cluster).await,
        cluster,
        _dir: dir,
        iam,
    }
}

fn attempt<'a>(username: &'a str, password: &'a str) -> LoginAttempt<'a> {
    LoginAttempt {
        username,
        password,
        source_ip: Some("127.0.0.1".into()),
        user_agent: Some("login-test".into()),
    }
}

async fn records(client: &Client, user: &str) -> Vec<LoginRecord> {
    Api::<LoginRecord>::all(client.clone())
        .list(&ListParams::default().labels(&format!("iam.kubesphere.io/user-ref={user}")))
        .await
        .unwrap()
        .items
}

async fn add_user(client: &Client, name: &str, password: &str, state: &str) {
    let users: Api<User> = Api::all(client.clone());
    let hash = bcrypt::hash(password, 4).unwrap();
    let user: User = serde_json::from_value(serde_json::json!({
        "apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "User",
        "metadata": {"name": name},
        "spec": {"email": format!("{name}@example.com"), "password": hash},
    }))
    .unwrap();
    users.create(&PostParams::default(), &user).await.unwrap();
    users
        .patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"status": {"state": state}})),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn admin_logs_in_by_name_or_email_and_gets_a_kubesphere_token() {
    let h = host().await;
    let session = h
        .iam
        .login("host", attempt("admin", ADMIN_PASSWORD))
        .await
        .unwrap();
    assert_eq!(session.username, "admin");
    // Verifies with the jwtSecret alone, as a member's ks-apiserver would.
    let claims = JwtSecret::new(SECRET)
        .unwrap()
        .verify(&session.token, SystemTime::now())
        .unwrap();
    assert_eq!(claims.sub, "admin");
    assert_eq!(claims.iss, "kubesphere");
    assert_eq!(claims.exp.unwrap() - claims.iat, 7200);

    let record = records(&h.client, "admin").await;
    assert_eq!(record.len(), 1);
    assert!(record[0].spec.success);
    assert_eq!(record[0].spec.kind, "Token");
    assert_eq!(record[0].spec.source_ip, "127.0.0.1");

    let by_email = h
        .iam
        .login("host", attempt("admin@kubesphere.io", ADMIN_PASSWORD))
        .await;
    assert_eq!(by_email.unwrap().username, "admin");

    let principal = h
        .iam
        .authenticate("host", &session.token, SystemTime::now())
        .await
        .unwrap();
    assert_eq!(
        principal.permissions.roles,
        vec!["platform-admin".to_string()]
    );
    assert!(principal.may(Action::ManageUsers));
}

#[tokio::test]
async fn wrong_passwords_are_recorded_and_lock_the_account_at_the_limit() {
    let h = host().await;
    let unknown = h.iam.login("host", attempt("nobody", "Whatever-1")).await;
    assert!(matches!(
        unknown,
        Err(LoginFailure::Login(LoginError::IncorrectPassword { .. }))
    ));
    // kubesphere-config says 10 tries in 10 minutes, as ks-installer writes it.
    for i in 1..=10 {
        let result = h.iam.login("host", attempt("admin", "Wrong-Pass-1")).await;
        match result {
            Err(LoginFailure::Login(LoginError::IncorrectPassword { locked_now })) => {
                assert_eq!(locked_now, i == 10, "attempt {i}")
            }
            other => panic!("attempt {i}: {other:?}"),
        }
    }
    let failed = records(&h.client, "admin").await;
    assert_eq!(failed.len(), 10);
    assert!(
        failed
            .iter()
            .all(|r| !r.spec.success && r.spec.reason == "incorrect password")
    );
    let user = Api::<User>::all(h.client.clone())
        .get("admin")
        .await
        .unwrap();
    let status = user.status.unwrap();
    assert_eq!(status.state.as_deref(), Some("AuthLimitExceeded"));
    assert_eq!(
        status.reason.as_deref(),
        Some("Failed login attempts exceed 10 in last 10m0s")
    );
    // Even the right password is refused now, and no record is written.
    let locked = h.iam.login("host", attempt("admin", ADMIN_PASSWORD)).await;
    assert!(matches!(
        locked,
        Err(LoginFailure::Login(LoginError::Locked { until: Some(_) }))
    ));
    assert_eq!(records(&h.client, "admin").await.len(), 10);
}

#[tokio::test]
async fn disabled_users_and_ended_sessions_are_refused() {
    let h = host().await;
    add_user(&h.client, "alice", "Alice-Pass-1", "Active").await;
    add_user(&h.client, "bob", "Bob-Pass-12", "Disabled").await;
    let bob = h.iam.login("host", attempt("bob", "Bob-Pass-12")).await;
    assert!(matches!(
        bob,
        Err(LoginFailure::Login(LoginError::NotActive))
    ));

    let session = h
        .iam
        .login("host", attempt("alice", "Alice-Pass-1"))
        .await
        .unwrap();
    // Wait for the cache to see alice, then check what she may do: no role, nothing more
    // than looking at the hosts.
    let mut principal = None;
    for _ in 0..50 {
        match h
            .iam
            .authenticate("host", &session.token, SystemTime::now())
            .await
        {
            Ok(p) => {
                principal = Some(p);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let principal = principal.expect("alice's session accepted");
    assert_eq!(
        principal.permissions.allowed_actions(),
        vec![Action::ViewHosts]
    );

    // A second session of the same user, opened in the same second (as a log-out followed
    // at once by a log-in on another tab is), must outlive the end of the first.
    let second = h
        .iam
        .login("host", attempt("alice", "Alice-Pass-1"))
        .await
        .unwrap();
    h.iam
        .revoke("host", &session.token, session.expires_at)
        .await;
    let ended = h
        .iam
        .authenticate("host", &session.token, SystemTime::now())
        .await;
    assert!(matches!(ended, Err(SessionError::Revoked)));
    let other = h
        .iam
        .authenticate("host", &second.token, SystemTime::now())
        .await;
    assert!(other.is_ok(), "the other session goes on: {other:?}");

    // The ended session is kept on the host: a console started afresh (a restart, another
    // replica) refuses it too, and a logout there is refused here as soon as the host has it.
    let (_dir, restarted) = common::iam_on(&h.cluster).await;
    let ended_there = restarted
        .authenticate("host", &session.token, SystemTime::now())
        .await;
    assert!(
        matches!(ended_there, Err(SessionError::Revoked)),
        "{ended_there:?}"
    );
    restarted
        .revoke("host", &second.token, second.expires_at)
        .await;
    common::eventually(10, async || {
        matches!(
            h.iam
                .authenticate("host", &second.token, SystemTime::now())
                .await,
            Err(SessionError::Revoked)
        )
        .then_some(())
    })
    .await;

    // A token signed with another secret never passes, whatever it claims.
    let forged = JwtSecret::new("not-the-host-secret").unwrap().issue(
        "admin",
        BTreeMap::new(),
        SystemTime::now(),
        Duration::from_secs(600),
    );
    let refused = h.iam.authenticate("host", &forged, SystemTime::now()).await;
    assert!(matches!(refused, Err(SessionError::Token(_))));
}

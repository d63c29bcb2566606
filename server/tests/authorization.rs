//! Every server function, called over HTTP by users of each platform role, as the browser
//! calls it: allowed or refused (401 without a session, 403 without the role) on the server.

mod common;

use std::time::Duration;

use common::{client, create, free_port, iam, log_in, request, request_page, serve, user};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use sandbox::{ClusterRole, KubeSphereInstall, SandboxCluster};

const ADMIN_PASSWORD: &str = "Admin-Pass-1";

#[tokio::test(flavor = "multi_thread")]
async fn every_server_function_checks_the_role() {
    let host = SandboxCluster::start("host").await.unwrap();
    host.install_kubesphere(&KubeSphereInstall {
        role: ClusterRole::Host,
        jwt_secret: "authorization-test-secret".into(),
        admin_password: Some(ADMIN_PASSWORD.into()),
    })
    .unwrap();
    let c = client(&host).await;
    // A custom role built from templates, as an administrator would make one.
    create(&c, "GlobalRole", "globalroles", serde_json::json!({
        "apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "GlobalRole",
        "metadata": {"name": "users-manager", "annotations": {
            "iam.kubesphere.io/aggregation-roles": "[\"role-template-view-users\",\"role-template-manage-users\"]"}},
        "rules": [],
    }))
    .await;
    let roles = [
        ("regular", "platform-regular"),
        ("provisioner", "platform-self-provisioner"),
        ("usermgr", "users-manager"),
    ];
    for (name, role) in roles {
        user(&c, name, "Role-Pass-1", role).await;
        user(
            &c,
            &format!("victim-{name}"),
            "Victim-Pass-1",
            "platform-regular",
        )
        .await;
    }
    user(&c, "victim-admin", "Victim-Pass-1", "platform-regular").await;
    user(&c, "fresh", "Fresh-Pass-1", "platform-regular").await;
    let users: Api<DynamicObject> = Api::all_with(c.clone(), &iam("User", "users"));
    users
        .patch(
            "fresh",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"metadata": {"annotations": {"iam.kubesphere.io/uninitialized": "true"}}})),
        )
        .await
        .unwrap();

    let (_dir, config) = common::one_host_config(&host);
    let port = free_port();
    let _server = serve(&config, port);

    let sessions = [
        ("admin", log_in(port, "admin", ADMIN_PASSWORD)),
        ("regular", log_in(port, "regular", "Role-Pass-1")),
        ("provisioner", log_in(port, "provisioner", "Role-Pass-1")),
        ("usermgr", log_in(port, "usermgr", "Role-Pass-1")),
        ("anonymous", String::new()),
    ];
    // (server function, form body with {who} for the caller, who may call it).
    let everyone = &["admin", "regular", "provisioner", "usermgr"][..];
    let user_admins = &["admin", "usermgr"][..];
    let table: &[(&str, &str, &[&str])] = &[
        ("host_statuses", "", everyone),
        (
            "list_users",
            "search=&sort=name&descending=false&page=0",
            user_admins,
        ),
        (
            "create_user",
            "name=new-{who}&email=new-{who}@example.com&global_role=platform-regular&password=New-Pass-1&description=",
            user_admins,
        ),
        (
            "set_user_role",
            "name=victim-{who}&role=platform-self-provisioner",
            user_admins,
        ),
        (
            "set_user_enabled",
            "name=victim-{who}&enabled=false",
            user_admins,
        ),
        (
            "set_user_password",
            "name=victim-{who}&password=Fresh-Pass-9",
            user_admins,
        ),
        (
            "update_user",
            "name=victim-{who}&email=victim-{who}@example.com&description=edited",
            user_admins,
        ),
        ("delete_user", "name=victim-{who}", user_admins),
        // Everyone sees the workspaces they belong to (all of them with a platform role).
        ("list_workspaces", "", everyone),
        (
            "create_workspace",
            "name=ws-{who}&alias=&manager=admin&description=",
            &["admin", "provisioner"],
        ),
        (
            "set_workspace_member",
            "workspace=ws-admin&user=regular&role=viewer",
            &["admin"],
        ),
        (
            "remove_workspace_member",
            "workspace=ws-admin&user=regular",
            &["admin"],
        ),
        ("delete_workspace", "workspace=ws-admin", &["admin"]),
        ("list_clusters", "", &["admin"]),
        ("list_federated", "state=&kind=&search=&page=0", &["admin"]),
        (
            "start_cluster_job",
            "mode=check&name=c-{who}&group=&provider=&description=&connection=direct&kubeconfig=not-yaml&context=",
            &["admin"],
        ),
    ];
    for (function, body, allowed) in table {
        for (who, cookie) in &sessions {
            let body = body.replace("{who}", who);
            let status = request(port, "POST", &format!("/api/{function}"), cookie, &body).status;
            let expected = if *who == "anonymous" {
                401
            } else if allowed.contains(who) {
                200
            } else {
                403
            };
            assert_eq!(status, expected, "{who} calling {function}");
        }
    }
    // Allowed callers asking about what does not exist get a clear refusal, not a 403.
    let refusals: &[(&str, &str, u16)] = &[
        ("cluster_job", "id=no-such-job", 404),
        (
            "remove_cluster",
            "name=no-such-cluster&confirm=no-such-cluster",
            422,
        ),
        (
            "edit_cluster",
            "name=no-such-cluster&description=&group=",
            422,
        ),
        (
            "update_cluster_kubeconfig",
            "name=no-such-cluster&kubeconfig=not-yaml&context=",
            422,
        ),
        ("federated_object", "kind=user&name=no-such-user", 404),
        ("federated_object", "kind=secret&name=admin", 404),
        (
            "pick_winner",
            "kind=user&name=no-such-user&winner=host&confirm=on",
            422,
        ),
        // Not confirmed.
        ("pick_winner", "kind=user&name=admin&winner=host", 422),
        (
            "delete_everywhere",
            "kind=user&name=admin&confirm=someone-else",
            422,
        ),
    ];
    for (function, body, refusal) in refusals {
        for (who, cookie) in &sessions {
            let status = request(port, "POST", &format!("/api/{function}"), cookie, body).status;
            let expected = match *who {
                "anonymous" => 401,
                "admin" => *refusal,
                _ => 403,
            };
            assert_eq!(status, expected, "{who} calling {function}");
        }
    }
    // A workspace's own administrator manages its members without any platform role; a
    // member with a lesser workspace role does not.
    let (admin_cookie, regular_cookie, provisioner_cookie) =
        (&sessions[0].1, &sessions[1].1, &sessions[2].1);
    let created = request(
        port,
        "POST",
        "/api/create_workspace",
        admin_cookie,
        "name=ws-team&alias=&manager=regular&description=",
    );
    assert_eq!(created.status, 200);
    let add = "workspace=ws-team&user=provisioner&role=viewer";
    let mut status = 0;
    for _ in 0..100 {
        // The host's controller binds the manager to ws-team-admin within a moment.
        status = request(
            port,
            "POST",
            "/api/set_workspace_member",
            regular_cookie,
            add,
        )
        .status;
        if status == 200 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(status, 200, "the workspace's administrator adds a member");
    let mut refused = 0;
    for _ in 0..100 {
        refused = request(
            port,
            "POST",
            "/api/remove_workspace_member",
            provisioner_cookie,
            "workspace=ws-team&user=regular",
        )
        .status;
        if refused == 403 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        refused, 403,
        "a viewer of the workspace may not manage its members"
    );

    // Everyone signed in may change their own password; a wrong current one is refused on
    // its merits (422), not for the role.
    for (who, cookie) in &sessions {
        let status = request(
            port,
            "POST",
            "/api/change_password",
            cookie,
            "current_password=Wrong-Pass-0&new_password=Other-Pass-2&confirm_password=Other-Pass-2",
        )
        .status;
        let expected = if *who == "anonymous" { 401 } else { 422 };
        assert_eq!(status, expected, "{who} calling change_password");
    }
    // A user KubeSphere marks uninitialized is sent to choose a password before any page.
    let fresh = log_in(port, "fresh", "Fresh-Pass-1");
    let page = request_page(port, "/users", &fresh);
    assert_eq!(page.status, 303);
    assert_eq!(page.location.as_deref(), Some("/password"));
    assert_eq!(request_page(port, "/password", &fresh).status, 200);

    // Public: the login page's host list, and who is signed in (nobody, for anonymous).
    for (who, cookie) in &sessions {
        for function in ["login_hosts", "current_session"] {
            let status = request(port, "POST", &format!("/api/{function}"), cookie, "").status;
            assert_eq!(status, 200, "{who} calling {function}");
        }
    }
    // Logging out is open to anyone, and ends the session for good.
    for (who, cookie) in &sessions {
        assert_eq!(
            request(port, "POST", "/api/logout", cookie, "").status,
            200,
            "{who} logs out"
        );
        if !cookie.is_empty() {
            let after = request(port, "POST", "/api/host_statuses", cookie, "").status;
            assert_eq!(after, 401, "{who}'s token after logging out");
        }
    }

    // Every change that went through is also an Event on the host, naming who made it; a
    // refused one is not.
    let events: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(c.clone(), "default");
    let wanted = [
        (
            "UserCreated",
            "User",
            "new-admin",
            "admin created user new-admin",
        ),
        (
            "UserCreated",
            "User",
            "new-usermgr",
            "usermgr created user new-usermgr",
        ),
        (
            "UserRoleChanged",
            "User",
            "victim-admin",
            "admin gave user victim-admin the platform role platform-self-provisioner",
        ),
        (
            "UserDisabled",
            "User",
            "victim-usermgr",
            "usermgr disabled user victim-usermgr",
        ),
        (
            "UserPasswordSet",
            "User",
            "victim-admin",
            "admin set a new password for user victim-admin",
        ),
        (
            "UserDeleted",
            "User",
            "victim-admin",
            "admin deleted user victim-admin",
        ),
        (
            "WorkspaceCreated",
            "WorkspaceTemplate",
            "ws-admin",
            "admin created workspace ws-admin",
        ),
        (
            "WorkspaceMemberSet",
            "WorkspaceTemplate",
            "ws-team",
            "regular gave provisioner the role viewer in workspace ws-team",
        ),
        (
            "WorkspaceDeleted",
            "WorkspaceTemplate",
            "ws-admin",
            "admin deleted workspace ws-admin",
        ),
    ];
    let mut seen = Vec::new();
    for _ in 0..50 {
        seen = events
            .list(&kube::api::ListParams::default().labels("app.kubernetes.io/managed-by=tandem"))
            .await
            .unwrap()
            .items;
        let has = |(reason, kind, name, message): &(&str, &str, &str, &str)| {
            seen.iter().any(|e| {
                e.reason.as_deref() == Some(*reason)
                    && e.involved_object.kind.as_deref() == Some(*kind)
                    && e.involved_object.name.as_deref() == Some(*name)
                    && e.message.as_deref() == Some(*message)
                    && e.reporting_component.as_deref() == Some("tandem")
            })
        };
        if wanted.iter().all(has) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for w in &wanted {
        assert!(
            seen.iter()
                .any(|e| e.reason.as_deref() == Some(w.0) && e.message.as_deref() == Some(w.3)),
            "no Event {w:?} among {:?}",
            seen.iter().map(|e| e.message.clone()).collect::<Vec<_>>()
        );
    }
    assert!(
        !seen.iter().any(|e| e
            .message
            .as_deref()
            .is_some_and(|m| m.starts_with("regular ") && m.contains("user"))),
        "a refused call leaves no Event"
    );
}

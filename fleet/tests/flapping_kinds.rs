//! Every kind KubeSphere federates can fight over a member, not only users: for each of the
//! six, the same name written differently on two hosts (as kubectl would, straight to each
//! host's API server) makes the member's copy alternate between the hosts' versions, and the
//! console's `FederationMonitor` must call it flapping, naming both hosts, within 30 s of the
//! third alternation.

mod common;

use fleet::federation::KindResources;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use fleet::federation::{
    FederatedKind, FederatedState, FederationMonitor, ObjectKey, propagated_fingerprint,
};
use futures_util::StreamExt;
use kube::Client;
use kube::api::{Api, DynamicObject, PostParams};
use kube::runtime::watcher;
use sandbox::ClusterRole;
use serde_json::{Value, json};

/// What the acceptance allows between the third alternation and the verdict.
const VERDICT_WITHIN: Duration = Duration::from_secs(30);

/// One conflict: the kind, the object's name, and each host's version of it. Each differs in a
/// field KubeSphere really federates (the spec, the rules, the subjects, or a workspace's
/// `spec.template`), never only in what kubefed leaves behind.
fn conflicts() -> Vec<(FederatedKind, &'static str, Value, Value)> {
    let user = |email: &str| {
        json!({"apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "User",
               "metadata": {"name": "fk-user"},
               "spec": {"email": email, "lang": "en"}})
    };
    let global_role = |verb: &str| {
        json!({"apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "GlobalRole",
               "metadata": {"name": "fk-role",
                            "annotations": {"kubesphere.io/creator": "admin"}},
               "rules": [{"apiGroups": ["*"], "resources": ["users"], "verbs": [verb]}]})
    };
    let global_binding = |user: &str| {
        json!({"apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "GlobalRoleBinding",
               "metadata": {"name": "fk-binding", "labels": {"iam.kubesphere.io/user-ref": user}},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
               "roleRef": {"apiGroup": "iam.kubesphere.io", "kind": "GlobalRole", "name": "platform-regular"}})
    };
    // The issue's own example: a workspace whose manager differs between the hosts. Its
    // template's labels never reach the member: the WorkspaceTemplate CRD declares
    // `spec.template.metadata` without properties, so the API server prunes them (the sandbox
    // as a real one).
    let workspace = |manager: &str| {
        json!({"apiVersion": "tenant.kubesphere.io/v1alpha2", "kind": "WorkspaceTemplate",
               "metadata": {"name": "fk-ws"},
               "spec": {"template": {"metadata": {"labels": {"team": "fk"}},
                                     "spec": {"manager": manager}},
                        "placement": {"clusterSelector": {}}}})
    };
    let workspace_role = |verb: &str| {
        json!({"apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "WorkspaceRole",
               "metadata": {"name": "fk-ws-auditor", "labels": {"kubesphere.io/workspace": "fk-ws"}},
               "rules": [{"apiGroups": ["*"], "resources": ["members"], "verbs": [verb]}]})
    };
    let workspace_binding = |user: &str| {
        json!({"apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "WorkspaceRoleBinding",
               "metadata": {"name": "fk-ws-auditor-binding",
                            "labels": {"kubesphere.io/workspace": "fk-ws", "iam.kubesphere.io/user-ref": user}},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
               "roleRef": {"apiGroup": "iam.kubesphere.io", "kind": "WorkspaceRole", "name": "fk-ws-auditor"}})
    };
    vec![
        (
            FederatedKind::User,
            "fk-user",
            user("fk@example.com"),
            user("fk-2@example.com"),
        ),
        (
            FederatedKind::GlobalRole,
            "fk-role",
            global_role("get"),
            global_role("list"),
        ),
        (
            FederatedKind::GlobalRoleBinding,
            "fk-binding",
            global_binding("fk-a"),
            global_binding("fk-b"),
        ),
        (
            FederatedKind::Workspace,
            "fk-ws",
            workspace("fk-a"),
            workspace("fk-b"),
        ),
        (
            FederatedKind::WorkspaceRole,
            "fk-ws-auditor",
            workspace_role("get"),
            workspace_role("list"),
        ),
        (
            FederatedKind::WorkspaceRoleBinding,
            "fk-ws-auditor-binding",
            workspace_binding("fk-a"),
            workspace_binding("fk-b"),
        ),
    ]
}

async fn create(client: &Client, kind: FederatedKind, object: &Value) {
    let api = Api::<DynamicObject>::all_with(client.clone(), &kind.source());
    let object: DynamicObject = serde_json::from_value(object.clone()).unwrap();
    api.create(&PostParams::default(), &object)
        .await
        .unwrap_or_else(|e| panic!("creating {} on a host: {e}", kind.key()));
}

/// When the member's copy of each object changed for the third time: a watch on the member,
/// as the test's own witness, independent of the monitor's.
async fn third_changes(
    member: Client,
    names: Vec<(FederatedKind, String)>,
) -> BTreeMap<String, Instant> {
    let mut witnesses = Vec::new();
    for (kind, name) in names {
        let api = Api::<DynamicObject>::all_with(member.clone(), &kind.member());
        witnesses.push(async move {
            let mut events = watcher::watcher(
                api,
                watcher::Config::default().fields(&format!("metadata.name={name}")),
            )
            .boxed();
            let mut last = None;
            let mut changes = 0;
            while let Some(event) = events.next().await {
                let Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o)) = event else {
                    continue;
                };
                let fingerprint = propagated_fingerprint(&serde_json::to_value(&o).unwrap());
                if last.as_ref().is_some_and(|l| l != &fingerprint) {
                    changes += 1;
                    if changes == 3 {
                        return (kind.key().to_string(), Instant::now());
                    }
                }
                last = Some(fingerprint);
            }
            panic!("the member watch of {} ended", kind.key());
        });
    }
    futures_util::future::join_all(witnesses)
        .await
        .into_iter()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_federated_kind_in_conflict_is_flagged_flapping_naming_both_hosts() {
    let host = common::kubesphere("host", ClusterRole::Host, "shared").await;
    let host2 = common::kubesphere("host2", ClusterRole::Host, "shared").await;
    let member = common::kubesphere("member", ClusterRole::Member, "shared").await;
    host.join_member(&member, "member").unwrap();
    host2.join_member(&member, "member").unwrap();
    let hosts = vec![
        ("host".to_string(), common::client(&host).await),
        ("host2".to_string(), common::client(&host2).await),
    ];
    let monitor = FederationMonitor::start(hosts.clone(), Default::default());

    let conflicts = conflicts();
    for (kind, _, on_host, on_host2) in &conflicts {
        create(&hosts[0].1, *kind, on_host).await;
        create(&hosts[1].1, *kind, on_host2).await;
    }
    let names = conflicts
        .iter()
        .map(|(k, n, _, _)| (*k, n.to_string()))
        .collect();
    let third = tokio::time::timeout(
        Duration::from_secs(120),
        third_changes(common::client(&member).await, names),
    )
    .await
    .expect("every member copy alternated three times within two minutes");

    let flapping = FederatedState::Flapping {
        hosts: vec!["host".into(), "host2".into()],
    };
    for (kind, name, _, _) in &conflicts {
        let key = ObjectKey {
            kind: *kind,
            name: name.to_string(),
        };
        let deadline = third[kind.key()] + VERDICT_WITHIN;
        let state = loop {
            let state = monitor.row(&key).map(|r| r.state);
            if state.as_ref() == Some(&flapping) || Instant::now() > deadline {
                break state;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert_eq!(
            state.as_ref(),
            Some(&flapping),
            "{} {name}: not flagged flapping within 30 s of its third alternation",
            kind.key()
        );
    }
    // What the users, workspaces and clusters pages ask, by each host's name for the member.
    for host in ["host", "host2"] {
        let troubles = monitor.troubles_by_member(host);
        for (kind, name, _, _) in &conflicts {
            assert!(
                troubles["member"]
                    .iter()
                    .any(|(k, s)| k.kind == *kind && k.name == *name && s == &flapping),
                "{host}: {troubles:?}"
            );
        }
    }
    assert_eq!(
        monitor.troubled_members("host2", FederatedKind::User, "fk-user"),
        vec![("member".to_string(), flapping)]
    );
}

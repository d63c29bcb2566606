//! Joining and removing clusters against sandbox hosts and members, checked by reading the
//! objects on both sides (as kubectl would), and by the join's token really working.

mod common;

use std::time::SystemTime;

use fleet::clusters::objects::{FEDERATION_NAMESPACE, JOINED_BY_HOST_LABEL, KubeFedCluster};
use fleet::clusters::{
    ActionReport, ActionResult, Candidate, HostLink, JoinError, join_cluster, remove_cluster,
};
use fleet::iam::resources::User;
use fleet::kubesphere::Cluster;
use k8s_openapi::api::core::v1::{Namespace, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use kube::{Api, Client};
use sandbox::{ClusterRole as Role, SandboxCluster};

fn candidate(name: &str, member: &SandboxCluster) -> Candidate {
    Candidate {
        name: name.into(),
        kubeconfig: member.kubeconfig_yaml(),
        group: Some("production".into()),
        provider: Some("Amazon EKS".into()),
        description: Some("payments".into()),
        creator: Some("admin".into()),
        ..Default::default()
    }
}

async fn join(
    host: &HostLink,
    others: &[HostLink],
    c: &Candidate,
) -> Result<Vec<ActionReport>, JoinError> {
    let mut seen = Vec::new();
    let outcome = join_cluster(host, others, c, SystemTime::now(), &mut |_| {}, &mut |a| {
        seen.push(a.clone())
    })
    .await?;
    assert_eq!(
        outcome.actions, seen,
        "every action is reported as it happens"
    );
    Ok(outcome.actions)
}

async fn exists<K>(api: Api<K>, name: &str) -> bool
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.get_opt(name).await.unwrap().is_some()
}

/// The member token this host keeps in `<name>-secret`.
async fn host_token(host: &Client, name: &str) -> String {
    let secret = Api::<Secret>::namespaced(host.clone(), FEDERATION_NAMESPACE)
        .get(&format!("{name}-secret"))
        .await
        .unwrap();
    String::from_utf8(secret.data.unwrap()["token"].0.clone()).unwrap()
}

/// Whether the member accepts `token`, as the host's kubefed would present it.
async fn token_works(member: &SandboxCluster, token: &str) -> bool {
    let yaml = member.kubeconfig_yaml();
    let line = yaml.lines().find(|l| l.contains("token:")).unwrap();
    let kubeconfig =
        kube::config::Kubeconfig::from_yaml(&yaml.replace(line, &format!("    token: {token}")))
            .unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap();
    let client = Client::try_from(config).unwrap();
    Api::<Namespace>::all(client)
        .get("kube-system")
        .await
        .is_ok()
}

#[tokio::test]
async fn a_full_join_creates_what_kubesphere_creates_and_kubefed_can_use_it() {
    let host = common::kubesphere("host", Role::Host, "shared").await;
    let member = common::kubesphere("member", Role::Member, "shared").await;
    let (h, m) = (
        common::host_link(&host).await,
        common::client(&member).await,
    );
    let actions = join(&h, &[], &candidate("prod", &member)).await.unwrap();
    assert!(
        actions
            .iter()
            .all(|a| !matches!(a.result, ActionResult::Failed(_))),
        "{actions:?}"
    );

    assert!(
        exists(
            Api::<ServiceAccount>::namespaced(m.clone(), FEDERATION_NAMESPACE),
            "prod-kubesphere"
        )
        .await
    );
    assert!(
        exists(
            Api::<ClusterRole>::all(m.clone()),
            "kubefed-controller-manager:prod-kubesphere"
        )
        .await
    );
    assert!(
        exists(
            Api::<ClusterRoleBinding>::all(m.clone()),
            "kubefed-controller-manager:prod-kubesphere"
        )
        .await
    );
    let tokens: Vec<Secret> = Api::<Secret>::namespaced(m.clone(), FEDERATION_NAMESPACE)
        .list(&kube::api::ListParams::default().labels(JOINED_BY_HOST_LABEL))
        .await
        .unwrap()
        .items;
    assert_eq!(tokens.len(), 1, "one token, this host's");

    let cluster = Api::<Cluster>::all(h.client.clone())
        .get("prod")
        .await
        .unwrap();
    assert!(cluster.is_ready());
    let status = cluster.status.clone().unwrap();
    let uid = Api::<Namespace>::all(m.clone())
        .get("kube-system")
        .await
        .unwrap()
        .metadata
        .uid;
    assert_eq!(status.uid, uid);
    assert_eq!(status.kube_sphere_version.as_deref(), Some("v3.4.1"));
    for kind in ["Federated", "Ready", "KubeConfigCertExpiresInSevenDays"] {
        assert!(
            status.conditions.iter().any(|c| c.kind == kind),
            "condition {kind}"
        );
    }
    let labels = cluster.metadata.labels.unwrap();
    assert_eq!(labels["cluster.kubesphere.io/group"], "production");
    assert_eq!(
        cluster.metadata.annotations.unwrap()["kubesphere.io/description"],
        "payments"
    );
    assert_eq!(cluster.spec.provider.as_deref(), Some("Amazon EKS"));
    let kfc = Api::<KubeFedCluster>::namespaced(h.client.clone(), FEDERATION_NAMESPACE)
        .get("prod")
        .await
        .unwrap();
    assert_eq!(kfc.spec.api_endpoint, member.server_url());
    assert!(kfc.spec.disabled_tls_validations.is_empty());
    assert!(token_works(&member, &host_token(&h.client, "prod").await).await);

    // Joining again changes nothing (KubeSphere re-runs its join every two minutes).
    let again = join(&h, &[], &candidate("prod", &member)).await.unwrap();
    let changed: Vec<_> = again
        .iter()
        .filter(|a| a.result != ActionResult::Unchanged && !a.object.ends_with("status"))
        .collect();
    assert!(changed.is_empty(), "{changed:?}");
}

#[tokio::test]
async fn a_fault_half_way_leaves_nothing_behind_and_a_retry_finishes() {
    let host = common::kubesphere("host", Role::Host, "shared").await;
    let member = common::kubesphere("member", Role::Member, "shared").await;
    let (h, m) = (
        common::host_link(&host).await,
        common::client(&member).await,
    );
    // Basic information is checked by the join itself, before anything is written.
    let mut unknown_group = candidate("prod", &member);
    unknown_group.group = Some("staging".into());
    let refused = join(&h, &[], &unknown_group).await.unwrap_err();
    assert!(
        matches!(
            &refused,
            JoinError::Invalid(fleet::clusters::BasicProblem::UnknownGroup)
        ),
        "{refused}"
    );
    assert!(
        !exists(
            Api::<ServiceAccount>::namespaced(m.clone(), FEDERATION_NAMESPACE),
            "prod-kubesphere"
        )
        .await
    );

    host.fail_next("POST", "kubefedclusters");
    let err = join(&h, &[], &candidate("prod", &member))
        .await
        .unwrap_err();
    let JoinError::Write {
        object,
        left_behind,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(object.contains("KubeFedCluster"), "{err}");
    assert!(left_behind.is_empty());
    assert!(
        !exists(
            Api::<ServiceAccount>::namespaced(m.clone(), FEDERATION_NAMESPACE),
            "prod-kubesphere"
        )
        .await
    );
    assert!(
        !exists(
            Api::<ClusterRole>::all(m.clone()),
            "kubefed-controller-manager:prod-kubesphere"
        )
        .await
    );
    assert!(
        !exists(
            Api::<Secret>::namespaced(h.client.clone(), FEDERATION_NAMESPACE),
            "prod-secret"
        )
        .await
    );
    assert!(!exists(Api::<Cluster>::all(h.client.clone()), "prod").await);

    join(&h, &[], &candidate("prod", &member)).await.unwrap();
    assert!(
        Api::<Cluster>::all(h.client.clone())
            .get("prod")
            .await
            .unwrap()
            .is_ready()
    );
}

#[tokio::test]
async fn two_hosts_keep_their_own_tokens_and_removal_from_one_leaves_the_other_working() {
    let host = common::kubesphere("host", Role::Host, "shared").await;
    let host2 = common::kubesphere("host2", Role::Host, "shared").await;
    let member = common::kubesphere("member", Role::Member, "shared").await;
    let (h, h2, m) = (
        common::host_link(&host).await,
        common::host_link(&host2).await,
        common::client(&member).await,
    );
    join(&h, std::slice::from_ref(&h2), &candidate("member", &member))
        .await
        .unwrap();
    let refused = join(&h2, std::slice::from_ref(&h), &candidate("member", &member))
        .await
        .unwrap_err();
    assert!(matches!(refused, JoinError::ChecksFailed(_)), "{refused}");
    let mut second = candidate("member", &member);
    second.second_host = true;
    join(&h2, std::slice::from_ref(&h), &second).await.unwrap();

    let (t1, t2) = (
        host_token(&h.client, "member").await,
        host_token(&h2.client, "member").await,
    );
    assert_ne!(t1, t2, "each host has its own credential");
    assert!(token_works(&member, &t1).await && token_works(&member, &t2).await);

    let mut actions = Vec::new();
    let removed = remove_cluster(&h, &[], "member", &mut |a| actions.push(a.clone()))
        .await
        .unwrap();
    assert!(
        removed.member_reached && removed.left_on_member.is_empty(),
        "{removed:?}"
    );
    assert!(
        !token_works(&member, &t1).await,
        "the removed host's token is revoked"
    );
    assert!(token_works(&member, &t2).await, "host2 keeps working");
    assert!(
        exists(
            Api::<ServiceAccount>::namespaced(m.clone(), FEDERATION_NAMESPACE),
            "member-kubesphere"
        )
        .await
    );
    assert!(
        actions
            .iter()
            .any(|a| matches!(a.result, ActionResult::Kept(_)))
    );
    assert!(!exists(Api::<Cluster>::all(h.client.clone()), "member").await);
    assert!(
        !exists(
            Api::<KubeFedCluster>::namespaced(h.client.clone(), FEDERATION_NAMESPACE),
            "member"
        )
        .await
    );
    assert!(
        !exists(
            Api::<Secret>::namespaced(h.client.clone(), FEDERATION_NAMESPACE),
            "member-secret"
        )
        .await
    );
    assert!(
        Api::<Cluster>::all(h2.client.clone())
            .get("member")
            .await
            .unwrap()
            .is_ready()
    );

    // The last host out takes the account and its full-rights role with it.
    remove_cluster(&h2, &[], "member", &mut |_| {})
        .await
        .unwrap();
    assert!(!token_works(&member, &t2).await);
    assert!(
        !exists(
            Api::<ServiceAccount>::namespaced(m.clone(), FEDERATION_NAMESPACE),
            "member-kubesphere"
        )
        .await
    );
    assert!(
        !exists(
            Api::<ClusterRoleBinding>::all(m.clone()),
            "kubefed-controller-manager:member-kubesphere"
        )
        .await
    );
}

#[tokio::test]
async fn a_cluster_whose_member_is_gone_is_removed_from_the_host() {
    let host = common::kubesphere("host", Role::Host, "shared").await;
    let member = common::kubesphere("member", Role::Member, "shared").await;
    let h = common::host_link(&host).await;
    join(&h, &[], &candidate("gone", &member)).await.unwrap();
    // What the console saw of it, kept on the host, goes with it.
    let seen = fleet::clusters::history::StateChange {
        at: std::time::SystemTime::now(),
        state: fleet::clusters::history::ClusterState::Unreachable,
        reason: None,
    };
    for cluster in ["gone", "other"] {
        fleet::clusters::history::keep(&h.client, cluster, &seen)
            .await
            .unwrap();
    }
    drop(member);
    let removed = remove_cluster(&h, &[], "gone", &mut |_| {}).await.unwrap();
    let kept = fleet::clusters::history::load(&h.client).await.unwrap();
    assert_eq!(kept.keys().collect::<Vec<_>>(), ["other"]);
    assert!(!removed.member_reached);
    assert!(
        removed
            .left_on_member
            .iter()
            .any(|o| o.contains("gone-kubesphere")),
        "{removed:?}"
    );
    assert!(!exists(Api::<Cluster>::all(h.client.clone()), "gone").await);
    assert!(
        !exists(
            Api::<KubeFedCluster>::namespaced(h.client.clone(), FEDERATION_NAMESPACE),
            "gone"
        )
        .await
    );
    let host_itself = remove_cluster(&h, &[], "host", &mut |_| {})
        .await
        .unwrap_err();
    assert!(host_itself.to_string().contains("host cluster itself"));
}

#[tokio::test]
async fn an_insecure_join_is_recorded_and_propagation_still_works() {
    let host = common::kubesphere("host", Role::Host, "shared").await;
    let member = common::kubesphere("member", Role::Member, "shared").await;
    let h = common::host_link(&host).await;
    let yaml = member.kubeconfig_yaml();
    let ca_line = yaml
        .lines()
        .find(|l| l.contains("certificate-authority-data"))
        .unwrap();
    let mut c = candidate("lab", &member);
    c.kubeconfig = yaml.replace(ca_line, "    insecure-skip-tls-verify: true");
    join(&h, &[], &c).await.unwrap();
    let kfc = Api::<KubeFedCluster>::namespaced(h.client.clone(), FEDERATION_NAMESPACE)
        .get("lab")
        .await
        .unwrap();
    assert_eq!(kfc.spec.disabled_tls_validations, vec!["*".to_string()]);
    assert!(kfc.spec.ca_bundle.is_empty());
    let cluster = Api::<Cluster>::all(h.client.clone())
        .get("lab")
        .await
        .unwrap();
    assert_eq!(
        cluster.metadata.annotations.unwrap()["tandem.io/insecure-skip-tls-verify"],
        "true"
    );

    // The host's kubefed reaches the member through the join (TLS unverified, as recorded).
    let user: User = serde_json::from_value(serde_json::json!({
        "apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "User",
        "metadata": {"name": "carol"}, "spec": {"email": "carol@example.com"},
    }))
    .unwrap();
    Api::<User>::all(h.client.clone())
        .create(&Default::default(), &user)
        .await
        .unwrap();
    let on_member = Api::<User>::all(common::client(&member).await);
    common::eventually(20, async || on_member.get_opt("carol").await.ok().flatten()).await;

    // A verifying kubeconfig later turns verification back on, on both objects.
    fleet::clusters::update_kubeconfig(
        &h,
        "lab",
        &member.kubeconfig_yaml(),
        None,
        std::time::SystemTime::now(),
        &mut |_| {},
    )
    .await
    .unwrap();
    let kfc = Api::<KubeFedCluster>::namespaced(h.client.clone(), FEDERATION_NAMESPACE)
        .get("lab")
        .await
        .unwrap();
    assert!(kfc.spec.disabled_tls_validations.is_empty(), "{kfc:?}");
    assert!(!kfc.spec.ca_bundle.is_empty());
    let cluster = Api::<Cluster>::all(h.client.clone())
        .get("lab")
        .await
        .unwrap();
    assert_ne!(
        cluster.metadata.annotations.unwrap()["tandem.io/insecure-skip-tls-verify"],
        "true"
    );
}

/// The member's kubeconfig with a client certificate (besides its token) valid until 2030.
fn with_certificate(member: &SandboxCluster) -> String {
    use base64::Engine;
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["admin".to_string()]).unwrap();
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2030, 1, 1);
    let pem = params.self_signed(&key).unwrap().pem();
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let yaml = member.kubeconfig_yaml();
    let token_line = yaml.lines().find(|l| l.contains("token:")).unwrap();
    yaml.replace(
        token_line,
        &format!(
            "{token_line}\n    client-certificate-data: {}\n    client-key-data: {}",
            b64(&pem),
            b64(&key.serialize_pem())
        ),
    )
}

fn cert_condition(cluster: &Cluster) -> (String, String) {
    let c = cluster
        .status
        .as_ref()
        .unwrap()
        .conditions
        .iter()
        .find(|c| c.kind == "KubeConfigCertExpiresInSevenDays")
        .unwrap();
    (c.status.clone(), c.message.clone().unwrap_or_default())
}

#[tokio::test]
async fn a_kubeconfig_update_replaces_expiring_credentials_and_clears_the_warning() {
    use fleet::clusters::{UpdateError, edit_cluster, update_kubeconfig};
    let host = common::kubesphere("host", Role::Host, "shared").await;
    let member = common::kubesphere("member", Role::Member, "shared").await;
    let other = common::kubesphere("other", Role::Member, "shared").await;
    let h = common::host_link(&host).await;
    // Three days before the certificate runs out.
    let late_2029 = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_893_196_800);
    let mut c = candidate("prod", &member);
    c.kubeconfig = with_certificate(&member);
    join_cluster(&h, &[], &c, late_2029, &mut |_| {}, &mut |_| {})
        .await
        .unwrap();
    let clusters = Api::<Cluster>::all(h.client.clone());
    assert_eq!(
        cert_condition(&clusters.get("prod").await.unwrap()),
        ("True".into(), "2030-01-01 00:00:00 +0000 UTC".into())
    );

    let wrong = update_kubeconfig(
        &h,
        "prod",
        &other.kubeconfig_yaml(),
        None,
        late_2029,
        &mut |_| {},
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&wrong, UpdateError::ChecksFailed(steps)
            if steps.iter().any(|s| matches!(s.finding, fleet::clusters::Finding::OtherCluster { .. }))),
        "{wrong}"
    );

    let updated = update_kubeconfig(
        &h,
        "prod",
        &member.kubeconfig_yaml(),
        None,
        late_2029,
        &mut |_| {},
    )
    .await
    .unwrap();
    assert_eq!(updated.actions.len(), 3);
    let cluster = clusters.get("prod").await.unwrap();
    assert_eq!(
        cert_condition(&cluster).0,
        "False",
        "the warning clears with token credentials"
    );
    assert!(cluster.is_ready(), "the other conditions stay");

    edit_cluster(&h, "prod", "payments, EU", "demo")
        .await
        .unwrap();
    let cluster = clusters.get("prod").await.unwrap();
    assert_eq!(
        cluster.metadata.labels.unwrap()["cluster.kubesphere.io/group"],
        "demo"
    );
    assert!(matches!(
        edit_cluster(&h, "prod", "", "staging").await,
        Err(UpdateError::UnknownGroup)
    ));
    assert!(matches!(
        update_kubeconfig(
            &h,
            "host",
            &host.kubeconfig_yaml(),
            None,
            late_2029,
            &mut |_| {}
        )
        .await,
        Err(UpdateError::IsHost(_))
    ));
}

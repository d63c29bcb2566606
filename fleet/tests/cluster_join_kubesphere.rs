//! Joining on a host that runs KubeSphere's own cluster controller (as every real host does):
//! Tandem writes the `Cluster` and lets that controller join, never racing it, then checks its
//! result; removal revokes the credential KubeSphere's join made once no host uses it.

mod common;

use std::time::{Duration, SystemTime};

use fleet::clusters::objects::{FEDERATION_NAMESPACE, JOINED_BY_HOST_LABEL, KubeFedCluster};
use fleet::clusters::{ActionResult, Candidate, join_cluster, remove_cluster};
use fleet::kubesphere::Cluster;
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use kube::{Api, Client};
use sandbox::{ClusterRole as Role, SandboxCluster};

/// KubeSphere re-runs its join every two minutes; the model does it every second, so that
/// the test sees re-joins happen.
const RESYNC: Duration = Duration::from_secs(1);

fn candidate(member: &SandboxCluster) -> Candidate {
    Candidate {
        name: "member".into(),
        kubeconfig: member.kubeconfig_yaml(),
        creator: Some("admin".into()),
        ..Default::default()
    }
}

async fn host_token(host: &Client) -> String {
    let secret = Api::<Secret>::namespaced(host.clone(), FEDERATION_NAMESPACE)
        .get("member-secret")
        .await
        .unwrap();
    String::from_utf8(secret.data.unwrap()["token"].0.clone()).unwrap()
}

/// The token of the member account's first token secret: the one KubeSphere hands out.
async fn kubesphere_token(member: &Client) -> String {
    let account = Api::<ServiceAccount>::namespaced(member.clone(), FEDERATION_NAMESPACE)
        .get("member-kubesphere")
        .await
        .unwrap();
    let first = account.secrets.unwrap()[0].name.clone().unwrap();
    let secret = Api::<Secret>::namespaced(member.clone(), FEDERATION_NAMESPACE)
        .get(&first)
        .await
        .unwrap();
    String::from_utf8(secret.data.unwrap()["token"].0.clone()).unwrap()
}

#[tokio::test]
async fn kubesphere_joins_tandem_checks_and_removal_revokes_its_credential() {
    let host = common::kubesphere("host", Role::Host, "shared").await;
    host.run_cluster_controller(RESYNC);
    let member = common::kubesphere("member", Role::Member, "shared").await;
    let (h, m) = (
        common::host_link(&host).await,
        common::client(&member).await,
    );
    // The controller marks the host's own Cluster first, as on a real host.
    common::eventually(10, async || {
        let own = Api::<Cluster>::all(h.client.clone())
            .get("host")
            .await
            .ok()?;
        own.metadata.finalizers.filter(|f| !f.is_empty())
    })
    .await;

    let mut seen = Vec::new();
    let outcome = join_cluster(
        &h,
        &[],
        &candidate(&member),
        SystemTime::now(),
        &mut |_| {},
        &mut |a| seen.push(a.clone()),
    )
    .await
    .unwrap();
    let made: Vec<&str> = outcome
        .actions
        .iter()
        .filter(|a| a.result == ActionResult::MadeByKubeSphere)
        .map(|a| a.object.as_str())
        .collect();
    assert!(
        made.contains(&"ServiceAccount kube-federation-system/member-kubesphere")
            && made.contains(&"KubeFedCluster kube-federation-system/member")
            && made.contains(&"Secret kube-federation-system/member-secret"),
        "{:?}",
        outcome.actions
    );
    // Tandem wrote the Cluster and nothing else: no token of its own on the member.
    let tandem_tokens = Api::<Secret>::namespaced(m.clone(), FEDERATION_NAMESPACE)
        .list(&kube::api::ListParams::default().labels(JOINED_BY_HOST_LABEL))
        .await
        .unwrap();
    assert!(tandem_tokens.items.is_empty(), "two joins raced");
    let cluster = Api::<Cluster>::all(h.client.clone())
        .get("member")
        .await
        .unwrap();
    assert!(cluster.is_ready(), "{:?}", cluster.status);
    // The host uses KubeSphere's credential, and the controller's re-joins keep it so.
    let token = kubesphere_token(&m).await;
    assert_eq!(host_token(&h.client).await, token);
    tokio::time::sleep(RESYNC * 3).await;
    assert_eq!(host_token(&h.client).await, token);

    let mut actions = Vec::new();
    let removed = remove_cluster(&h, &[], "member", &mut |a| actions.push(a.clone()))
        .await
        .unwrap();
    assert!(removed.member_reached);
    // No other host manages it: KubeSphere's full-rights credential goes with the cluster.
    let gone = |api: Api<ServiceAccount>| async move {
        api.get_opt("member-kubesphere").await.unwrap().is_none()
    };
    assert!(
        gone(Api::namespaced(m.clone(), FEDERATION_NAMESPACE)).await,
        "{actions:?}"
    );
    assert!(
        Api::<ClusterRoleBinding>::all(m.clone())
            .get_opt("kubefed-controller-manager:member-kubesphere")
            .await
            .unwrap()
            .is_none()
    );
    let tokens = Api::<Secret>::namespaced(m.clone(), FEDERATION_NAMESPACE)
        .list(&Default::default())
        .await
        .unwrap();
    assert!(
        tokens
            .items
            .iter()
            .all(|s| s.type_.as_deref() != Some("kubernetes.io/service-account-token")),
        "the member token is revoked"
    );
    common::eventually(10, async || {
        Api::<Cluster>::all(h.client.clone())
            .get_opt("member")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    assert!(
        Api::<KubeFedCluster>::namespaced(h.client.clone(), FEDERATION_NAMESPACE)
            .get_opt("member")
            .await
            .unwrap()
            .is_none()
    );
    let _ = seen;
}

#[tokio::test]
async fn a_failed_kubesphere_join_leaves_nothing_behind() {
    let host = common::kubesphere("host", Role::Host, "shared").await;
    host.run_cluster_controller(RESYNC);
    let member = common::kubesphere("member", Role::Member, "shared").await;
    let (h, m) = (
        common::host_link(&host).await,
        common::client(&member).await,
    );
    common::eventually(10, async || {
        let own = Api::<Cluster>::all(h.client.clone())
            .get("host")
            .await
            .ok()?;
        own.metadata.finalizers.filter(|f| !f.is_empty())
    })
    .await;
    // The member refuses the controller's role binding: KubeSphere reports Federated=False.
    member.fail_next("POST", "/clusterrolebindings");
    let failed = join_cluster(
        &h,
        &[],
        &candidate(&member),
        SystemTime::now(),
        &mut |_| {},
        &mut |_| {},
    )
    .await
    .unwrap_err();
    assert!(
        failed
            .to_string()
            .contains("KubeSphere's cluster controller could not join it"),
        "{failed}"
    );
    common::eventually(10, async || {
        Api::<Cluster>::all(h.client.clone())
            .get_opt("member")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    assert!(
        Api::<ServiceAccount>::namespaced(m.clone(), FEDERATION_NAMESPACE)
            .get_opt("member-kubesphere")
            .await
            .unwrap()
            .is_none(),
        "what KubeSphere made on the member is cleaned"
    );
}

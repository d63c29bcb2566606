//! The add-cluster checks, step by step, against sandbox clusters in every shape a candidate
//! member can have: what each step says, and that a failure names the fix.

mod common;

use std::time::SystemTime;

use fleet::clusters::findings::{JoinRight, ManagedHow, Managers};
use fleet::clusters::kubeconfig::KubeconfigProblem;
use fleet::clusters::{
    Candidate, CheckStep, Finding, HostLink, StepReport, Verdict, check_cluster,
};
use fleet::health::ProbeFailure;
use sandbox::{ClusterRole, SandboxCluster};

const SECRET: &str = "shared-jwt-secret";

fn candidate(name: &str, kubeconfig: String) -> Candidate {
    Candidate {
        name: name.into(),
        kubeconfig,
        ..Default::default()
    }
}

async fn check(host: &HostLink, others: &[HostLink], candidate: &Candidate) -> Vec<StepReport> {
    let mut seen = Vec::new();
    let outcome = check_cluster(host, others, candidate, SystemTime::now(), &mut |s| {
        seen.push(s.step)
    })
    .await;
    assert_eq!(seen, CheckStep::ALL, "every step reports once, in order");
    assert_eq!(
        outcome.passed(),
        outcome.steps.iter().all(|s| s.verdict != Verdict::Failed)
    );
    outcome.steps
}

fn step(steps: &[StepReport], which: CheckStep) -> &StepReport {
    steps.iter().find(|s| s.step == which).unwrap()
}

/// The step failed with this finding (the console words it, and its fix: app's messages).
macro_rules! assert_failed {
    ($steps:expr, $which:expr, $found:pat $(if $guard:expr)?) => {{
        let s = step(&$steps, $which);
        assert_eq!(s.verdict, Verdict::Failed, "{:?}: {s:?}", $which);
        assert!(
            matches!(&s.finding, $found $(if $guard)?),
            "{:?} found {:?}",
            $which,
            s.finding
        );
    }};
}

#[tokio::test]
async fn a_healthy_member_passes_every_step_and_shows_its_versions() {
    let host = common::kubesphere("host", ClusterRole::Host, SECRET).await;
    let member = common::kubesphere("member", ClusterRole::Member, SECRET).await;
    let steps = check(
        &common::host_link(&host).await,
        &[],
        &candidate("member", member.kubeconfig_yaml()),
    )
    .await;
    for s in &steps {
        assert_eq!(s.verdict, Verdict::Passed, "{s:?}");
    }
    assert!(matches!(
        &step(&steps, CheckStep::KubeSphere).finding,
        Finding::KubeSphereMember { version, .. } if version == "v3.4.1"
    ));
    assert_eq!(
        step(&steps, CheckStep::Certificate).finding,
        Finding::NoClientCertificate
    );
    // Nothing secret in any report.
    let text = format!("{steps:?}");
    assert!(!text.contains(SECRET));
    let token = member.kubeconfig_yaml();
    let token = token.lines().find(|l| l.contains("token:")).unwrap().trim();
    assert!(!text.contains(token.trim_start_matches("token: ")));
}

#[tokio::test]
async fn kubeconfig_policy_failures_skip_the_rest() {
    let host = common::kubesphere("host", ClusterRole::Host, SECRET).await;
    let exec = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\nusers:\n- name: u\n  user:\n    exec: {command: aws, apiVersion: client.authentication.k8s.io/v1}\n";
    let steps = check(
        &common::host_link(&host).await,
        &[],
        &candidate("x", exec.into()),
    )
    .await;
    assert_failed!(
        steps,
        CheckStep::Kubeconfig,
        Finding::KubeconfigUnusable(KubeconfigProblem::ExecPlugin { command, .. }) if command == "aws"
    );
    assert!(steps[1..].iter().all(|s| s.verdict == Verdict::Skipped));
}

#[tokio::test]
async fn unreachable_401_and_403_are_told_apart() {
    let host = common::kubesphere("host", ClusterRole::Host, SECRET).await;
    let member = common::kubesphere("member", ClusterRole::Member, SECRET).await;
    let h = common::host_link(&host).await;

    let refused = member
        .kubeconfig_yaml()
        .replace(&member.server_url(), "https://127.0.0.1:1");
    let steps = check(&h, &[], &candidate("m", refused)).await;
    assert_failed!(
        steps,
        CheckStep::Connection,
        Finding::NotConnected {
            failure: ProbeFailure::Refused,
            ..
        }
    );
    assert_eq!(
        step(&steps, CheckStep::Certificate).verdict,
        Verdict::Passed
    );

    let yaml = member.kubeconfig_yaml();
    let token_line = yaml.lines().find(|l| l.contains("token:")).unwrap();
    let forged = yaml.replace(token_line, "    token: forged");
    let steps = check(&h, &[], &candidate("m", forged)).await;
    assert_eq!(step(&steps, CheckStep::Connection).verdict, Verdict::Passed);
    assert_failed!(
        steps,
        CheckStep::Permissions,
        Finding::NotConnected {
            failure: ProbeFailure::Unauthorized,
            ..
        }
    );

    let steps = check(&h, &[], &candidate("m", member.viewer_kubeconfig_yaml())).await;
    assert_failed!(
        steps,
        CheckStep::Permissions,
        Finding::MayNotJoin { missing, .. } if missing.contains(&JoinRight::CreateNamespaces)
    );
    // A read-only identity still lets the other checks read what they need.
    assert_eq!(step(&steps, CheckStep::KubeSphere).verdict, Verdict::Passed);
}

#[tokio::test]
async fn kubesphere_role_and_jwt_secret_problems_name_the_fix() {
    let host = common::kubesphere("host", ClusterRole::Host, SECRET).await;
    let h = common::host_link(&host).await;

    let plain = SandboxCluster::start("plain").await.unwrap();
    let steps = check(&h, &[], &candidate("plain", plain.kubeconfig_yaml())).await;
    assert_failed!(steps, CheckStep::KubeSphere, Finding::NoKubeSphere);
    assert_eq!(step(&steps, CheckStep::JwtSecret).verdict, Verdict::Skipped);

    let other_host = common::kubesphere("other", ClusterRole::Host, SECRET).await;
    let steps = check(&h, &[], &candidate("other", other_host.kubeconfig_yaml())).await;
    assert_failed!(
        steps,
        CheckStep::KubeSphere,
        Finding::NotMember { role, .. } if role == "host"
    );

    let stranger = common::kubesphere("stranger", ClusterRole::Member, "another-secret").await;
    let steps = check(&h, &[], &candidate("stranger", stranger.kubeconfig_yaml())).await;
    assert_failed!(
        steps,
        CheckStep::JwtSecret,
        Finding::JwtDiffers { host } if host == "host"
    );
    let text = format!("{steps:?}");
    assert!(!text.contains(SECRET) && !text.contains("another-secret"));
}

#[tokio::test]
async fn duplicates_by_identity_and_by_name() {
    let host = common::kubesphere("host", ClusterRole::Host, SECRET).await;
    let member = common::kubesphere("member", ClusterRole::Member, SECRET).await;
    let other = common::kubesphere("other", ClusterRole::Member, SECRET).await;
    host.join_member(&member, "prod").unwrap();
    let h = common::host_link(&host).await;

    let steps = check(&h, &[], &candidate("staging", member.kubeconfig_yaml())).await;
    assert_failed!(
        steps,
        CheckStep::Duplicate,
        Finding::JoinedAs { host, name, .. } if host == "host" && name == "prod"
    );

    let steps = check(&h, &[], &candidate("prod", other.kubeconfig_yaml())).await;
    assert_failed!(
        steps,
        CheckStep::Duplicate,
        Finding::NameTaken { name, .. } if name == "prod"
    );

    // The host itself: KubeSphere joined it to itself as `host`.
    let steps = check(&h, &[], &candidate("again", host.kubeconfig_yaml())).await;
    assert_failed!(
        steps,
        CheckStep::Duplicate,
        Finding::JoinedAs { name, .. } if name == "host"
    );

    let steps = check(&h, &[], &candidate("Bad_Name", other.kubeconfig_yaml())).await;
    assert_failed!(
        steps,
        CheckStep::Duplicate,
        Finding::BadName { name } if name == "Bad_Name"
    );
}

#[tokio::test]
async fn a_member_of_another_host_is_refused_unless_joined_as_a_second_host() {
    let host = common::kubesphere("host", ClusterRole::Host, SECRET).await;
    let host2 = common::kubesphere("host2", ClusterRole::Host, SECRET).await;
    let member = common::kubesphere("member", ClusterRole::Member, SECRET).await;
    host2.join_member(&member, "member").unwrap();
    let (h, h2) = (
        common::host_link(&host).await,
        common::host_link(&host2).await,
    );

    let mut wanted = candidate("member", member.kubeconfig_yaml());
    let steps = check(&h, std::slice::from_ref(&h2), &wanted).await;
    assert_failed!(
        steps,
        CheckStep::OtherHosts,
        Finding::Managed {
            by: Managers::KnownHosts(by),
            how: ManagedHow::OneHostOnly(_),
        } if by == &[("host2".to_string(), "member".to_string())]
    );

    // A host this console does not know about still shows through its join objects.
    let steps = check(&h, &[], &wanted).await;
    assert_failed!(
        steps,
        CheckStep::OtherHosts,
        Finding::Managed {
            by: Managers::UnknownHosts(joins),
            ..
        } if joins == &["member"]
    );

    wanted.second_host = true;
    let steps = check(&h, &[h2], &wanted).await;
    let s = step(&steps, CheckStep::OtherHosts);
    assert_eq!(s.verdict, Verdict::Warning);
    assert!(matches!(
        s.finding,
        Finding::Managed {
            how: ManagedHow::SecondHost,
            ..
        }
    ));
}

#[tokio::test]
async fn an_insecure_kubeconfig_is_a_warning_not_a_crash() {
    let host = common::kubesphere("host", ClusterRole::Host, SECRET).await;
    let member = common::kubesphere("member", ClusterRole::Member, SECRET).await;
    let yaml = member.kubeconfig_yaml();
    let ca_line = yaml
        .lines()
        .find(|l| l.contains("certificate-authority-data"))
        .unwrap();
    let insecure = yaml.replace(ca_line, "    insecure-skip-tls-verify: true");
    let steps = check(
        &common::host_link(&host).await,
        &[],
        &candidate("member", insecure),
    )
    .await;
    let s = step(&steps, CheckStep::Connection);
    assert_eq!(s.verdict, Verdict::Warning, "{s:?}");
    assert!(matches!(
        s.finding,
        Finding::Connected { insecure: true, .. }
    ));
    assert!(
        steps.iter().all(|s| s.verdict != Verdict::Failed),
        "{steps:?}"
    );
}

#[tokio::test]
async fn a_background_job_reports_its_steps_to_its_owner_only() {
    use fleet::clusters::jobs::{ClusterJobs, JobKind, JobState};
    let host = common::kubesphere("host", ClusterRole::Host, SECRET).await;
    let member = common::kubesphere("member", ClusterRole::Member, SECRET).await;
    let records = fleet::replicas::JobRecords::new(None, "kubesphere-system", "replica".into());
    let jobs = ClusterJobs::new(vec![common::host_link(&host).await], records);
    assert!(
        jobs.start(
            JobKind::Check,
            "admin",
            "nowhere",
            candidate("m", member.kubeconfig_yaml())
        )
        .await
        .is_err()
    );
    let id = jobs
        .start(
            JobKind::Join,
            "admin",
            "host",
            candidate("member", member.kubeconfig_yaml()),
        )
        .await
        .unwrap();
    assert!(
        jobs.view(&id, "mallory").await.is_none(),
        "another user cannot read the job"
    );
    let done = common::eventually(10, async || {
        jobs.view(&id, "admin")
            .await
            .filter(|v| v.state != JobState::Running)
    })
    .await;
    assert_eq!(done.state, JobState::Joined, "{done:?}");
    assert_eq!(done.steps.len(), CheckStep::ALL.len());
    assert!(done.actions.iter().any(|a| a.object == "Cluster member"));
}

#[tokio::test]
async fn a_member_workspace_the_host_federates_elsewhere_blocks_the_join() {
    use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, PostParams};
    let host = common::kubesphere("host", ClusterRole::Host, SECRET).await;
    let member = common::kubesphere("member", ClusterRole::Member, SECRET).await;
    let resource = |group: &str, version: &str, kind: &str, plural: &str| {
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
    };
    // KubeSphere issue #3169: kubefed would delete the member's copy of `finance`.
    let on_member = resource(
        "tenant.kubesphere.io",
        "v1alpha1",
        "Workspace",
        "workspaces",
    );
    let workspace: DynamicObject = serde_json::from_value(serde_json::json!({
        "apiVersion": "tenant.kubesphere.io/v1alpha1", "kind": "Workspace",
        "metadata": {"name": "finance", "labels": {"kubefed.io/managed": "true"}}, "spec": {},
    }))
    .unwrap();
    Api::<DynamicObject>::all_with(common::client(&member).await, &on_member)
        .create(&PostParams::default(), &workspace)
        .await
        .unwrap();
    let federated = resource(
        "types.kubefed.io",
        "v1beta1",
        "FederatedWorkspace",
        "federatedworkspaces",
    );
    let elsewhere: DynamicObject = serde_json::from_value(serde_json::json!({
        "apiVersion": "types.kubefed.io/v1beta1", "kind": "FederatedWorkspace",
        "metadata": {"name": "finance"},
        "spec": {"placement": {"clusters": [{"name": "other"}]}, "template": {"spec": {}}},
    }))
    .unwrap();
    let h = common::host_link(&host).await;
    Api::<DynamicObject>::all_with(h.client.clone(), &federated)
        .create(&PostParams::default(), &elsewhere)
        .await
        .unwrap();

    let steps = check(&h, &[], &candidate("member", member.kubeconfig_yaml())).await;
    assert_failed!(
        steps,
        CheckStep::Workspaces,
        Finding::WorkspaceConflicts { workspaces, cluster, .. }
            if workspaces == &["finance"] && cluster == "member"
    );
    // Placing it on this cluster too resolves it.
    let fixed = check(&h, &[], &candidate("other", member.kubeconfig_yaml())).await;
    assert_eq!(step(&fixed, CheckStep::Workspaces).verdict, Verdict::Passed);
}

/// A kubeconfig pointing at a cloud metadata service fails the kubeconfig step with the
/// policy's refusal (for the console to word in the reader's language) and nothing after it
/// runs: no connection is made.
#[tokio::test]
async fn a_kubeconfig_aimed_at_the_metadata_service_is_refused_before_connecting() {
    let host = common::kubesphere("host", ClusterRole::Host, SECRET).await;
    let member = common::kubesphere("member", ClusterRole::Member, SECRET).await;
    let yaml = member.kubeconfig_yaml();
    let server = yaml
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: "))
        .unwrap()
        .to_string();
    let hostile = yaml.replace(&server, "https://169.254.169.254/latest/meta-data/");
    let steps = check(
        &common::host_link(&host).await,
        &[],
        &candidate("member", hostile),
    )
    .await;
    assert_failed!(
        steps,
        CheckStep::Kubeconfig,
        Finding::AddressRefused(fleet::clusters::AddressRefusal::Metadata { .. })
    );
    for s in steps.iter().filter(|s| s.step != CheckStep::Kubeconfig) {
        assert_eq!(s.verdict, Verdict::Skipped, "{s:?}");
    }
}

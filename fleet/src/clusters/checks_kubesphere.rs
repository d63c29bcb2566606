//! The checks that read KubeSphere on the member and on the hosts: duplicate, KubeSphere
//! member, other hosts, jwtSecret and workspaces.

use k8s_openapi::api::core::v1::Secret;
use kube::Client;
use kube::api::{Api, DynamicObject, ListParams};

use super::checks::{MemberFacts, Run};
use super::objects::{self, FEDERATION_NAMESPACE, JOINED_BY_HOST_LABEL};
use super::steps::{CheckStep, StepReport};
use super::{Candidate, HostLink};
use crate::config::dns1123_label_problem;
use crate::member_checks::{
    JwtComparison, KubeSphereConfig, compare_jwt_secrets, existing_joins, kube_system_uid,
    kubesphere_version, read_kubesphere_config,
};

fn read_failure(step: CheckStep, what: &str, err: &kube::Error) -> StepReport {
    let why = super::connect::explain(err);
    StepReport::failed(
        step,
        format!("cannot read {what}: {why}"),
        "check that the cluster is reachable and the kubeconfig's identity may read it, then run the checks again",
    )
}

pub(super) async fn duplicate(
    run: &mut Run<'_>,
    host: &HostLink,
    candidate: &Candidate,
    member: &Client,
    facts: &mut MemberFacts,
) {
    let step = CheckStep::Duplicate;
    if let Some(problem) = dns1123_label_problem(&candidate.name) {
        return run.report(StepReport::failed(
            step,
            format!("the cluster name `{}` {problem}", candidate.name),
            "use lowercase letters, digits and '-', at most 63 characters, e.g. `prod-eu-1`",
        ));
    }
    let uid = match kube_system_uid(member).await {
        Ok(uid) => uid,
        Err(err) => {
            return run.report(read_failure(
                step,
                "the cluster's kube-system namespace",
                &err,
            ));
        }
    };
    facts.uid = Some(uid.clone());
    let clusters = match super::list_host_clusters(&host.client).await {
        Ok(list) => list,
        Err(err) => {
            return run.report(read_failure(
                step,
                &format!("the clusters of host `{}`", host.name),
                &err,
            ));
        }
    };
    let same_uid = clusters
        .iter()
        .find(|c| c.uid.as_deref() == Some(uid.as_str()));
    let same_name = clusters.iter().find(|c| c.name == candidate.name);
    facts.joined_here = same_uid.is_some_and(|c| c.name == candidate.name);
    run.report(match (same_uid, same_name) {
        (Some(c), _) if c.name == candidate.name => StepReport::warning(step,
            format!("this cluster is already joined to `{}` as `{}`", host.name, c.name),
            "joining again repairs its join objects; to change its credentials, update its kubeconfig instead"),
        (Some(c), _) => StepReport::failed(step,
            format!("this cluster (kube-system UID {uid}) is already joined to `{}` as `{}`", host.name, c.name),
            format!("a cluster can be joined once per host: use `{}`, or remove it first to join it under another name", c.name)),
        (None, Some(_)) => StepReport::failed(step,
            format!("host `{}` already has another cluster named `{}`", host.name, candidate.name),
            "choose another name"),
        (None, None) => StepReport::passed(step, format!("new to `{}` (kube-system UID {uid})", host.name)),
    });
}

pub(super) async fn kubesphere(
    run: &mut Run<'_>,
    member: &Client,
    facts: &mut MemberFacts,
) -> Option<KubeSphereConfig> {
    let step = CheckStep::KubeSphere;
    let version = match kubesphere_version(member).await {
        Ok(Some(v)) => v,
        Ok(None) => {
            run.report(StepReport::failed(step, "KubeSphere is not running on this cluster: ks-apiserver does not answer /kapis/version through the service proxy",
                "install KubeSphere 3.4 on it with `multicluster.clusterRole: member` (ks-installer), and check `kubectl -n kubesphere-system get pods`"));
            return None;
        }
        Err(err) => {
            run.report(read_failure(step, "ks-apiserver's version", &err));
            return None;
        }
    };
    facts.kubesphere_version = Some(version.clone());
    let config = match read_kubesphere_config(member).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            run.report(StepReport::failed(step, format!("KubeSphere {version} answers, but configmap kubesphere-system/kubesphere-config has no readable kubesphere.yaml"), "reinstall or repair KubeSphere: ks-installer writes that configmap"));
            return None;
        }
        Err(err) => {
            run.report(read_failure(
                step,
                "configmap kubesphere-system/kubesphere-config",
                &err,
            ));
            return None;
        }
    };
    let kubernetes = facts.kubernetes_version.clone().unwrap_or_default();
    run.report(if config.cluster_role == "member" {
        StepReport::passed(step, format!("KubeSphere {version} on Kubernetes {kubernetes}, clusterRole member"))
    } else {
        StepReport::failed(step, format!("KubeSphere {version} is installed with clusterRole `{}`; a host can only join a member", config.cluster_role),
            "make it a member: `kubectl -n kubesphere-system patch clusterconfiguration ks-installer --type merge -p '{\"spec\":{\"multicluster\":{\"clusterRole\":\"member\"}}}'`, wait for ks-installer to finish, then run the checks again")
    });
    Some(config)
}

pub(super) async fn other_hosts(
    run: &mut Run<'_>,
    host: &HostLink,
    others: &[HostLink],
    candidate: &Candidate,
    member: &Client,
    facts: &mut MemberFacts,
) {
    let step = CheckStep::OtherHosts;
    let Some(uid) = facts.uid.clone() else {
        return run.report(StepReport::skipped(step, "needs the cluster's identity"));
    };
    for other in others {
        if let Ok(clusters) = super::list_host_clusters(&other.client).await
            && let Some(c) = clusters
                .iter()
                .find(|c| c.uid.as_deref() == Some(uid.as_str()))
        {
            facts
                .managed_by
                .push(format!("{} (as `{}`)", other.name, c.name));
        }
    }
    let joins = match existing_joins(member).await {
        Ok(j) => j,
        Err(err) => {
            return run.report(read_failure(
                step,
                "the member's kube-federation-system",
                &err,
            ));
        }
    };
    let resuming = match own_token_secret(host, member, &candidate.name).await {
        Ok(found) => found,
        Err(err) => return run.report(read_failure(step, "the member's token secrets", &err)),
    };
    let unknown: Vec<String> = joins
        .into_iter()
        .filter(|j| !(resuming && *j == candidate.name))
        .collect();
    let risk = "two hosts over one member fight over every same-name user, role and workspace: the member's copy flips between the hosts' versions. Tandem refuses same-name creation across hosts and shows conflicts on the Multi-host page";
    let managed = if !facts.managed_by.is_empty() {
        Some(format!(
            "already managed by {}",
            facts.managed_by.join(", ")
        ))
    } else if !unknown.is_empty() {
        Some(format!(
            "already joined by a host this console does not know, as {}",
            unknown
                .iter()
                .map(|j| format!("`{j}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    } else {
        None
    };
    run.report(match managed {
        Some(who) if candidate.second_host => StepReport::warning(step, format!("{who}; joining as a second host on purpose (active-active)"), risk),
        Some(who) if facts.joined_here => StepReport::warning(step, format!("{who}, and by `{}` too (active-active)", host.name), risk),
        Some(who) => StepReport::failed(step, who, format!("KubeSphere allows one host per member. To manage it from `{}` as well, join it as a second host on purpose; {risk}", host.name)),
        None if resuming => StepReport::passed(step, format!("no other host manages it; an unfinished join from `{}` will be completed", host.name)),
        None => StepReport::passed(step, "no other host manages it"),
    });
}

/// Whether this host already holds a token on the member for `cluster` (a join of it began).
async fn own_token_secret(
    host: &HostLink,
    member: &Client,
    cluster: &str,
) -> Result<bool, kube::Error> {
    let host_uid = kube_system_uid(&host.client).await?;
    let secrets: Api<Secret> = Api::namespaced(member.clone(), FEDERATION_NAMESPACE);
    match secrets
        .get_opt(&objects::token_secret(cluster, &host_uid))
        .await
    {
        Ok(found) => Ok(found.is_some_and(|s| {
            s.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(JOINED_BY_HOST_LABEL))
                == Some(&host_uid)
        })),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
        Err(e) => Err(e),
    }
}

pub(super) async fn jwt_secret(
    run: &mut Run<'_>,
    host: &HostLink,
    member: Option<&KubeSphereConfig>,
) {
    let step = CheckStep::JwtSecret;
    let Some(member) = member else {
        return run.report(StepReport::skipped(step, "needs KubeSphere on the member"));
    };
    let host_config = match read_kubesphere_config(&host.client).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return run.report(StepReport::failed(
                step,
                format!("host `{}` has no kubesphere-config", host.name),
                "install KubeSphere on the host with `multicluster.clusterRole: host`",
            ));
        }
        Err(err) => {
            return run.report(read_failure(
                step,
                &format!("host `{}`'s kubesphere-config", host.name),
                &err,
            ));
        }
    };
    let copy = format!(
        "copy the host's secret into the member's ks-installer configuration, without printing it: `SECRET=$(kubectl --context {host} -n kubesphere-system get configmap kubesphere-config -o jsonpath='{{.data.kubesphere\\.yaml}}' | sed -n 's/^ *jwtSecret: *\"\\{{0,1\\}}\\([^\"]*\\)\"\\{{0,1\\}} *$/\\1/p') && kubectl --context <member> -n kubesphere-system patch clusterconfiguration ks-installer --type merge -p \"{{\\\"spec\\\":{{\\\"authentication\\\":{{\\\"jwtSecret\\\":\\\"$SECRET\\\"}}}}}}\"`, then wait for ks-installer to restart ks-apiserver",
        host = host.name
    );
    run.report(match compare_jwt_secrets(&host_config, member) {
        JwtComparison::Same => StepReport::passed(step, format!("the member's jwtSecret equals `{}`'s (compared here, shown nowhere)", host.name)),
        JwtComparison::Different => StepReport::failed(step, format!("the member's jwtSecret differs from `{}`'s: the member would refuse every session from the host (\"session timeout\")", host.name), copy),
        JwtComparison::Missing => StepReport::failed(step, "a jwtSecret is not set in kubesphere-config (on the host or the member)", copy),
    });
}

/// KubeSphere's `checkWorkspaces`: a workspace on the member that kubefed manages, which the
/// host federates with a placement leaving this cluster out, would be deleted by the join.
pub(super) async fn workspaces(
    run: &mut Run<'_>,
    host: &HostLink,
    candidate: &Candidate,
    member: &Client,
) {
    let step = CheckStep::Workspaces;
    match workspace_conflicts(&host.client, member, &candidate.name).await {
        Ok(conflicts) if conflicts.is_empty() => run.report(StepReport::passed(step, "no member workspace conflicts with the host's")),
        Ok(conflicts) => run.report(StepReport::failed(step,
            format!("workspace {} is on the member and federated by `{}` to other clusters only: the join would delete it on the member", conflicts.iter().map(|w| format!("`{w}`")).collect::<Vec<_>>().join(", "), host.name),
            format!("add `{}` to the workspace's placement on `{}` (its cluster list), or rename the member's workspace", candidate.name, host.name))),
        Err(err) => run.report(read_failure(step, "workspaces", &err)),
    }
}

pub(crate) async fn workspace_conflicts(
    host: &Client,
    member: &Client,
    cluster: &str,
) -> Result<Vec<String>, kube::Error> {
    let on_member: Api<DynamicObject> =
        Api::all_with(member.clone(), &objects::member_workspace_resource());
    let managed = match on_member
        .list(&ListParams::default().labels("kubefed.io/managed=true"))
        .await
    {
        Ok(list) => list.items,
        Err(kube::Error::Api(s)) if s.code == 404 => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let federated: Api<DynamicObject> =
        Api::all_with(host.clone(), &objects::federated_workspace_resource());
    let mut conflicts = Vec::new();
    for ws in managed {
        let Some(name) = ws.metadata.name else {
            continue;
        };
        let Some(fed) = federated.get_opt(&name).await? else {
            continue;
        };
        let Some(clusters) = fed
            .data
            .pointer("/spec/placement/clusters")
            .and_then(|c| c.as_array())
        else {
            continue;
        };
        if !clusters.iter().any(|c| c["name"] == cluster) {
            conflicts.push(name);
        }
    }
    Ok(conflicts)
}

//! The checks that read KubeSphere on the member and on the hosts: duplicate, KubeSphere
//! member, other hosts, jwtSecret and workspaces.

use k8s_openapi::api::core::v1::Secret;
use kube::Client;
use kube::api::{Api, DynamicObject, ListParams};

use super::checks::{MemberFacts, Run};
use super::findings::{Finding, ManagedHow, Managers, ReadTarget, SkipReason};
use super::objects::{self, FEDERATION_NAMESPACE, JOINED_BY_HOST_LABEL};
use super::steps::{CheckStep, StepReport};
use super::{Candidate, HostLink};
use crate::clusters::member_facts::{
    JwtComparison, KubeSphereConfig, compare_jwt_secrets, existing_joins, kube_system_uid,
    kubesphere_version, read_kubesphere_config,
};
use crate::config::dns1123_label_problem;

pub(super) fn read_failure(step: CheckStep, what: ReadTarget, err: &kube::Error) -> StepReport {
    StepReport::failed(
        step,
        Finding::CannotRead {
            what,
            failure: super::connect::explain(err),
        },
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
    if dns1123_label_problem(&candidate.name).is_some() {
        return run.report(StepReport::failed(
            step,
            Finding::BadName {
                name: candidate.name.clone(),
            },
        ));
    }
    let uid = match kube_system_uid(member).await {
        Ok(uid) => uid,
        Err(err) => {
            return run.report(read_failure(step, ReadTarget::KubeSystem, &err));
        }
    };
    facts.uid = Some(uid.clone());
    let clusters = match super::list_host_clusters(&host.client).await {
        Ok(list) => list,
        Err(err) => {
            return run.report(read_failure(
                step,
                ReadTarget::HostClusters(host.name.clone()),
                &err,
            ));
        }
    };
    let same_uid = clusters
        .iter()
        .find(|c| c.uid.as_deref() == Some(uid.as_str()));
    let same_name = clusters.iter().find(|c| c.name == candidate.name);
    facts.joined_here = same_uid.is_some_and(|c| c.name == candidate.name);
    let host = host.name.clone();
    run.report(match (same_uid, same_name) {
        (Some(c), _) if c.name == candidate.name => {
            StepReport::warning(step, Finding::JoinedHereAlready { host })
        }
        (Some(c), _) => StepReport::failed(
            step,
            Finding::JoinedAs {
                host,
                name: c.name.clone(),
                uid,
            },
        ),
        (None, Some(_)) => StepReport::failed(
            step,
            Finding::NameTaken {
                host,
                name: candidate.name.clone(),
            },
        ),
        (None, None) => StepReport::passed(step, Finding::NewToHost { host, uid }),
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
            run.report(StepReport::failed(step, Finding::NoKubeSphere));
            return None;
        }
        Err(err) => {
            run.report(read_failure(step, ReadTarget::KubeSphereVersion, &err));
            return None;
        }
    };
    facts.kubesphere_version = Some(version.clone());
    let config = match read_kubesphere_config(member).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            run.report(StepReport::failed(
                step,
                Finding::NoKubeSphereConfig { version },
            ));
            return None;
        }
        Err(err) => {
            run.report(read_failure(step, ReadTarget::KubeSphereConfig, &err));
            return None;
        }
    };
    let kubernetes = facts.kubernetes_version.clone().unwrap_or_default();
    run.report(if config.cluster_role == "member" {
        StepReport::passed(
            step,
            Finding::KubeSphereMember {
                version,
                kubernetes,
            },
        )
    } else {
        StepReport::failed(
            step,
            Finding::NotMember {
                version,
                role: config.cluster_role.clone(),
            },
        )
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
        return run.report(StepReport::skipped(step, SkipReason::NeedsIdentity));
    };
    for other in others {
        if let Ok(clusters) = super::list_host_clusters(&other.client).await
            && let Some(c) = clusters
                .iter()
                .find(|c| c.uid.as_deref() == Some(uid.as_str()))
        {
            facts.managed_by.push((other.name.clone(), c.name.clone()));
        }
    }
    let joins = match existing_joins(member).await {
        Ok(j) => j,
        Err(err) => {
            return run.report(read_failure(step, ReadTarget::FederationNamespace, &err));
        }
    };
    let resuming = match own_token_secret(host, member, &candidate.name).await {
        Ok(found) => found,
        Err(err) => return run.report(read_failure(step, ReadTarget::TokenSecrets, &err)),
    };
    let unknown: Vec<String> = joins
        .into_iter()
        .filter(|j| !(resuming && *j == candidate.name))
        .collect();
    let managers = if !facts.managed_by.is_empty() {
        Some(Managers::KnownHosts(facts.managed_by.clone()))
    } else if !unknown.is_empty() {
        Some(Managers::UnknownHosts(unknown))
    } else {
        None
    };
    let managed = |how| Finding::Managed {
        by: managers.clone().unwrap_or(Managers::KnownHosts(Vec::new())),
        how,
    };
    let host = host.name.clone();
    run.report(match &managers {
        Some(_) if candidate.second_host => {
            StepReport::warning(step, managed(ManagedHow::SecondHost))
        }
        Some(_) if facts.joined_here => {
            StepReport::warning(step, managed(ManagedHow::AlsoHere(host)))
        }
        Some(_) => StepReport::failed(step, managed(ManagedHow::OneHostOnly(host))),
        None if resuming => StepReport::passed(step, Finding::ResumingJoin { host }),
        None => StepReport::passed(step, Finding::NoOtherHost),
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
        return run.report(StepReport::skipped(step, SkipReason::NeedsKubeSphere));
    };
    let name = host.name.clone();
    let host_config = match read_kubesphere_config(&host.client).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return run.report(StepReport::failed(
                step,
                Finding::HostWithoutKubeSphere { host: name },
            ));
        }
        Err(err) => {
            return run.report(read_failure(
                step,
                ReadTarget::HostKubeSphereConfig(name),
                &err,
            ));
        }
    };
    run.report(match compare_jwt_secrets(&host_config, member) {
        JwtComparison::Same => StepReport::passed(step, Finding::JwtSame { host: name }),
        JwtComparison::Different => StepReport::failed(step, Finding::JwtDiffers { host: name }),
        JwtComparison::Missing => StepReport::failed(step, Finding::JwtMissing { host: name }),
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
    run.report(
        match workspace_conflicts(&host.client, member, &candidate.name).await {
            Ok(conflicts) if conflicts.is_empty() => {
                StepReport::passed(step, Finding::NoWorkspaceConflict)
            }
            Ok(workspaces) => StepReport::failed(
                step,
                Finding::WorkspaceConflicts {
                    workspaces,
                    host: host.name.clone(),
                    cluster: candidate.name.clone(),
                },
            ),
            Err(err) => read_failure(step, ReadTarget::Workspaces, &err),
        },
    );
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

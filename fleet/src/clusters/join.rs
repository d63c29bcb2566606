//! `ClusterJoin`: what KubeSphere's cluster controller does when a host joins a member
//! (docs/KUBESPHERE.md 2.4, 2.5), done by Tandem after the checks passed, object by object.
//!
//! Idempotent: every object is created when missing and corrected when it differs, so a retry
//! finishes what a failed attempt began. An attempt that fails removes again what it created,
//! so nothing half-made stays behind. Unlike KubeSphere, each host gets its own token on the
//! member (a `<cluster>-kubesphere-token-<host>` secret of the shared service account), so
//! removing the cluster from one host revokes that host's access only.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use base64::Engine;
use k8s_openapi::api::core::v1::{Namespace, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Client;
use kube::api::{Api, DynamicObject, Patch};
use serde_json::json;

use super::actions::{ActionReport, Actions, Callback, Side};
use super::checks::{CheckOutcome, MemberFacts, check_cluster};
use super::kubesphere_join::{self, KUBESPHERE_JOIN_WAIT, KubeSphereJoin};
use super::objects::*;
use super::steps::StepReport;
use super::{Candidate, HostLink, status};
use crate::clusters::kubeconfig::CheckedKubeconfig;
use crate::clusters::member_facts::kube_system_uid;

/// How long the member may take to issue the service-account token (KubeSphere: 30 s).
const TOKEN_WAIT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    #[error("{0}")]
    Invalid(super::BasicProblem),
    #[error("the checks did not pass: {}", super::steps::failed_titles(.0))]
    ChecksFailed(Vec<StepReport>),
    #[error("{side} {object}: {message}")]
    Write {
        side: Side,
        object: String,
        message: String,
        /// What this attempt created and could not remove again.
        left_behind: Vec<String>,
    },
}

/// A finished join: the checks and every object written.
#[derive(Debug)]
pub struct JoinOutcome {
    pub steps: Vec<StepReport>,
    pub actions: Vec<ActionReport>,
    pub facts: MemberFacts,
}

/// Checks `candidate` and, when every check passed, joins it to `host`.
pub async fn join_cluster(
    host: &HostLink,
    other_hosts: &[HostLink],
    candidate: &Candidate,
    now: SystemTime,
    on_step: &mut (dyn FnMut(&StepReport) + Send),
    on_action: Callback<'_>,
) -> Result<JoinOutcome, JoinError> {
    if let Some(problem) = candidate.basic_problem() {
        return Err(JoinError::Invalid(problem));
    }
    let CheckOutcome {
        steps,
        facts,
        connection,
    } = check_cluster(host, other_hosts, candidate, now, on_step).await;
    let Some((checked, member)) = connection else {
        return Err(JoinError::ChecksFailed(steps));
    };
    let mut actions = Actions::new(on_action);
    let written = write_join(
        &mut actions,
        host,
        other_hosts,
        &member,
        &checked,
        candidate,
        &facts,
        now,
    )
    .await;
    match written {
        Ok(()) => Ok(JoinOutcome {
            steps,
            actions: actions.reports,
            facts,
        }),
        Err((side, object, err)) => {
            let left_behind = actions.roll_back().await;
            Err(JoinError::Write {
                side,
                object,
                message: err.to_string(),
                left_behind,
            })
        }
    }
}

type Failure = (Side, String, kube::Error);

fn at(side: Side, object: &str) -> impl FnOnce(kube::Error) -> Failure {
    let object = object.to_string();
    move |e| (side, object, e)
}

fn meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: namespace.map(String::from),
        ..Default::default()
    }
}

#[allow(clippy::too_many_arguments)]
async fn write_join(
    actions: &mut Actions<'_>,
    host: &HostLink,
    other_hosts: &[HostLink],
    member: &Client,
    checked: &CheckedKubeconfig,
    candidate: &Candidate,
    facts: &MemberFacts,
    now: SystemTime,
) -> Result<(), Failure> {
    let name = candidate.name.as_str();
    // The `Cluster` first, as ks-console creates it: on a host that runs KubeSphere's
    // cluster controller, that controller does the join (see `kubesphere_join`).
    let clusters: Api<DynamicObject> = Api::all_with(host.client.clone(), &cluster_resource());
    let object = format!("Cluster {name}");
    let cluster = candidate.cluster_object(checked, facts);
    let spec = cluster.data["spec"].clone();
    let wanted_meta = (
        cluster.metadata.labels.clone(),
        cluster.metadata.annotations.clone(),
    );
    actions.ensure(Side::Host, object.clone(), &clusters, &cluster, |existing| {
        let same = existing.data["spec"] == spec && (existing.metadata.labels.clone(), existing.metadata.annotations.clone()) == wanted_meta;
        (!same).then(|| json!({"metadata": {"labels": wanted_meta.0, "annotations": wanted_meta.1}, "spec": spec}))
    }).await.map_err(at(Side::Host, &object))?;
    let created_here = actions
        .reports
        .last()
        .is_some_and(|r| r.result == super::actions::ActionResult::Created);
    let grace = kubesphere_join::controller_grace(&clusters, name)
        .await
        .map_err(at(Side::Host, &object))?;
    if kubesphere_join::controller_took_it(&clusters, name, grace)
        .await
        .map_err(at(Side::Host, &object))?
    {
        return match kubesphere_join::wait_for_kubesphere(&clusters, name, KUBESPHERE_JOIN_WAIT)
            .await
            .map_err(at(Side::Host, &object))?
        {
            KubeSphereJoin::Joined => {
                kubesphere_join::report_what_kubesphere_made(actions, &host.client, member, name)
                    .await
                    .map_err(at(Side::Member, "KubeSphere's join objects"))?;
                Ok(())
            }
            failed => {
                // KubeSphere never removes what its join made on the member; a failed join
                // that Tandem started does not leave it behind (unless another host uses it).
                if created_here {
                    let _ = clusters.delete(name, &Default::default()).await;
                    super::remove::clean_member(actions, host, other_hosts, member, name).await;
                }
                let message = match failed {
                    KubeSphereJoin::Failed(reason) => {
                        format!("KubeSphere's cluster controller could not join it: {reason}")
                    }
                    _ => format!(
                        "KubeSphere's cluster controller took the Cluster up but gave no verdict within {} s; see `kubectl get cluster {name} -o yaml` and ks-controller-manager's log on the host",
                        KUBESPHERE_JOIN_WAIT.as_secs()
                    ),
                };
                Err((Side::Host, object, kube::Error::Service(message.into())))
            }
        };
    }
    let sa = service_account(name);
    let role = join_role(name);
    let host_uid = kube_system_uid(&host.client)
        .await
        .map_err(at(Side::Host, "Namespace kube-system"))?;

    // The member's side: a service account kubefed acts as, with a token for this host.
    let object = format!("Namespace {FEDERATION_NAMESPACE}");
    let namespaces: Api<Namespace> = Api::all(member.clone());
    actions
        .ensure(
            Side::Member,
            object.clone(),
            &namespaces,
            &Namespace {
                metadata: meta(FEDERATION_NAMESPACE, None),
                ..Default::default()
            },
            |_| None,
        )
        .await
        .map_err(at(Side::Member, &object))?;
    let object = format!("ServiceAccount {FEDERATION_NAMESPACE}/{sa}");
    let accounts: Api<ServiceAccount> = Api::namespaced(member.clone(), FEDERATION_NAMESPACE);
    actions
        .ensure(
            Side::Member,
            object.clone(),
            &accounts,
            &ServiceAccount {
                metadata: meta(&sa, Some(FEDERATION_NAMESPACE)),
                ..Default::default()
            },
            |_| None,
        )
        .await
        .map_err(at(Side::Member, &object))?;
    let token_name = token_secret(name, &host_uid);
    let object = format!("Secret {FEDERATION_NAMESPACE}/{token_name}");
    let secrets: Api<Secret> = Api::namespaced(member.clone(), FEDERATION_NAMESPACE);
    let mut token_meta = meta(&token_name, Some(FEDERATION_NAMESPACE));
    token_meta.annotations = Some(BTreeMap::from([(
        SERVICE_ACCOUNT_NAME_ANNOTATION.into(),
        sa.clone(),
    )]));
    token_meta.labels = Some(BTreeMap::from([(
        JOINED_BY_HOST_LABEL.into(),
        host_uid.clone(),
    )]));
    let token_secret = Secret {
        metadata: token_meta,
        type_: Some(SERVICE_ACCOUNT_TOKEN.into()),
        ..Default::default()
    };
    actions
        .ensure(
            Side::Member,
            object.clone(),
            &secrets,
            &token_secret,
            |_| None,
        )
        .await
        .map_err(at(Side::Member, &object))?;
    let token = wait_for_token(&secrets, &token_name)
        .await
        .map_err(at(Side::Member, &object))?;

    let roles: Api<ClusterRole> = Api::all(member.clone());
    let object = format!("ClusterRole {role}");
    let full_rights = ClusterRole {
        metadata: meta(&role, None),
        rules: Some(vec![
            PolicyRule {
                api_groups: Some(vec!["*".into()]),
                resources: Some(vec!["*".into()]),
                verbs: vec!["*".into()],
                ..Default::default()
            },
            PolicyRule {
                non_resource_urls: Some(vec!["*".into()]),
                verbs: vec!["get".into()],
                ..Default::default()
            },
        ]),
        ..Default::default()
    };
    let wanted_rules = full_rights.rules.clone();
    actions
        .ensure(
            Side::Member,
            object.clone(),
            &roles,
            &full_rights,
            |existing| (existing.rules != wanted_rules).then(|| json!({"rules": wanted_rules})),
        )
        .await
        .map_err(at(Side::Member, &object))?;
    let bindings: Api<ClusterRoleBinding> = Api::all(member.clone());
    let object = format!("ClusterRoleBinding {role}");
    let subject = Subject {
        kind: "ServiceAccount".into(),
        name: sa.clone(),
        namespace: Some(FEDERATION_NAMESPACE.into()),
        ..Default::default()
    };
    let binding = ClusterRoleBinding {
        metadata: meta(&role, None),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "ClusterRole".into(),
            name: role.clone(),
        },
        subjects: Some(vec![subject.clone()]),
    };
    actions.ensure(Side::Member, object.clone(), &bindings, &binding, |existing| {
        let subjects = existing.subjects.clone().unwrap_or_default();
        (!subjects.contains(&subject)).then(|| json!({"subjects": subjects.into_iter().chain([subject.clone()]).collect::<Vec<_>>()}))
    }).await.map_err(at(Side::Member, &object))?;

    // The host's side.
    let object = format!("Namespace {FEDERATION_NAMESPACE}");
    let host_namespaces: Api<Namespace> = Api::all(host.client.clone());
    actions
        .ensure(
            Side::Host,
            object.clone(),
            &host_namespaces,
            &Namespace {
                metadata: meta(FEDERATION_NAMESPACE, None),
                ..Default::default()
            },
            |_| None,
        )
        .await
        .map_err(at(Side::Host, &object))?;
    let host_secret_name = host_secret(name);
    let object = format!("Secret {FEDERATION_NAMESPACE}/{host_secret_name}");
    let host_secrets: Api<Secret> = Api::namespaced(host.client.clone(), FEDERATION_NAMESPACE);
    let token_data = BTreeMap::from([(
        "token".to_string(),
        k8s_openapi::ByteString(token.clone().into_bytes()),
    )]);
    let copy = Secret {
        metadata: meta(&host_secret_name, Some(FEDERATION_NAMESPACE)),
        type_: Some("Opaque".into()),
        data: Some(token_data),
        ..Default::default()
    };
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    actions
        .ensure(
            Side::Host,
            object.clone(),
            &host_secrets,
            &copy,
            |existing| {
                let same = existing
                    .data
                    .as_ref()
                    .and_then(|d| d.get("token"))
                    .is_some_and(|t| t.0 == token.as_bytes());
                (!same).then(|| json!({"data": {"token": b64(token.as_bytes())}}))
            },
        )
        .await
        .map_err(at(Side::Host, &object))?;

    let kfcs: Api<KubeFedCluster> = Api::namespaced(host.client.clone(), FEDERATION_NAMESPACE);
    let object = format!("KubeFedCluster {FEDERATION_NAMESPACE}/{name}");
    if kfcs
        .get_opt(name)
        .await
        .map_err(at(Side::Host, &object))?
        .is_none()
    {
        // KubeSphere's checkWorkspaces, again right before the first KubeFedCluster: the
        // check step may be minutes old.
        let conflicts = super::kubesphere_steps::workspace_conflicts(&host.client, member, name)
            .await
            .map_err(at(Side::Member, "workspaces"))?;
        if !conflicts.is_empty() {
            let message = format!(
                "workspace {} on the member conflicts with the host's",
                conflicts.join(", ")
            );
            actions.report(
                Side::Host,
                object.clone(),
                super::actions::ActionResult::Failed(message.clone()),
            );
            return Err((Side::Host, object, kube::Error::Service(message.into())));
        }
    }
    let labels = candidate.labels();
    let mut kfc = KubeFedCluster::new(
        name,
        KubeFedClusterSpec {
            api_endpoint: checked.server.clone(),
            ca_bundle: if facts.insecure {
                String::new()
            } else {
                checked.certificate_authority_data().unwrap_or_default()
            },
            secret_ref: SecretRef {
                name: host_secret_name.clone(),
            },
            disabled_tls_validations: if facts.insecure {
                vec!["*".into()]
            } else {
                Vec::new()
            },
        },
    );
    kfc.metadata.namespace = Some(FEDERATION_NAMESPACE.into());
    kfc.metadata.labels = Some(labels.clone());
    let wanted = kfc.clone();
    actions.ensure(Side::Host, object.clone(), &kfcs, &kfc, |existing| {
        (existing.spec != wanted.spec || existing.metadata.labels != wanted.metadata.labels).then(|| json!({
            "metadata": {"labels": wanted.metadata.labels},
            "spec": {"apiEndpoint": wanted.spec.api_endpoint, "caBundle": wanted.spec.ca_bundle, "secretRef": wanted.spec.secret_ref, "disabledTLSValidations": wanted.spec.disabled_tls_validations},
        }))
    }).await.map_err(at(Side::Host, &object))?;

    let object = format!("Cluster {name} status");
    let nodes = status::node_count(member).await;
    let status = status::joined_status(facts, nodes, now);
    // v3.4.1's Cluster CRD has no status subresource: status is written in the object, as
    // KubeSphere's cluster controller writes it.
    clusters
        .patch(
            name,
            &crate::writes::patch_params(),
            &Patch::Merge(&json!({"status": status})),
        )
        .await
        .map_err(at(Side::Host, &object))?;
    actions.report(Side::Host, object, super::actions::ActionResult::Updated);
    Ok(())
}

/// The token the member's token controller writes into the secret.
async fn wait_for_token(secrets: &Api<Secret>, name: &str) -> Result<String, kube::Error> {
    let deadline = tokio::time::Instant::now() + TOKEN_WAIT;
    loop {
        let secret = secrets.get(name).await?;
        if let Some(token) = secret
            .data
            .as_ref()
            .and_then(|d| d.get("token"))
            .filter(|t| !t.0.is_empty())
        {
            return String::from_utf8(token.0.clone())
                .map_err(|_| kube::Error::Service("the member's token is not text".into()));
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(kube::Error::Service(format!("the member wrote no token into {name} within {} s: is its token controller running?", TOKEN_WAIT.as_secs()).into()));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

//! Changing a joined cluster in place: new credentials when the old ones expired or were
//! rotated (KubeSphere's `PUT .../clusters/{name}/kubeconfig`, docs/KUBESPHERE.md 2.2), and its
//! description and group.

use std::time::SystemTime;

use kube::api::{Api, DynamicObject, Patch};
use serde_json::json;

use super::actions::{ActionReport, ActionResult, Side};
use super::checks::{MemberFacts, Run, certificate_report, connect_steps};
use super::findings::{Finding, ReadTarget, SkipReason};
use super::objects::*;
use super::steps::{CheckStep, StepReport};
use super::{HostLink, kubesphere_steps as ks, status};
use crate::clusters::certificate_expiry::CertificateExpiry;
use crate::clusters::member_facts::kube_system_uid;
use crate::kubesphere::HOST_CLUSTER_LABEL;

#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("host `{host}` has no cluster named `{name}`")]
    NotFound { host: String, name: String },
    #[error("`{0}` is the host cluster itself: its connection is the console's own configuration")]
    IsHost(String),
    /// The steps, every one: the failed ones say why.
    #[error("the new kubeconfig did not pass: {}", super::steps::failed_titles(.0))]
    ChecksFailed(Vec<StepReport>),
    #[error("the group must be one of: production, development, testing, demo")]
    UnknownGroup,
    #[error("the description may have at most 256 characters")]
    DescriptionTooLong,
    #[error("host {object}: {message}")]
    Write { object: String, message: String },
}

#[derive(Debug)]
pub struct UpdateOutcome {
    pub steps: Vec<StepReport>,
    pub actions: Vec<ActionReport>,
}

/// The error for a failed read or write of `object` on the host.
fn write_err(object: impl Into<String>) -> impl FnOnce(kube::Error) -> UpdateError {
    let object = object.into();
    move |e| UpdateError::Write {
        object,
        message: e.to_string(),
    }
}

async fn joined_cluster(host: &HostLink, name: &str) -> Result<DynamicObject, UpdateError> {
    let clusters: Api<DynamicObject> = Api::all_with(host.client.clone(), &cluster_resource());
    let cluster = clusters
        .get_opt(name)
        .await
        .map_err(write_err(format!("Cluster {name}")))?
        .ok_or_else(|| UpdateError::NotFound {
            host: host.name.clone(),
            name: name.into(),
        })?;
    if cluster
        .metadata
        .labels
        .as_ref()
        .is_some_and(|l| l.contains_key(HOST_CLUSTER_LABEL))
    {
        return Err(UpdateError::IsHost(name.into()));
    }
    Ok(cluster)
}

/// Checks `kubeconfig` against the joined cluster (it must reach the same cluster, by its
/// kube-system UID) and puts it in place: the `Cluster`'s connection, the `KubeFedCluster`'s
/// endpoint and CA, and the certificate-expiry condition, so an old warning clears at once.
pub async fn update_kubeconfig(
    host: &HostLink,
    name: &str,
    kubeconfig: &str,
    context: Option<&str>,
    now: SystemTime,
    on_step: &mut (dyn FnMut(&StepReport) + Send),
) -> Result<UpdateOutcome, UpdateError> {
    let cluster = joined_cluster(host, name).await?;
    let mut run = Run::new(on_step);
    let mut facts = MemberFacts::default();
    let Some((checked, client)) = connect_steps(
        &mut run,
        &mut facts,
        kubeconfig,
        context,
        now,
        &host.member_addresses,
    )
    .await
    else {
        return Err(failed(run.finish(facts, None).steps));
    };
    run.report(StepReport::passed(
        CheckStep::Permissions,
        Finding::CredentialsAccepted,
    ));
    let known = cluster
        .data
        .pointer("/status/uid")
        .and_then(|u| u.as_str())
        .map(String::from);
    let joined = name.to_string();
    run.report(match kube_system_uid(&client).await {
        Ok(uid) if known.as_deref().is_none_or(|k| k == uid) => StepReport::passed(
            CheckStep::Duplicate,
            Finding::SameCluster { name: joined, uid },
        ),
        Ok(uid) => StepReport::failed(
            CheckStep::Duplicate,
            Finding::OtherCluster { name: joined, uid },
        ),
        Err(e) => ks::read_failure(CheckStep::Duplicate, ReadTarget::KubeSystem, &e),
    });
    let config = ks::kubesphere(&mut run, &client, &mut facts).await;
    run.report(StepReport::skipped(
        CheckStep::OtherHosts,
        SkipReason::NotForUpdate,
    ));
    ks::jwt_secret(&mut run, host, config.as_ref()).await;
    run.report(certificate_report(facts.certificate.as_ref()));
    run.report(StepReport::skipped(
        CheckStep::Workspaces,
        SkipReason::NotForUpdate,
    ));
    let outcome = run.finish(facts, Some((checked, client)));
    let facts = outcome.facts.clone();
    let Some((checked, _)) = outcome.connection else {
        return Err(failed(outcome.steps));
    };

    let mut actions = Vec::new();
    let updated = |object| ActionReport {
        side: Side::Host,
        object,
        result: ActionResult::Updated,
    };
    // The connection fields are Tandem's (it joined the cluster): server-side applied as field
    // manager `tandem`, forced, so a value another writer left there (KubeSphere's controller
    // fills in the endpoint) gives way. Every field goes with a value — "false", an empty list
    // — never left out, so the result is the same whoever else manages the object.
    let clusters: Api<DynamicObject> = Api::all_with(host.client.clone(), &cluster_resource());
    let encoded = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        checked.minified_yaml().as_bytes(),
    );
    let resource = cluster_resource();
    let connection = json!({
        "apiVersion": resource.api_version,
        "kind": resource.kind,
        "metadata": {"name": name, "annotations": {INSECURE_ANNOTATION: facts.insecure.to_string()}},
        "spec": {"connection": {"kubeconfig": encoded, "kubernetesAPIEndpoint": checked.server}},
    });
    let object = format!("Cluster {name}");
    crate::writes::apply_owned(&clusters, name, &connection)
        .await
        .map_err(write_err(&object))?;
    actions.push(updated(object));

    // Its secret reference stays: a cluster KubeSphere joined itself names another secret.
    let kfcs: Api<KubeFedCluster> = Api::namespaced(host.client.clone(), FEDERATION_NAMESPACE);
    let object = format!("KubeFedCluster {FEDERATION_NAMESPACE}/{name}");
    let endpoint = json!({
        "apiVersion": <KubeFedCluster as kube::Resource>::api_version(&()),
        "kind": <KubeFedCluster as kube::Resource>::kind(&()),
        "metadata": {"name": name, "namespace": FEDERATION_NAMESPACE},
        "spec": {
            "apiEndpoint": checked.server,
            "caBundle": if facts.insecure { String::new() } else { checked.certificate_authority_data().unwrap_or_default() },
            "disabledTLSValidations": if facts.insecure { json!(["*"]) } else { json!([]) },
        },
    });
    // Apply would create a missing one (without its secret): it must be there already.
    kfcs.get(name).await.map_err(write_err(&object))?;
    crate::writes::apply_owned(&kfcs, name, &endpoint)
        .await
        .map_err(write_err(&object))?;
    actions.push(updated(object));

    let object = format!("Cluster {name} status");
    write_certificate_condition(&clusters, name, facts.certificate.as_ref(), now)
        .await
        .map_err(write_err(&object))?;
    actions.push(updated(object));
    Ok(UpdateOutcome {
        steps: outcome.steps,
        actions,
    })
}

fn failed(steps: Vec<StepReport>) -> UpdateError {
    UpdateError::ChecksFailed(steps)
}

/// Sets a joined cluster's description and group (empty removes them), on the `Cluster` and,
/// for the group, on its `KubeFedCluster` too (KubeSphere copies the labels there).
pub async fn edit_cluster(
    host: &HostLink,
    name: &str,
    description: &str,
    group: &str,
) -> Result<(), UpdateError> {
    let (description, group) = (description.trim(), group.trim());
    if description.chars().count() > 256 {
        return Err(UpdateError::DescriptionTooLong);
    }
    if !group.is_empty() && !PRESET_GROUPS.contains(&group) {
        return Err(UpdateError::UnknownGroup);
    }
    let clusters: Api<DynamicObject> = Api::all_with(host.client.clone(), &cluster_resource());
    if clusters
        .get_opt(name)
        .await
        .map_err(write_err(format!("Cluster {name}")))?
        .is_none()
    {
        return Err(UpdateError::NotFound {
            host: host.name.clone(),
            name: name.into(),
        });
    }
    let or_null = |v: &str| if v.is_empty() { json!(null) } else { json!(v) };
    let patch = json!({"metadata": {
        "annotations": {crate::iam::resources::DESCRIPTION_ANNOTATION: or_null(description)},
        "labels": {GROUP_LABEL: or_null(group)},
    }});
    clusters
        .patch(name, &crate::writes::patch_params(), &Patch::Merge(&patch))
        .await
        .map_err(write_err(format!("Cluster {name}")))?;
    let kfcs: Api<KubeFedCluster> = Api::namespaced(host.client.clone(), FEDERATION_NAMESPACE);
    let labels = json!({"metadata": {"labels": {GROUP_LABEL: or_null(group)}}});
    match kfcs
        .patch(name, &crate::writes::patch_params(), &Patch::Merge(&labels))
        .await
    {
        Ok(_) => Ok(()),
        // A join that never got its KubeFedCluster: the Cluster alone carries the group.
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(write_err(format!("KubeFedCluster {name}"))(e)),
    }
}

/// Replaces the certificate condition of the `Cluster` (v3.4.1 keeps status in the object: no
/// status subresource), at the resourceVersion just read so that a condition KubeSphere's
/// controller wrote meanwhile is never dropped; retried on a conflict.
async fn write_certificate_condition(
    clusters: &Api<DynamicObject>,
    name: &str,
    certificate: Option<&CertificateExpiry>,
    now: SystemTime,
) -> Result<(), kube::Error> {
    let mut attempts = 0;
    loop {
        let cluster = clusters.get(name).await?;
        let mut conditions: Vec<serde_json::Value> = cluster
            .data
            .pointer("/status/conditions")
            .and_then(|c| c.as_array())
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|c| c["type"] != "KubeConfigCertExpiresInSevenDays")
            .collect();
        conditions.push(status::certificate_condition(certificate, now));
        let patch = json!({
            "metadata": {"resourceVersion": cluster.metadata.resource_version},
            "status": {"conditions": conditions},
        });
        match clusters
            .patch(name, &crate::writes::patch_params(), &Patch::Merge(&patch))
            .await
        {
            Err(kube::Error::Api(s)) if s.code == 409 && attempts < 3 => attempts += 1,
            other => return other.map(drop),
        }
    }
}

//! Bringing clusters into a host and taking them out: the add-cluster checks, the join, the
//! removal. One code path for the wizard and for `tandem clusters`.

mod actions;
pub mod address_policy;
pub mod certificate_expiry;
mod checks;
mod connect;
pub mod findings;
pub(crate) mod guarded_connect;
pub mod history;
pub mod jobs;
mod join;
pub mod kubeconfig;
pub mod kubesphere_join;
mod kubesphere_steps;
mod managed;
pub mod member_facts;
pub mod objects;
mod permissions;
pub mod reach;
mod remove;
mod status;
mod steps;
mod update;

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine;
use kube::Client;
use kube::api::{Api, DynamicObject, ObjectMeta};
use serde_json::json;

pub use actions::{ActionReport, ActionResult, Side};
pub use address_policy::{AddressRefusal, Cidr, MemberAddressPolicy};
pub use checks::{CheckOutcome, MemberFacts, check_cluster};
pub use connect::{MEMBER_TIMEOUT, member_client};
pub use findings::{Finding, SkipReason};
pub use jobs::JobFailure;
pub use join::{JoinError, JoinOutcome, join_cluster};
pub use managed::ManagedCluster;
pub use remove::{RemoveError, RemoveOutcome, remove_cluster};
pub use steps::{CheckStep, StepReport, Verdict};
pub use update::{UpdateError, UpdateOutcome, edit_cluster, update_kubeconfig};

use crate::clusters::kubeconfig::CheckedKubeconfig;
use crate::config::ConsoleConfig;
use crate::kubesphere::Cluster;

/// What is wrong with a cluster's basic information.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum BasicProblem {
    #[error("the group must be one of: production, development, testing, demo")]
    UnknownGroup,
    #[error("the description may have 256 characters and the provider 63")]
    TooLong,
}

/// A host Tandem can write to.
#[derive(Clone)]
pub struct HostLink {
    pub name: String,
    pub client: Client,
    /// Where this console may connect to reach the members it checks, joins and removes.
    pub member_addresses: Arc<MemberAddressPolicy>,
}

impl HostLink {
    /// A link with the default member address policy (no operator settings).
    pub fn new(name: impl Into<String>, client: Client) -> Self {
        Self {
            name: name.into(),
            client,
            member_addresses: Arc::default(),
        }
    }

    /// One link per configured host that a client could be built for, and the problems of
    /// the others.
    pub fn from_config(
        config: &ConsoleConfig,
        clients: &crate::HostClients,
    ) -> (Vec<HostLink>, Vec<String>) {
        let mut links = Vec::new();
        let mut problems = Vec::new();
        let member_addresses = Arc::new(config.member_address_policy());
        for (name, client) in clients.iter() {
            match client {
                Ok(client) => links.push(HostLink {
                    name: name.to_string(),
                    client: client.clone(),
                    member_addresses: member_addresses.clone(),
                }),
                Err(e) => problems.push(format!("host `{name}`: {e}")),
            }
        }
        (links, problems)
    }
}

/// A cluster to check or join, as the wizard's form or the command line describes it.
#[derive(Clone, Default)]
pub struct Candidate {
    /// The name it gets on the host (a DNS-1123 label).
    pub name: String,
    /// The kubeconfig text. Untrusted; holds credentials.
    pub kubeconfig: String,
    /// The context to use, when the kubeconfig has several.
    pub context: Option<String>,
    /// Join even though another host manages the cluster (active-active, on purpose).
    pub second_host: bool,
    /// `cluster.kubesphere.io/group`.
    pub group: Option<String>,
    pub provider: Option<String>,
    pub description: Option<String>,
    /// The console user joining it (`kubesphere.io/creator`).
    pub creator: Option<String>,
}

// Hand-written: the kubeconfig holds credentials.
impl std::fmt::Debug for Candidate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Candidate")
            .field("name", &self.name)
            .field("context", &self.context)
            .field("second_host", &self.second_host)
            .finish_non_exhaustive()
    }
}

impl Candidate {
    /// What is wrong with the basic information (group, provider, description), if anything:
    /// checked by the join itself, so the wizard and the command line refuse alike.
    pub fn basic_problem(&self) -> Option<BasicProblem> {
        let group = self.group.as_deref().unwrap_or_default();
        if !group.is_empty() && !objects::PRESET_GROUPS.contains(&group) {
            return Some(BasicProblem::UnknownGroup);
        }
        let long = |v: &Option<String>, limit: usize| {
            v.as_ref().is_some_and(|v| v.chars().count() > limit)
        };
        if long(&self.description, 256) || long(&self.provider, 63) {
            return Some(BasicProblem::TooLong);
        }
        None
    }

    fn labels(&self) -> BTreeMap<String, String> {
        self.group
            .iter()
            .filter(|g| !g.is_empty())
            .map(|g| (objects::GROUP_LABEL.to_string(), g.clone()))
            .collect()
    }

    fn annotations(&self, insecure: bool) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let mut put = |key: &str, value: &Option<String>| {
            if let Some(v) = value.as_ref().filter(|v| !v.is_empty()) {
                out.insert(key.to_string(), v.clone());
            }
        };
        put(
            crate::iam::resources::DESCRIPTION_ANNOTATION,
            &self.description,
        );
        put(crate::iam::resources::CREATOR_ANNOTATION, &self.creator);
        if insecure {
            out.insert(objects::INSECURE_ANNOTATION.into(), "true".into());
        }
        out
    }

    /// The host's `Cluster` for this candidate, as ks-console's import form writes it.
    fn cluster_object(&self, checked: &CheckedKubeconfig, facts: &MemberFacts) -> DynamicObject {
        let kubeconfig =
            base64::engine::general_purpose::STANDARD.encode(checked.minified_yaml().as_bytes());
        let mut object = DynamicObject::new(&self.name, &objects::cluster_resource());
        object.metadata = ObjectMeta {
            name: Some(self.name.clone()),
            labels: Some(self.labels()),
            annotations: Some(self.annotations(facts.insecure)),
            ..Default::default()
        };
        object.data = json!({"spec": {
            "joinFederation": true,
            "provider": self.provider.clone().unwrap_or_default(),
            "connection": {"type": "direct", "kubeconfig": kubeconfig, "kubernetesAPIEndpoint": checked.server},
        }});
        object
    }
}

/// What the checks need of a host's `Cluster`s.
pub(crate) struct HostClusterRow {
    pub name: String,
    pub uid: Option<String>,
}

pub(crate) async fn list_host_clusters(host: &Client) -> Result<Vec<HostClusterRow>, kube::Error> {
    let list = match Api::<Cluster>::all(host.clone())
        .list(&Default::default())
        .await
    {
        Ok(list) => list,
        // No KubeSphere Cluster API on this host: it manages no clusters yet.
        Err(kube::Error::Api(s)) if s.code == 404 => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(list
        .items
        .into_iter()
        .map(|c| HostClusterRow {
            name: c.metadata.name.clone().unwrap_or_default(),
            uid: c.status.and_then(|s| s.uid),
        })
        .collect())
}

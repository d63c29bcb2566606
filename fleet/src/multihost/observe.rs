//! Reading one kind of federated object (users, for now) from every host of a member and the
//! member's copies, round after round, into each object's [`FederatedState`].

use std::collections::{BTreeMap, HashMap};
use std::time::SystemTime;

use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use serde_json::Value;

use super::{FederatedState, HostCopy, MemberTimeline, classify, propagated_fingerprint};

/// kubefed's value for a host's own entry in `status.clusters[]`: not a failure.
const MANAGED_LABEL_FALSE: &str = "ManagedLabelFalse";

fn resource(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
}

/// Users across the hosts that manage one member, remembered from round to round: the hosts'
/// copies as last read, and every version of the member's copy reported to
/// [`Self::member_changed`] (from a watch: a flip can last less than a second).
#[derive(Debug, Default)]
pub struct FederatedUsers {
    hosts: Vec<String>,
    copies: BTreeMap<String, Vec<HostCopy>>,
    timelines: HashMap<String, MemberTimeline>,
}

impl FederatedUsers {
    /// Reads every host's `FederatedUser`s. `member` is the member's name in the hosts'
    /// placements.
    pub async fn refresh_hosts(
        &mut self,
        hosts: &[(String, Client)],
        member: &str,
    ) -> Result<(), kube::Error> {
        let federated = resource(
            "types.kubefed.io",
            "v1beta1",
            "FederatedUser",
            "federatedusers",
        );
        let mut copies: BTreeMap<String, Vec<HostCopy>> = BTreeMap::new();
        for (host, client) in hosts {
            let list = Api::<DynamicObject>::all_with(client.clone(), &federated)
                .list(&Default::default())
                .await?;
            for object in list.items {
                let Some(name) = object.metadata.name.clone() else {
                    continue;
                };
                copies
                    .entry(name)
                    .or_default()
                    .push(host_copy(host, &object, member));
            }
        }
        self.hosts = hosts.iter().map(|(h, _)| h.clone()).collect();
        self.copies = copies;
        Ok(())
    }

    /// One version of the member's copy of user `name` (`None`: deleted there), seen at `at`.
    pub fn member_changed(&mut self, name: &str, object: Option<&Value>, at: SystemTime) {
        let fingerprint = object.map(propagated_fingerprint);
        let writer = fingerprint.as_ref().and_then(|f| {
            self.copies
                .get(name)?
                .iter()
                .find(|c| c.fingerprint.as_ref() == Some(f))
                .map(|c| c.host.clone())
        });
        self.timelines
            .entry(name.to_string())
            .or_default()
            .observe(at, fingerprint, writer);
    }

    /// Every user the hosts federate, with its state.
    pub fn states(&self) -> BTreeMap<String, FederatedState> {
        let empty = MemberTimeline::default();
        self.copies
            .iter()
            .map(|(name, copies)| {
                let mut copies = copies.clone();
                // A host without the object is a copy too: "missing on that host".
                for host in &self.hosts {
                    if !copies.iter().any(|c| &c.host == host) {
                        copies.push(HostCopy {
                            host: host.clone(),
                            fingerprint: None,
                            deleting: false,
                            sync_failure: None,
                        });
                    }
                }
                (
                    name.clone(),
                    classify(&copies, self.timelines.get(name).unwrap_or(&empty)),
                )
            })
            .collect()
    }

    /// A polling round: the hosts, then the member's users as they are now. Polling misses
    /// flips shorter than its period; feed a member watch into [`Self::member_changed`].
    pub async fn observe(
        &mut self,
        hosts: &[(String, Client)],
        member_client: &Client,
        member: &str,
        now: SystemTime,
    ) -> Result<BTreeMap<String, FederatedState>, kube::Error> {
        self.refresh_hosts(hosts, member).await?;
        let users = resource("iam.kubesphere.io", "v1alpha2", "User", "users");
        let on_member: HashMap<String, Value> =
            Api::<DynamicObject>::all_with(member_client.clone(), &users)
                .list(&Default::default())
                .await?
                .items
                .into_iter()
                .filter_map(|u| Some((u.metadata.name.clone()?, serde_json::to_value(&u).ok()?)))
                .collect();
        let names: Vec<String> = self.copies.keys().cloned().collect();
        for name in names {
            self.member_changed(&name, on_member.get(&name), now);
        }
        Ok(self.states())
    }
}

fn host_copy(host: &str, object: &DynamicObject, member: &str) -> HostCopy {
    let template = object
        .data
        .pointer("/spec/template")
        .cloned()
        .unwrap_or(Value::Null);
    let sync_failure = object
        .data
        .pointer("/status/clusters")
        .and_then(Value::as_array)
        .and_then(|entries| entries.iter().find(|e| e["name"] == member))
        .and_then(|e| e["status"].as_str())
        .filter(|s| !s.is_empty() && *s != MANAGED_LABEL_FALSE)
        .map(String::from);
    HostCopy {
        host: host.into(),
        fingerprint: Some(propagated_fingerprint(&template)),
        deleting: object.metadata.deletion_timestamp.is_some(),
        sync_failure,
    }
}

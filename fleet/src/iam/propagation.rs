//! How a federated object reached each member, from its `status.clusters[]` as kubefed writes
//! it (docs/KUBESPHERE.md 1.9): no status means propagated; otherwise kubefed's reason.

use super::resources::{FederatedStatus, FederatedUser};
use serde::{Deserialize, Serialize};

/// kubefed's value for the host's own entry (host objects are labelled managed "false"):
/// not a member, so not shown as one.
const MANAGED_LABEL_FALSE: &str = "ManagedLabelFalse";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PropagationStatus {
    Propagated,
    /// kubefed's reason, such as `ClusterNotReady`, `CreationFailed` or `AlreadyExists`.
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberPropagation {
    pub cluster: String,
    pub status: PropagationStatus,
}

/// The per-member outcome recorded on a federated object, members in name order.
pub fn member_propagation(federated: &FederatedUser) -> Vec<MemberPropagation> {
    status_propagation(federated.status.as_ref())
}

/// The same, for any federated object's status.
pub fn status_propagation(status: Option<&FederatedStatus>) -> Vec<MemberPropagation> {
    let mut out: Vec<MemberPropagation> = status
        .into_iter()
        .flat_map(|s| s.clusters.iter())
        .filter_map(|entry| {
            let status = entry.status.as_deref().filter(|s| !s.is_empty());
            let status = match status {
                Some(MANAGED_LABEL_FALSE) => return None,
                Some(reason) => PropagationStatus::Failed(reason.to_string()),
                None => PropagationStatus::Propagated,
            };
            Some(MemberPropagation {
                cluster: entry.name.clone(),
                status,
            })
        })
        .collect();
    out.sort_by(|a, b| a.cluster.cmp(&b.cluster));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubefed_status_per_member() {
        let federated: FederatedUser = serde_json::from_value(serde_json::json!({
            "apiVersion": "types.kubefed.io/v1beta1", "kind": "FederatedUser",
            "metadata": {"name": "alice"},
            "status": {"clusters": [
                {"name": "member2", "status": "ClusterNotReady"},
                {"name": "host", "status": "ManagedLabelFalse"},
                {"name": "member"},
            ]},
        }))
        .unwrap();
        assert_eq!(
            member_propagation(&federated),
            vec![
                MemberPropagation {
                    cluster: "member".into(),
                    status: PropagationStatus::Propagated
                },
                MemberPropagation {
                    cluster: "member2".into(),
                    status: PropagationStatus::Failed("ClusterNotReady".into())
                },
            ]
        );
        let fresh: FederatedUser = serde_json::from_value(serde_json::json!({
            "apiVersion": "types.kubefed.io/v1beta1", "kind": "FederatedUser",
            "metadata": {"name": "bob"},
        }))
        .unwrap();
        assert!(member_propagation(&fresh).is_empty());
    }
}

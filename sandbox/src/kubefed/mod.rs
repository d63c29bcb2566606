//! The part of a KubeSphere host that makes it a federation control plane: its cluster
//! controller's join, its user controller, and kubefed's sync controller, running in the
//! sandbox's own loop.

mod cluster_health;
mod federate;
pub(crate) mod join;
mod login_records;
pub(crate) mod sync;
mod users;
mod workspaces;

use std::sync::Arc;
use std::time::Duration;

use crate::ClusterState;
pub(crate) use crate::kubesphere::crds::FEDERATED_TARGETS as FEDERATED;

pub(crate) const FED_NS: &str = "kube-federation-system";

/// How often the host's controllers look for work.
pub const TICK: Duration = Duration::from_millis(500);

/// The controllers of one host, until the cluster stops.
pub(crate) async fn run(state: Arc<ClusterState>) {
    let mut sync = sync::SyncState::default();
    loop {
        tokio::time::sleep(TICK).await;
        users::reconcile_users(&state);
        if let Ok(mut db) = state.db.lock() {
            workspaces::reconcile_workspaces(&mut db);
            federate::reconcile_plain(&mut db);
            login_records::reconcile_login_records(&mut db);
        }
        sync::sync_all(&state, &mut sync).await;
    }
}

//! Jobs a replica asks of the leader: a federation repair needs the live view of every host
//! and member, which only the leading replica keeps. The asking replica writes the job's
//! record as [`Phase::Requested`]; the leader takes it (a resourceVersion-checked write
//! naming itself, so two leaders in a hand-over never both take one) and runs it, keeping
//! the record as for its own jobs. Everyone follows the record, as before.

use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::watch;

use super::job_records::{
    JOB_LABEL, JobRecords, NAME_PREFIX, Phase, RecordError, RecordKeeper, Stored, Unwritten,
    bounded, record_map, record_name, to_value, write_loop,
};

/// A request no leader took for this long is abandoned: there is no leader (fail-over takes
/// up to 15 s), or it cannot write to its home host.
pub const REQUEST_WAIT: Duration = Duration::from_secs(30);

/// Why a request was not written.
#[derive(Debug, thiserror::Error)]
pub enum NotRequested {
    /// A job of the id, started by `owner`, is asked for or running.
    #[error("a job of this id started by {owner} is asked for or running")]
    Held { owner: String },
    /// The home host, where requests are kept, did not take it.
    #[error("the request could not be kept on the home host: {0}")]
    Unwritten(RecordError),
}

impl JobRecords {
    /// Asks the leader to run job `id` with `first` as its payload. Refused while a job of
    /// the id is asked for or runs (as [`Self::claim`] is).
    pub async fn request<T: Serialize>(
        &self,
        kind: &'static str,
        id: &str,
        owner: &str,
        first: &T,
    ) -> Result<(), NotRequested> {
        let Some(client) = self.home.clone() else {
            return Err(NotRequested::Unwritten(RecordError::Api(
                kube::Error::Service("no home host".into()),
            )));
        };
        let api: Api<ConfigMap> = Api::namespaced(client, &self.namespace);
        let name = record_name(id);
        let mut stored = Stored {
            owner: owner.into(),
            replica: self.replica.clone(),
            phase: Phase::Requested,
            beat: 1,
            ended_at: None,
            payload: to_value(first),
        };
        match self.write_unless_held(&api, kind, &name, &mut stored).await {
            Ok(_) => Ok(()),
            Err(Unwritten::Held { owner }) => Err(NotRequested::Held { owner }),
            // Another replica wrote it between the read and the write.
            Err(Unwritten::Failed(RecordError::Api(kube::Error::Api(s)))) if s.code == 409 => {
                Err(NotRequested::Held {
                    owner: String::new(),
                })
            }
            Err(Unwritten::Failed(error)) => Err(NotRequested::Unwritten(error)),
        }
    }

    /// The leader's look for work: the ids and payloads of jobs of `kind` asked for and not
    /// taken (nor given up on).
    pub async fn requests<T: DeserializeOwned>(&self, kind: &'static str) -> Vec<(String, T)> {
        let Some(client) = self.home.clone() else {
            return Vec::new();
        };
        let api: Api<ConfigMap> = Api::namespaced(client, &self.namespace);
        let selector = format!("{JOB_LABEL}={kind}");
        let Ok(list) = bounded(api.list(&ListParams::default().labels(&selector))).await else {
            return Vec::new();
        };
        list.items
            .iter()
            .filter_map(|map| {
                let (stored, stale) = self.decode(map)?;
                if stored.phase != Phase::Requested || stale {
                    return None;
                }
                let id = map.metadata.name.as_ref()?.strip_prefix(NAME_PREFIX)?;
                Some((id.to_string(), serde_json::from_value(stored.payload).ok()?))
            })
            .collect()
    }

    /// Takes job `id`, asked for, to run here: `None` when it is no longer asked for (taken
    /// by another, given up on) or the home host did not answer.
    pub async fn take(&self, kind: &'static str, id: &str) -> Option<RecordKeeper> {
        let client = self.home.clone()?;
        let api: Api<ConfigMap> = Api::namespaced(client, &self.namespace);
        let name = record_name(id);
        let map = bounded(api.get_opt(&name)).await.ok()??;
        let (mut stored, stale) = self.decode(&map)?;
        if stored.phase != Phase::Requested || stale {
            return None;
        }
        stored.phase = Phase::Running;
        stored.replica = self.replica.clone();
        stored.beat += 1;
        let version = map.metadata.resource_version.clone();
        let taken = bounded(api.replace(
            &name,
            &crate::writes::post_params(),
            &record_map(&name, kind, &stored, version),
        ))
        .await
        .ok()?;
        let (tx, rx) = watch::channel((stored.payload.clone(), Phase::Running));
        tokio::spawn(write_loop(
            api,
            kind,
            name,
            stored,
            taken.metadata.resource_version,
            rx,
        ));
        Some(RecordKeeper { tx })
    }
}

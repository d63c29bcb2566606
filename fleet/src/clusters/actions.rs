//! What a join or a removal did, object by object, for the wizard's live list and the
//! command line; and the create-or-update helper both rely on for idempotency.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;

use kube::api::Patch;
use kube::{Api, Resource};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use wire::clusters::{ActionResult, Side};

/// One object a join or removal touched: where, what, and how it went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionReport {
    pub side: Side,
    /// e.g. `ServiceAccount kube-federation-system/prod-kubesphere`.
    pub object: String,
    #[serde(flatten)]
    pub result: ActionResult,
}

pub(crate) type Callback<'a> = &'a mut (dyn FnMut(&ActionReport) + Send);

/// Deletes one object created by this attempt, when the attempt fails later.
pub(crate) type Undo = (
    ActionReport,
    Pin<Box<dyn Future<Output = Result<(), kube::Error>> + Send>>,
);

/// Reports each action and remembers how to undo what it created.
pub(crate) struct Actions<'a> {
    pub reports: Vec<ActionReport>,
    undo: Vec<Undo>,
    callback: Callback<'a>,
}

impl<'a> Actions<'a> {
    pub fn new(callback: Callback<'a>) -> Self {
        Self {
            reports: Vec::new(),
            undo: Vec::new(),
            callback,
        }
    }

    pub fn report(&mut self, side: Side, object: impl Into<String>, result: ActionResult) {
        let report = ActionReport {
            side,
            object: object.into(),
            result,
        };
        (self.callback)(&report);
        self.reports.push(report);
    }

    /// Makes sure `desired` exists. Created objects are remembered for [`Self::roll_back`];
    /// an existing one gets `update` (a merge patch) when `update` returns one. The patch
    /// goes with the resourceVersion it was computed from: these objects may be another
    /// join's (a binding whose subjects another host added, a role another host wrote), and a
    /// list rewritten from a stale read would drop their change. A conflict is read again.
    pub async fn ensure<K>(
        &mut self,
        side: Side,
        object: String,
        api: &Api<K>,
        desired: &K,
        update: impl Fn(&K) -> Option<serde_json::Value>,
    ) -> Result<K, kube::Error>
    where
        K: Resource + Clone + DeserializeOwned + Serialize + Debug + Send + Sync + 'static,
    {
        let name = desired.meta().name.clone().unwrap_or_default();
        let mut conflicts = 0;
        let outcome = loop {
            let attempt = match api.get_opt(&name).await {
                Err(e) => Err(e),
                Ok(None) => match crate::writes::create_self_typed(api, desired).await {
                    Ok(created) => {
                        self.remember_created(side, &object, api, &name);
                        Ok((created, ActionResult::Created))
                    }
                    Err(e) => Err(e),
                },
                Ok(Some(existing)) => match update(&existing) {
                    None => Ok((existing, ActionResult::Unchanged)),
                    Some(mut patch) => {
                        patch["metadata"]["resourceVersion"] =
                            existing.meta().resource_version.clone().into();
                        api.patch(&name, &crate::writes::patch_params(), &Patch::Merge(&patch))
                            .await
                            .map(|updated| (updated, ActionResult::Updated))
                    }
                },
            };
            match attempt {
                // Created or changed by someone else between the read and the write.
                Err(kube::Error::Api(s)) if s.code == 409 && conflicts < 3 => conflicts += 1,
                other => break other,
            }
        };
        match outcome {
            Ok((value, result)) => {
                self.report(side, object, result);
                Ok(value)
            }
            Err(err) => {
                self.report(side, object, ActionResult::Failed(err.to_string()));
                Err(err)
            }
        }
    }

    fn remember_created<K>(&mut self, side: Side, object: &str, api: &Api<K>, name: &str)
    where
        K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    {
        let api = api.clone();
        let name = name.to_string();
        let undo =
            Box::pin(async move { api.delete(&name, &Default::default()).await.map(|_| ()) });
        let report = ActionReport {
            side,
            object: object.to_string(),
            result: ActionResult::RolledBack,
        };
        self.undo.push((report, undo));
    }

    /// Deletes, newest first, what this attempt created; returns what could not be deleted.
    pub async fn roll_back(&mut self) -> Vec<String> {
        let mut left = Vec::new();
        while let Some((mut report, undo)) = self.undo.pop() {
            match undo.await {
                Ok(()) => report.result = ActionResult::RolledBack,
                Err(kube::Error::Api(status)) if status.code == 404 => {
                    report.result = ActionResult::RolledBack;
                }
                Err(err) => {
                    left.push(format!("{}: {}", report.side, report.object));
                    report.result =
                        ActionResult::Failed(format!("could not remove it again: {err}"));
                }
            }
            (self.callback)(&report);
            self.reports.push(report);
        }
        left
    }
}

//! kubefed's hold on a federated object being deleted: its finalizer stays until every
//! member's copy is gone. Where that can never happen — another host's kubefed puts the copy
//! back as fast as this one deletes it — Tandem lets go of the object itself, once nothing is
//! lost by it (the repair, with every member clean; sync, under a live object made since).

use kube::api::{Api, DynamicObject};

use super::SYNC_FINALIZER;

/// Clears kubefed's finalizer from `name` if it is being deleted and still held; `Ok(true)`
/// when it was. The replace carries the resourceVersion read: a change in between is a 409.
pub async fn release(api: &Api<DynamicObject>, name: &str) -> Result<bool, kube::Error> {
    release_if(api, name, |_| true).await
}

/// [`release`], only if the object read is still the one `judged` was about (another may
/// have taken its name since).
pub async fn release_if(
    api: &Api<DynamicObject>,
    name: &str,
    judged: impl Fn(&DynamicObject) -> bool,
) -> Result<bool, kube::Error> {
    let Some(mut object) = api.get_opt(name).await? else {
        return Ok(false);
    };
    if !judged(&object) {
        return Ok(false);
    }
    let finalizers = object.metadata.finalizers.clone().unwrap_or_default();
    if object.metadata.deletion_timestamp.is_none()
        || !finalizers.iter().any(|f| f == SYNC_FINALIZER)
    {
        return Ok(false);
    }
    object.metadata.finalizers = Some(
        finalizers
            .into_iter()
            .filter(|f| f != SYNC_FINALIZER)
            .collect(),
    );
    object.metadata.managed_fields = None;
    api.replace(name, &crate::writes::post_params(), &object)
        .await?;
    Ok(true)
}

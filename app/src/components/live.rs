//! Lists the server renders once and the browser keeps fresh: a newer copy replaces the
//! first one every few seconds and after every change made on the page, so keyed rows redraw
//! only where the data changed (focus and open forms survive).

use std::future::Future;
use std::time::Duration;

use leptos::prelude::*;

use crate::error::ConsoleError;

/// How often the browser asks again.
pub const REFRESH_EVERY: Duration = Duration::from_secs(5);

/// The newer copy (`None` until the first refresh) and the counter that asks for one: bump it
/// after a change.
pub fn live_refresh<T, F, Fut>(fetch: F) -> (RwSignal<Option<T>>, RwSignal<u64>)
where
    T: Send + Sync + 'static,
    F: Fn() -> Fut + Copy + 'static,
    Fut: Future<Output = Result<T, ConsoleError>> + 'static,
{
    let live = RwSignal::new(None::<T>);
    let changes = RwSignal::new(0u64);
    Effect::new(move |previous: Option<u64>| {
        let generation = changes.get();
        if previous.is_some() {
            leptos::task::spawn_local(async move {
                if let Ok(fresh) = fetch().await {
                    live.set(Some(fresh));
                }
            });
        }
        generation
    });
    // Effects run in the browser only: the server renders one snapshot.
    Effect::new(move |_| {
        let handle =
            set_interval_with_handle(move || changes.update(|c| *c += 1), REFRESH_EVERY).ok();
        on_cleanup(move || {
            if let Some(h) = handle {
                h.clear();
            }
        });
    });
    (live, changes)
}

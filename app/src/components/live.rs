//! Lists the server renders once and the browser keeps fresh: a newer copy replaces the
//! first one every few seconds and after every change made on the page, so keyed rows redraw
//! only where the data changed (focus and open forms survive).

use std::future::Future;
use std::time::Duration;

use leptos::prelude::*;

use crate::components::problem::ErrorNotice;
use crate::error::ConsoleError;

/// How often the browser asks again.
pub const REFRESH_EVERY: Duration = Duration::from_secs(5);

/// The newer copy (`None` until the first refresh) and the counter that asks for one: bump it
/// after a change.
fn live_refresh<T, F, Fut>(fetch: F) -> (RwSignal<Option<T>>, RwSignal<u64>)
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
    every(REFRESH_EVERY, move || changes.update(|c| *c += 1));
    (live, changes)
}

/// Calls `tick` every `period` in the browser (effects run there only: the server renders one
/// snapshot) until the page that asked goes away.
pub fn every(period: Duration, tick: impl Fn() + Clone + 'static) {
    Effect::new(move |_| {
        let handle = set_interval_with_handle(tick.clone(), period).ok();
        on_cleanup(move || {
            if let Some(h) = handle {
                h.clear();
            }
        });
    });
}

/// A page's data, followed live: `first` is the answer the server renders for the current
/// parameters, `live` the browser's newer copy, `changes` the counter that asks for one.
pub struct LiveData<T: Send + Sync + 'static> {
    pub first: Resource<Result<T, ConsoleError>>,
    pub live: RwSignal<Option<T>>,
    pub changes: RwSignal<u64>,
}

impl<T: Send + Sync + 'static> Clone for LiveData<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for LiveData<T> {}

/// The one way a page follows data: fetched for `params` (a search, a page, an object's name),
/// rendered by the server, refreshed by the browser every few seconds and after a change; new
/// parameters start over from a fresh answer, never showing the old ones' copy.
pub fn live_data<P, T, F, Fut>(
    params: impl Fn() -> P + Copy + Send + Sync + 'static,
    fetch: F,
) -> LiveData<T>
where
    P: PartialEq + Clone + Send + Sync + 'static,
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    F: Fn(P) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = Result<T, ConsoleError>> + Send + 'static,
{
    let first = Resource::new(params, fetch);
    let (live, changes) = live_refresh(move || fetch(untrack(params)));
    Effect::new(move |previous: Option<P>| {
        let current = params();
        if previous.is_some_and(|p| p != current) {
            live.set(None);
        }
        current
    });
    LiveData {
        first,
        live,
        changes,
    }
}

/// `data` shown by `page` once the first answer is in (the newest copy, as a memo), or the
/// error that came instead.
pub fn live_view<T, V>(
    data: LiveData<T>,
    page: impl Fn(Memo<T>) -> V + Clone + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + PartialEq + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    V: IntoView + 'static,
{
    let LiveData { first, live, .. } = data;
    view! {
        <Transition fallback=|| view! { <p class="mt-4 text-sm text-slate-500">{"…"}</p> }>
            {move || {
                let page = page.clone();
                Suspend::new(async move {
                    match first.await {
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                        Ok(initial) => {
                            page(Memo::new(move |_| live.get().unwrap_or_else(|| initial.clone())))
                                .into_any()
                        }
                    }
                })
            }}
        </Transition>
    }
}

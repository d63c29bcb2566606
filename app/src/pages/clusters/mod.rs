//! The clusters of the signed-in host, live: status with its reason, provider, group,
//! versions, nodes, certificate expiry and join time; search, filter and sort in the page.

pub mod add;
mod change;
mod details;
pub(crate) mod progress;
mod table;

use leptos::prelude::*;

use crate::components::heading::{PageHeading, host_code};
use crate::components::live::{live_data, live_view};
use crate::dto::clusters::{ClusterListView, ClusterRowView, ClusterState};
use crate::error::ConsoleError;
use crate::i18n::t;

use table::ClusterTable;

/// The host's clusters, from its last probe (every few seconds, in the background).
#[server(prefix = "/api", endpoint = "list_clusters")]
#[cfg_attr(feature = "ssr", tracing::instrument)]
pub async fn list_clusters() -> Result<ClusterListView, ConsoleError> {
    let crate::auth::Caller {
        principal,
        console: state,
    } = crate::auth::Caller::require(fleet::iam::Action::ViewClusters)?;
    let snapshot = state.hosts.snapshot();
    let rows = snapshot
        .iter()
        .find(|h| h.name == principal.host)
        .and_then(|h| match &h.state {
            fleet::HostState::Reachable { clusters, .. } => clusters.clone(),
            _ => None,
        })
        .map(|list| {
            let locale = crate::messages::request_locale();
            list.iter()
                .map(|c| ClusterRowView::of(locale, c))
                .collect::<Vec<_>>()
        })
        .map(|mut rows| {
            // The console's own verdicts first: what it saw go wrong on each member.
            let troubles = state.federation.troubles_by_member(&principal.host);
            for row in rows.iter_mut() {
                row.verdicts = verdict_counts(troubles.get(&row.name));
            }
            // Then what kubefed reports of the host's users and workspaces, per member,
            // without calling "propagated" what the console saw in trouble there.
            if let Ok(cache) = state.iam.host(&principal.host).and_then(|h| h.cache()) {
                let mut by_cluster = cache.propagation_by_cluster(|member, kind, name| {
                    troubles
                        .get(member)
                        .is_some_and(|t| t.iter().any(|(k, _)| k.kind == kind && k.name == name))
                });
                for row in rows.iter_mut() {
                    if let Some((ok, failures)) = by_cluster.remove(&row.name) {
                        row.propagated = ok;
                        row.propagation_failures = failures.into_iter().collect();
                        row.propagation_failures.sort();
                    }
                }
            }
            rows
        });
    Ok(ClusterListView {
        host: principal.host.clone(),
        rows,
        may_manage: principal.may(fleet::iam::Action::ManageClusters),
    })
}

/// How many objects are in each trouble state, worst first.
#[cfg(feature = "ssr")]
fn verdict_counts(
    troubles: Option<
        &Vec<(
            fleet::federation::ObjectKey,
            fleet::federation::FederatedState,
        )>,
    >,
) -> Vec<(fleet::federation::StateKey, usize)> {
    // Keys sort worst first.
    let mut counts: Vec<(fleet::federation::StateKey, usize)> = Vec::new();
    for (_, state) in troubles.into_iter().flatten() {
        match counts.iter_mut().find(|(key, _)| *key == state.key()) {
            Some(entry) => entry.1 += 1,
            None => counts.push((state.key(), 1)),
        }
    }
    counts.sort();
    counts
}

lazy_page!(
    /// The cluster list (`/clusters`) and the add-cluster wizard (`/clusters/add`), loaded in
    /// one wasm chunk on first visit.
    ClustersRoute => {
        let params = leptos_router::hooks::use_params_map();
        view! {
            {move || match params.read().get("section").as_deref() {
                None => view! { <ClustersPage /> }.into_any(),
                Some("add") => view! { <add::AddClusterPage /> }.into_any(),
                Some(_) => view! { <crate::pages::not_found::NotFound /> }.into_any(),
            }}
        }
        .into_any()
    }
);

#[component]
pub fn ClustersPage() -> impl IntoView {
    let i18n = crate::components::layout::page_hydrated();
    let data = live_data(|| (), |_| list_clusters());
    live_view(data, move |list| {
        let (host, may_manage) = list.with_untracked(|l| (l.host.clone(), l.may_manage));
        view! {
            <PageHeading
                title=t!(i18n, clusters_title).into_any()
                intro=t!(i18n, clusters_intro, host = move || host_code(host.clone())).into_any()
            >
                {may_manage.then(|| view! {
                    <a
                        href="/clusters/add"
                        data-testid="add-cluster"
                        class="rounded-md bg-sky-600 px-3 py-1.5 text-sm font-semibold text-white shadow-sm hover:bg-sky-700 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600"
                    >
                        {t!(i18n, clusters_add)}
                    </a>
                })}
            </PageHeading>
            <ClusterTable list />
        }
    })
}

/// The cluster table rendered to HTML on the server, as a page request renders it: for the
/// render-time benchmark (`cargo bench -p app --features ssr --bench clusters`).
#[cfg(feature = "ssr")]
pub fn cluster_table_html(list: ClusterListView) -> String {
    use crate::i18n::I18nContextProvider;
    let owner = Owner::new();
    owner.with(|| {
        let list = Memo::new(move |_| list.clone());
        view! { <I18nContextProvider><ClusterTable list /></I18nContextProvider> }.to_html()
    })
}

/// A row's state now, for filtering: the console's own reach first, then KubeSphere's word.
pub(crate) fn row_state(row: &ClusterRowView) -> ClusterState {
    match (row.unreachable.is_some(), row.ready) {
        (true, _) => ClusterState::Unreachable,
        (false, true) => ClusterState::Ready,
        (false, false) => ClusterState::NotReady,
    }
}

//! Federated objects across hosts and members: the fleet's topology as a picture, counts per
//! state (worst first), and one row per object with each host's and member's column, live.
//! Filters live in the address, so a view can be shared.

mod object;
mod repair;
mod sync;
mod table;
mod topology;

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

pub(crate) use crate::components::federation_state::{state_label, state_tone};
use crate::components::live::{live_data, live_view};
use crate::dto::federation::{FederatedKind, FederationListView, PAGE_SIZE};
use crate::error::ConsoleError;
use crate::i18n::{t, t_string, use_i18n};

use table::FederationTable;
use topology::TopologyPicture;

/// What the list shows: by state, kind and name.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FederationFilter {
    pub state: String,
    pub kind: String,
    pub search: String,
    pub page: usize,
}

/// One page of the federated objects, worst state first.
#[server(prefix = "/api", endpoint = "list_federated")]
#[cfg_attr(feature = "ssr", tracing::instrument)]
pub async fn list_federated(
    state: String,
    kind: String,
    search: String,
    page: usize,
) -> Result<FederationListView, ConsoleError> {
    let crate::auth::Caller { principal, console } =
        crate::auth::Caller::require(fleet::iam::Action::ViewFederation)?;
    let filter = FederationFilter {
        state,
        kind,
        search,
        page,
    };
    let mut view = federation_list(
        &console.federation.rows(),
        &console.federation.topology(),
        &filter,
    );
    view.may_manage = principal.may(fleet::iam::Action::ManageFederation);
    Ok(view)
}

/// The list page's data from the monitor's rows: counts, topology and the filtered page
/// (the selection is `fleet::federation::FederationQuery`'s).
#[cfg(feature = "ssr")]
pub fn federation_list(
    rows: &[fleet::federation::ObjectRow],
    topology: &[fleet::federation::HostLinks],
    filter: &FederationFilter,
) -> FederationListView {
    use crate::dto::federation::FederatedRowView;

    let now = std::time::SystemTime::now();
    let page = fleet::federation::FederationQuery {
        state: filter.state.clone(),
        kind: filter.kind.clone(),
        search: filter.search.clone(),
        page: filter.page,
        page_size: PAGE_SIZE,
    }
    .page(rows);
    FederationListView {
        hosts: topology.iter().map(|h| h.host.clone()).collect(),
        members: fleet::federation::member_names(topology),
        counts: page.counts,
        rows: page
            .rows
            .into_iter()
            .map(|r| FederatedRowView::from_row(r, now))
            .collect(),
        matching: page.matching,
        page: page.page,
        topology: topology::topology_view(topology, rows),
        may_manage: false,
    }
}

/// The list rendered to HTML on the server, as a page request renders it: for the render-time
/// benchmark (`cargo bench -p app --features ssr --bench federation`).
#[cfg(feature = "ssr")]
pub fn federation_table_html(list: FederationListView) -> String {
    use crate::i18n::I18nContextProvider;
    let owner = Owner::new();
    owner.with(|| {
        let list = Memo::new(move |_| list.clone());
        view! { <I18nContextProvider><TopologyPicture list /><FederationTable list /></I18nContextProvider> }
            .to_html()
    })
}

lazy_page!(
    /// Both federation pages, the list and one object, in one wasm chunk loaded on first visit.
    FederationRoute => {
        // One object is `/federation?object=<kind>/<name>`: one route for both pages keeps the
        // router (in the first download) small.
        let query = use_query_map();
        view! {
            {move || {
                if query.read().get("object").is_some() {
                    view! { <object::FederatedObjectPage /> }.into_any()
                } else if query.read().get("view").as_deref() == Some("sync") {
                    view! { <sync::SyncPage /> }.into_any()
                } else {
                    view! { <FederationPage /> }.into_any()
                }
            }}
        }
        .into_any()
    }
);

#[component]
pub fn FederationPage() -> impl IntoView {
    let i18n = crate::components::layout::page_hydrated();
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        let q = query.read();
        FederationFilter {
            state: q.get("state").unwrap_or_default(),
            kind: q.get("kind").unwrap_or_default(),
            search: q.get("q").unwrap_or_default(),
            page: q.get("page").and_then(|p| p.parse().ok()).unwrap_or(0),
        }
    });
    let data = live_data(
        move || filter.get(),
        |f| list_federated(f.state, f.kind, f.search, f.page),
    );
    view! {
        <div class="flex flex-wrap items-end justify-between gap-4">
            <div>
                <h1 class="text-2xl font-semibold tracking-tight">{t!(i18n, federation_title)}</h1>
                <p class="mt-1 max-w-3xl text-sm text-slate-600">{t!(i18n, federation_intro)}</p>
            </div>
            <a href="/federation?view=sync" data-testid="open-sync" class="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium shadow-sm hover:bg-slate-50">
                {t!(i18n, overview_sync_open)}
            </a>
        </div>
        {live_view(data, move |list| view! {
            <div class="mt-6 grid gap-6 lg:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
                <TopologyPicture list />
                <StateCounts list filter />
            </div>
            <Filters filter />
            <FederationTable list />
            <Pager list filter />
        })}
    }
}

/// The address of the list with one filter changed (and back to the first page).
fn list_href(filter: &FederationFilter, state: Option<&str>, page: Option<usize>) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    let state = state.unwrap_or(&filter.state);
    if !state.is_empty() {
        pairs.push(("state", state.to_string()));
    }
    if !filter.kind.is_empty() {
        pairs.push(("kind", filter.kind.clone()));
    }
    if !filter.search.is_empty() {
        pairs.push(("q", filter.search.clone()));
    }
    if let Some(page) = page.filter(|p| *p > 0) {
        pairs.push(("page", page.to_string()));
    }
    let query = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", crate::query::encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    if query.is_empty() {
        "/federation".into()
    } else {
        format!("/federation?{query}")
    }
}

#[component]
fn StateCounts(list: Memo<FederationListView>, filter: Memo<FederationFilter>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section aria-labelledby="state-counts" class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
            <h2 id="state-counts" class="text-sm font-semibold text-slate-800">{t!(i18n, federation_states)}</h2>
            <ul class="mt-3 grid grid-cols-2 gap-2" data-testid="state-counts">
                {move || list.with(|l| l.counts.clone()).into_iter().map(|(key, count)| {
                    let f = filter.get();
                    let current = f.state == key.as_str();
                    let href = list_href(&f, Some(if current { "" } else { key.as_str() }), None);
                    let tone = state_tone(key, count);
                    let label = state_label(i18n, key);
                    view! {
                        <li>
                            <a href=href aria-current=current.then_some("true") data-state=key.as_str()
                                class=format!("flex items-center justify-between rounded-md px-3 py-2 text-sm ring-1 ring-inset hover:bg-slate-50 {tone} {}", if current { "ring-2 ring-sky-500" } else { "" })>
                                <span>{label}</span>
                                <span class="font-semibold tabular-nums">{count}</span>
                            </a>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <p class="mt-3 text-xs text-slate-500">{t!(i18n, federation_states_help)}</p>
        </section>
    }
    .into_any()
}

#[component]
fn Filters(filter: Memo<FederationFilter>) -> impl IntoView {
    let i18n = use_i18n();
    let field = "mt-1 block rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm shadow-sm focus:border-sky-500 focus:outline-none focus:ring-2 focus:ring-sky-500/40";
    let f = filter.get_untracked();
    view! {
        <Form method="GET" action="/federation" attr:class="mt-6 flex flex-wrap items-end gap-3" attr:role="search">
            <input type="hidden" name="state" value=f.state.clone() />
            <label class="text-sm font-medium">
                {t!(i18n, federation_search)}
                <input type="search" name="q" value=f.search.clone() class=format!("{field} w-64") data-testid="federation-search" />
            </label>
            <label class="text-sm font-medium">
                {t!(i18n, federation_kind)}
                <select name="kind" class=field>
                    <option value="" selected=f.kind.is_empty()>{t!(i18n, federation_kind_all)}</option>
                    {FederatedKind::ALL.into_iter().map(|k| view! { <option value=k.key() selected=f.kind == k.key()>{kind_label(i18n, k)}</option> }).collect_view()}
                </select>
            </label>
            <button type="submit" class="rounded-md bg-white px-3 py-1.5 text-sm font-semibold text-slate-800 shadow-sm ring-1 ring-inset ring-slate-300 hover:bg-slate-50">
                {t!(i18n, federation_apply)}
            </button>
        </Form>
    }
    .into_any()
}

#[component]
fn Pager(list: Memo<FederationListView>, filter: Memo<FederationFilter>) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        let (matching, page) = list.with(|l| (l.matching, l.page));
        let pages = matching.div_ceil(PAGE_SIZE).max(1);
        let f = filter.get();
        let link = |target: usize, label: String, show: bool| {
            show.then(|| view! { <a href=list_href(&f, None, Some(target)) class="rounded-md px-2 py-1 ring-1 ring-inset ring-slate-300 hover:bg-slate-50">{label}</a> })
        };
        view! {
            <nav class="mt-3 flex items-center gap-3 text-sm text-slate-600" aria-label=t_string!(i18n, federation_pages)>
                <span>{t!(i18n, federation_showing, page = move || page + 1, pages = move || pages, matching = move || matching)}</span>
                {link(page.saturating_sub(1), t_string!(i18n, federation_previous).to_string(), page > 0)}
                {link(page + 1, t_string!(i18n, federation_next).to_string(), page + 1 < pages)}
            </nav>
        }
        .into_any()
    }
}

pub(crate) fn kind_label(
    i18n: leptos_i18n::I18nContext<crate::i18n::Locale>,
    kind: FederatedKind,
) -> &'static str {
    match kind {
        FederatedKind::User => t_string!(i18n, kind_user),
        FederatedKind::GlobalRole => t_string!(i18n, kind_globalrole),
        FederatedKind::GlobalRoleBinding => t_string!(i18n, kind_globalrolebinding),
        FederatedKind::Workspace => t_string!(i18n, kind_workspace),
        FederatedKind::WorkspaceRole => t_string!(i18n, kind_workspacerole),
        FederatedKind::WorkspaceRoleBinding => t_string!(i18n, kind_workspacerolebinding),
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests;

/// The address of one object's page.
pub fn object_href(kind: &str, name: &str) -> String {
    format!(
        "/federation?object={}",
        crate::query::encode(&format!("{kind}/{name}"))
    )
}

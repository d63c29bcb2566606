//! The cluster table: search, status filter and sort run in the page; each row opens onto its
//! conditions, connection facts and, for those who may, its removal.

use leptos::prelude::*;

use super::row_state;
use crate::dto::clusters::{ClusterListView, ClusterRowView, ClusterState};
use crate::i18n::{t, t_string, use_i18n};

/// How the table is ordered.
#[derive(Clone, Copy, PartialEq)]
enum ClusterSort {
    Name,
    Status,
    /// Newest first.
    Joined,
}

impl ClusterSort {
    fn key(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Status => "status",
            Self::Joined => "joined",
        }
    }

    /// The select's value; anything else sorts by name.
    fn from_key(key: &str) -> Self {
        [Self::Status, Self::Joined]
            .into_iter()
            .find(|s| s.key() == key)
            .unwrap_or(Self::Name)
    }
}

#[component]
pub fn ClusterTable(list: Memo<ClusterListView>) -> impl IntoView {
    let i18n = use_i18n();
    let search = RwSignal::new(String::new());
    // `None`: every state.
    let status = RwSignal::new(None::<ClusterState>);
    let sort = RwSignal::new(ClusterSort::Name);
    let names = move || {
        let needle = search.get().trim().to_lowercase();
        let status = status.get();
        let sort = sort.get();
        list.with(|l| {
            let mut rows: Vec<&ClusterRowView> = l
                .rows
                .iter()
                .flatten()
                .filter(|r| status.is_none_or(|s| row_state(r) == s))
                .filter(|r| {
                    needle.is_empty()
                        || [
                            Some(&r.name),
                            r.provider.as_ref(),
                            r.group.as_ref(),
                            r.description.as_ref(),
                        ]
                        .into_iter()
                        .flatten()
                        .any(|f| f.to_lowercase().contains(&needle))
                })
                .collect();
            match sort {
                ClusterSort::Joined => rows.sort_by(|a, b| b.joined_at.cmp(&a.joined_at)),
                ClusterSort::Status => rows
                    .sort_by_key(|r| (r.unreachable.is_none() && r.ready, r.ready, r.name.clone())),
                ClusterSort::Name => rows.sort_by(|a, b| a.name.cmp(&b.name)),
            }
            rows.into_iter().map(|r| r.name.clone()).collect::<Vec<_>>()
        })
    };
    let unknown = move || list.with(|l| l.rows.is_none());
    let field = "rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm shadow-sm focus:border-sky-500 focus:outline-none focus:ring-2 focus:ring-sky-500/40";
    let may_manage = list.with_untracked(|l| l.may_manage);
    view! {
        <div class="mt-6 flex flex-wrap items-end gap-3" role="search">
            <label class="text-sm font-medium">
                {t!(i18n, clusters_search)}
                <input type="search" class=format!("{field} mt-1 block w-64") data-testid="cluster-search"
                    on:input=move |ev| search.set(event_target_value(&ev)) />
            </label>
            <label class="text-sm font-medium">
                {t!(i18n, clusters_filter)}
                <select class=format!("{field} mt-1 block") on:change=move |ev| status.set(ClusterState::from_key(&event_target_value(&ev)))>
                    <option value="all">{t!(i18n, clusters_filter_all)}</option>
                    <option value=ClusterState::Ready.key()>{t!(i18n, cluster_ready)}</option>
                    <option value=ClusterState::NotReady.key()>{t!(i18n, cluster_not_ready)}</option>
                    <option value=ClusterState::Unreachable.key()>{t!(i18n, cluster_unreachable)}</option>
                </select>
            </label>
            <label class="text-sm font-medium">
                {t!(i18n, clusters_sort)}
                <select class=format!("{field} mt-1 block") on:change=move |ev| sort.set(ClusterSort::from_key(&event_target_value(&ev)))>
                    <option value=ClusterSort::Name.key()>{t!(i18n, clusters_sort_name)}</option>
                    <option value=ClusterSort::Status.key()>{t!(i18n, clusters_sort_status)}</option>
                    <option value=ClusterSort::Joined.key()>{t!(i18n, clusters_sort_joined)}</option>
                </select>
            </label>
        </div>
        <Show when=unknown>
            <p class="mt-6 rounded-lg border border-dashed border-slate-300 bg-white p-6 text-sm text-slate-600">
                {t!(i18n, clusters_unknown)}
            </p>
        </Show>
        <div class="mt-4 overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm" class:hidden=unknown>
            <table class="min-w-full divide-y divide-slate-200 text-sm" data-testid="clusters-table">
                <caption class="sr-only">{t!(i18n, clusters_title)}</caption>
                <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
                    <tr>
                        <th scope="col" class="px-4 py-3">{t!(i18n, col_cluster)}</th>
                        <th scope="col" class="px-4 py-3">{t!(i18n, col_status)}</th>
                        <th scope="col" class="px-4 py-3">{t!(i18n, col_provider)}</th>
                        <th scope="col" class="px-4 py-3">{t!(i18n, col_versions)}</th>
                        <th scope="col" class="px-4 py-3 text-right">{t!(i18n, col_nodes)}</th>
                        <th scope="col" class="px-4 py-3">{t!(i18n, col_certificate)}</th>
                        <th scope="col" class="px-4 py-3">{t!(i18n, col_joined)}</th>
                    </tr>
                </thead>
                <For each=names key=|name| name.clone() let:name>
                    <ClusterRow name list may_manage />
                </For>
            </table>
        </div>
        <p class="mt-2 text-xs text-slate-500" aria-live="polite">
            {move || {
                let shown = names().len();
                let total = list.with(|l| l.rows.as_ref().map(|r| r.len()).unwrap_or(0));
                t!(i18n, clusters_count, shown = move || shown, total = move || total)
            }}
        </p>
    }
    .into_any()
}

#[component]
fn ClusterRow(name: String, list: Memo<ClusterListView>, may_manage: bool) -> impl IntoView {
    let i18n = use_i18n();
    let row = {
        let name = name.clone();
        Memo::new(move |_| list.with(|l| l.rows.iter().flatten().find(|r| r.name == name).cloned()))
    };
    let text = move |f: fn(&ClusterRowView) -> Option<String>| {
        move || row.with(|r| r.as_ref().and_then(f).unwrap_or_else(|| "—".into()))
    };
    let open = RwSignal::new(false);
    let details_id = format!("cluster-details-{name}");
    let is_host = row.with_untracked(|r| r.as_ref().is_some_and(|r| r.is_host));
    let removable = may_manage && !is_host;
    view! {
        <tbody class="divide-y divide-slate-100 border-b border-slate-100" data-testid="cluster-row" data-cluster=name.clone()>
            <tr>
                <th scope="row" class="px-4 py-3 text-left align-top font-medium">
                    <button type="button" class="text-left text-sky-800 underline-offset-2 hover:underline"
                        aria-expanded=move || open.get().to_string() aria-controls=details_id.clone()
                        on:click=move |_| open.update(|o| *o = !*o)>
                        {name.clone()}
                    </button>
                    {is_host.then(|| view! { <span class="ml-2 rounded bg-slate-200 px-1.5 py-0.5 text-xs font-normal text-slate-700">{t!(i18n, cluster_role_host)}</span> })}
                    {move || row.with(|r| r.as_ref().is_some_and(|r| r.insecure)).then(|| view! {
                        <span class="ml-2 rounded bg-amber-100 px-1.5 py-0.5 text-xs font-normal text-amber-900" title=move || t_string!(i18n, cluster_insecure_help)>{t!(i18n, cluster_insecure)}</span>
                    })}
                    {move || row.with(|r| r.as_ref().and_then(|r| r.group.clone())).map(|g| view! {
                        <span class="ml-2 rounded bg-sky-50 px-1.5 py-0.5 text-xs font-normal text-sky-800">{g}</span>
                    })}
                    <p class="mt-0.5 text-xs font-normal text-slate-500">{move || row.with(|r| r.as_ref().and_then(|r| r.description.clone()))}</p>
                </th>
                <td class="px-4 py-3 align-top">
                    {move || match row.get() {
                        Some(r) if r.unreachable.is_some() => view! {
                            <span class="inline-flex items-center gap-1 rounded-full bg-red-50 px-2 py-0.5 text-xs font-medium text-red-800"><span aria-hidden="true">"✕"</span>{t!(i18n, cluster_unreachable)}</span>
                            <p class="mt-1 max-w-xs text-xs text-slate-600">{t!(i18n, cluster_unreachable_why, why = move || r.unreachable.clone().unwrap_or_default())}</p>
                        }.into_any(),
                        Some(r) if r.ready => view! { <span class="inline-flex items-center gap-1 rounded-full bg-emerald-50 px-2 py-0.5 text-xs font-medium text-emerald-800"><span aria-hidden="true">"●"</span>{t!(i18n, cluster_ready)}</span> }.into_any(),
                        Some(r) => view! {
                            <span class="inline-flex items-center gap-1 rounded-full bg-amber-50 px-2 py-0.5 text-xs font-medium text-amber-900"><span aria-hidden="true">"▲"</span>{t!(i18n, cluster_not_ready)}</span>
                            <p class="mt-1 max-w-xs text-xs text-slate-600">{match r.not_ready_reason.clone() {
                                Some(reason) => reason.into_any(),
                                // KubeSphere has not written a Ready condition yet.
                                None => t!(i18n, cluster_no_ready_condition).into_any(),
                            }}</p>
                        }.into_any(),
                        None => ().into_any(),
                    }}
                    {move || row.with(|r| r.as_ref().map(|r| r.verdicts.clone())).map(|verdicts| view! { <Verdicts verdicts /> })}
                    {move || row.with(|r| r.as_ref().map(|r| r.propagation_failures.iter().map(|f| f.1).sum::<usize>())).filter(|n| *n > 0).map(|n| view! {
                        <p class="mt-1 text-xs text-amber-800">{t!(i18n, cluster_not_propagated, count = move || n)}</p>
                    })}
                </td>
                <td class="px-4 py-3 align-top text-slate-700">{text(|r| r.provider.clone())}</td>
                <td class="px-4 py-3 align-top font-mono text-xs text-slate-700">
                    <div>{text(|r| r.kubernetes_version.clone())}</div>
                    <div class="text-slate-500">{text(|r| r.kubesphere_version.clone().map(|v| format!("KubeSphere {v}")))}</div>
                </td>
                <td class="px-4 py-3 text-right align-top tabular-nums">{text(|r| r.node_count.map(|n| n.to_string()))}</td>
                <td class="px-4 py-3 align-top text-xs">
                    {move || row.with(|r| r.as_ref().map(|r| (r.certificate_expiry.clone(), r.certificate_expires_soon))).map(|(expiry, soon)| match expiry {
                        None => view! { <span class="text-slate-500">{t!(i18n, cluster_cert_none)}</span> }.into_any(),
                        Some(at) => view! { <span class=if soon { "font-medium text-amber-800" } else { "text-slate-700" }>{at.chars().take(10).collect::<String>()}</span> }.into_any(),
                    })}
                </td>
                <td class="px-4 py-3 align-top text-xs text-slate-700">{text(|r| r.joined_at.clone().map(|t| t.chars().take(10).collect()))}</td>
            </tr>
            // Drawn when opened: 200 rows of forms would weigh a megabyte of HTML.
            <tr id=format!("cluster-details-{name}") class:hidden=move || !open.get()>
                <td colspan="7" class="bg-slate-50 px-4 py-4">
                    <Show when=move || open.get()>
                        <super::details::ClusterDetails row=Signal::derive(move || row.get()) removable />
                    </Show>
                </td>
            </tr>
        </tbody>
    }
    .into_any()
}

/// The console's own verdicts on what it saw in trouble on a member (flapping, stuck
/// deleting, ...), each with its count and a link to those objects on the federation page.
#[component]
pub(super) fn Verdicts(verdicts: Vec<(crate::dto::StateKey, usize)>) -> impl IntoView {
    let i18n = use_i18n();
    (!verdicts.is_empty()).then(|| view! {
        <ul class="mt-1 flex flex-wrap gap-1" data-testid="cluster-verdicts">
            {verdicts.into_iter().map(|(state, count)| view! {
                <li>
                    <a class="inline-flex items-center gap-1 rounded border border-red-200 bg-red-50 px-1.5 py-0.5 text-xs text-red-900 underline"
                        data-verdict=state.as_str() href=format!("/federation?state={}", state.as_str())>
                        <span aria-hidden="true">"⚠"</span>
                        {crate::components::federation_state::state_label(i18n, state)}
                        {format!(" × {count}")}
                    </a>
                </li>
            }).collect_view()}
        </ul>
    })
}

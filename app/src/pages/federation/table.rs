//! One row per federated object: its state, then a column per host (is it there, the
//! fingerprint of what it propagates, when it changed) and per member (the copy's fingerprint,
//! which host wrote it, kubefed's status from each host).

use leptos::prelude::*;

use super::{kind_label, state_label, state_tone};
use crate::dto::federation::{
    FederatedRowView, FederationListView, HostCellView, MemberCellView, StateView,
};
use crate::i18n::{t, t_string, use_i18n};

/// "12 s", "4 min", "3 h" ago.
pub(crate) fn ago(secs: Option<u64>) -> String {
    match secs {
        None => "—".into(),
        Some(s) if s < 90 => format!("{s} s"),
        Some(s) if s < 90 * 60 => format!("{} min", s / 60),
        Some(s) => format!("{} h", s / 3600),
    }
}

/// The first 7 digits of a fingerprint, as people compare them.
pub(crate) fn short(fingerprint: &str) -> String {
    fingerprint.chars().take(7).collect()
}

#[component]
pub fn FederationTable(list: Memo<FederationListView>) -> impl IntoView {
    let i18n = use_i18n();
    let heads = Memo::new(move |_| list.with(|l| (l.hosts.clone(), l.members.clone())));
    view! {
        <div class="mt-4 overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
            <table class="min-w-full divide-y divide-slate-200 text-sm" data-testid="federation-table">
                <caption class="sr-only">{t!(i18n, federation_title)}</caption>
                <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-600">
                    {move || heads.with(|(hosts, members)| view! {
                        <tr>
                            <th scope="col" class="px-3 py-2">{t_string!(i18n, federation_object)}</th>
                            <th scope="col" class="px-3 py-2">{t_string!(i18n, federation_state)}</th>
                            {hosts.iter().map(|h| view! { <th scope="col" class="px-3 py-2"><span class="normal-case">{h.clone()}</span><span class="ml-1 font-normal normal-case text-slate-400">{t_string!(i18n, topology_host)}</span></th> }).collect_view()}
                            {members.iter().map(|m| view! { <th scope="col" class="px-3 py-2"><span class="normal-case">{m.clone()}</span><span class="ml-1 font-normal normal-case text-slate-400">{t_string!(i18n, topology_member)}</span></th> }).collect_view()}
                        </tr>
                    }.into_any())}
                </thead>
                <tbody class="divide-y divide-slate-100">
                    <For
                        each=move || list.with(|l| l.rows.clone())
                        key=|r| (r.kind, r.name.clone(), r.state.clone(), r.hosts.clone(), r.members.clone())
                        children=move |row| view! { <Row row /> }
                    />
                </tbody>
            </table>
            {move || list.with(|l| l.rows.is_empty()).then(|| view! {
                <p class="px-4 py-6 text-center text-sm text-slate-500">{t!(i18n, federation_none)}</p>
            })}
        </div>
    }
    .into_any()
}

#[component]
fn Row(row: FederatedRowView) -> impl IntoView {
    let i18n = use_i18n();
    let href = super::object_href(row.kind.key(), &row.name);
    let id = format!("{}/{}", row.kind.key(), row.name);
    let name = row.name.clone();
    view! {
        <tr data-object=id data-state=row.state.key.as_str()>
            <th scope="row" class="px-3 py-2 text-left font-normal">
                <span class="mr-2 rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-600">{kind_label(i18n, row.kind)}</span>
                <a href=href class="font-medium text-sky-700 hover:underline">{name}</a>
            </th>
            <td class="px-3 py-2"><StateBadge state=row.state.clone() /></td>
            {row.hosts.into_iter().map(|c| view! { <HostCell cell=c /> }).collect_view()}
            {row.members.into_iter().map(|c| view! { <MemberCell cell=c /> }).collect_view()}
        </tr>
    }
    .into_any()
}

#[component]
pub(crate) fn StateBadge(state: StateView) -> impl IntoView {
    let i18n = use_i18n();
    let tone = state_tone(state.key, 1);
    let detail = match (state.hosts.is_empty(), &state.reason) {
        (_, Some(reason)) => format!("{} · {reason}", state.hosts.join(", ")),
        (false, None) => state.hosts.join(" ⇄ "),
        (true, None) => String::new(),
    };
    view! {
        <span class=format!("inline-flex flex-wrap items-center gap-1 rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset {tone}") data-testid="state-badge">
            {state_label(i18n, state.key)}
            {(!detail.is_empty()).then(|| view! { <span class="font-normal">{format!("({detail})")}</span> })}
        </span>
    }
    .into_any()
}

#[component]
fn HostCell(cell: HostCellView) -> impl IntoView {
    let i18n = use_i18n();
    let body = match (&cell.fingerprint, cell.unknown) {
        (_, true) => view! { <span class="text-slate-400">{t!(i18n, federation_unknown)}</span> }.into_any(),
        (None, false) => view! { <span class="text-amber-800">{t!(i18n, federation_absent)}</span> }.into_any(),
        (Some(f), false) => view! {
            <span class="font-mono text-xs" title=f.clone()>{short(f)}</span>
            {cell.deleting.then(|| view! { <span class="ml-1 text-xs font-medium text-red-700">{t!(i18n, federation_deleting)}</span> })}
            <span class="ml-1 text-xs text-slate-400">{ago(cell.changed_secs_ago)}</span>
        }.into_any(),
    };
    view! { <td class="whitespace-nowrap px-3 py-2" data-host=cell.host.clone()>{body}</td> }
        .into_any()
}

#[component]
fn MemberCell(cell: MemberCellView) -> impl IntoView {
    let i18n = use_i18n();
    let failures: Vec<String> = cell
        .failures
        .iter()
        .map(|(h, s)| format!("{h}: {s}"))
        .collect();
    view! {
        <td class="px-3 py-2" data-member=cell.member.clone()>
            {match &cell.fingerprint {
                None => view! { <span class="text-slate-500">{t!(i18n, federation_absent)}</span> }.into_any(),
                Some(f) => view! {
                    <span class="font-mono text-xs" title=f.clone()>{short(f)}</span>
                    <span class="ml-1 text-xs text-slate-600">
                        {cell.written_by.clone().map(|h| t_string!(i18n, federation_written_by).replace("{host}", &h)).unwrap_or_else(|| t_string!(i18n, federation_written_by_none).to_string())}
                    </span>
                    <span class="ml-1 text-xs text-slate-400">{ago(cell.changed_secs_ago)}</span>
                }.into_any(),
            }}
            {(!failures.is_empty()).then(|| view! { <div class="text-xs text-amber-800">{failures.join(", ")}</div> })}
        </td>
    }
    .into_any()
}

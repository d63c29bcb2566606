//! One cluster opened up: connection facts, its conditions with their times, and removal —
//! confirmed by typing the cluster's name, cleaning the member too, and saying what stays
//! there when the member is gone.

use leptos::form::ActionForm;
use leptos::prelude::*;

use super::progress::ActionList;
use crate::components::problem::ChangeRefused;
use crate::dto::clusters::{ClusterRowView, ClusterState, RemovalView};
use crate::error::ConsoleError;
use crate::i18n::{t, t_string, use_i18n};

/// The caller's host, to write `cluster` on.
#[cfg(feature = "ssr")]
pub(super) fn writable_host(
    principal: &fleet::iam::Principal,
    cluster: &str,
) -> Result<fleet::clusters::HostLink, ConsoleError> {
    use crate::messages::{ClusterRefusal, cluster_refused};
    let state = crate::state::ConsoleState::current()?;
    state
        .clusters
        .host(&principal.host)
        .cloned()
        .ok_or_else(|| {
            cluster_refused(
                principal,
                &format!("Cluster {cluster}"),
                ClusterRefusal::NotWritable(&principal.host),
            )
        })
}

/// Removes `name` from the signed-in host; `confirm` must repeat the name.
#[server(prefix = "/api", endpoint = "remove_cluster")]
#[cfg_attr(feature = "ssr", tracing::instrument)]
pub async fn remove_cluster(name: String, confirm: String) -> Result<RemovalView, ConsoleError> {
    use crate::messages::{ClusterRefusal, cluster_refused};
    let principal = crate::auth::require(fleet::iam::Action::ManageClusters)?;
    let object = format!("Cluster {name}");
    if confirm.trim() != name {
        let refusal = ClusterRefusal::RemovalUnconfirmed(&name);
        return Err(cluster_refused(&principal, &object, refusal));
    }
    let host = writable_host(&principal, &name)?;
    let state = crate::state::ConsoleState::current()?;
    let others = state.clusters.others(&principal.host);
    let outcome = fleet::clusters::remove_cluster(&host, &others, &name, &mut |_| {})
        .await
        .map_err(|e| cluster_refused(&principal, &object, ClusterRefusal::Remove(&e)))?;
    tracing::info!(by = %principal.username, host = %principal.host, cluster = %name, member_reached = outcome.member_reached, "cluster removed");
    state.record_change(
        &principal,
        "ClusterRemoved",
        fleet::events::ObjectKind::Cluster,
        &name,
        format!("removed cluster {name}"),
    );
    Ok(RemovalView {
        cluster: name,
        actions: outcome
            .actions
            .iter()
            .map(crate::dto::clusters::ActionView::from)
            .collect(),
        member_reached: outcome.member_reached,
        left_on_member: outcome.left_on_member,
    })
}

#[component]
pub fn ClusterDetails(row: Signal<Option<ClusterRowView>>, removable: bool) -> impl IntoView {
    let i18n = use_i18n();
    let conditions =
        move || row.with(|r| r.as_ref().map(|r| r.conditions.clone()).unwrap_or_default());
    view! {
        <div class="grid gap-6 lg:grid-cols-2">
            <section>
                <h3 class="text-sm font-semibold text-slate-800">{t!(i18n, cluster_connection)}</h3>
                <dl class="mt-2 grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-xs">
                    <dt class="text-slate-500">{t!(i18n, cluster_endpoint)}</dt>
                    <dd class="font-mono">{move || row.with(|r| r.as_ref().and_then(|r| r.api_endpoint.clone()).unwrap_or_else(|| "—".into()))}</dd>
                    <dt class="text-slate-500">{t!(i18n, cluster_tls)}</dt>
                    <dd>{move || if row.with(|r| r.as_ref().is_some_and(|r| r.insecure)) { t_string!(i18n, cluster_tls_off) } else { t_string!(i18n, cluster_tls_on) }}</dd>
                    <dt class="text-slate-500">{t!(i18n, cluster_reach)}</dt>
                    <dd>{move || row.with(|r| r.as_ref().and_then(|r| r.unreachable.clone().or_else(|| r.round_trip_ms.map(|ms| format!("{ms} ms"))))).unwrap_or_else(|| "—".into())}</dd>
                    <dt class="text-slate-500">{t!(i18n, cluster_federation)}</dt>
                    <dd>{move || row.with(|r| r.as_ref().and_then(|r| r.federation.clone())).map(|(ready, why)| view! {
                        <span class=if ready { "text-emerald-800" } else { "text-amber-800" }>{why}</span>
                    })}</dd>
                    <dt class="text-slate-500">{t!(i18n, cluster_propagation)}</dt>
                    <dd data-testid="cluster-propagation">
                        {move || row.with(|r| r.as_ref().map(|r| r.verdicts.clone())).map(|verdicts| view! { <super::table::Verdicts verdicts /> })}
                        {move || row.with(|r| r.as_ref().map(|r| (r.propagated, r.propagation_failures.clone()))).map(|(ok, failures)| view! {
                            <span>{t!(i18n, cluster_propagated, count = move || ok)}</span>
                            {failures.into_iter().map(|(reason, count)| view! { <span class="ml-2 text-amber-800">{format!("{reason} × {count}")}</span> }).collect_view()}
                        })}
                    </dd>
                    <dt class="text-slate-500">{t!(i18n, col_certificate)}</dt>
                    <dd>{move || row.with(|r| r.as_ref().and_then(|r| r.certificate_expiry.clone())).unwrap_or_else(|| t_string!(i18n, cluster_cert_none).to_string())}</dd>
                </dl>
            </section>
            <section>
                <h3 class="text-sm font-semibold text-slate-800">{t!(i18n, cluster_history)}</h3>
                <ol class="mt-2 space-y-1 text-xs" data-testid="cluster-history">
                    {move || row.with(|r| r.as_ref().map(|r| r.history.clone()).unwrap_or_default()).into_iter().rev().map(|(at, state, reason)| {
                        let (tone, label) = match state {
                            ClusterState::Ready => ("font-medium text-emerald-800", t_string!(i18n, cluster_ready)),
                            ClusterState::Unreachable => ("font-medium text-red-800", t_string!(i18n, cluster_unreachable)),
                            ClusterState::NotReady => ("font-medium text-amber-800", t_string!(i18n, cluster_not_ready)),
                        };
                        view! {
                            <li class="flex flex-wrap gap-x-2">
                                <span class="tabular-nums text-slate-400">{at}</span>
                                <span class=tone>{label}</span>
                                <span class="text-slate-600">{reason}</span>
                            </li>
                        }
                    }).collect_view()}
                </ol>
                <h3 class="mt-4 text-sm font-semibold text-slate-800">{t!(i18n, cluster_conditions)}</h3>
                <ul class="mt-2 space-y-1 text-xs">
                    {move || conditions().into_iter().map(|c| {
                        let ok = c.healthy;
                        view! {
                            <li class="flex flex-wrap gap-x-2">
                                <span class=if ok { "font-medium text-emerald-800" } else { "font-medium text-amber-800" }>{format!("{} = {}", c.kind, c.status)}</span>
                                <span class="text-slate-600">{[c.reason, c.message].into_iter().flatten().collect::<Vec<_>>().join(": ")}</span>
                                <span class="text-slate-400">{c.since}</span>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </section>
        </div>
        {removable.then(|| view! { <super::change::ChangeCluster row /> <RemoveCluster row /> })}
    }
    .into_any()
}

#[component]
fn RemoveCluster(row: Signal<Option<ClusterRowView>>) -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<RemoveCluster>::new();
    let name = move || row.with(|r| r.as_ref().map(|r| r.name.clone()).unwrap_or_default());
    let typed = RwSignal::new(String::new());
    view! {
        <ActionForm action attr:class="mt-6 flex flex-wrap items-end gap-3 border-t border-slate-200 pt-4" attr:data-testid="remove-cluster-form">
            <input type="hidden" name="name" value=name />
            <label class="text-sm font-medium text-slate-800">
                {move || t!(i18n, cluster_remove_confirm, name = name)}
                <input name="confirm" autocomplete="off" spellcheck="false" on:input=move |ev| typed.set(event_target_value(&ev))
                    class="mt-1 block w-64 rounded-md border border-slate-300 bg-white px-3 py-1.5 font-mono text-sm" />
            </label>
            <button type="submit" disabled=move || typed.get().trim() != name() || action.pending().get()
                class="rounded-md bg-red-600 px-3 py-1.5 text-sm font-semibold text-white shadow-sm hover:bg-red-700 disabled:opacity-50">
                {move || if action.pending().get() { t_string!(i18n, cluster_removing) } else { t_string!(i18n, cluster_remove) }}
            </button>
            <p class="w-full text-xs text-slate-600">{t!(i18n, cluster_remove_help)}</p>
        </ActionForm>
        <div aria-live="polite">
            {move || action.value().get().map(|result| match result {
                Err(error) => view! { <ChangeRefused error /> }.into_any(),
                Ok(done) => view! {
                    <div class="mt-3 rounded-md border border-emerald-200 bg-emerald-50 p-3 text-sm text-emerald-900" data-testid="removal-result">
                        <p class="font-medium">{t!(i18n, cluster_removed, name = move || done.cluster.clone())}</p>
                        <ActionList actions=done.actions.clone() />
                        {(!done.member_reached).then(|| view! {
                            <p class="mt-2 text-amber-900">{t!(i18n, cluster_left_on_member)}</p>
                            <ul class="list-disc pl-5 font-mono text-xs">{done.left_on_member.iter().map(|o| view! { <li>{o.clone()}</li> }).collect_view()}</ul>
                        })}
                    </div>
                }.into_any(),
            })}
        </div>
    }
}

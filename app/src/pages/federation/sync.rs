//! The Sync page (`/federation?view=sync`): the hosts of the sync group, whether sync is on,
//! replication lag and pending changes, the conflict log and the deletes carried across
//! hosts; while sync is off, the plan turning it on would carry out, and the switch.
//! It shares the federation pages' wasm chunk and route (each route grows the first
//! download).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::repair::federation_problem;
use super::table::ago;
use crate::components::live::{live_data, live_view};
use crate::components::status::{StatusBadge, Tone};
use crate::error::ConsoleError;
use crate::i18n::{t, t_string, use_i18n};

/// One write of a plan or round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PlanWrite {
    Create,
    Update,
    Delete,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanRow {
    pub host: String,
    /// `Kind name`.
    pub object: String,
    pub write: PlanWrite,
}

/// A write that lost to one its writer had not seen. Values as shown (a password hash never).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictRow {
    pub object: String,
    pub field: String,
    pub kept: (String, Option<String>),
    pub superseded: (String, Option<String>),
    pub secs_ago: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeleteRow {
    pub object: String,
    pub host: String,
    pub secs_ago: u64,
}

/// What the page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncView {
    /// The hosts of the group (empty when fewer than two hosts are configured).
    pub hosts: Vec<String>,
    pub enabled: bool,
    pub may_manage: bool,
    /// Who switched it last, how long ago.
    pub changed_by: Option<(String, u64)>,
    /// The last round: how long ago, objects read, copies written.
    pub round: Option<(u64, usize, usize)>,
    /// Objects left for a later round.
    pub deferred: Vec<String>,
    /// `host (Kind)` lists that did not answer in the last round.
    pub unreachable: Vec<String>,
    /// p50 and p99 in ms, and how many writes they cover.
    pub lag: (u64, u64, usize),
    pub pending: usize,
    pub writes_per_host: Vec<(String, u64)>,
    /// At most `SHOWN` rows; `plan_total` counts them all.
    pub plan: Vec<PlanRow>,
    pub plan_total: usize,
    pub plan_conflicts: Vec<ConflictRow>,
    pub conflicts: Vec<ConflictRow>,
    pub deletes: Vec<DeleteRow>,
}

/// Rows of a list the page shows at most.
#[cfg(feature = "ssr")]
const SHOWN: usize = 100;

#[server(prefix = "/api", endpoint = "sync_status")]
#[cfg_attr(feature = "ssr", tracing::instrument)]
pub async fn sync_status() -> Result<SyncView, ConsoleError> {
    let crate::auth::Caller { principal, console } =
        crate::auth::Caller::require(fleet::iam::Action::ViewFederation)?;
    let may_manage = principal.may(fleet::iam::Action::ManageFederation);
    Ok(match &console.sync {
        Some(sync) => view_of(sync.hosts(), &sync.record(), may_manage),
        None => view_of(&[], &Default::default(), false),
    })
}

/// Turns sync on (after the plan was reviewed: `confirm` is the ticked box) or off.
#[server(prefix = "/api", endpoint = "switch_sync")]
#[cfg_attr(feature = "ssr", tracing::instrument)]
pub async fn switch_sync(on: bool, confirm: Option<String>) -> Result<(), ConsoleError> {
    let crate::auth::Caller { principal, console } =
        crate::auth::Caller::require(fleet::iam::Action::ManageFederation)?;
    let Some(sync) = &console.sync else {
        crate::auth::set_status(http::StatusCode::CONFLICT);
        return Err(ConsoleError::FederationRefused(
            crate::error::FederationProblem::NoSyncGroup,
        ));
    };
    if on && confirm.is_none() {
        crate::auth::set_status(http::StatusCode::UNPROCESSABLE_ENTITY);
        return Err(ConsoleError::FederationRefused(
            crate::error::FederationProblem::Unconfirmed,
        ));
    }
    sync.switch(on, &principal.username).await.map_err(|e| {
        tracing::warn!(error = %e, "sync not switched");
        crate::auth::set_status(http::StatusCode::BAD_GATEWAY);
        ConsoleError::FederationRefused(crate::error::FederationProblem::LeaderUnreachable(
            e.to_string(),
        ))
    })?;
    console.record_change(
        &principal,
        "SyncSwitched",
        fleet::events::ObjectKind::SyncRecord,
        "tandem-sync",
        if on {
            "turned two-way sync on"
        } else {
            "turned two-way sync off"
        },
    );
    Ok(())
}

#[cfg(feature = "ssr")]
fn view_of(
    hosts: &[String],
    record: &fleet::sync::record::SyncRecord,
    may_manage: bool,
) -> SyncView {
    use fleet::sync::engine::WriteKind;
    let now = fleet::sync::service::now_ms();
    let secs_ago = |at_ms: u64| now.saturating_sub(at_ms) / 1000;
    let conflict = |c: &fleet::sync::record::LoggedConflict| ConflictRow {
        object: c.object.clone(),
        field: c.field.clone(),
        kept: (c.kept.host.clone(), c.kept.value.clone()),
        superseded: (c.superseded.host.clone(), c.superseded.value.clone()),
        secs_ago: secs_ago(c.at_ms),
    };
    SyncView {
        hosts: hosts.to_vec(),
        enabled: record.enabled,
        may_manage: may_manage && hosts.len() >= 2,
        changed_by: record
            .changed_by
            .as_ref()
            .map(|(by, at)| (by.clone(), secs_ago(*at))),
        round: record
            .last_round
            .as_ref()
            .map(|r| (secs_ago(r.at_ms), r.objects, r.writes)),
        deferred: record
            .last_round
            .iter()
            .flat_map(|r| r.deferred.iter().map(|(object, _)| object.clone()))
            .collect(),
        unreachable: record
            .last_round
            .iter()
            .flat_map(|r| r.unreachable.clone())
            .collect(),
        lag: (record.lag.p50_ms, record.lag.p99_ms, record.lag.samples),
        pending: record.pending,
        writes_per_host: record.writes_per_host.clone().into_iter().collect(),
        plan: record
            .plan
            .iter()
            .take(SHOWN)
            .map(|w| PlanRow {
                host: w.host.clone(),
                object: w.object.clone(),
                write: match w.write {
                    WriteKind::Create => PlanWrite::Create,
                    WriteKind::Update => PlanWrite::Update,
                    WriteKind::Delete => PlanWrite::Delete,
                },
            })
            .collect(),
        plan_total: record.plan_total.max(record.plan.len()),
        plan_conflicts: record
            .plan_conflicts
            .iter()
            .take(SHOWN)
            .map(conflict)
            .collect(),
        conflicts: record.conflicts.iter().take(SHOWN).map(conflict).collect(),
        deletes: record
            .deletes
            .iter()
            .take(SHOWN)
            .map(|d| DeleteRow {
                object: d.object.clone(),
                host: d.host.clone(),
                secs_ago: secs_ago(d.at_ms),
            })
            .collect(),
    }
}

#[component]
pub fn SyncPage() -> impl IntoView {
    let i18n = crate::components::layout::page_hydrated();
    let data = live_data(|| (), |_| sync_status());
    view! {
        <div>
            <p class="text-sm"><a href="/federation" class="text-sky-700 hover:underline">{t!(i18n, sync_back)}</a></p>
            <h1 class="mt-1 text-2xl font-semibold tracking-tight">{t!(i18n, sync_title)}</h1>
            <p class="mt-1 max-w-3xl text-sm text-slate-600">{t!(i18n, sync_intro)}</p>
        </div>
        {live_view(data, move |view| {
            let changes = data.changes;
            view! {
                <Show when=move || view.with(|v| v.hosts.len() >= 2) fallback=move || view! {
                    <p class="mt-6 rounded-lg border border-dashed border-slate-300 bg-white p-6 text-sm text-slate-600" data-testid="sync-no-group">
                        {t!(i18n, sync_no_group)}
                    </p>
                }>
                    <SyncSummary view changes />
                    <Show when=move || !view.with(|v| v.enabled)>
                        <PlanTable view />
                    </Show>
                    <ConflictTable
                        title=Signal::derive(move || if view.with(|v| v.enabled) { t_string!(i18n, sync_conflicts).to_string() } else { t_string!(i18n, sync_plan_conflicts).to_string() })
                        rows=Signal::derive(move || view.with(|v| if v.enabled { v.conflicts.clone() } else { v.plan_conflicts.clone() }))
                    />
                    <DeleteTable view />
                </Show>
            }
        })}
    }
}

/// The group, the switch, and the figures.
#[component]
fn SyncSummary(view: Memo<SyncView>, changes: RwSignal<u64>) -> impl IntoView {
    let i18n = use_i18n();
    let switch = ServerAction::<SwitchSync>::new();
    let ticked = RwSignal::new(false);
    let live = RwSignal::new(false);
    Effect::new(move |_| live.set(true));
    Effect::new(move |_| {
        if switch.value().with(|v| v.is_some()) {
            changes.update(|c| *c += 1);
        }
    });
    let figure = |label: String, value: String, test: &'static str| {
        view! {
            <div class="rounded-lg bg-slate-50 px-3 py-2 ring-1 ring-inset ring-slate-200">
                <dt class="text-xs text-slate-600">{label}</dt>
                <dd class="text-xl font-semibold tabular-nums" data-testid=test>{value}</dd>
            </div>
        }
    };
    view! {
        <section class="mt-6 rounded-lg border border-slate-200 bg-white p-4 shadow-sm" aria-labelledby="sync-group">
            <div class="flex flex-wrap items-center justify-between gap-3">
                <div class="flex flex-wrap items-center gap-2">
                    <h2 id="sync-group" class="text-sm font-semibold text-slate-800">{t!(i18n, sync_group)}</h2>
                    {move || view.with(|v| v.hosts.clone()).into_iter().map(|h| view! {
                        <span class="rounded border border-slate-200 bg-slate-50 px-2 py-0.5 font-mono text-xs">{h}</span>
                    }).collect_view()}
                    <span data-testid="sync-state">
                        {move || if view.with(|v| v.enabled) {
                            view! { <StatusBadge tone=Tone::Good>{t!(i18n, sync_on)}</StatusBadge> }.into_any()
                        } else {
                            view! { <StatusBadge tone=Tone::Waiting>{t!(i18n, sync_off)}</StatusBadge> }.into_any()
                        }}
                    </span>
                </div>
                <Show when=move || view.with(|v| v.may_manage)>
                    <ActionForm action=switch attr:class="flex flex-wrap items-center gap-3" attr:data-testid="sync-switch">
                        <input type="hidden" name="on" value=move || (!view.with(|v| v.enabled)).to_string() />
                        <Show when=move || !view.with(|v| v.enabled)>
                            <label class="flex items-center gap-2 text-xs text-slate-700">
                                <input type="checkbox" name="confirm" data-testid="sync-confirm" on:change=move |ev| ticked.set(event_target_checked(&ev)) />
                                {t!(i18n, sync_confirm)}
                            </label>
                        </Show>
                        <button type="submit"
                            class=move || format!("rounded-md px-3 py-1.5 text-sm font-semibold text-white shadow-sm disabled:opacity-50 {}", if view.with(|v| v.enabled) { "bg-slate-600 hover:bg-slate-700" } else { "bg-sky-600 hover:bg-sky-700" })
                            disabled=move || switch.pending().get() || (live.get() && !view.with(|v| v.enabled) && !ticked.get())>
                            {move || if view.with(|v| v.enabled) { t!(i18n, sync_turn_off).into_any() } else { t!(i18n, sync_turn_on).into_any() }}
                        </button>
                    </ActionForm>
                </Show>
            </div>
            <div role="alert">
                {move || switch.value().get().and_then(Result::err).map(|error| match error {
                    ConsoleError::FederationRefused(problem) => view! {
                        <p class="mt-3 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">{federation_problem(i18n, &problem, "", "")}</p>
                    }.into_any(),
                    error => view! { <crate::components::problem::ChangeRefused error /> }.into_any(),
                })}
            </div>
            <p class="mt-2 text-xs text-slate-600">
                {move || view.with(|v| v.changed_by.clone()).map(|(by, secs)| {
                    t_string!(i18n, sync_changed_by).replace("{actor}", &by).replace("{ago}", &ago(Some(secs)))
                })}
            </p>
            <dl class="mt-4 grid grid-cols-2 gap-2 sm:grid-cols-3 lg:grid-cols-6">
                {move || view.with(|v| {
                    let (p50, p99, samples) = v.lag;
                    let ms = |x: u64| if samples == 0 { "—".to_string() } else { format!("{x} ms") };
                    let writes: u64 = v.writes_per_host.iter().map(|(_, n)| n).sum();
                    vec![
                        figure(t_string!(i18n, sync_lag_p50).to_string(), ms(p50), "sync-lag-p50"),
                        figure(t_string!(i18n, sync_lag_p99).to_string(), ms(p99), "sync-lag-p99"),
                        figure(t_string!(i18n, sync_pending).to_string(), v.pending.to_string(), "sync-pending"),
                        figure(t_string!(i18n, sync_conflict_count).to_string(), v.conflicts.len().to_string(), "sync-conflict-count"),
                        figure(t_string!(i18n, sync_writes).to_string(), writes.to_string(), "sync-writes"),
                        figure(t_string!(i18n, sync_last_round).to_string(), v.round.map(|(secs, _, _)| ago(Some(secs))).unwrap_or_else(|| "—".into()), "sync-last-round"),
                    ]
                })}
            </dl>
            <p class="mt-3 text-xs text-slate-600">
                {move || view.with(|v| v.round.map(|(_, objects, writes)| {
                    t_string!(i18n, sync_round_figures).replace("{objects}", &objects.to_string()).replace("{writes}", &writes.to_string())
                }))}
                {move || view.with(|v| (!v.writes_per_host.is_empty()).then(|| {
                    let per: Vec<String> = v.writes_per_host.iter().map(|(h, n)| format!("{h} {n}")).collect();
                    format!(" · {}", per.join(", "))
                }))}
            </p>
            {move || view.with(|v| (!v.deferred.is_empty() || !v.unreachable.is_empty()).then(|| view! {
                <p class="mt-2 text-xs text-amber-800" data-testid="sync-later">
                    {t_string!(i18n, sync_later).replace("{objects}", &v.deferred.join(", ")).replace("{unread}", &v.unreachable.join(", "))}
                </p>
            }))}
        </section>
    }
}

#[component]
fn PlanTable(view: Memo<SyncView>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="mt-6" aria-labelledby="sync-plan">
            <h2 id="sync-plan" class="text-lg font-semibold">{t!(i18n, sync_plan)}</h2>
            <p class="mt-1 max-w-3xl text-sm text-slate-600">
                {move || t_string!(i18n, sync_plan_help).replace("{count}", &view.with(|v| v.plan_total).to_string())}
            </p>
            <div class="mt-3 overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
                <table class="min-w-full divide-y divide-slate-200 text-sm" data-testid="sync-plan">
                    <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
                        <tr>
                            <th scope="col" class="px-4 py-2">{t!(i18n, col_host)}</th>
                            <th scope="col" class="px-4 py-2">{t!(i18n, sync_col_change)}</th>
                            <th scope="col" class="px-4 py-2">{t!(i18n, sync_col_object)}</th>
                        </tr>
                    </thead>
                    <tbody class="divide-y divide-slate-100">
                        {move || view.with(|v| v.plan.clone()).into_iter().map(|row| {
                            let (tone, label) = match row.write {
                                PlanWrite::Create => (Tone::Good, t_string!(i18n, sync_create)),
                                PlanWrite::Update => (Tone::Waiting, t_string!(i18n, sync_update)),
                                PlanWrite::Delete => (Tone::Bad, t_string!(i18n, sync_delete)),
                            };
                            view! {
                                <tr data-testid="sync-plan-row">
                                    <td class="px-4 py-2 font-mono text-xs">{row.host}</td>
                                    <td class="px-4 py-2"><StatusBadge tone>{label}</StatusBadge></td>
                                    <td class="px-4 py-2 font-mono text-xs">{row.object}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

#[component]
fn ConflictTable(title: Signal<String>, rows: Signal<Vec<ConflictRow>>) -> impl IntoView {
    let i18n = use_i18n();
    let side = |(host, value): (String, Option<String>)| {
        view! {
            <span class="font-mono text-xs"><span class="font-semibold">{host}</span>": "{value.unwrap_or_else(|| "—".into())}</span>
        }
    };
    view! {
        <section class="mt-6" aria-labelledby="sync-conflicts">
            <h2 id="sync-conflicts" class="text-lg font-semibold">{move || title.get()}</h2>
            <p class="mt-1 max-w-3xl text-sm text-slate-600">{t!(i18n, sync_conflicts_help)}</p>
            <Show when=move || !rows.with(Vec::is_empty) fallback=move || view! {
                <p class="mt-3 text-sm text-slate-500" data-testid="sync-no-conflicts">{t!(i18n, sync_no_conflicts)}</p>
            }>
                <div class="mt-3 overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
                    <table class="min-w-full divide-y divide-slate-200 text-sm" data-testid="sync-conflicts">
                        <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
                            <tr>
                                <th scope="col" class="px-4 py-2">{t!(i18n, sync_col_object)}</th>
                                <th scope="col" class="px-4 py-2">{t!(i18n, sync_col_field)}</th>
                                <th scope="col" class="px-4 py-2">{t!(i18n, sync_col_kept)}</th>
                                <th scope="col" class="px-4 py-2">{t!(i18n, sync_col_superseded)}</th>
                                <th scope="col" class="px-4 py-2 text-right">{t!(i18n, sync_col_when)}</th>
                            </tr>
                        </thead>
                        <tbody class="divide-y divide-slate-100">
                            {move || rows.get().into_iter().map(|c| view! {
                                <tr data-testid="sync-conflict-row">
                                    <td class="px-4 py-2 font-mono text-xs">{c.object}</td>
                                    <td class="px-4 py-2 font-mono text-xs">{c.field}</td>
                                    <td class="px-4 py-2 text-emerald-800">{side(c.kept)}</td>
                                    <td class="px-4 py-2 text-red-800 line-through decoration-red-300">{side(c.superseded)}</td>
                                    <td class="px-4 py-2 text-right text-xs text-slate-600 tabular-nums">{ago(Some(c.secs_ago))}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            </Show>
        </section>
    }
}

#[component]
fn DeleteTable(view: Memo<SyncView>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Show when=move || !view.with(|v| v.deletes.is_empty())>
            <section class="mt-6" aria-labelledby="sync-deletes">
                <h2 id="sync-deletes" class="text-lg font-semibold">{t!(i18n, sync_deletes)}</h2>
                <ul class="mt-3 divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white text-sm shadow-sm" data-testid="sync-deletes">
                    {move || view.with(|v| v.deletes.clone()).into_iter().map(|d| view! {
                        <li class="flex justify-between gap-4 px-4 py-2">
                            <span class="font-mono text-xs">{d.object}</span>
                            <span class="text-xs text-slate-600">
                                {t_string!(i18n, sync_deleted_on).replace("{host}", &d.host).replace("{ago}", &ago(Some(d.secs_ago)))}
                            </span>
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        </Show>
    }
}

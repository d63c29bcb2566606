//! The repairs of one federated object — keep one host's version, or delete it everywhere.
//! Each is confirmed, then runs in the background (it waits up to a minute for the hosts'
//! controllers and kubefed) while every open page of the object follows it step by step.

use leptos::form::ActionForm;
use leptos::prelude::*;

use super::table::ago;
use crate::components::problem::ChangeRefused;
use crate::dto::repair::{
    HostTask, RepairFailureReason as Reason, RepairFailureView, RepairState, RepairStepView,
    RepairView,
};
use crate::error::{ConsoleError, FederationProblem};
use crate::i18n::{Locale, t, t_string, use_i18n};

#[cfg(feature = "ssr")]
fn refused(error: fleet::federation::RepairRefused) -> ConsoleError {
    use fleet::federation::RepairRefused;
    let status = match error {
        RepairRefused::Busy { .. } => http::StatusCode::CONFLICT,
        RepairRefused::LeaderUnreachable { .. } => http::StatusCode::SERVICE_UNAVAILABLE,
        _ => http::StatusCode::UNPROCESSABLE_ENTITY,
    };
    crate::auth::set_status(status);
    ConsoleError::FederationRefused(error.into())
}

/// Starts `action` on `key` for the caller and records it as an Event on the caller's host;
/// `what` says what was started ("deleting user alice on every host").
#[cfg(feature = "ssr")]
async fn start(
    console: &crate::state::ConsoleState,
    principal: &fleet::iam::Principal,
    key: &fleet::federation::ObjectKey,
    action: fleet::federation::RepairAction,
    what: String,
) -> Result<(), ConsoleError> {
    console
        .federation
        .start_repair(key, action, &principal.username)
        .await
        .map_err(refused)?;
    console.record_change(
        principal,
        "RepairStarted",
        fleet::events::ObjectKind::Federated(key.kind),
        &key.name,
        format!("started {what}"),
    );
    Ok(())
}

/// Starts keeping `winner`'s version: every other host of its members gets it, generated
/// fields included. `confirm` is the confirmation checkbox.
#[server(prefix = "/api", endpoint = "pick_winner")]
#[cfg_attr(feature = "ssr", tracing::instrument)]
pub async fn pick_winner(
    kind: String,
    name: String,
    winner: String,
    confirm: Option<String>,
) -> Result<(), ConsoleError> {
    let crate::auth::Caller { principal, console } =
        crate::auth::Caller::require(fleet::iam::Action::ManageFederation)?;
    let key = super::object::object_key(&kind, &name)?;
    // A checked box is sent (as `on`); an unchecked one is not sent at all.
    if confirm.is_none() {
        crate::auth::set_status(http::StatusCode::UNPROCESSABLE_ENTITY);
        return Err(ConsoleError::FederationRefused(
            FederationProblem::Unconfirmed,
        ));
    }
    start(
        &console,
        &principal,
        &key,
        fleet::federation::RepairAction::PickWinner {
            winner: winner.clone(),
        },
        format!("keeping {winner}'s version of {kind} {name} on every host"),
    )
    .await?;
    tracing::info!(by = %principal.username, kind, name, winner, "keeping one host's version");
    Ok(())
}

/// Starts deleting the object from every host: wait for the members, clear a stuck
/// finalizer. `confirm` must repeat the name.
#[server(prefix = "/api", endpoint = "delete_everywhere")]
#[cfg_attr(feature = "ssr", tracing::instrument)]
pub async fn delete_everywhere(
    kind: String,
    name: String,
    confirm: String,
) -> Result<(), ConsoleError> {
    let crate::auth::Caller { principal, console } =
        crate::auth::Caller::require(fleet::iam::Action::ManageFederation)?;
    let key = super::object::object_key(&kind, &name)?;
    if confirm.trim() != name {
        crate::auth::set_status(http::StatusCode::UNPROCESSABLE_ENTITY);
        return Err(ConsoleError::FederationRefused(
            FederationProblem::NameNotTyped,
        ));
    }
    start(
        &console,
        &principal,
        &key,
        fleet::federation::RepairAction::DeleteEverywhere,
        format!("deleting {kind} {name} on every host"),
    )
    .await?;
    tracing::info!(by = %principal.username, kind, name, "deleting on every host");
    Ok(())
}

#[component]
pub fn Repairs(
    kind: String,
    name: String,
    hosts: Vec<String>,
    changes: RwSignal<u64>,
    repair: Signal<Option<RepairView>>,
    /// No host holds it any more: nothing left to repair, only the last repair to show.
    gone: Memo<bool>,
) -> impl IntoView {
    let i18n = use_i18n();
    let pick = ServerAction::<PickWinner>::new();
    let delete = ServerAction::<DeleteEverywhere>::new();
    let typed = RwSignal::new(String::new());
    let ticked = RwSignal::new(false);
    // The buttons wait for their confirmation only once the page runs: a browser without
    // script posts the form and gets the server's refusal instead.
    let live = RwSignal::new(false);
    Effect::new(move |_| live.set(true));
    Effect::new(move |_| {
        if pick.value().with(|v| v.is_some()) || delete.value().with(|v| v.is_some()) {
            changes.update(|c| *c += 1);
        }
    });
    let busy = move || {
        pick.pending().get()
            || delete.pending().get()
            || repair.with(|r| r.as_ref().is_some_and(RepairView::running))
    };
    let button = "rounded-md px-3 py-1.5 text-sm font-semibold shadow-sm disabled:opacity-50";
    let name_for_check = name.clone();
    let confirm_label = t_string!(i18n, object_delete_confirm).replace("{name}", &name);
    let (kind2, name2) = (kind.clone(), name.clone());
    let (kind3, name3) = (kind.clone(), name.clone());
    view! {
        <section class="mt-6 grid gap-4 lg:grid-cols-2" aria-labelledby="repairs">
            <h2 id="repairs" class="sr-only">{t!(i18n, object_repairs)}</h2>
            <ActionForm action=pick attr:class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm" attr:data-testid="pick-winner-form" class:hidden=move || gone.get()>
                <h3 class="text-sm font-semibold text-slate-800">{t!(i18n, object_pick_title)}</h3>
                <p class="mt-1 text-xs text-slate-600">{t!(i18n, object_pick_help)}</p>
                <input type="hidden" name="kind" value=kind.clone() />
                <input type="hidden" name="name" value=name.clone() />
                <fieldset class="mt-3 flex flex-wrap gap-3 text-sm">
                    <legend class="sr-only">{t!(i18n, object_pick_title)}</legend>
                    {hosts.iter().enumerate().map(|(i, h)| view! {
                        <label class="flex items-center gap-1.5">
                            <input type="radio" name="winner" value=h.clone() checked=i == 0 />
                            {t_string!(i18n, object_keep_version).replace("{host}", h)}
                        </label>
                    }).collect_view()}
                </fieldset>
                <label class="mt-3 flex items-start gap-2 text-xs text-slate-700">
                    <input type="checkbox" name="confirm" class="mt-0.5" data-testid="pick-confirm" on:change=move |ev| ticked.set(event_target_checked(&ev)) />
                    {t!(i18n, object_pick_confirm)}
                </label>
                <button type="submit" class=format!("{button} mt-3 bg-sky-600 text-white hover:bg-sky-700") disabled=move || busy() || (live.get() && !ticked.get())>
                    {t!(i18n, object_pick)}
                </button>
                <Refusal action=Signal::derive(move || pick.value().get()) kind=kind.clone() name=name.clone() />
            </ActionForm>
            <ActionForm action=delete attr:class="rounded-lg border border-red-200 bg-white p-4 shadow-sm" attr:data-testid="delete-everywhere-form" class:hidden=move || gone.get()>
                <h3 class="text-sm font-semibold text-red-800">{t!(i18n, object_delete_title)}</h3>
                <p class="mt-1 text-xs text-slate-600">{t!(i18n, object_delete_help)}</p>
                <input type="hidden" name="kind" value=kind2 />
                <input type="hidden" name="name" value=name2 />
                <label class="mt-3 block text-xs font-medium text-slate-700">
                    {confirm_label}
                    <input name="confirm" autocomplete="off" spellcheck="false" on:input=move |ev| typed.set(event_target_value(&ev))
                        class="mt-1 block w-64 rounded-md border border-slate-300 px-3 py-1.5 font-mono text-sm" />
                </label>
                <button type="submit" class=format!("{button} mt-3 bg-red-600 text-white hover:bg-red-700")
                    disabled=move || busy() || (live.get() && typed.get().trim() != name_for_check)>
                    {t!(i18n, object_delete)}
                </button>
                <Refusal action=Signal::derive(move || delete.value().get()) kind=kind3 name=name3 />
            </ActionForm>
            <div class="lg:col-span-2" aria-live="polite">
                {move || repair.get().map(|r| view! { <RepairProgress repair=r /> })}
            </div>
        </section>
    }
    .into_any()
}

#[component]
fn Refusal(
    action: Signal<Option<Result<(), ConsoleError>>>,
    kind: String,
    name: String,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="mt-3">
            {move || action.get().and_then(Result::err).map(|error| match error {
                ConsoleError::FederationRefused(problem) => view! {
                    <p role="alert" class="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
                        {federation_problem(i18n, &problem, &kind, &name)}
                    </p>
                }.into_any(),
                error => view! { <ChangeRefused error /> }.into_any(),
            })}
        </div>
    }
    .into_any()
}

/// A refused federation request about `kind`/`name`, in the reader's language.
pub(super) fn federation_problem(
    i18n: I18n,
    problem: &FederationProblem,
    kind: &str,
    name: &str,
) -> String {
    use FederationProblem as P;
    let text = match problem {
        P::UnknownKind => t_string!(i18n, problem_federation_kind).to_string(),
        P::NotFederated => t_string!(i18n, problem_federation_missing).to_string(),
        P::Unconfirmed => t_string!(i18n, problem_federation_unconfirmed).to_string(),
        P::NameNotTyped => t_string!(i18n, problem_federation_name).to_string(),
        P::WinnerLacks(host) => t_string!(i18n, problem_federation_winner).replace("{host}", host),
        P::Busy(actor) => t_string!(i18n, problem_federation_busy).replace("{actor}", actor),
        P::NoSyncGroup => t_string!(i18n, sync_no_group).to_string(),
        P::LeaderUnreachable(reason) => {
            t_string!(i18n, problem_federation_no_leader).replace("{reason}", reason)
        }
    };
    text.replace("{kind}", kind).replace("{name}", name)
}

/// A repair's steps so far, what it waits for, and how it ended.
#[component]
fn RepairProgress(repair: RepairView) -> impl IntoView {
    let i18n = use_i18n();
    let title = match &repair.winner {
        Some(winner) => t_string!(i18n, repair_title_pick).replace("{winner}", winner),
        None => t_string!(i18n, repair_title_delete).to_string(),
    };
    let started = t_string!(i18n, repair_started_by)
        .replace("{actor}", &repair.actor)
        .replace("{ago}", &ago(Some(repair.started_secs_ago)));
    let (tone, state) = match repair.state {
        RepairState::Running => (
            "border-sky-200 bg-sky-50 text-sky-950",
            t_string!(i18n, repair_running),
        ),
        RepairState::Done => (
            "border-emerald-200 bg-emerald-50 text-emerald-950",
            t_string!(i18n, repair_done),
        ),
        RepairState::Failed(_) => (
            "border-red-200 bg-red-50 text-red-950",
            t_string!(i18n, repair_failed),
        ),
    };
    let waiting = repair.running().then(|| {
        if repair.winner.is_some() {
            t_string!(i18n, repair_waiting_pick)
        } else {
            t_string!(i18n, repair_waiting_delete)
        }
    });
    view! {
        <div class=format!("rounded-lg border p-4 text-sm {tone}") data-testid="repair-progress" data-state=repair.state.key()>
            <p class="flex flex-wrap items-baseline gap-x-2">
                <span class="font-semibold">{title}</span>
                <span class="text-xs font-semibold uppercase tracking-wide">{state}</span>
                <span class="text-xs opacity-75">{started}</span>
            </p>
            <ol class="mt-2 space-y-1">
                {repair.steps.iter().map(|s| view! {
                    <li class="flex gap-2"><span aria-hidden="true">"✓"</span>{step_text(i18n, s)}</li>
                }).collect_view()}
                {waiting.map(|w| view! {
                    <li class="flex gap-2 text-sky-800">
                        <span class="inline-block animate-spin motion-reduce:animate-none" aria-hidden="true">"◌"</span>{w}
                    </li>
                })}
            </ol>
            {match &repair.state { RepairState::Failed(f) => Some(f), _ => None }.map(|f| view! {
                <p class="mt-2 font-medium" data-testid="repair-failure">{failure_text(i18n, f)}</p>
                <p class="mt-1 text-xs">{t!(i18n, repair_see_audit)}</p>
            })}
        </div>
    }
    .into_any()
}

type I18n = leptos_i18n::I18nContext<Locale>;

fn step_text(i18n: I18n, step: &RepairStepView) -> String {
    match step {
        RepairStepView::Copied((host, winner)) => t_string!(i18n, repair_step_copied)
            .replace("{winner}", winner)
            .replace("{host}", host),
        RepairStepView::HostsAgree => t_string!(i18n, repair_step_hosts_agree).to_string(),
        RepairStepView::Deleted(host) => {
            t_string!(i18n, repair_step_deleted).replace("{host}", host)
        }
        RepairStepView::FinalizerCleared(host) => {
            t_string!(i18n, repair_step_finalizer_cleared).replace("{host}", host)
        }
        RepairStepView::Gone => t_string!(i18n, repair_step_gone).to_string(),
    }
}

fn failure_text(i18n: I18n, failure: &RepairFailureView) -> String {
    let host = failure.host.clone().unwrap_or_default();
    let waited = failure.waited_secs.to_string();
    let text = match failure.reason {
        Reason::UnknownHost => t_string!(i18n, repair_failed_unknown_host).to_string(),
        Reason::NotOnHost => t_string!(i18n, repair_failed_not_on_host).to_string(),
        Reason::NoOtherHost => t_string!(i18n, repair_failed_no_other_host).to_string(),
        Reason::Host(task) => {
            let task = match task {
                HostTask::Reading => t_string!(i18n, repair_task_reading),
                HostTask::Writing => t_string!(i18n, repair_task_writing),
                HostTask::Deleting => t_string!(i18n, repair_task_deleting),
                HostTask::ClearingFinalizer => t_string!(i18n, repair_task_clearing_finalizer),
            };
            t_string!(i18n, repair_failed_host)
                .replace("{task}", task)
                .replace("{detail}", failure.detail.as_deref().unwrap_or_default())
        }
        Reason::HostsDiffer => t_string!(i18n, repair_failed_hosts_differ).to_string(),
        Reason::StillHeld => {
            let mut parts = vec![t_string!(i18n, repair_failed_still_held).to_string()];
            if !failure.hosts.is_empty() {
                parts.push(
                    t_string!(i18n, repair_failed_on_hosts)
                        .replace("{hosts}", &failure.hosts.join(", ")),
                );
            }
            if failure.members > 0 {
                parts.push(
                    t_string!(i18n, repair_failed_on_members)
                        .replace("{members}", &failure.members.to_string()),
                );
            }
            if failure.unseen > 0 {
                parts.push(
                    t_string!(i18n, repair_failed_members_unseen)
                        .replace("{members}", &failure.unseen.to_string()),
                );
            }
            if !failure.unread.is_empty() {
                parts.push(
                    t_string!(i18n, repair_failed_hosts_unread)
                        .replace("{hosts}", &failure.unread.join(", ")),
                );
            }
            parts.join(" ")
        }
        Reason::Abandoned => t_string!(i18n, repair_failed_abandoned).to_string(),
        Reason::Crashed => t_string!(i18n, repair_failed_crashed).to_string(),
    };
    text.replace("{host}", &host).replace("{waited}", &waited)
}

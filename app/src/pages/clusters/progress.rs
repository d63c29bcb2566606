//! The add-cluster checks and join actions as they happen: every step listed from the start,
//! pending, running, passed, warning, failed or skipped, with what was found and the fix.

use leptos::prelude::*;

use crate::dto::clusters::{
    ActionResult, ActionView, CheckStep, JobProgressView, JobStateView, Side, Verdict,
};
use crate::i18n::{Locale, t, t_string, td_string, use_i18n};

/// Where a step stands while the checks run.
#[derive(Clone, Copy, PartialEq)]
enum StepState {
    Pending,
    Running,
    Done(Verdict),
}

impl StepState {
    /// The page's `data-verdict`.
    fn key(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Done(verdict) => verdict.key(),
        }
    }
}

#[component]
pub fn StepList(progress: Signal<Option<JobProgressView>>) -> impl IntoView {
    let i18n = use_i18n();
    let rows = move || {
        progress.with(|p| {
            let Some(p) = p else { return Vec::new() };
            let running = p.state == JobStateView::Running;
            CheckStep::ALL
                .into_iter()
                .enumerate()
                .map(|(i, key)| match p.steps.iter().find(|s| s.key == key) {
                    Some(s) => (key, StepState::Done(s.verdict), Some(s.clone())),
                    None if running && i == p.steps.len() => (key, StepState::Running, None),
                    None => (key, StepState::Pending, None),
                })
                .collect::<Vec<_>>()
        })
    };
    view! {
        <ol class="mt-4 divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white" data-testid="check-steps" aria-live="polite">
            {move || rows().into_iter().map(|(key, verdict, step)| {
                let (icon, tone, verdict_text) = match verdict {
                    StepState::Done(Verdict::Passed) => ("✓", "text-emerald-700", t_string!(i18n, step_passed)),
                    StepState::Done(Verdict::Warning) => ("!", "text-amber-700", t_string!(i18n, step_warning)),
                    StepState::Done(Verdict::Failed) => ("✗", "text-red-700", t_string!(i18n, step_failed)),
                    StepState::Done(Verdict::Skipped) => ("–", "text-slate-400", t_string!(i18n, step_skipped)),
                    StepState::Running => ("…", "text-sky-700", t_string!(i18n, step_running)),
                    StepState::Pending => ("○", "text-slate-400", t_string!(i18n, step_pending)),
                };
                view! {
                    <li class="flex gap-3 px-4 py-3" data-testid="check-step" data-step=key.key() data-verdict=verdict.key()>
                        <span class=format!("mt-0.5 w-4 shrink-0 text-center font-bold {tone}") aria-hidden="true">{icon}</span>
                        <div class="min-w-0 flex-1 text-sm">
                            <p>
                                <span class="font-medium text-slate-900">{step_title(i18n.get_locale(), key)}</span>
                                <span class=format!("ml-2 text-xs {tone}")>{verdict_text}</span>
                                {step.as_ref().map(|s| view! { <span class="ml-2 text-xs text-slate-400">{format!("{} ms", s.elapsed_ms)}</span> })}
                            </p>
                            {step.as_ref().map(|s| view! { <p class="mt-0.5 break-words text-slate-700" data-testid="step-summary">{with_code(&s.summary)}</p> })}
                            {step.and_then(|s| s.fix).map(|fix| view! {
                                <p class="mt-1 break-words rounded bg-slate-50 px-2 py-1 text-xs leading-relaxed text-slate-800" data-testid="step-fix"><span class="font-semibold">{t!(i18n, step_fix)}</span>" "{with_code(&fix)}</p>
                            })}
                        </div>
                    </li>
                }
            }).collect_view()}
        </ol>
    }
}

/// Which cluster an object is on, in `l` (the page's words, and the server's in
/// `messages`).
pub(crate) fn side(l: Locale, side: Side) -> &'static str {
    match side {
        Side::Host => td_string!(l, side_host),
        Side::Member => td_string!(l, side_member),
    }
}

/// What happened to one object, in the reader's language.
fn action_result(
    i18n: leptos_i18n::I18nContext<crate::i18n::Locale>,
    result: &ActionResult,
) -> &'static str {
    match result {
        ActionResult::Created => t_string!(i18n, action_created),
        ActionResult::Updated => t_string!(i18n, action_updated),
        ActionResult::Unchanged => t_string!(i18n, action_unchanged),
        ActionResult::Deleted => t_string!(i18n, action_deleted),
        ActionResult::Absent => t_string!(i18n, action_absent),
        ActionResult::Kept(_) => t_string!(i18n, action_kept),
        ActionResult::Failed(_) => t_string!(i18n, action_failed),
        ActionResult::RolledBack => t_string!(i18n, action_rolled_back),
        ActionResult::MadeByKubeSphere => t_string!(i18n, action_made_by_kubesphere),
    }
}

/// The domain's texts quote names and commands in backticks: show those as code.
fn with_code(text: &str) -> impl IntoView + use<> {
    text.split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                view! { <code class="rounded bg-slate-200/70 px-1 font-mono text-[0.92em] text-slate-900">{part.to_string()}</code> }.into_any()
            } else {
                part.to_string().into_any()
            }
        })
        .collect_view()
}

/// A check step's name in `l` (the page's words, and the server's in `messages`).
pub(crate) fn step_title(l: Locale, step: CheckStep) -> &'static str {
    match step {
        CheckStep::Kubeconfig => td_string!(l, step_kubeconfig),
        CheckStep::Connection => td_string!(l, step_connection),
        CheckStep::Permissions => td_string!(l, step_permissions),
        CheckStep::Duplicate => td_string!(l, step_duplicate),
        CheckStep::KubeSphere => td_string!(l, step_kubesphere),
        CheckStep::OtherHosts => td_string!(l, step_other_hosts),
        CheckStep::JwtSecret => td_string!(l, step_jwt_secret),
        CheckStep::Certificate => td_string!(l, step_certificate),
        CheckStep::Workspaces => td_string!(l, step_workspaces),
    }
}

#[component]
pub fn ActionList(actions: Vec<ActionView>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <ul class="mt-2 space-y-0.5 font-mono text-xs" data-testid="join-actions">
            {actions.into_iter().map(|a| {
                let tone = match a.result {
                    ActionResult::Failed(_) => "text-red-700",
                    ActionResult::RolledBack | ActionResult::Kept(_) => "text-amber-800",
                    _ => "text-slate-700",
                };
                view! {
                    <li class=tone>
                        {format!("{} {} — {}", side(i18n.get_locale(), a.side), a.object, action_result(i18n, &a.result))}
                        {a.result.detail().map(|d| format!(": {d}"))}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

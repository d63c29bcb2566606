//! The add-cluster checks and join actions as they happen: every step listed from the start,
//! pending, running, passed, warning, failed or skipped, with what was found and the fix.

use leptos::prelude::*;

use crate::components::address_refusal::{AddressRefusalFix, AddressRefusalText};
use crate::dto::clusters::{ActionView, JobProgressView, JobStateView, STEP_KEYS};
use crate::i18n::{t, t_string, use_i18n};

#[component]
pub fn StepList(progress: Signal<Option<JobProgressView>>) -> impl IntoView {
    let i18n = use_i18n();
    let rows = move || {
        progress.with(|p| {
            let Some(p) = p else { return Vec::new() };
            let running = p.state == JobStateView::Running;
            STEP_KEYS
                .iter()
                .enumerate()
                .map(|(i, key)| match p.steps.iter().find(|s| s.key == *key) {
                    Some(s) => (key.to_string(), s.verdict.clone(), Some(s.clone())),
                    None if running && i == p.steps.len() => {
                        (key.to_string(), "running".into(), None)
                    }
                    None => (key.to_string(), "pending".into(), None),
                })
                .collect::<Vec<_>>()
        })
    };
    view! {
        <ol class="mt-4 divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white" data-testid="check-steps" aria-live="polite">
            {move || rows().into_iter().map(|(key, verdict, step)| {
                let (icon, tone) = match verdict.as_str() {
                    "passed" => ("✓", "text-emerald-700"),
                    "warning" => ("!", "text-amber-700"),
                    "failed" => ("✗", "text-red-700"),
                    "skipped" => ("–", "text-slate-400"),
                    "running" => ("…", "text-sky-700"),
                    _ => ("○", "text-slate-400"),
                };
                let verdict_text = match verdict.as_str() {
                    "passed" => t_string!(i18n, step_passed),
                    "warning" => t_string!(i18n, step_warning),
                    "failed" => t_string!(i18n, step_failed),
                    "skipped" => t_string!(i18n, step_skipped),
                    "running" => t_string!(i18n, step_running),
                    _ => t_string!(i18n, step_pending),
                };
                view! {
                    <li class="flex gap-3 px-4 py-3" data-testid="check-step" data-step=key.clone() data-verdict=verdict.clone()>
                        <span class=format!("mt-0.5 w-4 shrink-0 text-center font-bold {tone}") aria-hidden="true">{icon}</span>
                        <div class="min-w-0 flex-1 text-sm">
                            <p>
                                <span class="font-medium text-slate-900">{step_title(i18n, &key)}</span>
                                <span class=format!("ml-2 text-xs {tone}")>{verdict_text}</span>
                                {step.as_ref().map(|s| view! { <span class="ml-2 text-xs text-slate-400">{format!("{} ms", s.elapsed_ms)}</span> })}
                            </p>
                            {match step.as_ref().and_then(|s| s.refusal.clone()) {
                                // The member address policy's refusal, in the reader's language.
                                Some(refusal) => {
                                    let rule = refusal.0;
                                    view! {
                                        <p class="mt-0.5 break-words text-slate-700" data-testid="address-refusal"><AddressRefusalText refusal /></p>
                                        <p class="mt-1 break-words rounded bg-slate-50 px-2 py-1 text-xs leading-relaxed text-slate-800"><span class="font-semibold">{t!(i18n, step_fix)}</span>" "<AddressRefusalFix rule /></p>
                                    }.into_any()
                                }
                                None => view! {
                                    {step.as_ref().map(|s| view! { <p class="mt-0.5 break-words text-slate-700">{with_code(&s.summary)}</p> })}
                                    {step.and_then(|s| s.fix.filter(|_| s.verdict != "passed")).map(|fix| view! {
                                        <p class="mt-1 break-words rounded bg-slate-50 px-2 py-1 text-xs leading-relaxed text-slate-800"><span class="font-semibold">{t!(i18n, step_fix)}</span>" "{with_code(&fix)}</p>
                                    })}
                                }.into_any(),
                            }}
                        </div>
                    </li>
                }
            }).collect_view()}
        </ol>
    }
}

/// What happened to one object, in the reader's language (an unknown result as it came).
fn action_result(i18n: leptos_i18n::I18nContext<crate::i18n::Locale>, result: &str) -> String {
    match result {
        "created" => t_string!(i18n, action_created).to_string(),
        "updated" => t_string!(i18n, action_updated).to_string(),
        "unchanged" => t_string!(i18n, action_unchanged).to_string(),
        "deleted" => t_string!(i18n, action_deleted).to_string(),
        "absent" => t_string!(i18n, action_absent).to_string(),
        "kept" => t_string!(i18n, action_kept).to_string(),
        "failed" => t_string!(i18n, action_failed).to_string(),
        "rolled-back" => t_string!(i18n, action_rolled_back).to_string(),
        "made-by-kubesphere" => t_string!(i18n, action_made_by_kubesphere).to_string(),
        other => other.to_string(),
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

fn step_title(i18n: leptos_i18n::I18nContext<crate::i18n::Locale>, key: &str) -> String {
    match key {
        "kubeconfig" => t_string!(i18n, step_kubeconfig),
        "connection" => t_string!(i18n, step_connection),
        "permissions" => t_string!(i18n, step_permissions),
        "duplicate" => t_string!(i18n, step_duplicate),
        "kubesphere" => t_string!(i18n, step_kubesphere),
        "other-hosts" => t_string!(i18n, step_other_hosts),
        "jwt-secret" => t_string!(i18n, step_jwt_secret),
        "certificate" => t_string!(i18n, step_certificate),
        _ => t_string!(i18n, step_workspaces),
    }
    .to_string()
}

#[component]
pub fn ActionList(actions: Vec<ActionView>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <ul class="mt-2 space-y-0.5 font-mono text-xs" data-testid="join-actions">
            {actions.into_iter().map(|a| {
                let tone = match a.result.as_str() {
                    "failed" => "text-red-700",
                    "rolled-back" | "kept" => "text-amber-800",
                    _ => "text-slate-700",
                };
                view! {
                    <li class=tone>
                        {format!("{:<6} {} — {}", a.side, a.object, action_result(i18n, &a.result))}
                        {a.detail.map(|d| format!(": {d}"))}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

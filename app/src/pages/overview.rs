//! Overview: every configured host cluster, whether it answers, its Kubernetes version and
//! round-trip time, refreshed live from the server's background probes.

use leptos::prelude::*;

use crate::components::problem::ErrorNotice;
use crate::components::status::{StatusBadge, Tone};
use crate::dto::{HostHealthView, HostStatus, ManagedClusterView, ProbeFailureView};
use crate::error::ConsoleError;
use crate::i18n::{t, t_string, use_i18n};

/// What the Overview shows: every host, and the federated objects' counts per state.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OverviewView {
    pub hosts: Vec<HostStatus>,
    /// `None` when the user's role may not see federated objects.
    pub federation: Option<Vec<(crate::dto::StateKey, usize)>>,
    /// Two-way sync: on, conflicts logged, lag p99 in ms (`None` without a sync group, or
    /// when the user may not see federated objects).
    pub sync: Option<(bool, usize, u64)>,
}

/// The latest probe result of every host, in configuration order, and the counts of
/// federated objects per state (one call, one resource: the first download stays small).
#[server(prefix = "/api", endpoint = "host_statuses")]
#[cfg_attr(feature = "ssr", tracing::instrument)]
pub async fn host_statuses() -> Result<OverviewView, ConsoleError> {
    use fleet::iam::Action;
    let crate::auth::Caller {
        principal,
        console: state,
    } = crate::auth::Caller::require(Action::ViewHosts)?;
    let now = std::time::SystemTime::now();
    let clusters_hidden = !principal.may(Action::ViewClusters);
    let federation = principal
        .may(Action::ViewFederation)
        .then(|| fleet::federation::state_counts(&state.federation.rows()));
    let hosts = state
        .hosts
        .snapshot()
        .iter()
        .map(|h| {
            let mut status = HostStatus::from_health(h, now);
            if clusters_hidden {
                if let HostHealthView::Reachable { clusters, .. } = &mut status.health {
                    *clusters = None;
                }
                status.clusters_hidden = true;
            }
            status
        })
        .collect();
    let sync = console_sync(&principal, &state);
    Ok(OverviewView {
        hosts,
        federation,
        sync,
    })
}

#[component]
pub fn Overview() -> impl IntoView {
    let i18n = crate::components::layout::page_hydrated();
    let (generation, set_generation) = signal(0u64);
    let hosts = Resource::new(move || generation.get(), |_| host_statuses());
    let refresh = move || set_generation.update(|g| *g += 1);

    // The server probes on its own schedule; the page asks for its results as often as every
    // live page does.
    crate::components::live::every(crate::components::live::REFRESH_EVERY, refresh);

    let (pending, set_pending) = signal(false);
    view! {
        <div class="flex flex-wrap items-end justify-between gap-4">
            <div>
                <h1 class="text-2xl font-semibold tracking-tight">{t!(i18n, overview_title)}</h1>
                <p class="mt-1 max-w-2xl text-sm text-slate-600">{t!(i18n, overview_intro)}</p>
            </div>
            <div class="flex items-center gap-3">
                <span class="text-xs text-slate-500" aria-live="polite">
                    {move || {
                        if pending.get() {
                            t!(i18n, refreshing).into_any()
                        } else {
                            t!(i18n, auto_refresh).into_any()
                        }
                    }}
                </span>
                <button
                    type="button"
                    data-testid="refresh"
                    class="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium shadow-sm hover:bg-slate-50 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-500 disabled:opacity-60"
                    disabled=move || pending.get()
                    on:click=move |_| refresh()
                >
                    {t!(i18n, refresh)}
                </button>
            </div>
        </div>
        <Transition fallback=move || view! { <HostTableSkeleton /> } set_pending>
            {move || Suspend::new(async move {
                match hosts.await {
                    Ok(OverviewView { hosts, federation, sync }) => view! {
                        <HostSummary hosts=hosts.clone() />
                        <HostTable hosts />
                        {federation.map(|counts| view! { <div inner_html=move || federation_counts_html(i18n, &counts)></div> })}
                        {sync.map(|sync| view! { <div inner_html=move || sync_card_html(i18n, sync)></div> })}
                    }
                    .into_any(),
                    Err(error) => view! { <div class="mt-6"><ErrorNotice error /></div> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[cfg(feature = "ssr")]
fn console_sync(
    principal: &fleet::iam::Principal,
    state: &crate::state::ConsoleState,
) -> Option<(bool, usize, u64)> {
    if !principal.may(fleet::iam::Action::ViewFederation) {
        return None;
    }
    let record = state.sync.as_ref()?.record();
    Some((record.enabled, record.conflicts.len(), record.lag.p99_ms))
}

/// Sync on or off, conflicts logged and lag p99, linking to the Sync page (one HTML string,
/// as [`federation_counts_html`], to keep the first download small).
fn sync_card_html(
    i18n: leptos_i18n::I18nContext<crate::i18n::Locale>,
    (on, conflicts, p99): (bool, usize, u64),
) -> String {
    let quiet = "bg-slate-50 text-slate-700 ring-slate-200";
    let (tone, state) = if on {
        (
            "bg-emerald-50 text-emerald-800 ring-emerald-200",
            t_string!(i18n, overview_sync_on),
        )
    } else {
        (quiet, t_string!(i18n, overview_sync_off))
    };
    let conflicts_tone = if conflicts > 0 {
        "bg-amber-50 text-amber-800 ring-amber-200"
    } else {
        quiet
    };
    let item = |tone: &str, value: String, label: &str| {
        format!(
            r#"<li class="flex flex-col rounded-lg px-3 py-2 ring-1 ring-inset {tone}"><span class="text-2xl font-semibold tabular-nums">{value}</span><span class="text-xs">{label}</span></li>"#
        )
    };
    let lag = if on {
        format!("{p99} ms")
    } else {
        "—".into()
    };
    format!(
        r#"<section class="mt-8" aria-labelledby="overview-sync"><div class="flex items-baseline justify-between gap-4"><h2 id="overview-sync" class="text-lg font-semibold">{}</h2><a href="/federation?view=sync" class="text-sm text-sky-700 hover:underline">{}</a></div><ul class="mt-3 grid grid-cols-3 gap-2 sm:max-w-xl" data-testid="overview-sync">{}{}{}</ul></section>"#,
        t_string!(i18n, overview_sync),
        t_string!(i18n, overview_sync_open),
        item(tone, state.to_string(), t_string!(i18n, sync_group)),
        item(
            conflicts_tone,
            conflicts.to_string(),
            t_string!(i18n, sync_conflict_count)
        ),
        item(quiet, lag, t_string!(i18n, sync_lag_p99)),
    )
}

/// How many federated objects are in each state, each count a link to those objects. Written
/// as one HTML string, not as views: each view type adds hydration code to the first download,
/// and this card is only numbers and fixed labels.
fn federation_counts_html(
    i18n: leptos_i18n::I18nContext<crate::i18n::Locale>,
    counts: &[(crate::dto::StateKey, usize)],
) -> String {
    use crate::components::federation_state::{state_label, state_tone};
    let escape = |text: &str| {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let items: String = counts
        .iter()
        .map(|&(state, count)| {
            let key = state.as_str();
            format!(
                r#"<li><a href="/federation?state={key}" data-state="{key}" class="flex flex-col rounded-lg px-3 py-2 ring-1 ring-inset hover:opacity-90 {}"><span class="text-2xl font-semibold tabular-nums">{count}</span><span class="text-xs">{}</span></a></li>"#,
                state_tone(state, count),
                escape(state_label(i18n, state))
            )
        })
        .collect();
    format!(
        r#"<section class="mt-8" aria-labelledby="federation-counts"><div class="flex items-baseline justify-between gap-4"><h2 id="federation-counts" class="text-lg font-semibold">{}</h2><a href="/federation" class="text-sm text-sky-700 hover:underline">{}</a></div><ul class="mt-3 grid grid-cols-2 gap-2 sm:grid-cols-3 lg:grid-cols-6" data-testid="overview-federation">{items}</ul></section>"#,
        escape(t_string!(i18n, overview_federation)),
        escape(t_string!(i18n, overview_federation_all))
    )
}

#[component]
fn HostSummary(hosts: Vec<HostStatus>) -> impl IntoView {
    let i18n = use_i18n();
    let total = hosts.len();
    let up = hosts.iter().filter(|h| h.is_reachable()).count();
    let tone = if up == total && total > 0 {
        "text-emerald-700"
    } else if up == 0 {
        "text-red-700"
    } else {
        "text-amber-700"
    };
    view! {
        <p class=format!("mt-6 text-sm font-medium {tone}") data-testid="summary">
            {t!(i18n, summary, up = up, total = total)}
        </p>
    }
}

#[component]
fn HostTable(hosts: Vec<HostStatus>) -> impl IntoView {
    let i18n = use_i18n();
    if hosts.is_empty() {
        return view! {
            <p class="mt-4 rounded-lg border border-dashed border-slate-300 bg-white p-6 text-sm text-slate-600">
                {t!(i18n, no_hosts)}
            </p>
        }
        .into_any();
    }
    view! {
        <div class="mt-3 overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
            <table class="min-w-full divide-y divide-slate-200 text-sm">
                <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
                    <tr>
                        <th scope="col" class="px-4 py-3">{t!(i18n, col_host)}</th>
                        <th scope="col" class="px-4 py-3">{t!(i18n, col_status)}</th>
                        <th scope="col" class="px-4 py-3">{t!(i18n, col_clusters)}</th>
                        <th scope="col" class="px-4 py-3">{t!(i18n, col_version)}</th>
                        <th scope="col" class="px-4 py-3 text-right">{t!(i18n, col_rtt)}</th>
                        <th scope="col" class="px-4 py-3 text-right">{t!(i18n, col_checked)}</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {hosts.into_iter().map(|host| view! { <HostRow host /> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn HostRow(host: HostStatus) -> impl IntoView {
    let i18n = use_i18n();
    let (badge, version, rtt, failure, clusters) = match host.health {
        HostHealthView::Pending => (
            view! { <StatusBadge tone=Tone::Waiting>{t!(i18n, status_pending)}</StatusBadge> }
                .into_any(),
            None,
            None,
            None,
            None,
        ),
        HostHealthView::Reachable {
            version,
            platform,
            round_trip_ms,
            clusters,
        } => (
            view! { <StatusBadge tone=Tone::Good>{t!(i18n, status_reachable)}</StatusBadge> }
                .into_any(),
            Some((version, platform)),
            Some(round_trip_ms),
            None,
            (!host.clusters_hidden).then_some(clusters),
        ),
        HostHealthView::Unreachable(failure) => (
            view! { <StatusBadge tone=Tone::Bad>{t!(i18n, status_unreachable)}</StatusBadge> }
                .into_any(),
            None,
            None,
            Some(failure),
            None,
        ),
    };
    let checked = match host.checked_secs_ago {
        Some(secs) => t!(i18n, checked_ago, secs = secs).into_any(),
        None => t!(i18n, not_checked).into_any(),
    };
    view! {
        <tr data-testid="host-row" data-host=host.name.clone() class="align-top">
            <th scope="row" class="px-4 py-3 text-left font-normal">
                <div class="font-semibold text-slate-900">{host.name.clone()}</div>
                <div class="mt-0.5 font-mono text-xs text-slate-500">{host.server.clone()}</div>
            </th>
            <td class="px-4 py-3">
                {badge}
                {failure.map(|f| view! { <p class="mt-1.5 max-w-md text-xs text-red-800"><FailureText failure=f /></p> })}
            </td>
            <td class="px-4 py-3">
                {clusters.map(|clusters| view! { <ManagedClusters clusters /> })}
            </td>
            <td class="px-4 py-3">
                {version.map(|(v, platform)| view! {
                    <div class="font-mono">{v}</div>
                    <div class="text-xs text-slate-500">{platform}</div>
                })}
            </td>
            <td class="px-4 py-3 text-right font-mono tabular-nums">
                {rtt.map(|ms| format!("{ms:.1} ms"))}
            </td>
            <td class="px-4 py-3 text-right text-slate-600 tabular-nums">{checked}</td>
        </tr>
    }
}

/// The clusters a host manages as small labelled chips, the host itself first.
#[component]
fn ManagedClusters(clusters: Option<Vec<ManagedClusterView>>) -> impl IntoView {
    let i18n = use_i18n();
    let Some(mut clusters) = clusters else {
        return view! { <span class="text-xs text-slate-500">{t!(i18n, no_kubesphere)}</span> }
            .into_any();
    };
    clusters.sort_by_key(|c| (!c.is_host, c.name.clone()));
    view! {
        <ul class="flex flex-wrap gap-1.5" data-testid="managed-clusters">
            {clusters
                .into_iter()
                .map(|c| {
                    let dot = if c.ready { "bg-emerald-500" } else { "bg-red-500" };
                    view! {
                        <li class="inline-flex items-center gap-1.5 rounded border border-slate-200 bg-slate-50 px-2 py-0.5 text-xs">
                            <span class=format!("h-1.5 w-1.5 rounded-full {dot}") aria-hidden="true"></span>
                            <span class="font-medium text-slate-800">{c.name}</span>
                            {c.is_host.then(|| view! { <span class="text-slate-500">{t!(i18n, this_host)}</span> })}
                            <span class="sr-only">
                                {if c.ready { t!(i18n, cluster_ready).into_any() } else { t!(i18n, cluster_not_ready).into_any() }}
                            </span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn FailureText(failure: ProbeFailureView) -> impl IntoView {
    let i18n = use_i18n();
    match failure {
        ProbeFailureView::Timeout(secs) => t!(i18n, failure_timeout, secs = secs).into_any(),
        ProbeFailureView::Refused => t!(i18n, failure_refused).into_any(),
        ProbeFailureView::UnknownCa => t!(i18n, failure_unknown_ca).into_any(),
        ProbeFailureView::CertificateExpired => t!(i18n, failure_cert_expired).into_any(),
        ProbeFailureView::HostnameMismatch => t!(i18n, failure_hostname).into_any(),
        ProbeFailureView::Tls(detail) => t!(i18n, failure_tls, detail = detail).into_any(),
        ProbeFailureView::Unauthorized => t!(i18n, failure_unauthorized).into_any(),
        ProbeFailureView::Forbidden => t!(i18n, failure_forbidden).into_any(),
        ProbeFailureView::Client(detail) => t!(i18n, failure_client, detail = detail).into_any(),
        ProbeFailureView::Status(status) => t!(i18n, failure_status, status = status).into_any(),
        ProbeFailureView::Other(detail) => t!(i18n, failure_other, detail = detail).into_any(),
    }
}

#[component]
fn HostTableSkeleton() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="mt-9 rounded-lg border border-slate-200 bg-white p-4 shadow-sm" aria-busy="true">
            <span class="sr-only">{t!(i18n, loading)}</span>
            {(0..3)
                .map(|_| view! { <div class="my-3 h-5 animate-pulse rounded bg-slate-100"></div> })
                .collect_view()}
        </div>
    }
}

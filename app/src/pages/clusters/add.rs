//! The add-cluster wizard on the signed-in host: basic information, the connection (a
//! kubeconfig picked, dropped or pasted), then the checks and the join, each shown live.

// The form's fields arrive as one server function's arguments; the macro's generated code
// carries all of them.
#![allow(clippy::too_many_arguments)]

use leptos::form::ActionForm;
use leptos::prelude::*;
use wire::clusters::{ConnectionKind, WizardMode};

use super::progress::{ActionList, StepList};
use crate::components::create_form::NameField;
use crate::components::problem::ChangeRefused;
use crate::dto::clusters::{CLUSTER_GROUPS, JobProgressView, JobStateView};
use crate::error::ConsoleError;
use crate::i18n::{t, t_string, use_i18n};

/// The providers ks-console offers, as it stores them.
const PROVIDERS: [&str; 7] = [
    "Aliyun ACK",
    "Aure Kubernetes Service",
    "Huawei Cloud CCE",
    "Amazon EKS",
    "Google Kubernetes Engine",
    "QingCloud Kubernetes Engine",
    "Tencent Kubernetes Engine",
];

/// Starts the checks, or the checks and the join (`mode`), in the background; returns the
/// job to follow with [`cluster_job`].
#[server(prefix = "/api", endpoint = "start_cluster_job")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip(kubeconfig)))]
pub async fn start_cluster_job(
    mode: WizardMode,
    name: String,
    group: String,
    provider: String,
    description: String,
    connection: ConnectionKind,
    kubeconfig: String,
    context: String,
    #[server(default)] second_host: Option<String>,
) -> Result<String, ConsoleError> {
    use crate::messages::{ClusterRefusal, cluster_refused};
    use fleet::clusters::jobs::JobKind;
    let principal = crate::auth::require(fleet::iam::Action::ManageClusters)?;
    let object = format!("Cluster {}", name.trim());
    if connection == ConnectionKind::Agent {
        return Err(cluster_refused(&principal, &object, ClusterRefusal::Agent));
    }
    let state = crate::state::ConsoleState::current()?;
    let candidate = fleet::clusters::Candidate {
        name: name.trim().to_string(),
        kubeconfig,
        context: Some(context.trim().to_string()).filter(|c| !c.is_empty()),
        second_host: second_host.is_some(),
        group: Some(group.trim().to_string()).filter(|g| !g.is_empty()),
        provider: Some(provider.trim().to_string()).filter(|p| !p.is_empty()),
        description: Some(description.trim().to_string()).filter(|d| !d.is_empty()),
        creator: Some(principal.username.clone()),
    };
    if let Some(problem) = candidate.basic_problem() {
        return Err(cluster_refused(
            &principal,
            &object,
            ClusterRefusal::Basic(problem),
        ));
    }
    let kind = match mode {
        WizardMode::Join => JobKind::Join,
        WizardMode::Check => JobKind::Check,
    };
    let id = state
        .clusters
        .start(kind, &principal.username, &principal.host, candidate)
        .await
        .map_err(|e| cluster_refused(&principal, &object, ClusterRefusal::Job(&e)))?;
    tracing::info!(by = %principal.username, host = %principal.host, cluster = %name.trim(), ?kind, "cluster job started");
    Ok(id)
}

/// How far a job of the caller's has got, worded in the caller's language.
#[server(prefix = "/api", endpoint = "cluster_job")]
#[cfg_attr(feature = "ssr", tracing::instrument)]
pub async fn cluster_job(id: String) -> Result<JobProgressView, ConsoleError> {
    let crate::auth::Caller {
        principal,
        console: state,
    } = crate::auth::Caller::require(fleet::iam::Action::ManageClusters)?;
    state
        .clusters
        .view(&id, &principal.username)
        .await
        .map(|job| JobProgressView::of(crate::messages::request_locale(), job))
        .ok_or_else(|| {
            use crate::messages::{ClusterRefusal, cluster_refused};
            cluster_refused(&principal, &format!("job {id}"), ClusterRefusal::JobExpired)
        })
}

#[component]
pub fn AddClusterPage() -> impl IntoView {
    let i18n = crate::components::layout::page_hydrated();
    let action = ServerAction::<StartClusterJob>::new();
    let progress = RwSignal::new(None::<JobProgressView>);
    let poll_error = RwSignal::new(None::<ConsoleError>);
    let mode = RwSignal::new(WizardMode::Check);
    let agent = RwSignal::new(false);
    let kubeconfig = RwSignal::new(String::new());
    let file_name = RwSignal::new(None::<String>);
    follow_job(action, progress, poll_error);

    let field = crate::components::create_form::FIELD;
    let running = move || {
        action.pending().get()
            || progress.with(|p| p.as_ref().is_some_and(|p| p.state == JobStateView::Running))
    };
    let passed =
        move || progress.with(|p| p.as_ref().is_some_and(|p| p.state == JobStateView::Passed));
    view! {
        <a href="/clusters" class="text-sm text-sky-800 hover:underline">{t!(i18n, wizard_back)}</a>
        <h1 class="mt-2 text-2xl font-semibold tracking-tight">{t!(i18n, wizard_title)}</h1>
        <p class="mt-1 max-w-3xl text-sm text-slate-600">{t!(i18n, wizard_intro)}</p>
        <ActionForm action attr:class="mt-6 grid gap-6 lg:grid-cols-2" attr:data-testid="add-cluster-form">
            <input type="hidden" name="mode" prop:value=move || mode.get().key() />
            <fieldset class="space-y-4 rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
                <legend class="px-1 text-sm font-semibold text-slate-800">{t!(i18n, wizard_basic)}</legend>
                <NameField label=t!(i18n, wizard_name).into_any() help=t!(i18n, wizard_name_help).into_any() help_id="cluster-name-help" />
                <label class="block text-sm font-medium">
                    {t!(i18n, wizard_group)}
                    <select name="group" class=field>
                        <option value="">{t!(i18n, wizard_group_none)}</option>
                        {CLUSTER_GROUPS.into_iter().map(|g| view! { <option value=g>{g}</option> }).collect_view()}
                    </select>
                </label>
                <label class="block text-sm font-medium">
                    {t!(i18n, wizard_provider)}
                    <input name="provider" list="cluster-providers" maxlength="63" autocomplete="off" class=field />
                    <datalist id="cluster-providers">
                        {PROVIDERS.iter().map(|p| view! { <option value=*p></option> }).collect_view()}
                    </datalist>
                </label>
                <label class="block text-sm font-medium">
                    {t!(i18n, form_description)}
                    <textarea name="description" maxlength="256" rows="2" class=field></textarea>
                </label>
            </fieldset>
            <fieldset class="space-y-4 rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
                <legend class="px-1 text-sm font-semibold text-slate-800">{t!(i18n, wizard_connection)}</legend>
                <div class="flex gap-6 text-sm" role="radiogroup" aria-label=move || t_string!(i18n, wizard_connection)>
                    <label class="flex items-center gap-2"><input type="radio" name="connection" value="direct" checked=true on:change=move |_| agent.set(false) />{t!(i18n, wizard_direct)}</label>
                    <label class="flex items-center gap-2"><input type="radio" name="connection" value="agent" on:change=move |_| agent.set(true) />{t!(i18n, wizard_agent)}</label>
                </div>
                <Show when=move || agent.get()>
                    <p role="status" class="rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900">{t!(i18n, wizard_agent_unsupported)}</p>
                </Show>
                <KubeconfigInput kubeconfig file_name />
                <label class="block text-sm font-medium">
                    {t!(i18n, wizard_context)}
                    <input name="context" autocomplete="off" spellcheck="false" class=field aria-describedby="context-help" />
                    <span id="context-help" class="mt-1 block text-xs font-normal text-slate-500">{t!(i18n, wizard_context_help)}</span>
                </label>
                <label class="flex items-start gap-2 text-sm">
                    <input type="checkbox" name="second_host" value="on" class="mt-1" />
                    <span>{t!(i18n, wizard_second_host)}<span class="block text-xs text-slate-500">{t!(i18n, wizard_second_host_help)}</span></span>
                </label>
            </fieldset>
            <div class="flex flex-wrap items-center gap-3 lg:col-span-2">
                <button type="submit" on:click=move |_| mode.set(WizardMode::Check) disabled=move || running() || agent.get()
                    data-testid="run-checks"
                    class="rounded-md border border-slate-300 bg-white px-4 py-2 text-sm font-semibold text-slate-800 shadow-sm hover:bg-slate-50 disabled:opacity-50">
                    {t!(i18n, wizard_check)}
                </button>
                <button type="submit" on:click=move |_| mode.set(WizardMode::Join) disabled=move || running() || agent.get()
                    data-testid="join-cluster"
                    class=move || format!("rounded-md bg-sky-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-sky-700 disabled:opacity-50 {}", if passed() { "ring-2 ring-sky-300" } else { "" })>
                    {t!(i18n, wizard_join)}
                </button>
                <span class="text-xs text-slate-500">{t!(i18n, wizard_join_help)}</span>
            </div>
        </ActionForm>
        <div aria-live="assertive">
            {move || match action.value().get() {
                Some(Err(error)) => Some(view! { <ChangeRefused error /> }),
                _ => poll_error.get().map(|error| view! { <ChangeRefused error /> }),
            }}
        </div>
        <section class="mt-6" aria-labelledby="progress-title" class:hidden=move || progress.with(|p| p.is_none())>
            <h2 id="progress-title" class="text-lg font-semibold">{t!(i18n, wizard_progress)}</h2>
            <StepList progress=progress.into() />
            {move || progress.get().filter(|p| p.join && !p.actions.is_empty()).map(|p| view! {
                <h3 class="mt-4 text-sm font-semibold">{t!(i18n, wizard_actions)}</h3>
                <ActionList actions=p.actions />
            })}
            <JobOutcome progress />
        </section>
    }
}

#[component]
fn JobOutcome(progress: RwSignal<Option<JobProgressView>>) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        progress.get().map(|p| match p.state {
            JobStateView::Running => ().into_any(),
            JobStateView::Passed => view! { <p role="status" data-testid="job-outcome" class="mt-4 rounded-md border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">{t!(i18n, wizard_passed)}</p> }.into_any(),
            JobStateView::Joined => {
                let cluster = p.cluster.clone();
                view! {
                    <p role="status" data-testid="job-outcome" class="mt-4 rounded-md border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
                        {t!(i18n, wizard_joined, name = move || cluster.clone(), host = move || p.host.clone())}
                        " "<a href="/clusters" class="font-semibold underline">{t!(i18n, wizard_see_list)}</a>
                    </p>
                }.into_any()
            }
            JobStateView::Failed(why) => view! { <p role="alert" data-testid="job-outcome" class="mt-4 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">{why}</p> }.into_any(),
        })
    }
}

/// Follows the job the form started: asks how far it got until it is over.
fn follow_job(
    action: ServerAction<StartClusterJob>,
    progress: RwSignal<Option<JobProgressView>>,
    poll_error: RwSignal<Option<ConsoleError>>,
) {
    let busy = StoredValue::new(false);
    Effect::new(move |_| {
        let Some(Ok(id)) = action.value().get() else {
            return;
        };
        progress.set(None);
        poll_error.set(None);
        // Plain shared cells, not reactive values: the timer and a poll in flight may outlive
        // the page (left mid-join), and must then stop without touching what it disposed.
        // (stopped, the timer): a poll may end before the timer is stored.
        let handle = std::sync::Arc::new(std::sync::Mutex::new((false, None::<IntervalHandle>)));
        let stop = {
            let handle = handle.clone();
            move || {
                if let Ok(mut slot) = handle.lock() {
                    slot.0 = true;
                    if let Some(h) = slot.1.take() {
                        h.clear();
                    }
                }
            }
        };
        on_cleanup({
            let stop = stop.clone();
            move || stop()
        });
        let tick = move || {
            if busy.try_get_value() != Some(false) {
                return;
            }
            busy.set_value(true);
            let id = id.clone();
            let stop = stop.clone();
            leptos::task::spawn_local(async move {
                let result = cluster_job(id).await;
                if busy.try_set_value(false).is_some() {
                    // The page is gone.
                    stop();
                    return;
                }
                let done = match result {
                    Ok(p) => {
                        let done = p.state != JobStateView::Running;
                        progress.try_set(Some(p));
                        done
                    }
                    Err(e) => {
                        poll_error.try_set(Some(e));
                        true
                    }
                };
                if done {
                    stop();
                }
            });
        };
        tick();
        if let Ok(mut slot) = handle.lock()
            && !slot.0
        {
            slot.1 = set_interval_with_handle(tick, std::time::Duration::from_millis(400)).ok();
        }
    });
    // The server words the steps in the reader's language: when they switch, ask again.
    let i18n = use_i18n();
    Effect::new(move |previous: Option<crate::i18n::Locale>| {
        let locale = i18n.get_locale();
        let id = progress.with_untracked(|p| p.as_ref().map(|p| p.id.clone()));
        if let (Some(previous), Some(id)) = (previous, id)
            && previous != locale
        {
            leptos::task::spawn_local(async move {
                if let Ok(p) = cluster_job(id).await {
                    progress.try_set(Some(p));
                }
            });
        }
        locale
    });
}

/// The kubeconfig: picked with the file chooser, dropped on the text area, or pasted.
#[component]
pub(super) fn KubeconfigInput(
    kubeconfig: RwSignal<String>,
    file_name: RwSignal<Option<String>>,
    /// The text area's id (a page may hold two of these).
    #[prop(into, default = "kubeconfig".to_string())]
    id: String,
) -> impl IntoView {
    let i18n = use_i18n();
    let dragging = RwSignal::new(false);
    let load = move |file: Option<web_sys::File>| {
        let Some(file) = file else { return };
        file_name.set(Some(file.name()));
        leptos::task::spawn_local(async move {
            if let Ok(text) = wasm_bindgen_futures::JsFuture::from(file.text()).await {
                kubeconfig.set(text.as_string().unwrap_or_default());
            }
        });
    };
    view! {
        <div>
            <div class="flex flex-wrap items-center justify-between gap-2">
                <label for=id.clone() class="text-sm font-medium">{t!(i18n, wizard_kubeconfig)}</label>
                <label class="cursor-pointer rounded-md border border-slate-300 bg-white px-3 py-1 text-xs font-semibold text-slate-800 shadow-sm hover:bg-slate-50 focus-within:ring-2 focus-within:ring-sky-500">
                    {t!(i18n, wizard_upload)}
                    <input type="file" class="sr-only" data-testid="kubeconfig-file" accept=".yaml,.yml,.kubeconfig,.conf,text/plain,application/yaml"
                        on:change=move |ev| {
                            let input = event_target::<web_sys::HtmlInputElement>(&ev);
                            load(input.files().and_then(|f| f.get(0)));
                        } />
                </label>
            </div>
            <textarea id=id.clone() name="kubeconfig" required rows="10" spellcheck="false" autocomplete="off"
                aria-describedby=format!("{id}-help")
                class=move || format!("mt-1 block w-full rounded-md border bg-white px-3 py-2 font-mono text-xs shadow-sm focus:border-sky-500 focus:outline-none focus:ring-2 focus:ring-sky-500/40 {}", if dragging.get() { "border-sky-500 ring-2 ring-sky-300" } else { "border-slate-300" })
                prop:value=move || kubeconfig.get()
                on:input=move |ev| kubeconfig.set(event_target_value(&ev))
                on:dragover=move |ev: web_sys::DragEvent| { ev.prevent_default(); dragging.set(true); }
                on:dragleave=move |_| dragging.set(false)
                on:drop=move |ev: web_sys::DragEvent| {
                    ev.prevent_default();
                    dragging.set(false);
                    load(ev.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)));
                }
            ></textarea>
            <p id=format!("{id}-help") class="mt-1 text-xs text-slate-500">
                {move || file_name.get().map(|n| view! { <span class="mr-1 font-medium text-slate-700">{n}</span> })}
                {t!(i18n, wizard_kubeconfig_help)}
            </p>
        </div>
    }
}

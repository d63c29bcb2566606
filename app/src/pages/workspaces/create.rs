//! The create-workspace form: ks-console's fields (name, alias, administrator, clusters,
//! description), checked again on the server.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::components::problem::ChangeRefused;
use crate::error::ConsoleError;
use crate::i18n::{t, t_string, use_i18n};

#[server(prefix = "/api", endpoint = "create_workspace")]
#[cfg_attr(feature = "ssr", tracing::instrument)]
pub async fn create_workspace(
    name: String,
    alias: String,
    manager: String,
    description: String,
    #[server(default)] clusters: Vec<String>,
) -> Result<String, ConsoleError> {
    use fleet::iam::Action;
    use fleet::iam::workspaces::NewWorkspace;

    let principal = crate::auth::require(Action::CreateWorkspaces)?;
    let state = crate::state::ConsoleState::current()?;
    let new = NewWorkspace {
        name: name.trim().to_string(),
        alias,
        manager,
        description,
        clusters,
        creator: principal.username.clone(),
    };
    let known = super::placement_clusters(&state, &principal.host);
    state
        .iam
        .create_workspace(&principal.host, &new, &known)
        .await
        .map_err(|e| {
            crate::error::log_refusal(
                &principal.host,
                &format!("WorkspaceTemplate {}", new.name),
                &principal.username,
                e.from_host(),
                &e,
            );
            crate::auth::set_status(http::StatusCode::UNPROCESSABLE_ENTITY);
            ConsoleError::WorkspaceRefused(e.into())
        })?;
    tracing::info!(by = %principal.username, workspace = %new.name, host = %principal.host, "workspace created");
    state.record_change(
        &principal,
        "WorkspaceCreated",
        fleet::events::ObjectKind::WorkspaceTemplate,
        &new.name,
        format!("created workspace {}", new.name),
    );
    Ok(new.name)
}

#[component]
pub fn CreateWorkspacePanel(
    users: Vec<String>,
    clusters: Vec<String>,
    me: String,
    changes: RwSignal<u64>,
) -> impl IntoView {
    let i18n = use_i18n();
    let open = RwSignal::new(false);
    let action = ServerAction::<CreateWorkspace>::new();
    let created = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(name)) = action.value().get() {
            created.set(Some(name));
            open.set(false);
            changes.update(|c| *c += 1);
        }
    });
    let field = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-sky-500 focus:outline-none focus:ring-2 focus:ring-sky-500/40";
    let users = StoredValue::new(users);
    let clusters = StoredValue::new(clusters);
    let me = StoredValue::new(me);
    view! {
        <div class="ml-auto">
            <button
                type="button"
                data-testid="create-workspace"
                aria-expanded=move || open.get().to_string()
                aria-controls="create-workspace-form"
                class="rounded-md bg-sky-600 px-3 py-1.5 text-sm font-semibold text-white shadow-sm hover:bg-sky-700 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600"
                on:click=move |_| open.update(|o| *o = !*o)
            >
                {move || if open.get() { t_string!(i18n, users_cancel) } else { t_string!(i18n, ws_create) }}
            </button>
        </div>
        <p role="status" class="w-full text-sm text-emerald-700" data-testid="workspace-created">
                {move || created.get().map(|name| t!(i18n, ws_created, name = move || name.clone()))}
        </p>
        <Show when=move || open.get()>
            <ActionForm
                action
                attr:id="create-workspace-form"
                attr:data-testid="create-workspace-form"
                attr:class="mt-4 grid w-full gap-4 rounded-lg border border-slate-200 bg-white p-6 shadow-sm sm:grid-cols-2"
            >
                <label class="block text-sm font-medium">
                    {t!(i18n, form_ws_name)}
                    <input name="name" required maxlength="63" autocomplete="off" autocapitalize="none" spellcheck="false"
                        pattern="[a-z0-9]([\\-a-z0-9]*[a-z0-9])?" aria-describedby="ws-name-help" class=field />
                    <span id="ws-name-help" class="mt-1 block text-xs font-normal text-slate-500">{t!(i18n, form_ws_name_help)}</span>
                </label>
                <label class="block text-sm font-medium">
                    {t!(i18n, form_ws_alias)}
                    <input name="alias" maxlength="63" autocomplete="off" class=field />
                </label>
                <label class="block text-sm font-medium">
                    {t!(i18n, form_ws_manager)}
                    <select name="manager" class=field>
                        {users.with_value(|users| {
                            let me = me.get_value();
                            users
                                .iter()
                                .map(|u| {
                                    let selected = *u == me;
                                    view! { <option value=u.clone() selected=selected>{u.clone()}</option> }
                                })
                                .collect_view()
                        })}
                    </select>
                </label>
                <fieldset class="text-sm">
                    <legend class="font-medium">{t!(i18n, form_ws_clusters)}</legend>
                    {clusters.with_value(|clusters| {
                        if clusters.is_empty() {
                            return view! { <p class="mt-1 text-xs text-slate-500">{t!(i18n, form_ws_clusters_none)}</p> }.into_any();
                        }
                        clusters
                            .iter()
                            .enumerate()
                            .map(|(i, c)| view! {
                                <label class="mt-1 flex items-center gap-2">
                                    <input type="checkbox" name=format!("clusters[{i}]") value=c.clone() checked=true />
                                    {c.clone()}
                                </label>
                            })
                            .collect_view()
                            .into_any()
                    })}
                </fieldset>
                <label class="block text-sm font-medium sm:col-span-2">
                    {t!(i18n, form_description)}
                    <textarea name="description" maxlength="256" rows="2" class=field></textarea>
                </label>
                <div class="sm:col-span-2" aria-live="assertive">
                    {move || match action.value().get() {
                        Some(Err(error)) => Some(view! { <ChangeRefused error /> }),
                        _ => None,
                    }}
                </div>
                <div class="sm:col-span-2 flex justify-end">
                    <button
                        type="submit"
                        class="rounded-md bg-sky-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-sky-700 disabled:opacity-60"
                        disabled=move || action.pending().get()
                    >
                        {move || if action.pending().get() { t_string!(i18n, form_creating) } else { t_string!(i18n, form_create) }}
                    </button>
                </div>
            </ActionForm>
        </Show>
    }
}

//! The create-workspace form: ks-console's fields (name, alias, administrator, clusters,
//! description), checked again on the server.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::components::create_form::{
    ChoiceField, CreateFooter, CreateForm, CreateToggle, FIELD, FORM, NameField,
};
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

    let crate::auth::Caller {
        principal,
        console: state,
    } = crate::auth::Caller::require(Action::CreateWorkspaces)?;
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
        .map_err(crate::error::refused(
            &principal,
            format!("WorkspaceTemplate {}", new.name),
        ))?;
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
    let action = ServerAction::<CreateWorkspace>::new();
    let form = CreateForm::follow(action, changes);
    let field = FIELD;
    let users = StoredValue::new(users);
    let clusters = StoredValue::new(clusters);
    let me = StoredValue::new(me);
    view! {
        <CreateToggle form kind="workspace"
            label=Signal::derive(move || t_string!(i18n, ws_create).to_string())
            created=Callback::new(move |name: String| t!(i18n, ws_created, name = move || name.clone()).into_any())
        >
            <ActionForm action attr:id="create-workspace-form" attr:data-testid="create-workspace-form" attr:class=FORM>
                <NameField label=t!(i18n, form_ws_name).into_any() help=t!(i18n, form_ws_name_help).into_any() help_id="ws-name-help" />
                <label class="block text-sm font-medium">
                    {t!(i18n, form_ws_alias)}
                    <input name="alias" maxlength="63" autocomplete="off" class=field />
                </label>
                <ChoiceField label=t!(i18n, form_ws_manager).into_any() name="manager"
                    choices=users.get_value() chosen=me.get_value() />
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
                <CreateFooter form />
            </ActionForm>
        </CreateToggle>
    }
}

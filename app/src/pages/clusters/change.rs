//! Changing a joined cluster in place: its description and group, and its kubeconfig when the
//! credentials expired or were rotated (checked first: it must reach the same cluster).

use leptos::form::ActionForm;
use leptos::prelude::*;

use super::add::KubeconfigInput;
use super::progress::ActionList;
use crate::components::problem::ChangeRefused;
use crate::dto::clusters::{ActionView, CLUSTER_GROUPS, ClusterRowView, StepView};
use crate::error::ConsoleError;
use crate::i18n::{t, t_string, use_i18n};

#[cfg(feature = "ssr")]
fn update_refused<'a>(
    principal: &'a fleet::iam::Principal,
    name: &'a str,
) -> impl FnOnce(fleet::clusters::UpdateError) -> ConsoleError + 'a {
    move |e| {
        let object = format!("Cluster {name}");
        crate::messages::cluster_refused(
            principal,
            &object,
            crate::messages::ClusterRefusal::Update(&e),
        )
    }
}

/// Sets the description and group of `name` on the signed-in host.
#[server(prefix = "/api", endpoint = "edit_cluster")]
#[cfg_attr(feature = "ssr", tracing::instrument)]
pub async fn edit_cluster(
    name: String,
    description: String,
    group: String,
) -> Result<(), ConsoleError> {
    let principal = crate::auth::require(fleet::iam::Action::ManageClusters)?;
    let host = super::details::writable_host(&principal, &name)?;
    fleet::clusters::edit_cluster(&host, &name, &description, &group)
        .await
        .map_err(update_refused(&principal, &name))?;
    tracing::info!(by = %principal.username, host = %principal.host, cluster = %name, "cluster edited");
    crate::state::ConsoleState::current()?.record_change(
        &principal,
        "ClusterEdited",
        fleet::events::ObjectKind::Cluster,
        &name,
        format!("changed the description or group of cluster {name}"),
    );
    Ok(())
}

/// What a kubeconfig update checked and wrote.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KubeconfigUpdateView {
    pub steps: Vec<StepView>,
    pub actions: Vec<ActionView>,
}

/// Replaces the kubeconfig of `name` after checking it reaches the same cluster.
#[server(prefix = "/api", endpoint = "update_cluster_kubeconfig")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip(kubeconfig)))]
pub async fn update_cluster_kubeconfig(
    name: String,
    kubeconfig: String,
    context: String,
) -> Result<KubeconfigUpdateView, ConsoleError> {
    let principal = crate::auth::require(fleet::iam::Action::ManageClusters)?;
    let host = super::details::writable_host(&principal, &name)?;
    let context = Some(context.trim()).filter(|c| !c.is_empty());
    let outcome = fleet::clusters::update_kubeconfig(
        &host,
        &name,
        &kubeconfig,
        context,
        std::time::SystemTime::now(),
        &mut |_| {},
    )
    .await
    .map_err(update_refused(&principal, &name))?;
    tracing::info!(by = %principal.username, host = %principal.host, cluster = %name, "cluster kubeconfig updated");
    crate::state::ConsoleState::current()?.record_change(
        &principal,
        "ClusterKubeconfigUpdated",
        fleet::events::ObjectKind::Cluster,
        &name,
        format!("gave cluster {name} a new kubeconfig"),
    );
    Ok(KubeconfigUpdateView {
        steps: outcome
            .steps
            .iter()
            .map(|s| StepView::of(crate::messages::request_locale(), s))
            .collect(),
        actions: outcome.actions.iter().map(ActionView::from).collect(),
    })
}

#[component]
pub fn ChangeCluster(row: Signal<Option<ClusterRowView>>) -> impl IntoView {
    let i18n = use_i18n();
    let edit = ServerAction::<EditCluster>::new();
    let update = ServerAction::<UpdateClusterKubeconfig>::new();
    let kubeconfig = RwSignal::new(String::new());
    let file_name = RwSignal::new(None::<String>);
    let name = move || row.with(|r| r.as_ref().map(|r| r.name.clone()).unwrap_or_default());
    let (description, group) = row.with_untracked(|r| {
        r.as_ref()
            .map(|r| {
                (
                    r.description.clone().unwrap_or_default(),
                    r.group.clone().unwrap_or_default(),
                )
            })
            .unwrap_or_default()
    });
    let field = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm";
    let button = "rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-semibold text-slate-800 shadow-sm hover:bg-slate-50 disabled:opacity-50";
    view! {
        <div class="mt-6 grid gap-6 border-t border-slate-200 pt-4 lg:grid-cols-2">
            <ActionForm action=edit attr:class="space-y-3" attr:data-testid="edit-cluster-form">
                <h3 class="text-sm font-semibold text-slate-800">{t!(i18n, cluster_edit)}</h3>
                <input type="hidden" name="name" value=name />
                <label class="block text-sm font-medium">
                    {t!(i18n, form_description)}
                    <input name="description" maxlength="256" value=description class=field />
                </label>
                <label class="block text-sm font-medium">
                    {t!(i18n, wizard_group)}
                    <select name="group" class=field>
                        <option value="">{t!(i18n, wizard_group_none)}</option>
                        {CLUSTER_GROUPS.into_iter().map(|g| view! { <option value=g selected=g == group>{g}</option> }).collect_view()}
                    </select>
                </label>
                <button type="submit" class=button disabled=move || edit.pending().get()>{t!(i18n, cluster_save)}</button>
                {move || match edit.value().get() {
                    Some(Err(error)) => view! { <ChangeRefused error /> }.into_any(),
                    Some(Ok(())) => view! { <p role="status" class="text-sm text-emerald-700">{t!(i18n, cluster_saved)}</p> }.into_any(),
                    None => ().into_any(),
                }}
            </ActionForm>
            <ActionForm action=update attr:class="space-y-3" attr:data-testid="update-kubeconfig-form">
                <h3 class="text-sm font-semibold text-slate-800">{t!(i18n, cluster_update_kubeconfig)}</h3>
                <p class="text-xs text-slate-600">{t!(i18n, cluster_update_kubeconfig_help)}</p>
                <input type="hidden" name="name" value=name />
                <input type="hidden" name="context" value="" />
                <KubeconfigInput kubeconfig file_name id=format!("update-kubeconfig-{}", name()) />
                <button type="submit" class=button disabled=move || update.pending().get()>
                    {move || if update.pending().get() { t_string!(i18n, cluster_updating) } else { t_string!(i18n, cluster_update) }}
                </button>
                {move || match update.value().get() {
                    Some(Err(error)) => view! { <ChangeRefused error /> }.into_any(),
                    Some(Ok(done)) => view! {
                        <div role="status" class="text-sm text-emerald-800" data-testid="kubeconfig-updated">
                            <p>{t!(i18n, cluster_kubeconfig_updated)}</p>
                            <ActionList actions=done.actions />
                        </div>
                    }.into_any(),
                    None => ().into_any(),
                }}
            </ActionForm>
        </div>
    }
    .into_any()
}

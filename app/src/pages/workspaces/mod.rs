//! Workspaces of the signed-in host: placement on member clusters with propagation, members
//! and their workspace roles, live; creating, adding and removing members, deleting.

mod create;
mod members;

use leptos::prelude::*;

use crate::components::heading::{PageHeading, host_code};
use crate::components::list_table::ListTable;
use crate::components::live::{live_data, live_view};
use crate::components::propagation::PropagationChips;
use crate::dto::workspaces::{WorkspaceListView, WorkspaceRowView};
use crate::error::ConsoleError;
use crate::i18n::{t, use_i18n};

use create::CreateWorkspacePanel;
use members::WorkspaceMembers;

/// Every workspace of the signed-in host, from the watch-fed cache.
#[server(prefix = "/api", endpoint = "list_workspaces")]
#[cfg_attr(feature = "ssr", tracing::instrument)]
pub async fn list_workspaces() -> Result<WorkspaceListView, ConsoleError> {
    use fleet::iam::Action;

    // Everyone signed in sees the workspaces they belong to; a platform role that may list
    // workspaces sees them all.
    let crate::auth::Caller {
        principal,
        console: state,
    } = crate::auth::Caller::require(Action::ViewHosts)?;
    let cache = state.iam.host(&principal.host).and_then(|h| h.cache())?;
    let sees_all = principal.may(Action::ViewWorkspaces);
    let mine = cache.workspaces_of(&principal.username);
    let manages_all = principal.may(Action::ManageWorkspaces);
    let may = |workspace: &str, action| {
        manages_all || cache.may_in_workspace(&principal.username, workspace, action)
    };
    let mut users: Vec<String> = cache
        .users
        .state()
        .iter()
        .filter_map(|u| u.metadata.name.clone())
        .collect();
    users.sort();
    Ok(WorkspaceListView {
        host: principal.host.clone(),
        rows: cache
            .workspaces()
            .into_iter()
            .filter(|w| sees_all || mine.contains(&w.name))
            .map(|w| {
                let troubled = state.federation.troubled_members(
                    &principal.host,
                    fleet::federation::FederatedKind::Workspace,
                    &w.name,
                );
                WorkspaceRowView::from_row(w, may, troubled)
            })
            .collect(),
        may_create: principal.may(Action::CreateWorkspaces),
        me: principal.username.clone(),
        users,
        clusters: placement_clusters(&state, &principal.host),
    })
}

/// The clusters a workspace of `host` may be placed on, from its last probe: the members it
/// manages and the host itself (KubeSphere places workspaces on the host too).
#[cfg(feature = "ssr")]
pub(crate) fn placement_clusters(state: &crate::state::ConsoleState, host: &str) -> Vec<String> {
    state
        .hosts
        .snapshot()
        .iter()
        .filter(|h| h.name == host)
        .filter_map(|h| match &h.state {
            fleet::HostState::Reachable { clusters, .. } => clusters.clone(),
            _ => None,
        })
        .flatten()
        .map(|c| c.name)
        .collect()
}

lazy_page!(
    /// Loaded in its own wasm chunk on first visit.
    WorkspacesRoute => WorkspacesPage
);

#[component]
pub fn WorkspacesPage() -> impl IntoView {
    let i18n = crate::components::layout::page_hydrated();
    let data = live_data(|| (), |_| list_workspaces());
    let changes = data.changes;
    live_view(data, move |list| {
        let (host, may_create, users, clusters, me) = list.with_untracked(|l| {
            (
                l.host.clone(),
                l.may_create,
                l.users.clone(),
                l.clusters.clone(),
                l.me.clone(),
            )
        });
        view! {
            <PageHeading
                title=t!(i18n, ws_title).into_any()
                intro=t!(i18n, ws_intro, host = move || host_code(host.clone())).into_any()
            >
                {may_create.then(|| view! { <CreateWorkspacePanel users clusters me changes /> })}
            </PageHeading>
            <WorkspaceTable list changes />
        }
    })
}

#[component]
fn WorkspaceTable(list: Memo<WorkspaceListView>, changes: RwSignal<u64>) -> impl IntoView {
    let i18n = use_i18n();
    let names = move || list.with(|l| l.rows.iter().map(|r| r.name.clone()).collect::<Vec<_>>());
    let head = view! {
        <th scope="col" class="px-4 py-3">{t!(i18n, col_workspace)}</th>
        <th scope="col" class="px-4 py-3">{t!(i18n, col_manager)}</th>
        <th scope="col" class="px-4 py-3">{t!(i18n, col_ws_clusters)}</th>
        <th scope="col" class="px-4 py-3">{t!(i18n, col_members)}</th>
    };
    view! {
        <ListTable
            empty=Signal::derive(move || list.with(|l| l.rows.is_empty()))
            none=move || t!(i18n, ws_none)
            testid="workspaces-table"
            head=head.into_any()
        >
            <For each=names key=|name| name.clone() let:name>
                <WorkspaceRow name list changes />
            </For>
        </ListTable>
    }
}

/// One workspace; stays in place while the list refreshes, so an open member form survives.
#[component]
fn WorkspaceRow(
    name: String,
    list: Memo<WorkspaceListView>,
    changes: RwSignal<u64>,
) -> impl IntoView {
    let i18n = use_i18n();
    let row = {
        let name = name.clone();
        Memo::new(move |_| list.with(|l| l.rows.iter().find(|r| r.name == name).cloned()))
    };
    let read = move |f: fn(&WorkspaceRowView) -> Option<String>| {
        move || row.with(|r| r.as_ref().and_then(f))
    };
    let object = format!("workspace/{name}");
    let placement = move || match row.with(|r| {
        r.as_ref()
            .map(|r| (r.clusters.clone(), r.propagation.clone()))
    }) {
        Some((None, propagation)) => view! {
            <span class="text-xs text-slate-600">{t!(i18n, all_clusters)}</span>
            <PropagationChips object=object.clone() entries=propagation />
        }
        .into_any(),
        Some((Some(_), propagation)) => {
            view! { <PropagationChips object=object.clone() entries=propagation /> }.into_any()
        }
        None => ().into_any(),
    };
    let users = list.with_untracked(|l| l.users.clone());
    let (may_manage, may_delete) = row.with_untracked(|r| {
        r.as_ref()
            .map(|r| (r.may_manage_members, r.may_delete))
            .unwrap_or_default()
    });
    let members = Signal::derive(move || {
        row.with(|r| r.as_ref().map(|r| r.members.clone()).unwrap_or_default())
    });
    view! {
        <tr data-testid="workspace-row" data-workspace=name.clone() class="align-top">
            <th scope="row" class="px-4 py-3 text-left font-normal">
                <div class="font-semibold text-slate-900">
                    {name.clone()}
                    <Show when=move || row.with(|r| r.as_ref().is_some_and(|r| r.deleting))>
                        <span class="ml-2 text-xs font-normal text-amber-700">{t!(i18n, ws_deleting)}</span>
                    </Show>
                </div>
                <div class="text-xs text-slate-500">{read(|r| r.alias.clone())}</div>
                <div class="mt-1 max-w-xs text-xs text-slate-500">{read(|r| r.description.clone())}</div>
            </th>
            <td class="px-4 py-3 font-mono text-xs">{move || read(|r| r.manager.clone())().unwrap_or_else(|| "—".into())}</td>
            <td class="px-4 py-3">{placement}</td>
            <td class="px-4 py-3">
                <WorkspaceMembers workspace=name.clone() members may_manage may_delete users changes />
            </td>
        </tr>
    }
}

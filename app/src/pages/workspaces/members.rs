//! A workspace's members: who holds which workspace role, and for administrators the forms to
//! add one, remove one, or delete the workspace.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::components::problem::ChangeRefused;
use crate::error::ConsoleError;
use crate::i18n::{t, use_i18n};
// The roles a member can be given, most privileged first.
use wire::users::{DEFAULT_WORKSPACE_ROLE, WORKSPACE_ROLES as ROLES};

/// Runs `act` for a user whose platform role manages workspaces, or whose workspace role
/// allows `action` in `workspace`; refused (403) otherwise. Done, it is recorded as an Event
/// (`event`: its reason and what was done, after the actor's name).
#[cfg(feature = "ssr")]
async fn manage<T>(
    workspace: &str,
    action: fleet::iam::workspace_access::WorkspaceAction,
    event: (&'static str, String),
    act: impl AsyncFnOnce(
        &fleet::Client,
        &fleet::iam::IamCache,
    ) -> Result<T, fleet::iam::workspaces::WorkspaceError>,
) -> Result<T, ConsoleError> {
    use fleet::iam::Action;
    let caller = crate::auth::Caller::require(Action::ViewHosts)?;
    let (client, cache) = caller.host()?;
    let principal = &caller.principal;
    if !principal.may(Action::ManageWorkspaces)
        && !cache.may_in_workspace(&principal.username, workspace, action)
    {
        crate::auth::set_status(http::StatusCode::FORBIDDEN);
        tracing::info!(user = %principal.username, %workspace, ?action, "denied");
        return Err(ConsoleError::Forbidden(format!(
            "{action:?} in {workspace}"
        )));
    }
    let done = act(client, cache).await.map_err(crate::error::refused(
        principal,
        format!("workspace {workspace}"),
    ))?;
    let (reason, what) = event;
    tracing::info!(by = %principal.username, %workspace, reason, "workspace changed");
    caller.console.record_change(
        principal,
        reason,
        fleet::events::ObjectKind::WorkspaceTemplate,
        workspace,
        what,
    );
    Ok(done)
}

#[server(prefix = "/api", endpoint = "set_workspace_member")]
#[cfg_attr(feature = "ssr", tracing::instrument)]
pub async fn set_workspace_member(
    workspace: String,
    user: String,
    role: String,
) -> Result<(), ConsoleError> {
    use fleet::iam::workspace_access::WorkspaceAction;
    manage(
        &workspace,
        WorkspaceAction::ManageMembers,
        (
            "WorkspaceMemberSet",
            format!("gave {user} the role {role} in workspace {workspace}"),
        ),
        async |client, cache| {
            fleet::iam::workspaces::set_workspace_member(client, cache, &workspace, &user, &role)
                .await
        },
    )
    .await
}

#[server(prefix = "/api", endpoint = "remove_workspace_member")]
#[cfg_attr(feature = "ssr", tracing::instrument)]
pub async fn remove_workspace_member(workspace: String, user: String) -> Result<(), ConsoleError> {
    use fleet::iam::workspace_access::WorkspaceAction;
    manage(
        &workspace,
        WorkspaceAction::ManageMembers,
        (
            "WorkspaceMemberRemoved",
            format!("removed {user} from workspace {workspace}"),
        ),
        async |client, _| {
            fleet::iam::workspaces::remove_workspace_member(client, &workspace, &user).await
        },
    )
    .await
}

#[server(prefix = "/api", endpoint = "delete_workspace")]
#[cfg_attr(feature = "ssr", tracing::instrument)]
pub async fn delete_workspace(workspace: String) -> Result<(), ConsoleError> {
    use fleet::iam::workspace_access::WorkspaceAction;
    manage(
        &workspace,
        WorkspaceAction::Delete,
        ("WorkspaceDeleted", format!("deleted workspace {workspace}")),
        async |client, _| fleet::iam::workspaces::delete_workspace(client, &workspace).await,
    )
    .await
}

#[component]
pub fn WorkspaceMembers(
    workspace: String,
    members: Signal<Vec<(String, String)>>,
    may_manage: bool,
    may_delete: bool,
    users: Vec<String>,
    changes: RwSignal<u64>,
) -> impl IntoView {
    let i18n = use_i18n();
    let set = ServerAction::<SetWorkspaceMember>::new();
    let remove = ServerAction::<RemoveWorkspaceMember>::new();
    let delete = ServerAction::<DeleteWorkspace>::new();
    let confirming = RwSignal::new(false);
    Effect::new(move |_| {
        let done = [
            set.value().get().map(|r| r.is_ok()),
            remove.value().get().map(|r| r.is_ok()),
            delete.value().get().map(|r| r.is_ok()),
        ];
        if done.contains(&Some(true)) {
            changes.update(|c| *c += 1);
        }
    });
    let error = move || {
        [
            set.value().get(),
            remove.value().get(),
            delete.value().get(),
        ]
        .into_iter()
        .flatten()
        .find_map(|r| r.err())
    };
    let ws = StoredValue::new(workspace);
    let users = StoredValue::new(users);
    let small = "rounded-md border border-slate-300 bg-white px-2 py-1 text-xs font-medium shadow-sm hover:bg-slate-50";
    view! {
        <details class="group" data-testid="workspace-members">
            <summary class="cursor-pointer text-sm text-slate-700">
                {move || { let n = members.with(Vec::len); t!(i18n, ws_members_count, n = n) }}
            </summary>
            <ul class="mt-2 space-y-1">
                <For each=move || members.get() key=|m| m.clone() let:member>
                    {
                        let (user, role) = member;
                        let remove_user = user.clone();
                        let marker = user.clone();
                        view! {
                            <li class="flex items-center justify-between gap-3 text-xs" data-member=marker>
                                <span><span class="font-medium">{user}</span>" · "<span class="font-mono">{role}</span></span>
                                {may_manage.then(|| view! {
                                    <ActionForm action=remove>
                                        <input type="hidden" name="workspace" value=ws.get_value() />
                                        <input type="hidden" name="user" value=remove_user.clone() />
                                        <button type="submit" class=small>{t!(i18n, ws_remove_member)}</button>
                                    </ActionForm>
                                })}
                            </li>
                        }
                    }
                </For>
            </ul>
            {may_manage.then(|| view! {
                <ActionForm action=set attr:class="mt-3 flex flex-wrap items-end gap-2 text-xs" attr:data-testid="add-member-form">
                    <input type="hidden" name="workspace" value=ws.get_value() />
                    <label class="flex flex-col">
                        {t!(i18n, ws_member_user)}
                        <select name="user" class="rounded-md border border-slate-300 bg-white px-1.5 py-1">
                            {users.with_value(|users| users.iter().map(|u| view! { <option value=u.clone()>{u.clone()}</option> }).collect_view())}
                        </select>
                    </label>
                    <label class="flex flex-col">
                        {t!(i18n, ws_member_role)}
                        <select name="role" class="rounded-md border border-slate-300 bg-white px-1.5 py-1">
                            {ROLES.map(|r| view! { <option value=r selected=r == DEFAULT_WORKSPACE_ROLE>{r}</option> }).collect_view()}
                        </select>
                    </label>
                    <button type="submit" class=small>{t!(i18n, ws_add_member)}</button>
                </ActionForm>
            })}
            {may_delete.then(|| view! {
                <div class="mt-3">
                    <button type="button" class=format!("{small} text-red-700") aria-expanded=move || confirming.get().to_string()
                        on:click=move |_| confirming.update(|c| *c = !*c)>
                        {t!(i18n, ws_delete)}
                    </button>
                    <Show when=move || confirming.get()>
                        <ActionForm action=delete attr:class="mt-2 flex flex-wrap items-center gap-2 text-xs">
                            <input type="hidden" name="workspace" value=ws.get_value() />
                            <span class="text-red-800">{t!(i18n, ws_delete_confirm, name = move || ws.get_value())}</span>
                            <button type="submit" class="rounded-md bg-red-600 px-2 py-1 font-semibold text-white hover:bg-red-700">
                                {t!(i18n, ws_delete)}
                            </button>
                        </ActionForm>
                    </Show>
                </div>
            })}
            {move || error().map(|error| view! { <div class="mt-2"><ChangeRefused error /></div> })}
        </details>
    }
}

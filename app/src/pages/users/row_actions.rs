//! What an administrator can do to one user from its row: enable or disable, give another
//! platform role, delete (after saying which user).

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::components::problem::ChangeRefused;
use crate::error::ConsoleError;
use crate::i18n::{t, t_string, use_i18n};

/// The signed-in administrator and the console state; refused unless they may manage users.
#[cfg(feature = "ssr")]
fn manage() -> Result<(fleet::iam::Principal, crate::state::ConsoleState), ConsoleError> {
    let principal = crate::auth::require(fleet::iam::Action::ManageUsers)?;
    Ok((principal, crate::state::ConsoleState::current()?))
}

#[cfg(feature = "ssr")]
fn unavailable(e: fleet::iam::SessionError) -> ConsoleError {
    ConsoleError::ServerUnavailable(e.to_string())
}

/// A refused change to user `name`, logged (a warning when the host refused) and told.
#[cfg(feature = "ssr")]
fn refused(
    principal: &fleet::iam::Principal,
    name: &str,
) -> impl FnOnce(fleet::iam::user_admin::UserError) -> ConsoleError {
    move |e| {
        crate::error::log_refusal(
            &principal.host,
            &format!("User {name}"),
            &principal.username,
            e.from_host(),
            &e,
        );
        crate::auth::set_status(http::StatusCode::UNPROCESSABLE_ENTITY);
        ConsoleError::UserRefused(e.into())
    }
}

#[server(prefix = "/api", endpoint = "set_user_enabled")]
#[cfg_attr(feature = "ssr", tracing::instrument)]
pub async fn set_user_enabled(name: String, enabled: bool) -> Result<(), ConsoleError> {
    let (principal, state) = manage()?;
    let host = state.iam.host(&principal.host).map_err(unavailable)?;
    let client = host.client().map_err(unavailable)?;
    fleet::iam::user_admin::set_enabled(client, &principal.username, &name, enabled)
        .await
        .map_err(refused(&principal, &name))?;
    tracing::info!(by = %principal.username, user = %name, enabled, "user state changed");
    let (reason, done) = if enabled {
        ("UserEnabled", "enabled")
    } else {
        ("UserDisabled", "disabled")
    };
    state.record_change(
        &principal,
        reason,
        fleet::events::ObjectKind::User,
        &name,
        format!("{done} user {name}"),
    );
    Ok(())
}

#[server(prefix = "/api", endpoint = "set_user_role")]
#[cfg_attr(feature = "ssr", tracing::instrument)]
pub async fn set_user_role(name: String, role: String) -> Result<(), ConsoleError> {
    let (principal, state) = manage()?;
    let host = state.iam.host(&principal.host).map_err(unavailable)?;
    let client = host.client().map_err(unavailable)?;
    let cache = host.cache().map_err(unavailable)?;
    fleet::iam::user_admin::assign_global_role(client, cache, &name, &role)
        .await
        .map_err(refused(&principal, &name))?;
    tracing::info!(by = %principal.username, user = %name, %role, "user role changed");
    state.record_change(
        &principal,
        "UserRoleChanged",
        fleet::events::ObjectKind::User,
        &name,
        format!("gave user {name} the platform role {role}"),
    );
    Ok(())
}

#[server(prefix = "/api", endpoint = "delete_user")]
#[cfg_attr(feature = "ssr", tracing::instrument)]
pub async fn delete_user(name: String) -> Result<(), ConsoleError> {
    let (principal, state) = manage()?;
    let host = state.iam.host(&principal.host).map_err(unavailable)?;
    let client = host.client().map_err(unavailable)?;
    fleet::iam::user_admin::delete_user(client, &principal.username, &name)
        .await
        .map_err(refused(&principal, &name))?;
    tracing::info!(by = %principal.username, user = %name, "user deleted");
    state.record_change(
        &principal,
        "UserDeleted",
        fleet::events::ObjectKind::User,
        &name,
        format!("deleted user {name}"),
    );
    Ok(())
}

#[server(prefix = "/api", endpoint = "update_user")]
#[cfg_attr(feature = "ssr", tracing::instrument)]
pub async fn update_user(
    name: String,
    email: String,
    description: String,
) -> Result<(), ConsoleError> {
    let (principal, state) = manage()?;
    let host = state.iam.host(&principal.host).map_err(unavailable)?;
    let client = host.client().map_err(unavailable)?;
    let cache = host.cache().map_err(unavailable)?;
    fleet::iam::user_admin::update_user(client, cache, &name, email.trim(), &description)
        .await
        .map_err(refused(&principal, &name))?;
    tracing::info!(by = %principal.username, user = %name, "user edited");
    state.record_change(
        &principal,
        "UserEdited",
        fleet::events::ObjectKind::User,
        &name,
        format!("changed the email or description of user {name}"),
    );
    Ok(())
}

#[server(prefix = "/api", endpoint = "set_user_password")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip(password)))]
pub async fn set_user_password(name: String, password: String) -> Result<(), ConsoleError> {
    let (principal, state) = manage()?;
    let host = state.iam.host(&principal.host).map_err(unavailable)?;
    let client = host.client().map_err(unavailable)?;
    fleet::iam::passwords::set_password(client, &name, &password)
        .await
        .map_err(refused(&principal, &name))?;
    tracing::info!(by = %principal.username, user = %name, "password set");
    state.record_change(
        &principal,
        "UserPasswordSet",
        fleet::events::ObjectKind::User,
        &name,
        format!("set a new password for user {name}"),
    );
    Ok(())
}

#[component]
pub fn RowActions(
    name: String,
    state: Signal<String>,
    role: Signal<Option<String>>,
    own: bool,
    roles: Vec<String>,
    /// The user's email and description, as the edit form starts.
    details: Signal<(String, String)>,
    changes: RwSignal<u64>,
) -> impl IntoView {
    let i18n = use_i18n();
    let toggle = ServerAction::<SetUserEnabled>::new();
    let set_role = ServerAction::<SetUserRole>::new();
    let delete = ServerAction::<DeleteUser>::new();
    let set_password = ServerAction::<SetUserPassword>::new();
    let edit = ServerAction::<UpdateUser>::new();
    let editing = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let setting_password = RwSignal::new(false);
    Effect::new(move |_| {
        let done = [
            toggle.value().get().map(|r| r.is_ok()),
            set_role.value().get().map(|r| r.is_ok()),
            delete.value().get().map(|r| r.is_ok()),
            edit.value().get().map(|r| r.is_ok()),
        ];
        if done.contains(&Some(true)) {
            changes.update(|c| *c += 1);
        }
    });
    // The refusal of the action asked last (an edit or a password change too), so an old
    // refusal never hides a new one.
    let values = [
        toggle.value(),
        set_role.value(),
        delete.value(),
        edit.value(),
        set_password.value(),
    ];
    let pending = [
        toggle.pending(),
        set_role.pending(),
        delete.pending(),
        edit.pending(),
        set_password.pending(),
    ];
    let last = RwSignal::new(None::<usize>);
    for (which, pending) in pending.into_iter().enumerate() {
        Effect::new(move |_| {
            if pending.get() {
                last.set(Some(which));
            }
        });
    }
    let error = move || {
        last.get()
            .and_then(|which| values[which].get())
            .and_then(Result::err)
    };
    let enabled = move || state.get() != "Disabled";
    let button = "rounded-md border border-slate-300 bg-white px-2 py-1 text-xs font-medium shadow-sm hover:bg-slate-50 disabled:opacity-50";
    let role_label = format!("{} {name}", t_string!(i18n, user_role_change));
    let row_name = StoredValue::new(name.clone());
    view! {
        <div class="flex flex-wrap items-center justify-end gap-2">
            <ActionForm action=set_role attr:class="flex items-center gap-1">
                <input type="hidden" name="name" value=row_name.get_value() />
                <select name="role" aria-label=role_label class="w-44 rounded-md border border-slate-300 bg-white px-1.5 py-1 text-xs">
                    {roles
                        .iter()
                        .map(|r| {
                            let option = r.clone();
                            let selected = move || role.get().as_deref() == Some(option.as_str());
                            view! { <option value=r.clone() selected=selected>{r.clone()}</option> }
                        })
                        .collect_view()}
                </select>
                <button type="submit" class=button>{t!(i18n, user_role_save)}</button>
            </ActionForm>
            <button
                type="button"
                class=button
                aria-expanded=move || editing.get().to_string()
                on:click=move |_| editing.update(|e| *e = !*e)
            >
                {t!(i18n, user_edit)}
            </button>
            {(!own).then(|| view! {
                <ActionForm action=toggle>
                    <input type="hidden" name="name" value=row_name.get_value() />
                    <input type="hidden" name="enabled" value=move || (!enabled()).to_string() />
                    <button type="submit" class=button>
                        {move || if enabled() { t!(i18n, user_disable).into_any() } else { t!(i18n, user_enable).into_any() }}
                    </button>
                </ActionForm>
                <button
                    type="button"
                    class=button
                    aria-expanded=move || setting_password.get().to_string()
                    on:click=move |_| setting_password.update(|c| *c = !*c)
                >
                    {t!(i18n, user_set_password)}
                </button>
                <button
                    type="button"
                    class=format!("{button} text-red-700")
                    aria-expanded=move || confirming.get().to_string()
                    on:click=move |_| confirming.update(|c| *c = !*c)
                >
                    {t!(i18n, user_delete)}
                </button>
            })}
        </div>
        <Show when=move || editing.get()>
            <ActionForm action=edit attr:class="mt-2 flex flex-wrap items-end justify-end gap-2 text-xs" attr:data-testid="edit-user-form">
                <input type="hidden" name="name" value=row_name.get_value() />
                <label class="flex flex-col text-left">
                    {t!(i18n, form_email)}
                    <input name="email" type="email" required value=move || details.get().0
                        class="w-56 rounded-md border border-slate-300 bg-white px-1.5 py-1" />
                </label>
                <label class="flex flex-col text-left">
                    {t!(i18n, form_description)}
                    <input name="description" maxlength="256" value=move || details.get().1
                        class="w-56 rounded-md border border-slate-300 bg-white px-1.5 py-1" />
                </label>
                <button type="submit" class="rounded-md bg-sky-600 px-2 py-1 font-semibold text-white hover:bg-sky-700">
                    {t!(i18n, user_save)}
                </button>
            </ActionForm>
        </Show>
        <Show when=move || setting_password.get()>
            <ActionForm action=set_password attr:class="mt-2 flex items-center justify-end gap-2 text-xs">
                <input type="hidden" name="name" value=row_name.get_value() />
                <label class="sr-only" for=format!("password-{}", row_name.get_value())>
                    {t!(i18n, user_set_password_for, name = move || row_name.get_value())}
                </label>
                <input id=format!("password-{}", row_name.get_value()) name="password" type="password" required minlength="8" maxlength="64"
                    autocomplete="new-password" class="w-44 rounded-md border border-slate-300 bg-white px-1.5 py-1" />
                <button type="submit" class="rounded-md bg-sky-600 px-2 py-1 font-semibold text-white hover:bg-sky-700">
                    {t!(i18n, user_set_password)}
                </button>
                <span role="status" class="text-emerald-700">
                    {move || matches!(set_password.value().get(), Some(Ok(()))).then(|| t!(i18n, user_password_set))}
                </span>
            </ActionForm>
        </Show>
        <Show when=move || confirming.get()>
            <ActionForm action=delete attr:class="mt-2 flex items-center justify-end gap-2 text-xs">
                <input type="hidden" name="name" value=row_name.get_value() />
                <span class="text-red-800">{t!(i18n, user_delete_confirm, name = move || row_name.get_value())}</span>
                <button type="submit" class="rounded-md bg-red-600 px-2 py-1 font-semibold text-white hover:bg-red-700">
                    {t!(i18n, user_delete_yes)}
                </button>
            </ActionForm>
        </Show>
        {move || error().map(|error| view! { <div class="mt-2 text-left"><ChangeRefused error /></div> })}
    }
}

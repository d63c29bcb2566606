//! What an administrator can do to one user from its row: enable or disable, give another
//! platform role, delete (after saying which user).

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::components::problem::ChangeRefused;
use crate::error::ConsoleError;
use crate::i18n::{t, t_string, use_i18n};

/// One change to user `name` by an administrator, on their host (`act` gets the caller, the
/// host's client and its IAM cache): refused with the user row's problem when it fails,
/// recorded as an Event when done (`event`: its reason, and what was done after the actor's
/// name).
#[cfg(feature = "ssr")]
async fn change_user(
    name: &str,
    event: (&'static str, String),
    act: impl AsyncFnOnce(
        &fleet::iam::Principal,
        &fleet::Client,
        &fleet::iam::IamCache,
    ) -> Result<(), fleet::iam::user_admin::UserError>,
) -> Result<(), ConsoleError> {
    let caller = crate::auth::Caller::require(fleet::iam::Action::ManageUsers)?;
    let (client, cache) = caller.host()?;
    let principal = &caller.principal;
    act(principal, client, cache)
        .await
        .map_err(crate::error::refused(principal, format!("User {name}")))?;
    let (reason, what) = event;
    tracing::info!(by = %principal.username, user = %name, reason, %what, "user changed");
    let kind = fleet::events::ObjectKind::User;
    caller
        .console
        .record_change(principal, reason, kind, name, what);
    Ok(())
}

#[server(prefix = "/api", endpoint = "set_user_enabled")]
#[cfg_attr(feature = "ssr", tracing::instrument)]
pub async fn set_user_enabled(name: String, enabled: bool) -> Result<(), ConsoleError> {
    use fleet::iam::user_admin::set_enabled;
    let (reason, done) = if enabled {
        ("UserEnabled", "enabled")
    } else {
        ("UserDisabled", "disabled")
    };
    let event = (reason, format!("{done} user {name}"));
    change_user(&name, event, async |caller, client, _| {
        set_enabled(client, &caller.username, &name, enabled).await
    })
    .await
}

#[server(prefix = "/api", endpoint = "set_user_role")]
#[cfg_attr(feature = "ssr", tracing::instrument)]
pub async fn set_user_role(name: String, role: String) -> Result<(), ConsoleError> {
    use fleet::iam::user_admin::assign_global_role;
    let event = (
        "UserRoleChanged",
        format!("gave user {name} the platform role {role}"),
    );
    change_user(&name, event, async |_, client, cache| {
        assign_global_role(client, cache, &name, &role).await
    })
    .await
}

#[server(prefix = "/api", endpoint = "delete_user")]
#[cfg_attr(feature = "ssr", tracing::instrument)]
pub async fn delete_user(name: String) -> Result<(), ConsoleError> {
    let event = ("UserDeleted", format!("deleted user {name}"));
    change_user(&name, event, async |caller, client, _| {
        fleet::iam::user_admin::delete_user(client, &caller.username, &name).await
    })
    .await
}

#[server(prefix = "/api", endpoint = "update_user")]
#[cfg_attr(feature = "ssr", tracing::instrument)]
pub async fn update_user(
    name: String,
    email: String,
    description: String,
) -> Result<(), ConsoleError> {
    let event = (
        "UserEdited",
        format!("changed the email or description of user {name}"),
    );
    change_user(&name, event, async |_, client, cache| {
        fleet::iam::user_admin::update_user(client, cache, &name, email.trim(), &description).await
    })
    .await
}

#[server(prefix = "/api", endpoint = "set_user_password")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip(password)))]
pub async fn set_user_password(name: String, password: String) -> Result<(), ConsoleError> {
    let event = (
        "UserPasswordSet",
        format!("set a new password for user {name}"),
    );
    change_user(&name, event, async |_, client, _| {
        fleet::iam::passwords::set_password(client, &name, &password).await
    })
    .await
}

/// A button that opens and closes what follows it (a form, a confirmation).
#[component]
fn Disclosure(open: RwSignal<bool>, class: String, children: Children) -> impl IntoView {
    view! {
        <button type="button" class=class aria-expanded=move || open.get().to_string() on:click=move |_| open.update(|o| *o = !*o)>
            {children()}
        </button>
    }
}

#[component]
pub fn RowActions(
    name: String,
    state: Signal<crate::dto::users::UserState>,
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
    let enabled = move || state.get() != crate::dto::users::UserState::Disabled;
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
            <Disclosure open=editing class=button.to_string()>{t!(i18n, user_edit)}</Disclosure>
            {(!own).then(|| view! {
                <ActionForm action=toggle>
                    <input type="hidden" name="name" value=row_name.get_value() />
                    <input type="hidden" name="enabled" value=move || (!enabled()).to_string() />
                    <button type="submit" class=button>
                        {move || if enabled() { t!(i18n, user_disable).into_any() } else { t!(i18n, user_enable).into_any() }}
                    </button>
                </ActionForm>
                <Disclosure open=setting_password class=button.to_string()>{t!(i18n, user_set_password)}</Disclosure>
                <Disclosure open=confirming class=format!("{button} text-red-700")>{t!(i18n, user_delete)}</Disclosure>
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

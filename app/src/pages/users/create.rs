//! The create-user form: KubeSphere's fields and rules, checked again on the server.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::components::problem::ChangeRefused;
use crate::error::ConsoleError;
use crate::i18n::{t, t_string, use_i18n};

#[server(prefix = "/api", endpoint = "create_user")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip(password)))]
pub async fn create_user(
    name: String,
    email: String,
    global_role: String,
    password: String,
    description: String,
) -> Result<String, ConsoleError> {
    use fleet::iam::Action;
    use fleet::iam::user_admin::NewUser;

    let principal = crate::auth::require(Action::ManageUsers)?;
    let state = crate::state::ConsoleState::current()?;
    let new = NewUser {
        name: name.trim().to_string(),
        email: email.trim().to_string(),
        password,
        global_role,
        description,
    };
    state
        .iam
        .create_user(&principal.host, &new)
        .await
        .map_err(|e| {
            crate::error::log_refusal(
                &principal.host,
                &format!("User {}", new.name),
                &principal.username,
                e.from_host(),
                &e,
            );
            crate::auth::set_status(http::StatusCode::UNPROCESSABLE_ENTITY);
            ConsoleError::UserRefused(e.into())
        })?;
    tracing::info!(by = %principal.username, user = %new.name, host = %principal.host, "user created");
    state.record_change(
        &principal,
        "UserCreated",
        fleet::events::ObjectKind::User,
        &new.name,
        format!("created user {}", new.name),
    );
    Ok(new.name)
}

#[component]
pub fn CreateUserPanel(roles: Vec<String>, changes: RwSignal<u64>) -> impl IntoView {
    let i18n = use_i18n();
    let open = RwSignal::new(false);
    let action = ServerAction::<CreateUser>::new();
    let created = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(name)) = action.value().get() {
            created.set(Some(name));
            open.set(false);
            changes.update(|c| *c += 1);
        }
    });
    let field = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-sky-500 focus:outline-none focus:ring-2 focus:ring-sky-500/40";
    let roles = StoredValue::new(roles);
    view! {
        <div class="ml-auto">
            <button
                type="button"
                data-testid="create-user"
                aria-expanded=move || open.get().to_string()
                aria-controls="create-user-form"
                class="rounded-md bg-sky-600 px-3 py-1.5 text-sm font-semibold text-white shadow-sm hover:bg-sky-700 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600"
                on:click=move |_| open.update(|o| *o = !*o)
            >
                {move || if open.get() { t_string!(i18n, users_cancel) } else { t_string!(i18n, users_create) }}
            </button>
        </div>
        <p role="status" class="w-full text-sm text-emerald-700" data-testid="user-created">
                {move || created.get().map(|name| t!(i18n, user_created, name = move || name.clone()))}
        </p>
        <Show when=move || open.get()>
            <ActionForm
                action
                attr:id="create-user-form"
                attr:data-testid="create-user-form"
                attr:class="mt-4 grid w-full gap-4 rounded-lg border border-slate-200 bg-white p-6 shadow-sm sm:grid-cols-2"
            >
                <label class="block text-sm font-medium">
                    {t!(i18n, form_username)}
                    <input name="name" required maxlength="32" autocomplete="off" autocapitalize="none" spellcheck="false"
                        pattern="[a-z0-9]([\\-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([\\-a-z0-9]*[a-z0-9])?)*" aria-describedby="name-help" class=field />
                    <span id="name-help" class="mt-1 block text-xs font-normal text-slate-500">{t!(i18n, form_username_help)}</span>
                </label>
                <label class="block text-sm font-medium">
                    {t!(i18n, form_email)}
                    <input name="email" type="email" required autocomplete="off" class=field />
                </label>
                <label class="block text-sm font-medium">
                    {t!(i18n, form_role)}
                    <select name="global_role" class=field>
                        {roles.with_value(|roles| {
                            roles
                                .iter()
                                .map(|r| {
                                    // KubeSphere's least-privileged platform role is the default.
                                    let selected = r == "platform-regular";
                                    view! { <option value=r.clone() selected=selected>{r.clone()}</option> }
                                })
                                .collect_view()
                        })}
                    </select>
                </label>
                <label class="block text-sm font-medium">
                    {t!(i18n, form_password)}
                    <input name="password" type="password" required minlength="8" maxlength="64" autocomplete="new-password"
                        aria-describedby="password-help" class=field />
                    <span id="password-help" class="mt-1 block text-xs font-normal text-slate-500">{t!(i18n, form_password_help)}</span>
                </label>
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

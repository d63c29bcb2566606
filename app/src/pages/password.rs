//! Change your own password: the current one, the new one twice. A user KubeSphere marks
//! `uninitialized` is sent here before anything else.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::components::create_form::NewPasswordField;
use crate::components::layout::CurrentSession;
use crate::components::problem::ChangeRefused;
use crate::components::session::navigate_fully;
use crate::error::ConsoleError;
use crate::i18n::{t, t_string};

/// Changes the signed-in user's password, then renews the session without the
/// "must change the password" mark.
#[server(prefix = "/api", endpoint = "change_password")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn change_password(
    current_password: String,
    new_password: String,
    confirm_password: String,
) -> Result<String, ConsoleError> {
    use fleet::iam::Action;
    use http::request::Parts;
    use leptos_axum::ResponseOptions;

    let crate::auth::Caller {
        principal,
        console: state,
    } = crate::auth::Caller::require(Action::ViewHosts)?;
    let host = state.iam.host(&principal.host)?;
    let client = host.client()?;
    fleet::iam::passwords::change_own_password(
        client,
        &principal.username,
        &current_password,
        &new_password,
        &confirm_password,
    )
    .await
    .map_err(crate::error::refused(
        &principal,
        format!("User {} password", principal.username),
    ))?;
    tracing::info!(user = %principal.username, host = %principal.host, "password changed");
    state.record_change(
        &principal,
        "PasswordChanged",
        fleet::events::ObjectKind::User,
        &principal.username,
        "changed their own password",
    );

    // The old token still says "uninitialized": end it and hand out a new one.
    let parts = use_context::<Parts>();
    if let Some(old) = parts
        .as_ref()
        .and_then(|p| p.extensions.get::<crate::auth::SessionToken>())
    {
        state
            .iam
            .revoke(&principal.host, &old.0, principal.expires_at)
            .await;
    }
    let settings = host.settings().await?;
    let now = std::time::SystemTime::now();
    let (token, expires_at) = settings.issue_session(&principal.username, false, now);
    if let Some(response) = use_context::<ResponseOptions>() {
        for cookie in
            crate::auth::session_cookies(&token, &principal.host, expires_at, state.secure_cookies)
        {
            response.append_header(http::header::SET_COOKIE, cookie);
        }
    }
    if crate::components::session::plain_form_post(parts.as_ref()) {
        leptos_axum::redirect("/");
    }
    Ok("/".into())
}

lazy_page!(
    /// Loaded in its own wasm chunk on first visit.
    PasswordRoute => PasswordPage
);

#[component]
pub fn PasswordPage() -> impl IntoView {
    let i18n = crate::components::layout::page_hydrated();
    let action = ServerAction::<ChangePassword>::new();
    Effect::new(move |_| {
        if let Some(Ok(next)) = action.value().get() {
            navigate_fully(&next);
        }
    });
    let session = use_context::<CurrentSession>();
    let field = crate::components::create_form::FIELD;
    view! {
        <div class="mx-auto mt-4 max-w-md">
            <h1 class="text-2xl font-semibold tracking-tight">{t!(i18n, password_title)}</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let session = match session {
                        Some(CurrentSession(resource)) => resource.await,
                        None => None,
                    };
                    session.map(|s| {
                        let (user, host) = (s.username.clone(), s.host.clone());
                        view! {
                            <p class="mt-1 text-sm text-slate-600">
                                {t!(i18n, password_intro, user = move || user.clone(), host = move || host.clone())}
                            </p>
                            {s.uninitialized.then(|| view! {
                                <p class="mt-3 rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="password-required">
                                    {t!(i18n, password_required)}
                                </p>
                            })}
                        }
                    })
                })}
            </Suspense>
            <ActionForm action attr:class="mt-6 space-y-4 rounded-lg border border-slate-200 bg-white p-6 shadow-sm" attr:data-testid="password-form">
                <label class="block text-sm font-medium">
                    {t!(i18n, password_current)}
                    <input name="current_password" type="password" required autocomplete="current-password" class=field />
                </label>
                <NewPasswordField label=t!(i18n, password_new).into_any() name="new_password"
                    help=("new-password-help", t!(i18n, form_password_help).into_any()) />
                <NewPasswordField label=t!(i18n, password_confirm).into_any() name="confirm_password" />
                <div aria-live="assertive">
                    {move || match action.value().get() {
                        Some(Err(error)) => Some(view! { <ChangeRefused error /> }),
                        _ => None,
                    }}
                </div>
                <button
                    type="submit"
                    class="w-full rounded-md bg-sky-600 px-3 py-2 text-sm font-semibold text-white shadow-sm hover:bg-sky-700 disabled:opacity-60"
                    disabled=move || action.pending().get()
                >
                    {move || if action.pending().get() { t_string!(i18n, password_changing) } else { t_string!(i18n, password_submit) }}
                </button>
            </ActionForm>
        </div>
    }
}

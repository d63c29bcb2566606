//! The signed-in user in the header, and logging out.

use leptos::prelude::*;

use crate::auth::SessionView;
use crate::error::ConsoleError;
use crate::i18n::{t, use_i18n};

/// Who is signed in, for the header and for pages to offer only what the user may do.
#[server(prefix = "/api", endpoint = "current_session")]
#[cfg_attr(feature = "ssr", tracing::instrument)]
pub async fn current_session() -> Result<Option<SessionView>, ConsoleError> {
    Ok(crate::auth::principal().map(|p| crate::auth::session_view(&p)))
}

/// Ends the session: the token is refused from now on, and the browser forgets it.
#[server(prefix = "/api", endpoint = "logout")]
#[cfg_attr(feature = "ssr", tracing::instrument)]
pub async fn logout() -> Result<String, ConsoleError> {
    use http::request::Parts;
    use leptos_axum::ResponseOptions;

    let state = crate::state::ConsoleState::current()?;
    let parts = use_context::<Parts>();
    if let (Some(principal), Some(token)) = (
        crate::auth::principal(),
        parts
            .as_ref()
            .and_then(|p| p.extensions.get::<crate::auth::SessionToken>().cloned()),
    ) {
        state
            .iam
            .revoke(&principal.host, &token.0, principal.expires_at)
            .await;
        tracing::info!(user = %principal.username, host = %principal.host, "logged out");
    }
    if let Some(response) = use_context::<ResponseOptions>() {
        for cookie in crate::auth::cleared_cookies(state.secure_cookies) {
            response.append_header(http::header::SET_COOKIE, cookie);
        }
    }
    if plain_form_post(parts.as_ref()) {
        leptos_axum::redirect("/login");
    }
    Ok("/login".into())
}

/// A form posted by the browser itself (before the page is hydrated) expects a redirect;
/// the hydrated page navigates on its own.
#[cfg(feature = "ssr")]
pub(crate) fn plain_form_post(parts: Option<&http::request::Parts>) -> bool {
    parts
        .and_then(|p| p.headers.get(http::header::ACCEPT))
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// Full page load to `href`: the next page is rendered by the server with the new cookies.
pub(crate) fn navigate_fully(href: &str) {
    #[cfg(feature = "hydrate")]
    let _ = window().location().set_href(href);
    #[cfg(not(feature = "hydrate"))]
    let _ = href;
}

#[component]
pub fn UserMenu(session: SessionView) -> impl IntoView {
    let i18n = use_i18n();
    let role = session.roles.first().cloned().unwrap_or_default();
    view! {
        <div class="flex items-center gap-3 text-sm" data-testid="user-menu">
            <span class="hidden text-right leading-tight md:block">
                <span class="block font-medium text-white" data-testid="signed-in-user">
                    {session.username.clone()}
                </span>
                <span class="block text-xs text-slate-400">
                    {session.host.clone()}
                    {(!role.is_empty()).then(|| format!(" · {role}"))}
                </span>
            </span>
            <a
                href="/password"
                class="hidden rounded-md px-2 py-1.5 text-sm text-slate-300 hover:bg-slate-800 hover:text-white sm:inline"
            >
                {t!(i18n, password_link)}
            </a>
            // A plain form post: the server ends the session and redirects to the login page
            // (a full page load either way, so no client code is needed for it).
            <form method="post" action="/api/logout">
                <button
                    type="submit"
                    class="rounded-md border border-slate-600 px-3 py-1.5 text-sm text-slate-200 hover:bg-slate-800 hover:text-white focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-400"
                >
                    {t!(i18n, log_out)}
                </button>
            </form>
        </div>
    }
}

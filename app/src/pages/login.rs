//! Log in with a host's KubeSphere account (username or email, and password).

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::session::navigate_fully;
use crate::error::{ConsoleError, LoginProblem};
use crate::i18n::{t, t_string, use_i18n};

/// The hosts one can log in to, in configuration order. Names only.
#[server(prefix = "/api", endpoint = "login_hosts")]
#[cfg_attr(feature = "ssr", tracing::instrument)]
pub async fn login_hosts() -> Result<Vec<String>, ConsoleError> {
    Ok(crate::state::ConsoleState::current()?.iam.host_names())
}

/// Checks the credentials against the host's `User` objects; on success sets the session
/// cookies and returns where to go next.
#[server(prefix = "/api", endpoint = "login")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip(password)))]
pub async fn login(
    host: String,
    username: String,
    password: String,
    next: Option<String>,
) -> Result<String, ConsoleError> {
    use fleet::iam::{LoginAttempt, LoginError, LoginFailure, SessionError};
    use http::request::Parts;
    use leptos_axum::ResponseOptions;

    let state = crate::state::ConsoleState::current()?;
    let parts = use_context::<Parts>();
    let header = |name| {
        parts
            .as_ref()
            .and_then(|p| p.headers.get(name))
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    let source_ip = parts
        .as_ref()
        .and_then(|p| p.extensions.get::<crate::auth::ClientAddress>())
        .map(|a| a.0.clone());
    let attempt = LoginAttempt {
        username: username.trim(),
        password: &password,
        source_ip,
        user_agent: header(http::header::USER_AGENT),
    };
    let result = state.iam.login(&host, attempt).await.map_err(|failure| {
        tracing::info!(%host, user = %username.trim(), reason = %failure, "login refused");
        // As ks-apiserver answers: 429 while locked, and here 401 for bad credentials and
        // 503 when the host cannot say.
        crate::auth::set_status(match &failure {
            LoginFailure::Login(LoginError::Locked { .. }) => http::StatusCode::TOO_MANY_REQUESTS,
            LoginFailure::Login(LoginError::Cluster(_)) | LoginFailure::Session(_) => {
                http::StatusCode::SERVICE_UNAVAILABLE
            }
            LoginFailure::Login(_) => http::StatusCode::UNAUTHORIZED,
        });
        ConsoleError::LoginRefused(match failure {
            LoginFailure::Login(LoginError::IncorrectPassword { locked_now: false }) => {
                LoginProblem::IncorrectPassword
            }
            LoginFailure::Login(LoginError::IncorrectPassword { locked_now: true }) => {
                LoginProblem::LockedNow
            }
            LoginFailure::Login(LoginError::NotActive) => LoginProblem::Disabled,
            LoginFailure::Login(LoginError::Locked { until }) => LoginProblem::Locked(
                until
                    .and_then(|u| u.duration_since(std::time::SystemTime::now()).ok())
                    .map(|d| d.as_secs().div_ceil(60)),
            ),
            LoginFailure::Session(SessionError::UnknownHost(host)) => {
                LoginProblem::UnknownHost(host)
            }
            LoginFailure::Login(LoginError::Cluster(_)) | LoginFailure::Session(_) => {
                LoginProblem::HostUnavailable(host.clone())
            }
        })
    });
    let session = match result {
        Ok(session) => session,
        Err(ConsoleError::LoginRefused(problem))
            if crate::components::session::plain_form_post(parts.as_ref()) =>
        {
            // The browser posted the form itself: back to the login page, which says why.
            let next = crate::auth::safe_next(next.as_deref());
            leptos_axum::redirect(&format!(
                "/login?error={}&host={}&next={}",
                problem.code(),
                crate::query::encode(&host),
                crate::query::encode(&next)
            ));
            return Err(ConsoleError::LoginRefused(problem));
        }
        Err(e) => return Err(e),
    };
    tracing::info!(%host, user = %session.username, "logged in");
    if let Some(response) = use_context::<ResponseOptions>() {
        for cookie in crate::auth::session_cookies(
            &session.token,
            &host,
            session.expires_at,
            state.secure_cookies,
        ) {
            response.append_header(http::header::SET_COOKIE, cookie);
        }
    }
    let next = crate::auth::safe_next(next.as_deref());
    if crate::components::session::plain_form_post(parts.as_ref()) {
        leptos_axum::redirect(&next);
    }
    Ok(next)
}

lazy_page!(
    /// Loaded on its own wasm chunk: signed-in sessions never need it.
    LoginRoute => LoginPage
);

#[component]
pub fn LoginPage() -> impl IntoView {
    let i18n = crate::components::layout::page_hydrated();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_else(|| "/".into());
    let hosts = Resource::new(|| (), |_| login_hosts());
    let action = ServerAction::<Login>::new();
    Effect::new(move |_| {
        if let Some(Ok(next)) = action.value().get() {
            navigate_fully(&next);
        }
    });
    // The action's answer once the page runs; before that, what the server put in the
    // address after a form post the browser made itself.
    let error = move || match action.value().get() {
        Some(Err(e)) => Some(e),
        Some(Ok(_)) => None,
        None => {
            let q = query.read();
            let host = q.get("host").unwrap_or_default();
            q.get("error")
                .and_then(|code| LoginProblem::from_code(&code, host))
                .map(ConsoleError::LoginRefused)
        }
    };
    let input_class = crate::components::create_form::FIELD;

    view! {
        <div class="mx-auto mt-8 max-w-sm">
            <h1 class="text-2xl font-semibold tracking-tight">{t!(i18n, login_title)}</h1>
            <p class="mt-1 text-sm text-slate-600">{t!(i18n, login_intro)}</p>
            <ActionForm
                action
                attr:class="mt-6 space-y-4 rounded-lg border border-slate-200 bg-white p-6 shadow-sm"
                attr:data-testid="login-form"
            >
                <input type="hidden" name="next" value=next />
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let hosts = hosts.await.unwrap_or_default();
                        view! { <HostChoice hosts /> }
                    })}
                </Suspense>
                <label class="block text-sm font-medium">
                    {t!(i18n, login_username)}
                    <input name="username" type="text" required autocomplete="username" autocapitalize="none" spellcheck="false" class=input_class />
                </label>
                <label class="block text-sm font-medium">
                    {t!(i18n, login_password)}
                    <input name="password" type="password" required autocomplete="current-password" class=input_class />
                </label>
                <div role="alert" aria-live="assertive" data-testid="login-error">
                    {move || error().map(|e| view! { <LoginErrorMessage error=e /> })}
                </div>
                <button
                    type="submit"
                    class="w-full rounded-md bg-sky-600 px-3 py-2 text-sm font-semibold text-white shadow-sm hover:bg-sky-700 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600 disabled:opacity-60"
                    disabled=move || action.pending().get()
                >
                    {move || {
                        if action.pending().get() {
                            t_string!(i18n, login_pending)
                        } else {
                            t_string!(i18n, login_submit)
                        }
                    }}
                </button>
            </ActionForm>
        </div>
    }
}

/// One host: a hidden field. Several: the user picks (accounts differ between hosts).
#[component]
fn HostChoice(hosts: Vec<String>) -> impl IntoView {
    let i18n = use_i18n();
    match hosts.as_slice() {
        [only] => view! { <input type="hidden" name="host" value=only.clone() /> }.into_any(),
        _ => view! {
            <label class="block text-sm font-medium">
                {t!(i18n, login_host)}
                <select
                    name="host"
                    class="mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-sky-500 focus:outline-none focus:ring-2 focus:ring-sky-500/40"
                >
                    {hosts
                        .into_iter()
                        .map(|h| view! { <option value=h.clone()>{h.clone()}</option> })
                        .collect_view()}
                </select>
            </label>
        }
        .into_any(),
    }
}

#[component]
fn LoginErrorMessage(error: ConsoleError) -> impl IntoView {
    let i18n = use_i18n();
    let text = match error {
        ConsoleError::LoginRefused(LoginProblem::IncorrectPassword) => {
            t!(i18n, login_incorrect).into_any()
        }
        ConsoleError::LoginRefused(LoginProblem::LockedNow) => {
            t!(i18n, login_locked_now).into_any()
        }
        ConsoleError::LoginRefused(LoginProblem::Disabled) => t!(i18n, login_disabled).into_any(),
        ConsoleError::LoginRefused(LoginProblem::Locked(Some(m))) => {
            t!(i18n, login_locked, minutes = m).into_any()
        }
        ConsoleError::LoginRefused(LoginProblem::Locked(None)) => {
            t!(i18n, login_locked_unknown).into_any()
        }
        ConsoleError::LoginRefused(LoginProblem::HostUnavailable(host)) => {
            t!(i18n, login_host_unavailable, host = move || host.clone()).into_any()
        }
        ConsoleError::LoginRefused(LoginProblem::UnknownHost(host)) => {
            t!(i18n, login_unknown_host, host = move || host.clone()).into_any()
        }
        other => other.to_string().into_any(),
    };
    view! {
        <p class="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
            {text}
        </p>
    }
}

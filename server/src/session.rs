//! Who is asking: the session cookie checked on every request (signature, expiry, logout,
//! the user still there and enabled), the `Principal` put where server functions find it,
//! the token renewed half-way through its life, and pages sent to the login page without one.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use app::auth::{
    ClientAddress, HOST_COOKIE, SESSION_COOKIE, SessionToken, cleared_cookies, cookie, safe_next,
    session_cookies,
};
use app::state::ConsoleState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use fleet::iam::SessionError;

pub async fn resolve_session(
    State(state): State<ConsoleState>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let forwarded = request
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_string());
    if let Some(address) = forwarded.or(peer) {
        request.extensions_mut().insert(ClientAddress(address));
    }

    let cookies = request
        .headers()
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let mut set_cookies: Vec<HeaderValue> = Vec::new();
    let mut signed_in = false;
    let mut must_change_password = false;
    if let (Some(token), Some(host)) = (
        cookie(&cookies, SESSION_COOKIE),
        cookie(&cookies, HOST_COOKIE),
    ) {
        let now = SystemTime::now();
        match state.iam.authenticate(host, token, now).await {
            Ok(mut principal) => {
                if let Some((fresh, expires_at)) = renewed(&state, &principal, now).await {
                    set_cookies.extend(session_cookies(
                        &fresh,
                        host,
                        expires_at,
                        state.secure_cookies,
                    ));
                    principal.expires_at = expires_at;
                    request.extensions_mut().insert(SessionToken(fresh));
                } else {
                    request
                        .extensions_mut()
                        .insert(SessionToken(token.to_string()));
                }
                must_change_password = principal.uninitialized;
                request.extensions_mut().insert(principal);
                signed_in = true;
            }
            // The host is down for a moment: keep the cookie, the session may be fine.
            Err(SessionError::HostUnavailable(_)) => {}
            Err(reason) => {
                tracing::info!(%host, %reason, "session refused");
                set_cookies.extend(cleared_cookies(state.secure_cookies));
            }
        }
    }

    let path = request.uri().path().to_string();
    let page = is_page(&request);
    let mut response = if page && !signed_in && path != "/login" {
        let target = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        Redirect::to(&format!("/login?next={}", app::query::encode(target))).into_response()
    } else if page && must_change_password && path != "/password" {
        // KubeSphere's console does the same: a user marked uninitialized chooses a password first.
        Redirect::to("/password").into_response()
    } else if page && signed_in && path == "/login" {
        let next = request
            .uri()
            .query()
            .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("next=")))
            .map(app::query::decode);
        Redirect::to(&safe_next(next.as_deref())).into_response()
    } else {
        next.run(request).await
    };
    for value in set_cookies {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// A token past half its life is replaced by a new one, so an active user stays signed in
/// while an idle one is signed out when the token runs out.
async fn renewed(
    state: &ConsoleState,
    principal: &fleet::iam::Principal,
    now: SystemTime,
) -> Option<(String, SystemTime)> {
    let lifetime = principal
        .expires_at
        .duration_since(principal.issued_at)
        .unwrap_or(Duration::ZERO);
    let age = now.duration_since(principal.issued_at).unwrap_or_default();
    if age < lifetime / 2 {
        return None;
    }
    let settings = state
        .iam
        .host(&principal.host)
        .ok()?
        .settings()
        .await
        .ok()?;
    Some(settings.issue_session(&principal.username, principal.uninitialized, now))
}

/// A browser navigation to a page (not a server function, asset or probe).
fn is_page(request: &Request) -> bool {
    let path = request.uri().path();
    request.method() == Method::GET
        && !path.starts_with("/api/")
        && !path.starts_with("/pkg/")
        && !matches!(path, "/healthz" | "/readyz" | "/favicon.svg")
        && request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
}

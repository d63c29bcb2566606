//! The language a person chose in the console wins over their browser's: the `tandem_lang`
//! cookie, when it names a language Tandem speaks, becomes the request's `Accept-Language`,
//! which is what the server-side renderer picks the language from.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

pub async fn chosen_language(mut request: Request, next: Next) -> Response {
    let chosen = request
        .headers()
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|cookies| {
            app::auth::cookie(cookies, app::components::language::LANGUAGE_COOKIE).map(String::from)
        });
    let value = match chosen.as_deref() {
        Some("en") => Some(HeaderValue::from_static("en")),
        Some("zh") => Some(HeaderValue::from_static("zh")),
        _ => None, // unset or not a language Tandem speaks: the browser's preference stands
    };
    if let Some(value) = value {
        request.headers_mut().insert(header::ACCEPT_LANGUAGE, value);
    }
    next.run(request).await
}

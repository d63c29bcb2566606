//! Sessions as the server functions see them: who is signed in (put in the request by the
//! server's session middleware), the permission check every server function starts with, and
//! the session cookies.

use serde::{Deserialize, Serialize};
pub use wire::users::Action;

/// The signed-in user as pages may see them: no token, only what the header shows and which
/// actions to offer. Every action is checked again on the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionView {
    pub username: String,
    pub host: String,
    pub roles: Vec<String>,
    /// What the user may do on this host.
    pub allowed: Vec<Action>,
    /// The user must choose a new password before anything else.
    #[serde(default)]
    pub uninitialized: bool,
}

impl SessionView {
    pub fn may(&self, action: Action) -> bool {
        self.allowed.contains(&action)
    }
}

#[cfg(feature = "ssr")]
pub use server::*;

#[cfg(feature = "ssr")]
mod server {
    use std::time::{Duration, SystemTime};

    use fleet::iam::{Action, Principal};
    use http::HeaderValue;
    use http::request::Parts;
    use leptos::prelude::*;
    use leptos_axum::ResponseOptions;

    use super::SessionView;
    use crate::error::ConsoleError;

    /// The session token (an HS256 JWT, as ks-apiserver issues).
    pub const SESSION_COOKIE: &str = "tandem_session";
    /// Which host the session belongs to.
    pub const HOST_COOKIE: &str = "tandem_host";

    /// The raw session token of the request, for logging out. Never sent to the browser.
    #[derive(Clone)]
    pub struct SessionToken(pub String);

    /// Where a request came from, as KubeSphere records it in a LoginRecord.
    #[derive(Clone, Debug)]
    pub struct ClientAddress(pub String);

    /// The request's signed-in user, if any.
    pub fn principal() -> Option<Principal> {
        use_context::<Parts>().and_then(|p| p.extensions.get::<Principal>().cloned())
    }

    /// What a server function starts with: the caller, signed in and allowed the action it
    /// asks for, and the console it calls. Unpacked where it is needed:
    /// `let Caller { principal, console } = Caller::require(Action::ManageUsers)?;`
    pub struct Caller {
        pub principal: Principal,
        pub console: crate::state::ConsoleState,
    }

    impl Caller {
        /// Refused (401 / 403, see [`require`]) unless signed in and allowed `action`.
        pub fn require(action: Action) -> Result<Self, ConsoleError> {
            Ok(Self {
                principal: require(action)?,
                console: crate::state::ConsoleState::current()?,
            })
        }

        /// The caller's host: its kube client and its IAM cache, or why it cannot be reached.
        pub fn host(&self) -> Result<(&fleet::Client, &fleet::iam::IamCache), ConsoleError> {
            let host = self.console.iam.host(&self.principal.host)?;
            Ok((host.client()?, host.cache()?))
        }
    }

    /// The check every server function starts with: signed in, and allowed `action`.
    /// Sets the HTTP status (401 / 403) of the response it refuses.
    pub fn require(action: Action) -> Result<Principal, ConsoleError> {
        let Some(principal) = principal() else {
            set_status(http::StatusCode::UNAUTHORIZED);
            return Err(ConsoleError::SignedOut);
        };
        if !principal.may(action) {
            set_status(http::StatusCode::FORBIDDEN);
            tracing::info!(user = %principal.username, host = %principal.host, ?action, "denied");
            return Err(ConsoleError::Forbidden(format!("{action:?}")));
        }
        Ok(principal)
    }

    pub fn set_status(status: http::StatusCode) {
        if let Some(response) = use_context::<ResponseOptions>() {
            response.set_status(status);
        }
    }

    pub fn session_view(p: &Principal) -> SessionView {
        SessionView {
            username: p.username.clone(),
            host: p.host.clone(),
            roles: p.permissions.roles.clone(),
            allowed: p.permissions.allowed_actions(),
            uninitialized: p.uninitialized,
        }
    }

    /// `Set-Cookie` values that start a session: HttpOnly (no script reads the token),
    /// SameSite=Lax, Secure when the console is served over HTTPS, gone when the token is.
    pub fn session_cookies(
        token: &str,
        host: &str,
        expires_at: SystemTime,
        secure: bool,
    ) -> Vec<HeaderValue> {
        let max_age = expires_at
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO)
            .as_secs();
        [(SESSION_COOKIE, token), (HOST_COOKIE, host)]
            .into_iter()
            .filter_map(|(name, value)| {
                HeaderValue::from_str(&format!(
                    "{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{}",
                    if secure { "; Secure" } else { "" }
                ))
                .ok()
            })
            .collect()
    }

    /// `Set-Cookie` values that end a session in the browser.
    pub fn cleared_cookies(secure: bool) -> Vec<HeaderValue> {
        [SESSION_COOKIE, HOST_COOKIE]
            .into_iter()
            .filter_map(|name| {
                HeaderValue::from_str(&format!(
                    "{name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{}",
                    if secure { "; Secure" } else { "" }
                ))
                .ok()
            })
            .collect()
    }

    /// The value of cookie `name` in a `Cookie` header.
    pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
        header.split(';').find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name && !value.is_empty()).then_some(value)
        })
    }

    /// Only same-site paths are followed after login, so a crafted link cannot send a
    /// freshly signed-in user elsewhere.
    pub fn safe_next(next: Option<&str>) -> String {
        match next {
            Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => {
                n.to_string()
            }
            _ => "/".to_string(),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn cookies_are_http_only_same_site_and_secure_when_asked() {
            let later = SystemTime::now() + Duration::from_secs(7200);
            let cookies = session_cookies("tok", "host", later, true);
            assert_eq!(cookies.len(), 2);
            for c in &cookies {
                let c = c.to_str().unwrap();
                assert!(
                    c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.ends_with("; Secure"),
                    "{c}"
                );
            }
            let plain = session_cookies("tok", "host", later, false);
            assert!(!plain[0].to_str().unwrap().contains("Secure"));
            assert!(
                cleared_cookies(false)[0]
                    .to_str()
                    .unwrap()
                    .contains("Max-Age=0")
            );
        }

        #[test]
        fn cookie_header_parsing_and_next_paths() {
            let header = "tandem_lang=zh; tandem_session=abc.def.ghi; tandem_host=host2";
            assert_eq!(cookie(header, SESSION_COOKIE), Some("abc.def.ghi"));
            assert_eq!(cookie(header, HOST_COOKIE), Some("host2"));
            assert_eq!(cookie("tandem_session=", SESSION_COOKIE), None);
            assert_eq!(safe_next(Some("/users?page=2")), "/users?page=2");
            assert_eq!(safe_next(Some("//evil.example")), "/");
            assert_eq!(safe_next(Some("https://evil.example")), "/");
            assert_eq!(safe_next(Some("/\\evil.example")), "/");
            assert_eq!(safe_next(None), "/");
        }

        /// A `Cookie` header and a `next` path come from the browser, which an attacker
        /// controls: parsing never panics, finds only what was sent, and a followed path
        /// always stays on this site.
        #[test]
        fn fuzz_cookie_headers_and_next_paths() {
            use sandbox::fuzz::fuzz;
            use sandbox::fuzz::proptest::prelude::*;
            let headers = prop_oneof![
                "[ -~]{0,80}",
                "((tandem_session|tandem_host|x)=[a-z.=;]{0,8}; ?){0,4}",
            ];
            fuzz("cookie headers", headers, |header| {
                for name in [SESSION_COOKIE, HOST_COOKIE] {
                    if let Some(value) = cookie(header, name)
                        && (value.is_empty() || !header.contains(&format!("{name}={value}")))
                    {
                        return Err(format!("{name} read as {value:?} from {header:?}"));
                    }
                }
                Ok(())
            });
            let paths = prop_oneof!["[ -~]{0,40}", "[/\\\\a-z.:]{0,12}"];
            fuzz("next paths", paths, |next| {
                let followed = safe_next(Some(next));
                if !followed.starts_with('/')
                    || followed.starts_with("//")
                    || followed.contains('\\')
                {
                    return Err(format!("{next:?} is followed to {followed:?}"));
                }
                Ok(())
            });
        }
    }
}

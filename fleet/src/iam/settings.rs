//! The `authentication:` part of a host's `kubesphere-config` that login and sessions follow,
//! so a KubeSphere administrator configures Tandem where they configure ks-apiserver.

use std::time::Duration;

use super::token::{DEFAULT_ACCESS_TOKEN_MAX_AGE, JwtSecret};

/// Installer defaults (docs/KUBESPHERE.md 3.2).
pub const DEFAULT_MAX_TRIES: u32 = 10;
pub const DEFAULT_LOCK_WINDOW: Duration = Duration::from_secs(10 * 60);

#[derive(Clone, Debug)]
pub struct AuthSettings {
    pub jwt_secret: JwtSecret,
    /// `authenticateRateLimiterMaxTries`: failed logins within the window that lock the user.
    pub max_tries: u32,
    /// `authenticateRateLimiterDuration`: the window, and how long a lock lasts.
    pub lock_window: Duration,
    /// `oauthOptions.accessTokenMaxAge`. KubeSphere allows 0 (no expiry); Tandem sessions
    /// always expire, so 0 falls back to the installer's 2 h.
    pub session_lifetime: Duration,
}

/// Why a host's settings cannot be used for login.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("kubesphere-config has no `kubesphere.yaml` that parses")]
    Unreadable,
    #[error("kubesphere-config has no authentication.jwtSecret")]
    NoJwtSecret,
}

impl AuthSettings {
    /// Reads the settings from the text of `kubesphere.yaml`.
    pub fn parse(yaml: &str) -> Result<Self, SettingsError> {
        let value: serde_norway::Value =
            serde_norway::from_str(yaml).map_err(|_| SettingsError::Unreadable)?;
        let auth = value.get("authentication");
        let field = |name: &str| auth.and_then(|a| a.get(name));
        let secret = field("jwtSecret")
            .and_then(|v| v.as_str())
            .ok_or(SettingsError::NoJwtSecret)?;
        let jwt_secret = JwtSecret::new(secret).map_err(|_| SettingsError::NoJwtSecret)?;
        let max_tries = field("authenticateRateLimiterMaxTries")
            .and_then(|v| v.as_u64())
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n > 0)
            .unwrap_or(DEFAULT_MAX_TRIES);
        let lock_window = field("authenticateRateLimiterDuration")
            .and_then(|v| v.as_str())
            .and_then(parse_go_duration)
            .filter(|d| !d.is_zero())
            .unwrap_or(DEFAULT_LOCK_WINDOW);
        let session_lifetime = auth
            .and_then(|a| a.get("oauthOptions"))
            .and_then(|o| o.get("accessTokenMaxAge"))
            .and_then(|v| v.as_str())
            .and_then(parse_go_duration)
            .filter(|d| !d.is_zero())
            .unwrap_or(DEFAULT_ACCESS_TOKEN_MAX_AGE);
        Ok(Self {
            jwt_secret,
            max_tries,
            lock_window,
            session_lifetime,
        })
    }
}

impl AuthSettings {
    /// A session token for `user`, valid for the host's session lifetime from `now`, and
    /// when it expires. `uninitialized` carries KubeSphere's "must change the password" mark
    /// in the token's `extra`, as ks-apiserver puts it there.
    pub fn issue_session(
        &self,
        user: &str,
        uninitialized: bool,
        now: std::time::SystemTime,
    ) -> (String, std::time::SystemTime) {
        let mut extra = std::collections::BTreeMap::new();
        if uninitialized {
            extra.insert("uninitialized".to_string(), vec!["true".to_string()]);
        }
        let token = self
            .jwt_secret
            .issue(user, extra, now, self.session_lifetime);
        (token, now + self.session_lifetime)
    }
}

/// Parses Go's `time.Duration` text (`10m0s`, `2h`, `1h30m`, `500ms`, `0s`).
pub fn parse_go_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text == "0" {
        return Some(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = text;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            "us" | "µs" => 0.000_001,
            "ns" => 0.000_000_001,
            _ => return None,
        };
        total += number * seconds;
        rest = &rest[unit_len..];
    }
    Some(Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("10m0s"), Some(Duration::from_secs(600)));
        assert_eq!(parse_go_duration("2h"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_go_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_go_duration("0s"), Some(Duration::ZERO));
        assert_eq!(parse_go_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_go_duration("ten minutes"), None);
        assert_eq!(parse_go_duration(""), None);
    }

    #[test]
    fn settings_from_kubesphere_yaml() {
        let yaml = "authentication:\n  authenticateRateLimiterMaxTries: 3\n  authenticateRateLimiterDuration: 5m0s\n  jwtSecret: \"s3cret\"\n  oauthOptions:\n    accessTokenMaxAge: 1h0m0s\n";
        let s = AuthSettings::parse(yaml).unwrap();
        assert_eq!(s.max_tries, 3);
        assert_eq!(s.lock_window, Duration::from_secs(300));
        assert_eq!(s.session_lifetime, Duration::from_secs(3600));
        assert!(
            !format!("{s:?}").contains("s3cret"),
            "Debug hides the secret"
        );
    }

    #[test]
    fn defaults_and_missing_secret() {
        let s = AuthSettings::parse(
            "authentication:\n  jwtSecret: x\n  oauthOptions:\n    accessTokenMaxAge: 0s\n",
        )
        .unwrap();
        assert_eq!(s.max_tries, DEFAULT_MAX_TRIES);
        assert_eq!(s.lock_window, DEFAULT_LOCK_WINDOW);
        assert_eq!(s.session_lifetime, DEFAULT_ACCESS_TOKEN_MAX_AGE);
        assert_eq!(
            AuthSettings::parse("authentication: {}\n").unwrap_err(),
            SettingsError::NoJwtSecret
        );
        assert_eq!(
            AuthSettings::parse("authentication:\n  jwtSecret: \"\"\n").unwrap_err(),
            SettingsError::NoJwtSecret
        );
        assert_eq!(
            AuthSettings::parse("[unclosed").unwrap_err(),
            SettingsError::Unreadable
        );
    }
}

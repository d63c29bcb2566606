//! Session tokens exactly as ks-apiserver issues them (docs/KUBESPHERE.md 3.3): HS256 JWTs keyed by
//! the host's `authentication.jwtSecret`, with the same claims, so a member's ks-apiserver
//! accepts Tandem's tokens and Tandem accepts a KubeSphere host's.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// `oauthOptions.issuer`'s default.
pub const ISSUER: &str = "kubesphere";
/// `accessTokenMaxAge`'s installer default.
pub const DEFAULT_ACCESS_TOKEN_MAX_AGE: Duration = Duration::from_secs(2 * 60 * 60);
/// ks-apiserver's `maximumClockSkew` default: a token issued this far in the future is still
/// accepted.
pub const MAXIMUM_CLOCK_SKEW: Duration = Duration::from_secs(10);

/// The claims of a KubeSphere access token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub iss: String,
    pub sub: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub token_type: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Vec<String>>,
    pub iat: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
    /// A random id (RFC 7519 `jti`) that ks-apiserver ignores. Without it, two sessions of one
    /// user issued in the same second are the same token, and logging out of one (which
    /// revokes the token) would end the other.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub jti: String,
}

impl Claims {
    /// The user the token speaks for (`sub`; older tokens only had `username`).
    pub fn user(&self) -> &str {
        if self.sub.is_empty() {
            &self.username
        } else {
            &self.sub
        }
    }

    /// The user must change the password before doing anything else.
    pub fn uninitialized(&self) -> bool {
        self.extra.contains_key("uninitialized")
    }
}

/// Why a token was refused. None of them says anything about the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the session token is malformed")]
    Malformed,
    #[error("the session token's signature does not match this host's jwtSecret")]
    BadSignature,
    #[error("the session token is signed with an algorithm other than HS256")]
    WrongAlgorithm,
    #[error("the session has expired")]
    Expired,
    #[error("the session token has no expiry; Tandem accepts only tokens that expire")]
    NoExpiry,
    #[error("the session token was issued in the future (clock skew over 10 s)")]
    IssuedInFuture,
    #[error("the token is a {0}, not an access token")]
    WrongType(String),
    #[error("the host has no jwtSecret configured in kubesphere-config")]
    NoSecret,
}

/// A host's jwtSecret, wrapped so that it never prints.
#[derive(Clone)]
pub struct JwtSecret(String);

impl JwtSecret {
    pub fn new(secret: impl Into<String>) -> Result<Self, TokenError> {
        let secret = secret.into();
        if secret.is_empty() {
            return Err(TokenError::NoSecret);
        }
        Ok(Self(secret))
    }

    /// Signs an access token for `user`, valid for `lifetime` from `now`.
    pub fn issue(
        &self,
        user: &str,
        extra: BTreeMap<String, Vec<String>>,
        now: SystemTime,
        lifetime: Duration,
    ) -> String {
        let iat = unix(now);
        let claims = Claims {
            iss: ISSUER.into(),
            sub: user.into(),
            username: user.into(),
            token_type: "access_token".into(),
            extra,
            iat,
            exp: Some(iat + lifetime.as_secs().max(1)),
            jti: token_id(),
        };
        // Signing HMAC over serialisable claims cannot fail.
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(self.0.as_bytes()),
        )
        .unwrap_or_default()
    }

    /// Checks a token as ks-apiserver does (HS256 signature, `exp`, `iat` skew) and, stricter,
    /// requires an expiry and an access token.
    pub fn verify(&self, token: &str, now: SystemTime) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.alg != Algorithm::HS256 {
            return Err(TokenError::WrongAlgorithm);
        }
        // Times are checked below against `now`, so the tests can move the clock.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<Claims>(
            token,
            &DecodingKey::from_secret(self.0.as_bytes()),
            &validation,
        )
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => TokenError::BadSignature,
            _ => TokenError::Malformed,
        })?;
        let claims = data.claims;
        let now = unix(now);
        match claims.exp {
            None => return Err(TokenError::NoExpiry),
            Some(exp) if exp <= now => return Err(TokenError::Expired),
            Some(_) => {}
        }
        if claims.iat > now + MAXIMUM_CLOCK_SKEW.as_secs() {
            return Err(TokenError::IssuedInFuture);
        }
        if !claims.token_type.is_empty() && claims.token_type != "access_token" {
            return Err(TokenError::WrongType(claims.token_type.clone()));
        }
        if claims.user().is_empty() {
            return Err(TokenError::Malformed);
        }
        Ok(claims)
    }
}

impl std::fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtSecret(<hidden>)")
    }
}

/// 128 random bits in hex; should the OS random source fail, the time and a process-wide
/// counter still keep ids unique, which is all `jti` is for here.
fn token_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_ok() {
        return bytes.iter().map(|b| format!("{b:02x}")).collect();
    }
    static ISSUED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let count = ISSUED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{nanos:x}-{count:x}")
}

pub(crate) fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn secret() -> JwtSecret {
        JwtSecret::new("kubesphere-demo-secret").unwrap()
    }

    fn payload(token: &str) -> serde_json::Value {
        let part = token.split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn issued_token_has_kubesphere_claims_and_verifies() {
        let now = SystemTime::now();
        let token = secret().issue("admin", BTreeMap::new(), now, DEFAULT_ACCESS_TOKEN_MAX_AGE);
        let claims = payload(&token);
        assert_eq!(claims["iss"], "kubesphere");
        assert_eq!(claims["sub"], "admin");
        assert_eq!(claims["username"], "admin");
        assert_eq!(claims["token_type"], "access_token");
        assert_eq!(
            claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
            7200
        );
        assert!(
            claims.get("extra").is_none(),
            "empty extra is omitted, as in Go"
        );
        let header: serde_json::Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(token.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(header["alg"], "HS256");
        assert_eq!(secret().verify(&token, now).unwrap().user(), "admin");
    }

    #[test]
    fn other_secret_expired_and_altered_tokens_are_refused() {
        let now = SystemTime::now();
        let token = secret().issue("admin", BTreeMap::new(), now, Duration::from_secs(60));
        let other = JwtSecret::new("another-secret").unwrap();
        assert_eq!(other.verify(&token, now), Err(TokenError::BadSignature));
        assert_eq!(
            secret().verify(&token, now + Duration::from_secs(61)),
            Err(TokenError::Expired)
        );
        // Make the token speak for someone else, keeping the signature.
        let mut parts: Vec<String> = token.split('.').map(String::from).collect();
        let mut claims = payload(&token);
        claims["sub"] = "mallory".into();
        claims["username"] = "mallory".into();
        parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
        assert_eq!(
            secret().verify(&parts.join("."), now),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            secret().verify("not-a-token", now),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn token_from_a_kubesphere_host_is_accepted() {
        // What ks-apiserver writes: Go's field order, an `extra` map, a 2 h expiry.
        let now = SystemTime::now();
        let iat = unix(now) - 60;
        let claims = serde_json::json!({
            "username": "alice", "extra": {"uninitialized": ["true"]},
            "token_type": "access_token", "iss": "kubesphere", "sub": "alice",
            "exp": iat + 7200, "iat": iat,
        });
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(b"kubesphere-demo-secret"),
        )
        .unwrap();
        let verified = secret().verify(&token, now).unwrap();
        assert_eq!(verified.user(), "alice");
        assert!(verified.uninitialized());
    }

    #[test]
    fn tokens_without_expiry_refresh_tokens_and_future_tokens_are_refused() {
        let now = SystemTime::now();
        let sign = |claims: serde_json::Value| {
            jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &claims,
                &EncodingKey::from_secret(b"kubesphere-demo-secret"),
            )
            .unwrap()
        };
        let iat = unix(now);
        let no_exp =
            sign(serde_json::json!({"sub": "a", "token_type": "access_token", "iat": iat}));
        assert_eq!(secret().verify(&no_exp, now), Err(TokenError::NoExpiry));
        let refresh = sign(
            serde_json::json!({"sub": "a", "token_type": "refresh_token", "iat": iat, "exp": iat + 60}),
        );
        assert!(matches!(
            secret().verify(&refresh, now),
            Err(TokenError::WrongType(_))
        ));
        let future = sign(
            serde_json::json!({"sub": "a", "token_type": "access_token", "iat": iat + 60, "exp": iat + 600}),
        );
        assert_eq!(
            secret().verify(&future, now),
            Err(TokenError::IssuedInFuture)
        );
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &serde_json::json!({"sub": "a", "iat": iat, "exp": iat + 60}),
            &EncodingKey::from_secret(b"kubesphere-demo-secret"),
        )
        .unwrap();
        assert_eq!(
            secret().verify(&hs512, now),
            Err(TokenError::WrongAlgorithm)
        );
    }
}

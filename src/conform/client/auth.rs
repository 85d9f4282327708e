//! Credentials and everything the client does with them: the `Authorization` of each request,
//! the client-credentials token exchange and its cache (refreshed before expiry, dropped on a
//! 401), token URL resolution, and the [`Redactor`] seeded with every configured secret.
//!
//! Credentials come from the environment variables named in [`crate::spec::model::env`] (the
//! keys the rendered ExternalSecrets provide) or are passed in directly (the in-process mock).
//! Secrets are held in [`SecretString`]; `Debug` prints only which kind of auth is configured.
//! Nothing here logs or formats a secret; only `expose_secret` at header-building time sees one.

use super::error::ClientError;
use super::redact::{self, display_url, Redactor};
use super::transport::{parse_json, Body, Request};
use super::Client;
use crate::spec::model::{env, AuthKind};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use std::fmt;
use std::sync::atomic::Ordering;
use tokio::time::Instant;

/// How the token request body is encoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TokenBody {
    /// `application/json` `{"client_id", "client_secret", "grant-type"}` (what the docs and
    /// dagster send).
    #[default]
    Json,
    /// `application/x-www-form-urlencoded` `grant_type=client_credentials&...` (the Python SDK).
    Form,
}

/// API credentials.
#[derive(Clone)]
pub enum Credentials {
    /// No authentication.
    None,
    /// HTTP Basic.
    Basic {
        /// User.
        user: SecretString,
        /// Password.
        password: SecretString,
    },
    /// A fixed bearer token.
    Bearer(SecretString),
    /// OAuth2 client credentials, exchanged for a bearer token at `token_url`.
    ClientCredentials {
        /// Client id.
        client_id: SecretString,
        /// Client secret.
        client_secret: SecretString,
        /// Absolute token URL.
        token_url: String,
        /// Body encoding of the token request.
        body: TokenBody,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::None => f.write_str("Credentials::None"),
            Credentials::Basic { .. } => f.write_str("Credentials::Basic(<redacted>)"),
            Credentials::Bearer(_) => f.write_str("Credentials::Bearer(<redacted>)"),
            Credentials::ClientCredentials {
                token_url, body, ..
            } => f
                .debug_struct("Credentials::ClientCredentials")
                .field("client_id", &"<redacted>")
                .field("client_secret", &"<redacted>")
                .field("token_url", token_url)
                .field("body", body)
                .finish(),
        }
    }
}

impl Credentials {
    /// Read credentials for `kind` from the environment through `get` (normally
    /// `std::env::var`). `token_url` must already be absolute.
    pub fn from_env(
        kind: AuthKind,
        token_url: &str,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ClientError> {
        let read = |var: &'static str, auth: &'static str| -> Result<SecretString, ClientError> {
            match get(var) {
                Some(v) if !v.is_empty() => Ok(SecretString::from(v)),
                _ => Err(ClientError::MissingCredential { var, auth }),
            }
        };
        Ok(match kind {
            AuthKind::None => Credentials::None,
            AuthKind::Basic => Credentials::Basic {
                user: read(env::USERNAME, "basic")?,
                password: read(env::PASSWORD, "basic")?,
            },
            AuthKind::Bearer => Credentials::Bearer(read(env::TOKEN, "bearer")?),
            AuthKind::ClientCredentials => Credentials::ClientCredentials {
                client_id: read(env::CLIENT_ID, "client-credentials")?,
                client_secret: read(env::CLIENT_SECRET, "client-credentials")?,
                token_url: token_url.to_string(),
                body: TokenBody::default(),
            },
        })
    }

    /// The same credentials with `token_url` set (client credentials only).
    pub fn with_token_url(self, url: &str) -> Self {
        match self {
            Credentials::ClientCredentials {
                client_id,
                client_secret,
                body,
                ..
            } => Credentials::ClientCredentials {
                client_id,
                client_secret,
                token_url: url.to_string(),
                body,
            },
            other => other,
        }
    }

    /// Short name of the auth kind, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Credentials::None => "none",
            Credentials::Basic { .. } => "basic",
            Credentials::Bearer(_) => "bearer",
            Credentials::ClientCredentials { .. } => "client-credentials",
        }
    }
}

/// A cached access token.
#[derive(Clone)]
pub(crate) struct Token {
    pub value: SecretString,
    /// When to fetch a new one (already moved earlier by the refresh margin).
    pub refresh_at: Option<Instant>,
    /// Increases with every fetch, so a 401 only invalidates the token it was sent with.
    pub generation: u64,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("refresh_at", &self.refresh_at)
            .field("generation", &self.generation)
            .finish()
    }
}

impl Token {
    pub fn fresh(&self, now: Instant) -> bool {
        self.refresh_at.is_none_or(|t| now < t)
    }
}

/// The longest token lifetime believed (one day): a larger `expires_in` is refreshed daily.
pub const MAX_TOKEN_LIFETIME: std::time::Duration = std::time::Duration::from_secs(86_400);

/// Parse a token response: a non-empty `access_token`, an optional `token_type` that must be
/// `Bearer` (any case, as OAuth 2 says), and an optional non-negative `expires_in` in seconds,
/// capped at [`MAX_TOKEN_LIFETIME`]. The error is the reason, without the token.
pub fn parse_token(
    v: &serde_json::Value,
) -> Result<(SecretString, Option<std::time::Duration>), String> {
    use serde_json::Value;
    let access = match v.get("access_token") {
        Some(Value::String(s)) if !s.is_empty() => SecretString::from(s.clone()),
        Some(_) => return Err("field `access_token` is not a non-empty string".into()),
        None => return Err("field `access_token` is missing".into()),
    };
    match v.get("token_type") {
        None | Some(Value::Null) => {}
        Some(Value::String(t)) if t.eq_ignore_ascii_case("bearer") => {}
        Some(_) => return Err("field `token_type` is not `Bearer`".into()),
    }
    let expires_in = match v.get("expires_in") {
        None | Some(Value::Null) => None,
        Some(n) => match n.as_f64() {
            Some(s) if s >= 0.0 => Some(
                std::time::Duration::try_from_secs_f64(s)
                    .unwrap_or(MAX_TOKEN_LIFETIME)
                    .min(MAX_TOKEN_LIFETIME),
            ),
            _ => return Err("field `expires_in` is not a non-negative number".into()),
        },
    };
    Ok((access, expires_in))
}

/// How long before expiry a token is refreshed: 60 s, or half its lifetime for short tokens.
pub(crate) fn refresh_margin(expires_in: std::time::Duration) -> std::time::Duration {
    (expires_in / 2).min(std::time::Duration::from_secs(60))
}

/// Resolve a token URL: absolute URLs are used as given, `/path` is taken from the server root,
/// and anything else is relative to the base URL (`applications/token` under
/// `http://h/api/public/v1` is `http://h/api/public/v1/applications/token`). Unlike `urljoin`,
/// this never drops the base's last path segment (the Python SDK's pitfall).
pub fn resolve_token_url(base_url: &str, token_url: &str) -> String {
    if token_url.starts_with("http://") || token_url.starts_with("https://") {
        return token_url.to_string();
    }
    let base = base_url.trim_end_matches('/');
    if let Some(abs) = token_url.strip_prefix('/') {
        let after_scheme = base.find("://").map_or(0, |i| i + 3);
        let root_end = base[after_scheme..]
            .find('/')
            .map_or(base.len(), |i| after_scheme + i);
        return format!("{}/{abs}", &base[..root_end]);
    }
    format!("{base}/{token_url}")
}

/// The `Authorization` a request carries; the number is the token's generation.
pub(super) enum AuthHeader {
    None,
    Basic(SecretString, SecretString),
    Bearer(SecretString, u64),
}

/// A [`Redactor`] of every secret `credentials` and `base_url` (its userinfo) hold.
pub(super) fn redactor(credentials: &Credentials, base_url: &str) -> Redactor {
    let mut redactor = Redactor::new();
    match credentials {
        Credentials::None => {}
        Credentials::Basic { user, password } => {
            redactor.add_basic(user.expose_secret(), password.expose_secret())
        }
        Credentials::Bearer(t) => redactor.add(t.expose_secret()),
        Credentials::ClientCredentials {
            client_secret,
            token_url,
            ..
        } => {
            redactor.add(client_secret.expose_secret());
            if let Some((u, p)) = redact::userinfo(token_url) {
                redactor.add_basic(&u, &p);
            }
        }
    }
    if let Some((u, p)) = redact::userinfo(base_url) {
        redactor.add_basic(&u, &p);
    }
    redactor
}

impl Client {
    /// The header for the next request: fixed credentials as they are, or the cached access
    /// token, fetched first when missing or due for refresh.
    pub(super) async fn authorization(&self) -> Result<AuthHeader, ClientError> {
        Ok(match &self.credentials {
            Credentials::None => AuthHeader::None,
            Credentials::Basic { user, password } => {
                AuthHeader::Basic(user.clone(), password.clone())
            }
            Credentials::Bearer(t) => AuthHeader::Bearer(t.clone(), 0),
            Credentials::ClientCredentials { .. } => {
                let mut slot = self.token.lock().await;
                let now = Instant::now();
                if let Some(t) = slot.as_ref().filter(|t| t.fresh(now)) {
                    return Ok(AuthHeader::Bearer(t.value.clone(), t.generation));
                }
                let t = Box::pin(self.fetch_token()).await?;
                let header = AuthHeader::Bearer(t.value.clone(), t.generation);
                *slot = Some(t);
                header
            }
        })
    }

    /// Forget the cached token if it is still the one of `generation` (a 401 answered it).
    pub(super) async fn invalidate(&self, generation: u64) {
        let mut slot = self.token.lock().await;
        if slot.as_ref().is_some_and(|t| t.generation == generation) {
            *slot = None;
        }
    }

    /// Exchange the client credentials for an access token at the token URL.
    async fn fetch_token(&self) -> Result<Token, ClientError> {
        let Credentials::ClientCredentials {
            client_id,
            client_secret,
            token_url,
            body,
        } = &self.credentials
        else {
            unreachable!("fetch_token is only called for client credentials");
        };
        let token_err = |reason: String| ClientError::Token {
            url: display_url(token_url).into_owned(),
            reason,
        };
        let body = match body {
            TokenBody::Json => Body::Json(json!({
                "client_id": client_id.expose_secret(),
                "client_secret": client_secret.expose_secret(),
                "grant-type": "client_credentials",
            })),
            TokenBody::Form => Body::Form(vec![
                ("grant_type", "client_credentials".into()),
                ("client_id", client_id.expose_secret().to_string()),
                ("client_secret", client_secret.expose_secret().to_string()),
            ]),
        };
        let req = Request {
            op: "POST token".into(),
            method: Method::POST,
            url: token_url.clone(),
            body,
            idempotent: true,
            auth: false,
        };
        let requested = Instant::now();
        let resp = self.execute(&req, true).await.map_err(|e| {
            // Hostile answers keep their own error (and code); others name the token URL.
            if e.code().is_some() {
                e
            } else {
                token_err(e.chain())
            }
        })?;
        let v = parse_json(&req, &resp).map_err(|e| token_err(e.chain()))?;
        let (access, expires_in) = parse_token(&v).map_err(token_err)?;
        if let Ok(mut r) = self.redactor.write() {
            r.add(access.expose_secret());
        }
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::debug!(url = %self.log_url(token_url), expires_in_s = expires_in.map(|d| d.as_secs()), "obtained an access token");
        Ok(Token {
            value: access,
            refresh_at: expires_in
                .and_then(|e| requested.checked_add(e.saturating_sub(refresh_margin(e)))),
            generation,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let c = Credentials::ClientCredentials {
            client_id: "id-123".to_string().into(),
            client_secret: "hunter2".to_string().into(),
            token_url: "http://h/api/public/v1/applications/token".into(),
            body: TokenBody::Json,
        };
        let s = format!("{c:?}");
        assert!(!s.contains("hunter2") && !s.contains("id-123"), "{s}");
        let b = Credentials::Basic {
            user: "u".to_string().into(),
            password: "pw-secret".to_string().into(),
        };
        assert!(!format!("{b:?}").contains("pw-secret"));
    }

    #[test]
    fn from_env_names_the_missing_variable() {
        let err = Credentials::from_env(AuthKind::ClientCredentials, "http://t", |v| {
            (v == env::CLIENT_ID).then(|| "id".to_string())
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "environment variable AIRBYTE_API_CLIENT_SECRET is not set (needed for client-credentials auth)");
        assert!(matches!(
            Credentials::from_env(AuthKind::None, "", |_| None),
            Ok(Credentials::None)
        ));
    }

    #[test]
    fn token_urls_resolve_without_dropping_the_base() {
        let base = "http://h:8001/api/public/v1";
        assert_eq!(
            resolve_token_url(base, "applications/token"),
            "http://h:8001/api/public/v1/applications/token"
        );
        assert_eq!(
            resolve_token_url(base, "/api/v1/applications/token"),
            "http://h:8001/api/v1/applications/token"
        );
        assert_eq!(resolve_token_url(base, "https://auth/x"), "https://auth/x");
        assert_eq!(resolve_token_url("http://h", "/t"), "http://h/t");
    }
}

//! Auth: which requests the configured scheme admits (basic, a fixed bearer token, or a token
//! issued by the token endpoint and not yet expired), and the client-credentials exchange that
//! issues those tokens. Both APIs' token endpoints share it.

use super::{Inner, Reply};
use crate::mock::{body, MockAuth};
use crate::text::base64;
use hyper::header::AUTHORIZATION;
use serde_json::Value;
use std::collections::HashMap;
use tokio::time::Instant;

pub(super) fn authorized(inner: &Inner, headers: &hyper::HeaderMap) -> bool {
    let header = headers.get(AUTHORIZATION).and_then(|h| h.to_str().ok());
    if let Some(token) = header.and_then(|h| h.strip_prefix("Bearer ")) {
        if let MockAuth::Bearer { token: t } = &inner.auth {
            if token == t {
                return true;
            }
        }
        let tokens = inner.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if tokens.get(token).is_some_and(|exp| Instant::now() < *exp) {
            return true;
        }
    }
    match &inner.auth {
        MockAuth::None => true,
        MockAuth::Basic { user, password } => header
            .and_then(|h| h.strip_prefix("Basic "))
            .is_some_and(|b| b == base64(format!("{user}:{password}").as_bytes())),
        MockAuth::Bearer { .. } | MockAuth::ClientCredentials { .. } => false,
    }
}

/// 401 in the public API's problem shape: a wrong API key, token or client credentials.
pub(super) fn invalid_api_key() -> Reply {
    Reply::json(
        401,
        &body::problem(
            401,
            "invalid-api-key",
            "The API key in the Authorization header is invalid.",
            None,
        ),
    )
}

/// Check client credentials and issue a token; `None` if they are wrong.
pub(super) fn issue_token(inner: &Inner, fields: &HashMap<String, String>) -> Option<String> {
    let id = fields.get("client_id").map(String::as_str).unwrap_or("");
    let secret = fields
        .get("client_secret")
        .map(String::as_str)
        .unwrap_or("");
    let ok = match &inner.auth {
        MockAuth::None => true,
        MockAuth::Basic { user, password } => id == user && secret == password,
        MockAuth::Bearer { .. } => false,
        MockAuth::ClientCredentials {
            client_id,
            client_secret,
        } => id == client_id && secret == client_secret,
    };
    if !ok {
        return None;
    }
    let token = format!("mock-{:032x}", rand::random::<u128>());
    let now = Instant::now();
    let mut tokens = inner.tokens.lock().unwrap_or_else(|e| e.into_inner());
    if tokens.len() > 10_000 {
        tokens.retain(|_, exp| *exp > now);
    }
    tokens.insert(token.clone(), now + inner.token_ttl);
    Some(token)
}

pub(super) fn token_fields(bytes: &[u8], form: bool) -> Option<HashMap<String, String>> {
    if form {
        return serde_urlencoded::from_bytes::<Vec<(String, String)>>(bytes)
            .ok()
            .map(|v| v.into_iter().collect());
    }
    let v: Value = serde_json::from_slice(bytes).ok()?;
    let o = v.as_object()?;
    Some(
        o.iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }
}

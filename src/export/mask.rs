//! The secret rule of `export`: nothing that looks like a credential reaches a file.
//!
//! The server masks the fields its connector specs mark secret as `**********`; the export keeps
//! that mask as it is. A server that returns a secret in the clear (an old version, a connector
//! whose spec forgot `airbyte_secret`) is caught by name: a value under a key that names a
//! credential is replaced by the same mask, and its place (never its value) is recorded for the
//! export's index. A key names a credential when, compared case-insensitively, one of its words
//! (split at `_`, `-`, `.`, spaces and lower→upper case changes) is one of [`CREDENTIAL_WORDS`],
//! or the whole key contains one of [`CREDENTIAL_PARTS`]. A string or number under such a key is
//! masked (in a list too); an object under it is judged key by key, so `credentials.auth_type`
//! stays readable while `credentials.client_secret` is masked. Booleans and nulls stay. Pure.

use serde_json::Value;

/// What stands for a secret in an export, as the server writes it.
pub const MASK: &str = "**********";

/// Words that make a key name a credential.
pub const CREDENTIAL_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "key",
    "apikey",
    "credential",
    "credentials",
    "passphrase",
    "jwt",
    "cookie",
    "signature",
];

/// Parts that make a key name a credential wherever they appear in it (`apiKey`, `PGPASSWORD`).
pub const CREDENTIAL_PARTS: &[&str] = &[
    "password",
    "secret",
    "token",
    "apikey",
    "api_key",
    "privatekey",
    "private_key",
    "credential",
    "passphrase",
];

/// Whether `key` names a credential.
pub fn is_credential_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    if CREDENTIAL_PARTS.iter().any(|p| lower.contains(p)) {
        return true;
    }
    words(key).any(|w| CREDENTIAL_WORDS.contains(&w.as_str()))
}

/// The words of a key: split at separators and at lower→upper case changes, lowercased.
fn words(key: &str) -> impl Iterator<Item = String> + '_ {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out.into_iter()
}

/// Mask every credential in `v` in place; returns the dotted paths (from `at`) of the values
/// this replaced (a value the server had masked already is not counted).
pub fn mask(v: &mut Value, at: &str) -> Vec<String> {
    let mut found = Vec::new();
    walk(v, at, false, &mut found);
    found
}

fn walk(v: &mut Value, at: &str, secret: bool, found: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, child) in o.iter_mut() {
                let path = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                walk(child, &path, is_credential_key(k), found);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter_mut().enumerate() {
                walk(child, &format!("{at}[{i}]"), secret, found);
            }
        }
        Value::String(s) if secret && s != MASK => {
            *v = Value::String(MASK.to_owned());
            found.push(at.to_owned());
        }
        Value::Number(_) if secret => {
            *v = Value::String(MASK.to_owned());
            found.push(at.to_owned());
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_that_name_credentials() {
        for k in [
            "password",
            "PGPASSWORD",
            "api_key",
            "apiKey",
            "ApiKey",
            "client_secret",
            "clientSecret",
            "access_token",
            "refreshToken",
            "credentials",
            "credentials_json",
            "private_key",
            "ssh-key",
            "tunnel_user_password",
            "service_account_key",
            "passphrase",
        ] {
            assert!(is_credential_key(k), "{k}");
        }
        for k in [
            "host",
            "port",
            "username",
            "database",
            "monkey",
            "keyspace",
            "auth_type",
            "ssl_mode",
            "tokenizer_model",
        ] {
            assert_eq!(is_credential_key(k), k == "tokenizer_model", "{k}");
        }
    }

    #[test]
    fn masks_clear_values_keeps_server_masks_and_records_places() {
        let mut v = json!({
            "host": "db",
            "password": "hunter2",
            "api_key": MASK,
            "port": 5432,
            "credentials": { "auth_type": "oauth", "refresh_token": "r", "expires": 3600, "enabled": true },
            "tunnels": [{ "ssh_key": "-----BEGIN" }],
            "tokens": ["a", "b"],
        });
        let found = mask(&mut v, "configuration");
        assert_eq!(
            v,
            json!({
                "host": "db",
                "password": MASK,
                "api_key": MASK,
                "port": 5432,
                "credentials": { "auth_type": "oauth", "refresh_token": MASK, "expires": 3600, "enabled": true },
                "tunnels": [{ "ssh_key": MASK }],
                "tokens": [MASK, MASK],
            })
        );
        assert_eq!(
            found,
            [
                "configuration.password",
                "configuration.credentials.refresh_token",
                "configuration.tunnels[0].ssh_key",
                "configuration.tokens[0]",
                "configuration.tokens[1]",
            ]
        );
    }
}

//! Redaction of known secret values, and URLs without their userinfo.
//!
//! A [`Redactor`] is built from every secret the client knows (client secret, basic password,
//! bearer or access token, the password of a URL's userinfo) and replaces each occurrence, in
//! its raw, percent-encoded, form-encoded and JSON-escaped spellings (and, for basic auth, the
//! base64 `user:password` of the header), with `<redacted>`. It is applied wherever a string
//! leaves the client, whatever its source: error messages built from server bodies, report
//! messages and log lines. [`display_url`] removes `user:password@` from a URL before it is
//! shown. Pure functions; no IO.

use crate::text::base64;
use std::borrow::Cow;

/// What a secret is replaced with.
pub const REDACTED: &str = "<redacted>";

/// Replaces known secret values in text.
#[derive(Clone, Default)]
pub struct Redactor {
    /// Spellings to replace, longest first.
    needles: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} spellings)", self.needles.len())
    }
}

impl Redactor {
    /// A redactor that knows no secret yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn push(&mut self, s: String) {
        if !s.is_empty() && !self.needles.contains(&s) {
            self.needles.push(s);
        }
    }

    /// Redact `secret` from now on (empty secrets are ignored).
    pub fn add(&mut self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        self.push(secret.to_string());
        self.push(url::form_urlencoded::byte_serialize(secret.as_bytes()).collect());
        self.push(percent_encode(secret));
        if let Ok(json) = serde_json::to_string(secret) {
            self.push(json[1..json.len() - 1].to_string());
        }
        self.needles
            .sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    }

    /// Redact the password and the base64 `user:password` an HTTP Basic header carries.
    pub fn add_basic(&mut self, user: &str, password: &str) {
        self.add(password);
        self.add(&base64(format!("{user}:{password}").as_bytes()));
    }

    /// `s` with every known secret replaced by [`REDACTED`].
    pub fn redact<'a>(&self, s: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(s);
        for n in &self.needles {
            if out.contains(n.as_str()) {
                out = Cow::Owned(out.replace(n.as_str(), REDACTED));
            }
        }
        out
    }
}

/// Every byte but unreserved ASCII as `%XX` (how a secret may appear in a URL).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `(user, password)` of a URL's userinfo, percent-decoded, if it has one.
pub fn userinfo(url: &str) -> Option<(String, String)> {
    let u = url::Url::parse(url).ok()?;
    if u.username().is_empty() && u.password().is_none() {
        return None;
    }
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
            .next()
            .map_or_else(|| s.to_string(), |(_, v)| v.into_owned())
    };
    Some((
        decode(u.username()),
        u.password().map(decode).unwrap_or_default(),
    ))
}

/// `url` without `user:password@`, otherwise unchanged (no normalisation).
pub fn display_url(url: &str) -> Cow<'_, str> {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return Cow::Borrowed(url);
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => Cow::Owned(format!("{}{}", &url[..scheme_end], &rest[at + 1..])),
        None => Cow::Borrowed(url),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_a_secret_is_redacted() {
        let mut r = Redactor::new();
        r.add("p@ss w\"rd");
        r.add_basic("u", "pw");
        assert_eq!(
            r.redact(r#"a p@ss w"rd b p%40ss+w%22rd c p%40ss%20w%22rd d p@ss w\"rd e dTpwdw=="#),
            "a <redacted> b <redacted> c <redacted> d <redacted> e <redacted>"
        );
        assert_eq!(base64(b"u:pw"), "dTpwdw==");
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(r.redact("nothing here"), Cow::Borrowed("nothing here"));
    }

    #[test]
    fn urls_lose_their_userinfo() {
        assert_eq!(
            display_url("http://u:PASS@h:8000/api?x=a@b"),
            "http://h:8000/api?x=a@b"
        );
        assert_eq!(display_url("http://h/a@b"), "http://h/a@b");
        assert_eq!(display_url("not a url"), "not a url");
        assert_eq!(
            userinfo("http://u:P%40SS@h/"),
            Some(("u".into(), "P@SS".into()))
        );
        assert_eq!(userinfo("http://h/"), None);
    }
}

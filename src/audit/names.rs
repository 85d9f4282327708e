//! The name rules the Kubernetes API server enforces on the objects the audit reads, so that the
//! audit rejects what the cluster would (see `k8s.io/apimachinery/pkg/util/validation`).
//!
//! DNS-1123 labels (namespaces) and subdomains (object names), qualified names (label and
//! annotation keys: an optional DNS-subdomain prefix and `/`, then at most 63 alphanumerics,
//! `-`, `_`, `.`, starting and ending alphanumeric), label values (the same, or empty) and
//! IANA service names (port names: at most 15 lowercase alphanumerics and `-`, at least one
//! letter, no leading, trailing or double `-`). Each check returns what is wrong, for the message.

use crate::spec::validate::{check_dns_label, check_dns_subdomain, is_label_value};

/// A DNS-1123 label: a namespace name.
pub fn dns_label(s: &str) -> Result<(), String> {
    check_dns_label(s).map_err(|e| format!("is not a DNS-1123 label: {e}"))
}

/// A DNS-1123 subdomain: the name of most objects.
pub fn dns_subdomain(s: &str) -> Result<(), String> {
    check_dns_subdomain(s).map_err(|e| format!("is not a DNS-1123 subdomain: {e}"))
}

/// A qualified name: a label or annotation key.
pub fn label_key(s: &str) -> Result<(), String> {
    let (prefix, name) = match s.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    if let Some(p) = prefix {
        if p.is_empty() || dns_subdomain(p).is_err() {
            return Err(format!(
                "is not a valid label key: the prefix `{p}` is not a DNS-1123 subdomain"
            ));
        }
    }
    if name.is_empty() || !is_label_value(name) {
        return Err(
            "is not a valid label key: the name part must be 1-63 letters, digits, `-`, `_` or \
             `.`, starting and ending with a letter or digit"
                .into(),
        );
    }
    Ok(())
}

/// A label value (may be empty).
pub fn label_value(s: &str) -> Result<(), String> {
    if is_label_value(s) {
        Ok(())
    } else {
        Err(
            "is not a valid label value: at most 63 letters, digits, `-`, `_` or `.`, starting \
             and ending with a letter or digit"
                .into(),
        )
    }
}

/// An IANA service name: a port name.
pub fn port_name(s: &str) -> Result<(), String> {
    let why = if s.is_empty() || s.len() > 15 {
        "must be 1-15 characters long"
    } else if !s
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        "may hold only lowercase letters, digits and `-`"
    } else if !s.chars().any(|c| c.is_ascii_lowercase()) {
        "must contain at least one letter"
    } else if s.starts_with('-') || s.ends_with('-') || s.contains("--") {
        "may not start or end with `-` or hold `--`"
    } else {
        return Ok(());
    };
    Err(format!(
        "is not a valid port name (IANA service name): it {why}"
    ))
}

/// Every problem of a label map, as (key, message) pairs.
pub fn labels<'l>(
    map: impl IntoIterator<Item = (&'l String, &'l String)>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (k, v) in map {
        if let Err(e) = label_key(k) {
            out.push((k.clone(), format!("label key `{k}` {e}")));
        }
        if let Err(e) = label_value(v) {
            out.push((k.clone(), format!("value `{v}` of label `{k}` {e}")));
        }
    }
    out
}

/// A JSON-pointer token for a key (`~` and `/` escaped).
pub fn pointer_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_api_server() {
        assert!(dns_label("kube-system").is_ok());
        assert!(dns_label("../../etc").is_err());
        assert!(dns_subdomain("a.b-c").is_ok());
        assert!(dns_subdomain("a..b").is_err());
        assert!(label_key("app.kubernetes.io/name").is_ok());
        assert!(label_key("a b").is_err());
        assert!(label_key("/x").is_err());
        assert!(label_key("Example.com/x").is_err());
        assert!(label_value("").is_ok());
        assert!(label_value("-x").is_err());
        for ok in ["http", "metrics-1", "a1"] {
            assert!(port_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "not a name!",
            "80",
            "-http",
            "http-",
            "ht--tp",
            "HTTP",
            "abcdefghijklmnop",
        ] {
            assert!(port_name(bad).is_err(), "{bad}");
        }
    }
}

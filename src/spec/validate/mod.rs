//! Phase two of spec loading: semantic rules, raw spec → [`Model`].
//!
//! Every rule pushes diagnostics (located through the document's pointer index) and carries on;
//! nothing here stops at the first problem. The returned model may be built from partly invalid
//! input, so callers must not use it when any diagnostic is an error (`spec::from_str` enforces
//! this). Rules never print and never touch the filesystem.
//!
//! This file holds the rule context `Cx` (located diagnostics), the rules every part of the spec
//! shares (names, labels, unique names, URLs, durations) and the plain checks other modules reuse;
//! each child adds the rules of one part of the spec as methods on `Cx`: `network`, `airbyte`,
//! `airflow`, `secrets`, `pipelines`, `dags`, `observability`.

use super::model::{self, Model};
use super::raw::RawSpec;
use super::schema::dotted;
use super::yaml::Document;
use crate::diag::{Code, Diagnostic};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

mod airbyte;
mod airflow;
mod dags;
pub use dags::{check_schedule, parse_date};
mod network;
mod observability;
mod pipelines;
mod provider;
mod schedule;
pub use schedule::longest_gap as schedule_longest_gap;
mod secrets;
pub use observability::{DEFAULT_SLOW_FRACTION, DEFAULT_STALE_AFTER};

/// Validate a raw spec into a model, pushing every problem into `diags`.
pub fn validate(raw: &RawSpec, doc: &Document, diags: &mut Vec<Diagnostic>) -> Option<Model> {
    let mut cx = Cx { doc, diags };
    cx.dns_label("/platform/name", &raw.platform.name);

    let airbyte = cx.airbyte(&raw.airbyte);
    let airflow = cx.airflow(&raw.airflow);
    let ingress = raw.ingress.as_ref().map(|i| {
        cx.dns_label("/ingress/namespace", &i.namespace);
        cx.labels("/ingress/pod-labels", &i.pod_labels);
        model::Ingress {
            namespace: i.namespace.clone(),
            pod_labels: i.pod_labels.clone(),
            airflow_ui: i.airflow_ui,
        }
    });
    let dns = cx.dns(&raw.dns);
    cx.store_coverage(raw);
    cx.external_credentials(raw);
    let secrets = cx.secrets(&raw.secrets, &raw.airbyte.api);
    let connections = cx.connections(&raw.connections);
    let pipelines = cx.pipelines(&raw.pipelines, &connections);
    let dags = cx.dags(raw);
    let observability = cx.observability(raw);

    let model = Model {
        platform: raw.platform.name.clone(),
        airbyte,
        airflow,
        ingress,
        dns,
        secrets,
        connections,
        pipelines,
        dags,
        observability,
    };
    cx.selectors(&model);
    Some(model)
}

struct Cx<'a> {
    doc: &'a Document,
    diags: &'a mut Vec<Diagnostic>,
}

impl Cx<'_> {
    fn push(&mut self, code: Code, pointer: &str, message: String, label: &str, help: String) {
        let d = Diagnostic::new(code, message)
            .with_label(self.doc.file, self.doc.locate(pointer), label)
            .with_path(pointer)
            .with_help(help);
        self.diags.push(d);
    }

    /// Like [`Cx::push`], but the label covers the key at `pointer` (a missing or misplaced entry
    /// points at the mapping or key that should hold it, not at its whole value).
    fn push_key(&mut self, code: Code, pointer: &str, message: String, label: &str, help: String) {
        let d = Diagnostic::new(code, message)
            .with_label(self.doc.file, self.doc.locate_key(pointer), label)
            .with_path(pointer)
            .with_help(help);
        self.diags.push(d);
    }

    /// Point the diagnostic just pushed also at `pointer` (a secondary label: "first used here").
    fn also(&mut self, pointer: &str, label: &str) {
        let range = self.doc.locate(pointer);
        let file = self.doc.file;
        if let Some(last) = self.diags.pop() {
            self.diags.push(last.with_secondary(file, range, label));
        }
    }

    // ---- names and labels -------------------------------------------------------------------

    fn dns_label(&mut self, pointer: &str, name: &str) {
        if let Err(why) = check_dns_label(name) {
            self.push(
                Code::InvalidDnsName,
                pointer,
                format!(
                    "`{name}` is not a valid name at `{}`: {why}",
                    dotted(pointer)
                ),
                "not a DNS-1123 label",
                format!(
                    "use lowercase letters, digits and `-`, e.g. `{}`",
                    suggest_dns_label(name)
                ),
            );
        }
    }

    fn dns_subdomain(&mut self, pointer: &str, name: &str) {
        if check_dns_subdomain(name).is_err() {
            self.push(
                Code::InvalidDnsName,
                pointer,
                format!(
                    "`{name}` is not a valid object name at `{}`",
                    dotted(pointer)
                ),
                "not a DNS-1123 subdomain",
                "use lowercase letters, digits, `-` and `.`, at most 253 characters".into(),
            );
        }
    }

    fn labels(&mut self, pointer: &str, labels: &BTreeMap<String, String>) {
        for (k, v) in labels {
            let p = format!("{pointer}/{}", super::yaml::escape_segment(k));
            if let Err(why) = check_label_key(k) {
                self.push(
                    Code::InvalidLabel,
                    &p,
                    format!("`{k}` is not a valid label key: {why}"),
                    "invalid label key",
                    "label keys are an optional DNS prefix and `/`, then a name of at most 63 alphanumerics, `-`, `_`, `.`".into(),
                );
            } else if !is_label_value(v) {
                self.push(
                    Code::InvalidLabel,
                    &p,
                    format!("`{v}` is not a valid value for label `{k}`"),
                    "invalid label value",
                    "label values are at most 63 alphanumerics, `-`, `_`, `.`, starting and ending with an alphanumeric".into(),
                );
            }
            let _ = p;
        }
    }

    // ---- shared parsers ------------------------------------------------------------------

    fn unique_names<'n>(
        &mut self,
        pointer: &str,
        names: impl Iterator<Item = &'n str>,
        what: &str,
    ) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, n) in names.enumerate() {
            if let Some(first) = seen.get(n) {
                self.push(
                    Code::DuplicateName,
                    &format!("{pointer}/{i}/name"),
                    format!("{what} name `{n}` is used twice in `{}`", dotted(pointer)),
                    "second use",
                    format!(
                        "rename one of them; the first is at `{}`",
                        dotted(&format!("{pointer}/{first}"))
                    ),
                );
                self.also(&format!("{pointer}/{first}/name"), "first used here");
            } else {
                seen.insert(n, i);
            }
        }
    }

    fn url(&mut self, pointer: &str, text: &str, https_only: bool) -> Option<url::Url> {
        match url::Url::parse(text) {
            Ok(u)
                if (u.scheme() == "https" || (!https_only && u.scheme() == "http"))
                    && u.host_str().is_some() =>
            {
                Some(u)
            }
            Ok(u) => {
                let want = if https_only { "https" } else { "http or https" };
                self.push(
                    Code::InvalidUrl,
                    pointer,
                    format!(
                        "`{text}` is not an {want} URL with a host (it reads as scheme `{}`)",
                        u.scheme()
                    ),
                    "wrong scheme or no host",
                    format!(
                        "write a full URL such as `{}://host:port`",
                        if https_only { "https" } else { "http" }
                    ),
                );
                None
            }
            Err(e) => {
                self.push(
                    Code::InvalidUrl,
                    pointer,
                    format!("`{text}` is not a URL: {e}"),
                    "not a URL",
                    "write a full URL such as `http://airbyte-airbyte-server-svc.airbyte:8001`"
                        .into(),
                );
                None
            }
        }
    }

    fn duration(&mut self, pointer: &str, text: &str) -> Option<Duration> {
        if text.trim() == "0" {
            return Some(Duration::ZERO);
        }
        match parse_go_duration(text) {
            Some(d) if d.as_nanos() > i64::MAX as u128 => {
                self.push(
                    Code::InvalidDuration,
                    pointer,
                    format!("`{text}` is longer than a Go duration can be (about 2562047h)"),
                    "too long",
                    "use a shorter interval such as `24h`".into(),
                );
                None
            }
            Some(d) => Some(d),
            None => {
                self.push(
                    Code::InvalidDuration,
                    pointer,
                    format!("`{text}` is not a duration at `{}`", dotted(pointer)),
                    "not a duration",
                    "write a Go-style duration such as `1h`, `30m`, `1h30m` or `90s`".into(),
                );
                None
            }
        }
    }
}

/// Kebab-case names of spec enums, for messages.
mod erased {
    pub trait Named {
        fn name(&self) -> String;
    }
    impl<T: serde::Serialize> Named for T {
        fn name(&self) -> String {
            serde_json::to_value(self)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        }
    }
}

/// Check a DNS-1123 label; the error says what is wrong.
pub fn check_dns_label(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("it is empty".into());
    }
    if s.len() > 63 {
        return Err(format!("it is {} characters long (at most 63)", s.len()));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!("`{c}` is not allowed"));
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Err("it must start and end with a letter or digit".into());
    }
    Ok(())
}

fn suggest_dns_label(s: &str) -> String {
    let mut out: String = s
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    out = out.trim_matches('-').to_string();
    out.truncate(63);
    if out.is_empty() {
        "my-name".into()
    } else {
        out
    }
}

/// A DNS-1123 subdomain, the name of most objects: at most 253 characters of dot-separated DNS
/// labels.
pub fn check_dns_subdomain(s: &str) -> Result<(), String> {
    if s.len() > 253 {
        return Err(format!("it is {} characters long (at most 253)", s.len()));
    }
    s.split('.')
        .try_for_each(|part| check_dns_label(part).map_err(|e| format!("part `{part}`: {e}")))
}

/// A label key (qualified name): an optional DNS-subdomain prefix and `/`, then a name.
pub fn check_label_key(k: &str) -> Result<(), String> {
    let (prefix, name) = match k.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    if let Some(p) = prefix {
        if check_dns_subdomain(p).is_err() {
            return Err(format!("prefix `{p}` is not a DNS subdomain"));
        }
    }
    if name.is_empty() || !is_label_value(name) {
        return Err(format!("name `{name}` is not valid"));
    }
    Ok(())
}

/// A label value (may be empty): at most 63 letters, digits, `-`, `_` or `.`, starting and
/// ending with a letter or digit. The name part of a label key is the same, but not empty.
pub fn is_label_value(v: &str) -> bool {
    v.is_empty()
        || (v.len() <= 63
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && v.starts_with(|c: char| c.is_ascii_alphanumeric())
            && v.ends_with(|c: char| c.is_ascii_alphanumeric()))
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Parse a Go duration (`1h`, `1h30m`, `90s`, `1h0m0s`, `500ms`). Returns `None` when invalid.
pub fn parse_go_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let num: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += Duration::try_from_secs_f64(num * scale).ok()?;
    }
    Some(total)
}

/// A duration in Go's `time.Duration.String()` form (`1h0m0s`, `10m0s`, `30s`, `1.5s`, `0s`),
/// the canonical form ESO writes back for `refreshInterval`. The one Go-duration printer: render
/// writes `refreshInterval` with it, validation messages quote durations with it.
pub fn format_go_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".into();
    }
    if nanos < 1_000_000_000 {
        let (unit, div) = if nanos < 1_000 {
            ("ns", 1)
        } else if nanos < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        return format!("{}{unit}", with_fraction(nanos / div, nanos % div, div));
    }
    let secs = nanos / 1_000_000_000;
    let frac = nanos % 1_000_000_000;
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let s = with_fraction(s, frac, 1_000_000_000);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

fn with_fraction(whole: u128, frac: u128, div: u128) -> String {
    if frac == 0 {
        return whole.to_string();
    }
    let digits = div.ilog10() as usize;
    let f = format!("{frac:0digits$}");
    format!("{whole}.{}", f.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_go_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_go_duration("1h0m0s"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_go_duration("0s"), Some(Duration::ZERO));
        assert_eq!(parse_go_duration("1 hour"), None);
        assert_eq!(parse_go_duration("h"), None);
        assert_eq!(format_go_duration(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(format_go_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(format_go_duration(Duration::ZERO), "0s");
    }

    #[test]
    fn names() {
        assert!(check_dns_label("airbyte").is_ok());
        assert!(check_dns_label("Airbyte").is_err());
        assert!(check_dns_label("-a").is_err());
        assert!(check_label_key("app.kubernetes.io/name").is_ok());
        assert!(check_label_key("k8s-app").is_ok());
        assert!(check_label_key("bad key").is_err());
        assert!(is_uuid("7c2b1f4e-3a5d-4c8e-9f10-2b3c4d5e6f70"));
        assert!(!is_uuid("7c2b"));
    }
}

//! The human report: a summary, the findings with source snippets, then the connectivity map.
//! Control characters from the inputs are shown as visible escapes, never sent to the terminal.

use super::{terminal_safe, Report};
use crate::diag::{self, Severity};
use crate::text::visible;
use std::fmt::Write;

/// Render the report as text. `color` turns ANSI colours on in the findings.
pub fn render(r: &Report<'_>, color: bool) -> String {
    let a = r.analysis;
    let inv = a.inv;
    let mut s = String::new();
    let _ = write!(
        s,
        "airguard audit: {} endpoints ({} classes) in {} namespaces, {} policies",
        inv.endpoints.len(),
        a.classes.len(),
        inv.namespaces.len(),
        a.policies.len()
    );
    if !inv.skipped.is_empty() {
        let list: Vec<String> = inv
            .skipped
            .iter()
            .map(|(k, n)| format!("{} {n}", visible(k)))
            .collect();
        let _ = write!(s, "; skipped: {}", list.join(", "));
    }
    s.push('\n');
    for f in &inv.skipped_files {
        let _ = writeln!(s, "note: skipped {}", visible(f));
    }
    let count = |sev| {
        r.findings
            .active
            .iter()
            .filter(|d| d.severity == sev)
            .count()
    };
    let n = |k: usize, what: &str| format!("{k} {what}{}", if k == 1 { "" } else { "s" });
    let _ = writeln!(
        s,
        "findings: {}, {}, {}, {} suppressed",
        n(count(Severity::Error), "error"),
        n(count(Severity::Warning), "warning"),
        n(count(Severity::Note), "note"),
        r.findings.suppressed.len()
    );
    if !r.findings.active.is_empty() {
        s.push('\n');
        let (files, active) = terminal_safe(r.files, &r.findings.active);
        s.push_str(&diag::render::human(&files, &active, color));
    }
    for sup in &r.findings.suppressed {
        let _ = writeln!(
            s,
            "suppressed[{}]: {} (reason: {})",
            sup.finding.code,
            visible(&sup.finding.message),
            visible(&sup.reason)
        );
    }
    let _ = writeln!(s, "\nconnectivity ({} rows):", r.rows.len());
    for row in r.rows {
        let _ = writeln!(
            s,
            "{} => {} : {}",
            visible(&row.src),
            visible(&row.dst),
            row.conns
        );
    }
    s
}

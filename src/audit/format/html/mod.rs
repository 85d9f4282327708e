//! The audit report as one self-contained HTML page for auditors: a summary (counts, findings by
//! severity, the `--spec` intent verdict), the connectivity graph ([`graph`], inline SVG laid
//! out here), the connectivity matrix and flow table ([`matrix`]), the findings with location,
//! fix and, for the flows the spec check reports, the `--explain` reasoning, and the suppressed
//! findings with their reasons. Everything is inline (CSS, a small script, SVG) and a
//! Content-Security-Policy forbids any fetch, so the page opens offline, from a file or a CI
//! artifact. The script only adds a namespace filter; without it the page shows everything.
//! Every input value goes through [`crate::text::html_escape`]; the output has no timestamp.

mod graph;
mod matrix;
mod model;

use super::{describe, position, Report};
use crate::audit::{explain, intent};
use crate::diag::{Diagnostic, FileId, Severity};
use crate::text::html_escape as esc;
use model::Model;
use std::fmt::Write;

const CSS: &str = include_str!("report.css");
const JS: &str = include_str!("report.js");

/// Render the report as HTML. `spec` is the `--spec` file, when one was given: the summary then
/// states whether the allowed flows are exactly the declared ones.
pub fn render(r: &Report<'_>, spec: Option<FileId>) -> String {
    let m = Model::new(r);
    let mut s = String::with_capacity(64 * 1024);
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    s.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n");
    s.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    s.push_str("<meta name=\"generator\" content=\"airguard ");
    s.push_str(env!("CARGO_PKG_VERSION"));
    s.push_str("\">\n<title>airguard audit report</title>\n<style>\n");
    s.push_str(CSS);
    s.push_str("</style>\n</head>\n<body>\n");
    header(r, &m, spec, &mut s);
    section(&mut s, "graph", "Graph", |s| graph::graph(&m, s));
    section(&mut s, "matrix", "Connectivity matrix", |s| {
        matrix::matrix(&m, s)
    });
    section(&mut s, "flows", "Flows", |s| matrix::flows(&m, s));
    section(&mut s, "findings", "Findings", |s| findings(r, &m, s));
    section(&mut s, "suppressed", "Suppressed findings", |s| {
        suppressed(r, &m, s)
    });
    let _ = writeln!(
        s,
        "<footer>airguard {} · <code>airguard audit --format html</code></footer>",
        env!("CARGO_PKG_VERSION")
    );
    s.push_str("<script>\n");
    s.push_str(JS);
    s.push_str("</script>\n</body>\n</html>\n");
    s
}

fn section(s: &mut String, id: &str, title: &str, body: impl FnOnce(&mut String)) {
    let _ = writeln!(s, "<section id=\"{id}\">\n<h2>{title}</h2>");
    body(s);
    s.push_str("</section>\n");
}

fn count(r: &Report<'_>, sev: Severity) -> usize {
    r.findings
        .active
        .iter()
        .filter(|d| d.severity == sev)
        .count()
}

fn header(r: &Report<'_>, m: &Model, spec: Option<FileId>, s: &mut String) {
    let a = r.analysis;
    let failed = r.findings.active.iter().any(|d| r.fails(d));
    s.push_str("<header>\n<h1>airguard audit report</h1>\n");
    let _ = writeln!(
        s,
        "<p class=\"status {}\">{}</p>",
        if failed { "fail" } else { "pass" },
        if failed {
            "FAILED: findings at or above --fail-on"
        } else {
            "PASSED: no finding at or above --fail-on"
        }
    );
    s.push_str("</header>\n<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"cards\">\n");
    let card = |s: &mut String, class: &str, n: usize, what: &str| {
        let _ = writeln!(
            s,
            "<div class=\"card {class}\"><b>{n}</b><span>{what}</span></div>"
        );
    };
    card(s, "", m.namespaces.len(), "namespaces");
    card(s, "", a.inv.endpoints.len(), "endpoints");
    card(s, "", a.classes.len(), "classes");
    card(s, "", a.policies.len(), "policies");
    card(s, "", r.rows.len(), "allowed class pairs");
    card(s, "error", count(r, Severity::Error), "errors");
    card(s, "warning", count(r, Severity::Warning), "warnings");
    card(s, "note", count(r, Severity::Note), "notes");
    card(s, "", r.findings.suppressed.len(), "suppressed");
    s.push_str("</div>\n");
    let (undeclared, blocked) = r
        .findings
        .active
        .iter()
        .fold((0, 0), |(u, b), d| match d.code {
            crate::diag::Code::UndeclaredFlow => (u + 1, b),
            crate::diag::Code::BlockedDeclaredFlow => (u, b + 1),
            _ => (u, b),
        });
    match spec {
        Some(f) => {
            let ok = undeclared == 0 && blocked == 0;
            let _ = writeln!(
                s,
                "<p id=\"intent\" class=\"intent {}\"><b>Intent ({}):</b> {}</p>",
                if ok { "pass" } else { "fail" },
                esc(r.files.name(f)),
                if ok {
                    String::from("the policies allow exactly the flows the spec declares.")
                } else {
                    format!(
                        "{undeclared} allowed flow(s) the spec does not declare, {blocked} declared flow(s) the policies block."
                    )
                }
            );
        }
        None => s.push_str(
            "<p id=\"intent\" class=\"intent none\"><b>Intent:</b> not checked (no <code>--spec</code>).</p>\n",
        ),
    }
    if !a.inv.skipped.is_empty() {
        let list: Vec<String> = a
            .inv
            .skipped
            .iter()
            .map(|(k, n)| format!("{} {n}", esc(k)))
            .collect();
        let _ = writeln!(
            s,
            "<p class=\"muted\">Skipped kinds: {}.</p>",
            list.join(", ")
        );
    }
    for f in &a.inv.skipped_files {
        let _ = writeln!(s, "<p class=\"muted\">Skipped file: {}</p>", esc(f));
    }
    s.push_str("<p id=\"filter\" class=\"filter\" hidden><label for=\"ns\">Namespace</label> <select id=\"ns\"><option value=\"\">all namespaces</option>");
    for n in &m.namespaces {
        let _ = write!(s, "<option>{}</option>", esc(n));
    }
    s.push_str("</select> <span id=\"shown\"></span></p>\n</section>\n");
}

/// The `--explain` query for the flow an intent finding concerns: the source endpoint, the
/// destination endpoint or the first address of its range, and the first port of its
/// connections (for `All`, the destination's first container port).
fn explain_query(r: &Report<'_>, d: &Diagnostic) -> Option<String> {
    let (src, dst, conns) = intent::flow_of(d)?;
    let is_endpoint = |id: &str| r.analysis.inv.endpoints.iter().any(|e| e.id() == id);
    let first = dst.split(['-', '/']).next().unwrap_or(dst);
    let dst_end = if !is_endpoint(dst) && first.parse::<std::net::IpAddr>().is_ok() {
        first
    } else {
        dst
    };
    let port = if conns == "All" {
        r.analysis
            .inv
            .endpoints
            .iter()
            .find(|e| e.id() == dst)
            .and_then(|e| e.ports.first())
            .map_or(String::from("1/TCP"), |p| {
                format!("{}/{}", p.port, p.protocol.as_str())
            })
    } else {
        let part = conns.split(';').next()?;
        let (proto, ports) = part.split_once(' ')?;
        let lo = ports.split([',', '-']).next()?;
        format!("{lo}/{proto}")
    };
    Some(format!("{src} {dst_end} {port}"))
}

fn finding(r: &Report<'_>, m: &Model, d: &Diagnostic, reason: Option<&str>, s: &mut String) {
    let pos = position(r.files, d);
    let ns = m.namespaces_of(d);
    let _ = write!(
        s,
        "<li class=\"finding {sev}\" data-ns=\"{}\" data-code=\"{}\" data-severity=\"{sev}\"",
        esc(&ns.join(" ")),
        d.code.as_str(),
        sev = d.severity
    );
    if let Some((file, line, _)) = pos {
        let _ = write!(s, " data-file=\"{}\" data-line=\"{line}\"", esc(file));
    }
    let _ = write!(
        s,
        ">\n<div class=\"fh\"><span class=\"sev\">{}</span> <code class=\"code\" title=\"{}\">{}</code>",
        d.severity,
        esc(describe(d.code)),
        d.code.as_str()
    );
    if let Some((file, line, col)) = pos {
        let _ = write!(s, " <span class=\"loc\">{}:{line}:{col}</span>", esc(file));
    }
    let _ = writeln!(s, "</div>\n<p class=\"msg\">{}</p>", esc(&d.message));
    if let Some(p) = d.path.as_deref().filter(|p| !p.is_empty()) {
        let _ = writeln!(s, "<p class=\"path\">at <code>{}</code></p>", esc(p));
    }
    for n in &d.notes {
        let _ = writeln!(s, "<p class=\"note\">{}</p>", esc(n));
    }
    if let Some(h) = &d.help {
        let _ = writeln!(s, "<p class=\"fix\"><b>Fix:</b> {}</p>", esc(h));
    }
    if let Some(reason) = reason {
        let _ = writeln!(
            s,
            "<p class=\"reason\"><b>Suppressed:</b> {}</p>",
            esc(reason)
        );
    }
    if let Some(q) = explain_query(r, d) {
        if let Ok((_, text)) = explain::explain(r.analysis, r.files, &q) {
            let _ = writeln!(
                s,
                "<details class=\"why\"><summary>Why: <code>--explain \"{}\"</code></summary><pre>{}</pre></details>",
                esc(&q),
                esc(&text)
            );
        }
    }
    s.push_str("</li>\n");
}

fn findings(r: &Report<'_>, m: &Model, s: &mut String) {
    if r.findings.active.is_empty() {
        s.push_str("<p class=\"muted\">No findings.</p>\n");
        return;
    }
    s.push_str("<ol id=\"finding-list\" class=\"findings\">\n");
    for d in &r.findings.active {
        finding(r, m, d, None, s);
    }
    s.push_str("</ol>\n");
}

fn suppressed(r: &Report<'_>, m: &Model, s: &mut String) {
    if r.findings.suppressed.is_empty() {
        s.push_str("<p class=\"muted\">No suppressed findings.</p>\n");
        return;
    }
    s.push_str("<ol id=\"suppressed-list\" class=\"findings sup\">\n");
    for x in &r.findings.suppressed {
        finding(r, m, &x.finding, Some(&x.reason), s);
    }
    s.push_str("</ol>\n");
}

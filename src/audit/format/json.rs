//! The JSON report: versioned (`schema_version`), with summary, findings, suppressed findings and
//! the connectivity map. Field order is fixed; arrays are sorted.

use super::{position, Report};
use crate::diag::{Diagnostic, Severity};
use serde::Serialize;
use std::collections::BTreeMap;

/// Version of the audit JSON document. Bump on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Doc<'a> {
    schema_version: u32,
    summary: Summary<'a>,
    findings: Vec<Finding<'a>>,
    suppressed: Vec<Finding<'a>>,
    connections: Vec<Conn<'a>>,
}

#[derive(Serialize)]
struct Summary<'a> {
    endpoints: usize,
    classes: usize,
    namespaces: usize,
    policies: usize,
    skipped: &'a BTreeMap<String, usize>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    skipped_files: &'a [String],
    errors: usize,
    warnings: usize,
    notes: usize,
    failed: bool,
}

#[derive(Serialize)]
struct Finding<'a> {
    code: &'static str,
    severity: Severity,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    notes: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

#[derive(Serialize)]
struct Conn<'a> {
    src: &'a str,
    dst: &'a str,
    conns: String,
}

fn finding<'a>(r: &'a Report<'a>, d: &'a Diagnostic, reason: Option<&'a str>) -> Finding<'a> {
    let pos = position(r.files, d);
    Finding {
        code: d.code.as_str(),
        severity: d.severity,
        message: &d.message,
        file: pos.map(|p| p.0),
        line: pos.map(|p| p.1),
        path: d.path.as_deref(),
        help: d.help.as_deref(),
        notes: &d.notes,
        reason,
    }
}

/// Render the report as pretty JSON with a trailing newline.
pub fn render(r: &Report<'_>) -> String {
    let a = r.analysis;
    let count = |sev| {
        r.findings
            .active
            .iter()
            .filter(|d| d.severity == sev)
            .count()
    };
    let doc = Doc {
        schema_version: SCHEMA_VERSION,
        summary: Summary {
            endpoints: a.inv.endpoints.len(),
            classes: a.classes.len(),
            namespaces: a.inv.namespaces.len(),
            policies: a.policies.len(),
            skipped: &a.inv.skipped,
            skipped_files: &a.inv.skipped_files,
            errors: count(Severity::Error),
            warnings: count(Severity::Warning),
            notes: count(Severity::Note),
            failed: r.findings.active.iter().any(|d| r.fails(d)),
        },
        findings: r
            .findings
            .active
            .iter()
            .map(|d| finding(r, d, None))
            .collect(),
        suppressed: r
            .findings
            .suppressed
            .iter()
            .map(|s| finding(r, &s.finding, Some(&s.reason)))
            .collect(),
        connections: r
            .rows
            .iter()
            .map(|x| Conn {
                src: &x.src,
                dst: &x.dst,
                conns: x.conns.to_string(),
            })
            .collect(),
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("report serializes");
    s.push('\n');
    s
}

//! The JSON report: versioned (`schema_version`), with summary, findings, suppressed findings and
//! the connectivity map. Field order is fixed; arrays are sorted. Findings use the one JSON shape
//! of a diagnostic (`diag::render::JsonDiagnostic`); a suppressed one adds its `reason`.

use super::Report;
use crate::diag::render::JsonDiagnostic;
use crate::diag::Severity;
use serde::Serialize;
use std::collections::BTreeMap;

/// Version of the audit JSON document. Bump on any incompatible change.
/// Version 2: findings take the shape of every JSON diagnostic (adds `column`, `related`).
pub const SCHEMA_VERSION: u32 = 2;

#[derive(Serialize)]
struct Doc<'a> {
    schema_version: u32,
    summary: Summary<'a>,
    findings: Vec<JsonDiagnostic<'a>>,
    suppressed: Vec<JsonDiagnostic<'a>>,
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
struct Conn<'a> {
    src: &'a str,
    dst: &'a str,
    conns: String,
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
            .map(|d| JsonDiagnostic::new(r.files, d))
            .collect(),
        suppressed: r
            .findings
            .suppressed
            .iter()
            .map(|s| JsonDiagnostic::new(r.files, &s.finding).with_reason(&s.reason))
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

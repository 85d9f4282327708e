//! Renderers for diagnostics: human text (codespan) and JSON, both from the same data.
//!
//! [`JsonDiagnostic`] is the one JSON shape of a diagnostic: the diagnostics document of
//! `validate`/`render`/`conform` and the audit's JSON report both serialize it (the audit adds
//! the reason of a suppressed finding). Renderers write into a `String`; they never decide where
//! output goes.

use super::{Diagnostic, Files, Severity};
use codespan_reporting::diagnostic as cs;
use codespan_reporting::term::{self, termcolor};
use serde::Serialize;

/// Version of the JSON diagnostics document. Bump on any incompatible change.
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// Render diagnostics for a human, with source snippets. `color` turns ANSI colours on.
pub fn human(files: &Files, diags: &[Diagnostic], color: bool) -> String {
    let mut buf = if color {
        termcolor::Buffer::ansi()
    } else {
        termcolor::Buffer::no_color()
    };
    let config = term::Config::default();
    for d in diags {
        let _ = term::emit(&mut buf, &config, files, &to_codespan(d));
    }
    String::from_utf8_lossy(buf.as_slice()).into_owned()
}

/// A one-line summary such as `error: 3 errors, 1 warning`.
pub fn summary(diags: &[Diagnostic]) -> String {
    let count = |s| diags.iter().filter(|d| d.severity == s).count();
    let (e, w) = (count(Severity::Error), count(Severity::Warning));
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    format!("{}, {}", plural(e, "error"), plural(w, "warning"))
}

fn to_codespan(d: &Diagnostic) -> cs::Diagnostic<super::FileId> {
    let sev = match d.severity {
        Severity::Error => cs::Severity::Error,
        Severity::Warning => cs::Severity::Warning,
        Severity::Note => cs::Severity::Note,
    };
    let mut out = cs::Diagnostic::new(sev)
        .with_code(d.code.as_str())
        .with_message(&d.message);
    let primary = d
        .label
        .iter()
        .map(|l| cs::Label::primary(l.file, l.range.clone()).with_message(&l.message));
    let secondary = d
        .secondary
        .iter()
        .map(|l| cs::Label::secondary(l.file, l.range.clone()).with_message(&l.message));
    let labels: Vec<_> = primary.chain(secondary).collect();
    if !labels.is_empty() {
        out = out.with_labels(labels);
    }
    let mut notes = Vec::new();
    if let Some(p) = &d.path {
        if d.label.is_none() {
            notes.push(format!("at {p}"));
        }
    }
    notes.extend(d.notes.iter().cloned());
    if let Some(h) = &d.help {
        notes.push(format!("help: {h}"));
    }
    notes.push(format!("help: airguard explain {}", d.code));
    out.with_notes(notes)
}

#[derive(Serialize)]
struct JsonDoc<'a> {
    schema_version: u32,
    summary: JsonSummary,
    diagnostics: Vec<JsonDiagnostic<'a>>,
}

#[derive(Serialize)]
struct JsonSummary {
    errors: usize,
    warnings: usize,
    notes: usize,
}

/// One diagnostic as JSON: position as file, 1-based line and column; optional fields absent
/// when empty.
#[derive(Debug, Serialize)]
pub struct JsonDiagnostic<'a> {
    code: &'static str,
    severity: Severity,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    notes: &'a [String],
    /// Where the code is documented: `docs/diagnostics.md#<code>`.
    docs: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related: Vec<JsonLabel<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

/// A secondary label as JSON.
#[derive(Debug, Serialize)]
struct JsonLabel<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    #[serde(skip_serializing_if = "str::is_empty")]
    message: &'a str,
}

impl<'a> JsonDiagnostic<'a> {
    /// The JSON shape of `d`, located through `files`.
    pub fn new(files: &'a Files, d: &'a Diagnostic) -> Self {
        let pos = d
            .label
            .as_ref()
            .map(|l| (files.name(l.file), files.line_col(l.file, l.range.start)));
        JsonDiagnostic {
            code: d.code.as_str(),
            severity: d.severity,
            message: &d.message,
            file: pos.map(|p| p.0),
            line: pos.map(|p| p.1.line),
            column: pos.map(|p| p.1.column),
            path: d.path.as_deref(),
            help: d.help.as_deref(),
            notes: &d.notes,
            docs: super::docs::anchor(d.code),
            related: d
                .secondary
                .iter()
                .map(|l| {
                    let at = files.line_col(l.file, l.range.start);
                    JsonLabel {
                        file: files.name(l.file),
                        line: at.line,
                        column: at.column,
                        message: &l.message,
                    }
                })
                .collect(),
            reason: None,
        }
    }

    /// Why the finding is suppressed (the audit's suppression annotation).
    pub fn with_reason(mut self, reason: &'a str) -> Self {
        self.reason = Some(reason);
        self
    }
}

/// Render diagnostics as a versioned JSON document (pretty-printed, trailing newline).
pub fn json(files: &Files, diags: &[Diagnostic]) -> String {
    let count = |s| diags.iter().filter(|d| d.severity == s).count();
    let doc = JsonDoc {
        schema_version: JSON_SCHEMA_VERSION,
        summary: JsonSummary {
            errors: count(Severity::Error),
            warnings: count(Severity::Warning),
            notes: count(Severity::Note),
        },
        diagnostics: diags
            .iter()
            .map(|d| JsonDiagnostic::new(files, d))
            .collect(),
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("diagnostics serialize");
    s.push('\n');
    s
}

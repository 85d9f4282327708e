//! Renderers for diagnostics: human text (codespan) and JSON, both from the same data.
//!
//! Renderers write into a `String` or any `io::Write`; they never decide where output goes.

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
    if let Some(l) = &d.label {
        out = out.with_labels(vec![
            cs::Label::primary(l.file, l.range.clone()).with_message(&l.message)
        ]);
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
    diagnostics: Vec<JsonDiag<'a>>,
}

#[derive(Serialize)]
struct JsonSummary {
    errors: usize,
    warnings: usize,
    notes: usize,
}

#[derive(Serialize)]
struct JsonDiag<'a> {
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
            .map(|d| {
                let pos = d
                    .label
                    .as_ref()
                    .map(|l| (files.name(l.file), files.line_col(l.file, l.range.start)));
                JsonDiag {
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
                }
            })
            .collect(),
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("diagnostics serialize");
    s.push('\n');
    s
}

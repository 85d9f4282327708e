//! Diagnostics: the one data type every check in airguard reports through.
//!
//! A [`Diagnostic`] has a stable [`Code`], a [`Severity`], a message saying what is wrong, an
//! optional primary [`Label`] pointing into a source file held by [`Files`], secondary labels for
//! related places ("first defined here"), and a `help` line saying how to fix it. Spec validation, render self-checks and the policy audit all produce diagnostics;
//! [`render`] turns the same data into human text or JSON. This module depends on nothing else in
//! the crate, and everything else may depend on it.

mod code;
pub mod docs;
mod files;
pub mod render;

pub use code::Code;
pub use files::{FileId, Files, LineCol};

use serde::Serialize;
use std::ops::Range;

/// How bad a diagnostic is. Ordered: `Note < Warning < Error`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::Display,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Severity {
    /// Information only; never fails a run.
    Note,
    /// Probably wrong, or weaker than it should be; fails only when asked (`audit --fail-on`).
    Warning,
    /// Wrong; the run fails.
    Error,
}

/// Where in a source file a diagnostic points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// The file, as registered in [`Files`].
    pub file: FileId,
    /// Byte range in the file's text.
    pub range: Range<usize>,
    /// What is at that place, shown under the caret (may be empty).
    pub message: String,
}

/// One finding: what is wrong, where, and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable kebab-case identifier.
    pub code: Code,
    /// Severity (starts as the code's default; overrides may change it).
    pub severity: Severity,
    /// What is wrong, one sentence, lowercase, no trailing period.
    pub message: String,
    /// The primary location, when the problem is in a file.
    pub label: Option<Label>,
    /// Related locations (the first definition of a duplicate, the other end of a conflict),
    /// shown beside the primary one.
    pub secondary: Vec<Label>,
    /// JSON pointer into the document (`/airbyte/egress/0/cidr`), when there is one.
    pub path: Option<String>,
    /// How to fix it.
    pub help: Option<String>,
    /// Extra context lines.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// A diagnostic with the code's default severity and no location.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            severity: code.default_severity(),
            message: message.into(),
            label: None,
            secondary: Vec::new(),
            path: None,
            help: None,
            notes: Vec::new(),
        }
    }

    /// Attach a primary label.
    pub fn with_label(
        mut self,
        file: FileId,
        range: Range<usize>,
        message: impl Into<String>,
    ) -> Self {
        self.label = Some(Label {
            file,
            range,
            message: message.into(),
        });
        self
    }

    /// Add a secondary label: a related place, such as where a duplicate was first defined.
    pub fn with_secondary(
        mut self,
        file: FileId,
        range: Range<usize>,
        message: impl Into<String>,
    ) -> Self {
        self.secondary.push(Label {
            file,
            range,
            message: message.into(),
        });
        self
    }

    /// Attach the JSON pointer of the offending value.
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Say how to fix it.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Add a note line.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Override the severity.
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// Whether this diagnostic fails the run.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Whether any diagnostic in the slice is an error.
pub fn has_errors(diags: &[Diagnostic]) -> bool {
    diags.iter().any(Diagnostic::is_error)
}

/// Sort diagnostics into a stable order: by file, then position, then code, then message.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        let key = |d: &Diagnostic| {
            (
                d.label.as_ref().map(|l| (l.file, l.range.start)),
                d.code as u16,
                d.message.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
}

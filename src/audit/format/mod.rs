//! Output formats of the audit: the connectivity map (csv, text, json, dot) and findings (text,
//! json, sarif, junit); html shows both on one page. Every renderer returns a `String`, sorted
//! and deterministic; none prints.

pub mod csv;
pub mod dot;
pub mod html;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod text;

use super::findings::Findings;
use super::{Analysis, Row};
use crate::diag::{Code, Diagnostic, FileId, Files, Severity};
use crate::text::{same_width, visible};

/// Everything a renderer may show.
pub struct Report<'r> {
    /// The analysis.
    pub analysis: &'r Analysis<'r>,
    /// The source files, for locations.
    pub files: &'r Files,
    /// The findings.
    pub findings: &'r Findings,
    /// The endpoint-level map.
    pub rows: &'r [Row],
    /// The lowest severity that fails the run (`None`: never).
    pub fail_on: Option<Severity>,
}

impl Report<'_> {
    /// Whether a finding fails the run.
    pub fn fails(&self, d: &Diagnostic) -> bool {
        self.fail_on.is_some_and(|s| d.severity >= s)
    }
}

/// The codes findings can carry, in documentation order (the "rules" of SARIF and JUnit).
pub const FINDING_CODES: &[Code] = &[
    Code::PodNotIsolatedIngress,
    Code::PodNotIsolatedEgress,
    Code::NamespaceWithoutDefaultDeny,
    Code::AllowAllRule,
    Code::InternetEgress,
    Code::AllNamespacesSelector,
    Code::SelectorMatchesNothing,
    Code::PeerMatchesNothing,
    Code::EgressWithoutDns,
    Code::RedundantRule,
    Code::RedundantPolicy,
    Code::NamedPortUnresolved,
    Code::UndeclaredFlow,
    Code::BlockedDeclaredFlow,
];

/// A one-line description of a finding code (the first sentence of its documentation).
pub fn describe(code: Code) -> &'static str {
    match code {
        Code::PodNotIsolatedIngress => "An endpoint that no NetworkPolicy selects for ingress.",
        Code::PodNotIsolatedEgress => "An endpoint that no NetworkPolicy selects for egress.",
        Code::NamespaceWithoutDefaultDeny => {
            "A namespace without a default-deny policy for ingress or egress."
        }
        Code::AllowAllRule => "A rule with no peers and no ports: it allows everything.",
        Code::InternetEgress => "An egress ipBlock of 0.0.0.0/0 or ::/0.",
        Code::AllNamespacesSelector => "A peer with namespaceSelector: {} (every namespace).",
        Code::SelectorMatchesNothing => "A policy whose podSelector matches no endpoint.",
        Code::PeerMatchesNothing => "A peer whose selectors match no endpoint.",
        Code::EgressWithoutDns => "An endpoint isolated for egress that cannot reach DNS.",
        Code::RedundantRule => "A rule that allows nothing other rules do not already allow.",
        Code::RedundantPolicy => "A policy whose removal changes no connection.",
        Code::NamedPortUnresolved => "A named port that no destination container defines.",
        Code::UndeclaredFlow => "A connection the policies allow that the spec does not declare.",
        Code::BlockedDeclaredFlow => "A connection the spec declares that the policies block.",
        Code::ExportUnmaskedSecret => {
            "A credential the API returned in the clear (masked in the export)."
        }
        Code::ExportDuplicateName => "Objects whose names give the same file name.",
        Code::ExportConnectionMissing => {
            "A connection the spec names that does not exist in Airbyte."
        }
        Code::ExportConnectionInactive => {
            "A connection the spec names that is not active in Airbyte."
        }
        Code::ExportDoubleSchedule => "A connection a pipeline syncs that Airbyte also schedules.",
        Code::ExportUnmanagedConnection => "A connection in Airbyte that no spec names.",
        Code::ExportNeedlessReset => "A reset of a connection whose streams all overwrite.",
        _ => "An input problem.",
    }
}

/// 1-based line and column of a diagnostic's label, with the file name.
pub fn position<'f>(files: &'f Files, d: &Diagnostic) -> Option<(&'f str, usize, usize)> {
    d.label.as_ref().map(|l| {
        let at = files.line_col(l.file, l.range.start);
        (files.name(l.file), at.line, at.column)
    })
}

/// Copies of the files and diagnostics that are safe to print on a terminal: control characters
/// from the inputs become visible `\u{..}` escapes in messages and file names, and same-width
/// placeholders in source text (so every label still points at the same bytes).
pub fn terminal_safe(files: &Files, diags: &[Diagnostic]) -> (Files, Vec<Diagnostic>) {
    let used = diags
        .iter()
        .flat_map(|d| d.label.iter().chain(&d.secondary))
        .map(|l| l.file.0 + 1)
        .max()
        .unwrap_or(0);
    let mut safe = Files::new();
    for i in 0..used {
        let id = FileId(i);
        safe.add(visible(files.name(id)), same_width(files.source(id)));
    }
    let diags = diags
        .iter()
        .map(|d| {
            let mut d = d.clone();
            d.message = visible(&d.message).into_owned();
            d.help = d.help.map(|h| visible(&h).into_owned());
            d.notes = d.notes.iter().map(|n| visible(n).into_owned()).collect();
            for l in d.label.iter_mut().chain(&mut d.secondary) {
                l.message = visible(&l.message).into_owned();
            }
            d
        })
        .collect();
    (safe, diags)
}

//! `airguard export`: Airbyte's configuration as reviewable files, and its drift from the spec.
//!
//! [`fetch`] reads every workspace, source, destination and connection through the public API
//! with the conform client (its credentials, retries, timeouts, size cap and redaction), paging
//! each list to its end and refusing one that never ends. [`files`] turns what it read into one
//! deterministic YAML file per object plus an index, with secrets masked ([`mask`]): the server's
//! `**********` is kept, and a value under a key that names a credential is masked too and noted.
//! [`findings`] compares the export with a spec. Writing and `--check` go through
//! [`crate::output`] like `render`. This module never prints, never writes and never formats a
//! secret value: only the places of the secrets it masked.

pub mod fetch;
pub mod files;
pub mod findings;
pub mod mask;
pub mod source;

use crate::conform::client::Client;
use crate::diag::{Code, Diagnostic};
use crate::render::Artifact;

/// Why an export could not be made (exit 2; nothing is written).
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A request failed (unreachable API, 403, 5xx after retries, invalid JSON…).
    #[error("cannot read {what}: {message}")]
    Api {
        /// What was being read.
        what: String,
        /// The client's sanitized account of the failure.
        message: String,
        /// The HTTP status, when the server answered with one.
        status: Option<u16>,
    },
    /// A list kept announcing more pages.
    #[error("the list of {resource} never ends: {reason}")]
    EndlessList {
        /// The list.
        resource: String,
        /// How it was noticed.
        reason: String,
    },
    /// A list answer does not have the shape of the API's list responses.
    #[error("the list of {resource} is not a valid list response: {problem}")]
    InvalidList {
        /// The list.
        resource: String,
        /// What is wrong.
        problem: String,
    },
}

impl ExportError {
    /// The error as a diagnostic with a stable code.
    pub fn diagnostic(&self) -> Diagnostic {
        let text = crate::text::escape_control(&self.to_string()).into_owned();
        match self {
            ExportError::Api { status: Some(403), .. } => Diagnostic::new(Code::ExportApiError, text)
                .with_help("the credentials lack access to this workspace: grant it, or use credentials of a user who may read every workspace"),
            ExportError::Api { .. } => Diagnostic::new(Code::ExportApiError, text)
                .with_help("check --api-url, the credentials in the environment and that Airbyte is up; nothing was written"),
            ExportError::EndlessList { .. } => Diagnostic::new(Code::ExportEndlessList, text)
                .with_help("the server's paging is broken (each page must move `offset` forward); nothing was written"),
            ExportError::InvalidList { .. } => Diagnostic::new(Code::ExportApiError, text)
                .with_help("the server does not answer like Airbyte's public API; nothing was written"),
        }
    }
}

/// A finished export: the files, what was noted on the way, and what it cost.
#[derive(Debug, Default)]
pub struct Export {
    /// Every file, sorted by path.
    pub artifacts: Vec<Artifact>,
    /// Masked secrets, renamed files and, with a spec, its findings; sorted.
    pub findings: Vec<Diagnostic>,
    /// Objects exported by kind.
    pub counts: std::collections::BTreeMap<&'static str, usize>,
    /// List requests sent.
    pub pages: u64,
}

/// Read Airbyte through `client` and build the export; with `model`, add its findings.
pub async fn export(
    client: &Client,
    model: Option<&crate::spec::Model>,
) -> Result<Export, ExportError> {
    let snap = fetch::snapshot(client).await?;
    let f = files::files(&snap)?;
    let mut findings = f.notes;
    if let Some(model) = model {
        findings.extend(findings::check(model, &snap));
    }
    crate::diag::sort(&mut findings);
    Ok(Export {
        artifacts: f.artifacts,
        findings,
        counts: f.counts,
        pages: snap.pages,
    })
}

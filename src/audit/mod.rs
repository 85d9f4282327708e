//! `airguard audit`: NetworkPolicy connectivity, least-privilege findings and explanations.
//!
//! The pipeline is [`inventory`] (read manifests with locations) → [`policy`] (compile policies
//! with API defaults and validation) → [`engine`] (class-level connectivity with exact Kubernetes
//! semantics) → [`findings`] and [`explain`] → [`format`] (csv, text, json, dot, sarif, junit, html).
//! Everything but [`inventory::load_paths`] is pure: no IO, no clock, deterministic output.
//! [`Input::read`] and [`Input::analyze`] are the use case `airguard audit` calls: manifests and
//! an optional spec in, input diagnostics or an [`Audit`] (analysis, explanations, findings
//! with the spec's intent) out. This module never prints; the CLI decides where output goes.

pub mod engine;
pub mod explain;
pub mod findings;
pub mod format;
pub mod intent;
pub mod intervals;
pub mod inventory;
pub mod names;
pub mod policy;
pub mod selector;
pub mod synth;

pub use engine::{Analysis, Row};
pub use inventory::Inventory;

use crate::diag::{Diagnostic, Files};
use crate::spec::Document;
use crate::topology::Topology;
use camino::{Utf8Path, Utf8PathBuf};

/// Read manifests from files and directories. Returns the inventory and every input problem.
pub fn load(files: &mut Files, paths: &[Utf8PathBuf]) -> (Inventory, Vec<Diagnostic>) {
    inventory::load_paths(files, paths)
}

/// Read manifests from one text (for tests and tools).
pub fn load_text(files: &mut Files, name: &str, text: &str) -> (Inventory, Vec<Diagnostic>) {
    let mut inv = Inventory::default();
    let mut diags = Vec::new();
    inventory::load_str(files, &mut inv, &mut diags, name, text);
    (inv, diags)
}

/// Compile the inventory's policies and compute connectivity. Policies the API server would
/// reject are reported in the returned diagnostics and left out.
pub fn analyze(inv: &Inventory) -> (Analysis<'_>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let policies = inv
        .policies
        .iter()
        .enumerate()
        .filter_map(|(i, p)| policy::compile(i, p, &mut diags))
        .collect();
    (Analysis::new(inv, policies), diags)
}

/// The spec side of an audit (`--spec`): its topology, and the document that locates its flows.
pub struct Intent {
    /// The spec's endpoints and declared flows.
    pub topology: Topology,
    /// The spec's document.
    pub document: Document,
}

/// Everything an audit reads: the manifests, and the spec's endpoints when a spec is given.
pub struct Input {
    /// The source files (manifests and spec), for locations.
    pub files: Files,
    /// The manifests' inventory, plus one endpoint per spec component.
    pub inventory: Inventory,
    /// The spec's intent, when a valid spec was given.
    pub intent: Option<Intent>,
    /// Every problem found while reading.
    pub diagnostics: Vec<Diagnostic>,
}

/// An analysed input: connectivity, explanations and findings.
pub struct Audit<'i> {
    /// The analysis.
    pub analysis: Analysis<'i>,
    input: &'i Input,
}

impl Input {
    /// Read manifests from `paths` and, with `spec`, the spec (through [`crate::spec::load`]),
    /// adding one endpoint per component it deploys. Never stops at the first problem.
    pub fn read(paths: &[Utf8PathBuf], spec: Option<&Utf8Path>) -> Self {
        let mut files = Files::new();
        let (mut inventory, mut diagnostics) = load(&mut files, paths);
        let mut intent = None;
        if let Some(path) = spec {
            let (spec, diags) = crate::spec::load(&mut files, path);
            diagnostics.extend(diags);
            if let Some(spec) = spec {
                let topology = Topology::from_model(&spec.model);
                let loc = inventory::Loc {
                    file: spec.document.file,
                    offset: 0,
                };
                intent::add_endpoints(&mut inventory, &topology, loc);
                intent = Some(Intent {
                    topology,
                    document: spec.document,
                });
            }
        }
        Self {
            files,
            inventory,
            intent,
            diagnostics,
        }
    }

    /// Compile the policies and compute connectivity. When anything read or compiled is an
    /// error, returns every diagnostic instead, sorted.
    pub fn analyze(&self) -> Result<Audit<'_>, Vec<Diagnostic>> {
        let (analysis, more) = analyze(&self.inventory);
        if crate::diag::has_errors(&self.diagnostics) || crate::diag::has_errors(&more) {
            let mut diags: Vec<Diagnostic> = self.diagnostics.iter().cloned().chain(more).collect();
            crate::diag::sort(&mut diags);
            return Err(diags);
        }
        Ok(Audit {
            analysis,
            input: self,
        })
    }
}

impl Audit<'_> {
    /// Why one flow (`"SRC DST PORT/PROTO"`) is allowed (`true`) or denied, as text.
    pub fn explain(&self, query: &str) -> Result<(bool, String), explain::ExplainError> {
        explain::explain(&self.analysis, &self.input.files, query)
    }

    /// The findings, with the spec's undeclared and blocked flows when a spec was given.
    pub fn findings(&self) -> findings::Findings {
        let mut out = findings::findings(&self.analysis);
        if let Some(i) = &self.input.intent {
            out.active.extend(intent::check(
                &self.analysis,
                &i.topology,
                i.document.file,
                Some(&i.document),
            ));
            crate::diag::sort(&mut out.active);
        }
        out
    }
}

//! `airguard audit`: NetworkPolicy connectivity, least-privilege findings and explanations.
//!
//! The pipeline is [`inventory`] (read manifests with locations) → [`policy`] (compile policies
//! with API defaults and validation) → [`engine`] (class-level connectivity with exact Kubernetes
//! semantics) → [`findings`] and [`explain`] → [`format`] (csv, text, json, dot, sarif, junit, html).
//! Everything but [`inventory::load_paths`] is pure: no IO, no clock, deterministic output.
//! This module never prints; the CLI decides where output goes.

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
use camino::Utf8PathBuf;

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

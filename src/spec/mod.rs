//! The spec: loading `airguard.yaml`, checking it, and the validated [`Model`].
//!
//! Loading has two phases. [`load`] reads the file, parses YAML with locations, and checks the
//! document against the spec's closed JSON Schema; [`validate`] then applies the semantic rules
//! and builds the [`Model`]. Both collect every diagnostic instead of stopping at the first.
//! This module knows nothing of templates, Kubernetes types or HTTP.

pub mod load;
pub mod model;
pub mod raw;
pub mod reference;
pub mod schema;
pub mod validate;
mod yaml;

pub use load::{load_bytes, load_file, load_str, Loaded};
pub use model::Model;
pub use yaml::{Document, Node};

use crate::diag::{Diagnostic, Files};

/// Load and validate a spec from text. Returns the model if there were no errors, and every
/// diagnostic found either way.
pub fn from_str(files: &mut Files, name: &str, text: &str) -> (Option<Model>, Vec<Diagnostic>) {
    let loaded = load_str(files, name, text);
    finish(loaded)
}

/// Load and validate a spec from raw bytes (what `from_file` reads); bytes that are not UTF-8
/// give a located diagnostic.
pub fn from_bytes(files: &mut Files, name: &str, bytes: &[u8]) -> (Option<Model>, Vec<Diagnostic>) {
    let loaded = load_bytes(files, name, bytes);
    finish(loaded)
}

/// Load and validate a spec file.
pub fn from_file(files: &mut Files, path: &camino::Utf8Path) -> (Option<Model>, Vec<Diagnostic>) {
    let loaded = load_file(files, path);
    finish(loaded)
}

fn finish(loaded: Loaded) -> (Option<Model>, Vec<Diagnostic>) {
    let mut diags = loaded.diagnostics;
    let model = match (loaded.raw, loaded.document) {
        (Some(raw), Some(doc)) => validate::validate(&raw, &doc, &mut diags),
        _ => None,
    };
    crate::diag::sort(&mut diags);
    let model = if crate::diag::has_errors(&diags) {
        None
    } else {
        model
    };
    (model, diags)
}

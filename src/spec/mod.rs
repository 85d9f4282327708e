//! The spec: loading `airguard.yaml`, checking it, and the validated [`Model`].
//!
//! Loading has two phases. [`load()`] (the entry point commands use) runs both: [`load_file`]
//! reads the file, parses YAML with locations, and checks the
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

/// A validated spec and the document it was read from (which locates the JSON pointers the
/// model's values keep, e.g. for the audit's `--spec` findings).
#[derive(Debug)]
pub struct Spec {
    /// The validated model.
    pub model: Model,
    /// The parsed document, with its pointer → source range index.
    pub document: Document,
}

/// Load and validate a spec file: the one entry point of every command that reads a spec.
/// Returns the spec if there were no errors, and every diagnostic found either way (sorted).
pub fn load(files: &mut Files, path: &camino::Utf8Path) -> (Option<Spec>, Vec<Diagnostic>) {
    finish(load_file(files, path))
}

/// Load and validate a spec from text. Returns the model if there were no errors, and every
/// diagnostic found either way.
pub fn from_str(files: &mut Files, name: &str, text: &str) -> (Option<Model>, Vec<Diagnostic>) {
    model_of(finish(load_str(files, name, text)))
}

/// Load and validate a spec from raw bytes (what [`load`] reads); bytes that are not UTF-8
/// give a located diagnostic.
pub fn from_bytes(files: &mut Files, name: &str, bytes: &[u8]) -> (Option<Model>, Vec<Diagnostic>) {
    model_of(finish(load_bytes(files, name, bytes)))
}

/// Load and validate a spec file, keeping only the model (see [`load`]).
pub fn from_file(files: &mut Files, path: &camino::Utf8Path) -> (Option<Model>, Vec<Diagnostic>) {
    model_of(load(files, path))
}

fn model_of((spec, diags): (Option<Spec>, Vec<Diagnostic>)) -> (Option<Model>, Vec<Diagnostic>) {
    (spec.map(|s| s.model), diags)
}

fn finish(loaded: Loaded) -> (Option<Spec>, Vec<Diagnostic>) {
    let mut diags = loaded.diagnostics;
    let spec = match (loaded.raw, loaded.document) {
        (Some(raw), Some(document)) => {
            validate::validate(&raw, &document, &mut diags).map(|model| Spec { model, document })
        }
        _ => None,
    };
    crate::diag::sort(&mut diags);
    let spec = if crate::diag::has_errors(&diags) {
        None
    } else {
        spec
    };
    (spec, diags)
}

//! Phase two of spec loading: semantic rules, raw spec → [`Model`].
//!
//! Every rule pushes diagnostics and carries on; nothing here returns early on the first
//! problem. The model is returned even when some diagnostics are errors (callers decide), but
//! callers must not render from a model whose diagnostics contain errors.

use super::model::Model;
use super::raw::RawSpec;
use super::yaml::Document;
use crate::diag::Diagnostic;

/// Validate a raw spec into a model, pushing every problem into `diags`.
pub fn validate(_raw: &RawSpec, _doc: &Document, _diags: &mut Vec<Diagnostic>) -> Option<Model> {
    None
}

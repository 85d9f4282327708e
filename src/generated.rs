//! The files generated from the code and committed: the one list `cargo xtask codegen` writes
//! and the `generated` tests check for freshness.
//!
//! Pure: each entry is a path relative to the repository root and the text it must hold. The
//! diagnostics reference reads `src/diag/code.rs` at compile time, so nothing here touches the
//! filesystem.

/// Every generated file: (path relative to the repository root, its expected content).
pub fn files() -> Vec<(&'static str, String)> {
    vec![
        (
            "schemas/airguard.schema.json",
            crate::spec::schema::json_schema_text(),
        ),
        (
            "docs/diagnostics.md",
            crate::diag::docs::markdown(include_str!("diag/code.rs")),
        ),
        ("docs/reference.md", crate::spec::reference::markdown()),
    ]
}

//! Shared helpers for integration tests.

#![allow(dead_code)]

use std::path::PathBuf;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A path under `fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    root().join("fixtures").join(rel)
}

/// A path under the read-only `shared/reference/` oracles: `../shared/reference/` from the
/// repository root, or the nearest ancestor's `shared/reference/` (for git worktrees nested
/// deeper than the main checkout).
pub fn reference(rel: &str) -> PathBuf {
    let root = root();
    let base = root
        .ancestors()
        .skip(1)
        .map(|a| a.join("shared").join("reference"))
        .find(|p| p.is_dir())
        .unwrap_or_else(|| root.join("..").join("shared").join("reference"));
    base.join(rel)
}

/// A command for the `airguard` binary built for these tests.
pub fn airguard() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("airguard").expect("binary builds")
}

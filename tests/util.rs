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

/// A path under `schemas/upstream/`: unmodified copies of upstream files (schemas, API
/// descriptions, CRDs) that tests use as oracles. `schemas/upstream/SOURCE.md` says where each
/// came from; `upstream::vendored_files_match_source_md` checks their bytes.
pub fn upstream(rel: &str) -> PathBuf {
    root().join("schemas").join("upstream").join(rel)
}

/// A command for the `airguard` binary built for these tests.
pub fn airguard() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("airguard").expect("binary builds")
}

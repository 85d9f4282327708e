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

/// A path under the read-only `../shared/reference/` oracles.
pub fn reference(rel: &str) -> PathBuf {
    root().join("..").join("shared").join("reference").join(rel)
}

/// A command for the `airguard` binary built for these tests.
pub fn airguard() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("airguard").expect("binary builds")
}

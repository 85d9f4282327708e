//! `cargo xtask tidy`: the house rules, which live in the test suite (`tests/tidy.rs`).
//!
//! This runs that test (`cargo test --test integration tidy`), so the rules have one home and
//! each one is itself tested on small made-up files.

use anyhow::{bail, Result};
use std::path::Path;

/// Run the tidy tests; fail when any rule is broken.
pub fn run(root: &Path) -> Result<()> {
    let status = std::process::Command::new(env!("CARGO"))
        .args(["test", "--quiet", "--test", "integration", "--", "tidy"])
        .current_dir(root)
        .status()?;
    if !status.success() {
        bail!("tidy failed (see the test output above)");
    }
    Ok(())
}

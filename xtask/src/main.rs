//! xtask: project chores that are not plain `cargo` — codegen, tidy checks, benchmarks.
//!
//! Run as `cargo xtask <task>`. Generated files are committed; tests fail when they are stale.

mod bench_audit;
mod bench_conform;
mod bench_dags;
mod bench_export;
mod bench_mock;
mod bench_netpol;
mod bench_render;
mod tidy;

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("codegen") => codegen(args.get(1).map(String::as_str) == Some("--check")),
        Some("tidy") => tidy::run(&root()),
        Some("bench") => bench(&args[1..]),
        _ => bail!(
            "usage: cargo xtask <codegen [--check] | tidy | bench <render|netpol|conform|audit|mock|dags|export>>"
        ),
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is in the workspace")
        .to_path_buf()
}

/// Regenerate (or with `--check`, verify) every generated file.
fn codegen(check: bool) -> Result<()> {
    let root = root();
    let files = airguard::generated::files();
    let mut stale = Vec::new();
    for (rel, content) in files {
        let path = root.join(rel);
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current == content {
            continue;
        }
        if check {
            stale.push(rel);
        } else {
            std::fs::create_dir_all(path.parent().expect("has parent"))?;
            std::fs::write(&path, content).with_context(|| format!("writing {rel}"))?;
            eprintln!("updated {rel}");
        }
    }
    if !stale.is_empty() {
        bail!(
            "stale generated files: {}; run `cargo xtask codegen`",
            stale.join(", ")
        );
    }
    Ok(())
}

fn bench(args: &[String]) -> Result<()> {
    // Benchmarks measure optimised code: re-run this xtask as a release build when needed.
    if cfg!(debug_assertions) {
        let status = std::process::Command::new(env!("CARGO"))
            .args([
                "run",
                "--quiet",
                "--release",
                "--package",
                "xtask",
                "--",
                "bench",
            ])
            .args(args)
            .current_dir(root())
            .status()?;
        if !status.success() {
            bail!("benchmark failed");
        }
        return Ok(());
    }
    match args.first().map(String::as_str) {
        Some("mock") => bench_mock::run(&args[1..]),
        Some("render") => bench_render::run(&args[1..]),
        Some("audit") => bench_audit::run(&args[1..]),
        Some("netpol") => bench_netpol::run(&args[1..]),
        Some("conform") => bench_conform::run(&args[1..]),
        Some("dags") => bench_dags::run(&args[1..]),
        Some("export") => bench_export::run(&args[1..]),
        _ => bail!("usage: cargo xtask bench <render|netpol|conform|audit|mock|dags|export>"),
    }
}

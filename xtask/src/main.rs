//! xtask: project chores that are not plain `cargo` — codegen, tidy checks, benchmarks.
//!
//! Run as `cargo xtask <task>`. Each task lives in its own module.

use anyhow::{bail, Result};

mod bench_mock;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("bench") => bench(&args[1..]),
        _ => bail!("usage: cargo xtask <codegen|tidy|bench [render|conform|audit]>"),
    }
}

fn bench(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("mock") => bench_mock::run(&args[1..]),
        _ => bail!("usage: cargo xtask bench <render|conform|audit|mock>"),
    }
}

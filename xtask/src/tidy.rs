//! `cargo xtask tidy`: house rules no compiler checks.
//!
//! Every Rust module starts with a `//!` paragraph; only `src/output.rs` and xtask print to
//! stdout/stderr directly.

use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

/// Check the rules; fail listing every violation.
pub fn run(root: &Path) -> Result<()> {
    let mut problems = Vec::new();
    for dir in ["src", "xtask/src"] {
        for file in rust_files(&root.join(dir)) {
            let text = std::fs::read_to_string(&file)?;
            let rel = file
                .strip_prefix(root)
                .unwrap_or(&file)
                .display()
                .to_string();
            if !text.trim_start().starts_with("//!") {
                problems.push(format!("{rel}: does not start with a `//!` module doc"));
            }
            let may_print = rel == "src/output.rs" || rel.starts_with("xtask/");
            if !may_print {
                for (i, line) in text.lines().enumerate() {
                    let t = line.trim_start();
                    if !t.starts_with("//")
                        && (t.contains("println!(")
                            || t.contains("eprintln!(")
                            || t.contains("dbg!("))
                    {
                        problems.push(format!(
                            "{rel}:{}: prints directly; use crate::output",
                            i + 1
                        ));
                    }
                }
            }
        }
    }
    if !problems.is_empty() {
        bail!(
            "tidy found {} problem(s):\n{}",
            problems.len(),
            problems.join("\n")
        );
    }
    eprintln!("tidy: ok");
    Ok(())
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

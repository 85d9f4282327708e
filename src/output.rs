//! The only place that writes: stdout/stderr printing, atomic directory writes, and drift checks.
//!
//! [`write_atomic`] writes a complete set of artifacts into a temporary directory beside the
//! target and swaps it in with renames, so a failure leaves the target as it was.
//! [`check`] compares artifacts with a directory and produces unified diffs of every drift.

use crate::render::Artifact;
use camino::{Utf8Path, Utf8PathBuf};
use std::collections::BTreeSet;
use std::io::Write;

/// Errors while writing output.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// A filesystem operation failed.
    #[error("cannot {action} `{path}`")]
    Io {
        /// What was attempted.
        action: &'static str,
        /// On which path.
        path: Utf8PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The target exists and is not a directory.
    #[error("`{0}` exists and is not a directory")]
    NotADirectory(Utf8PathBuf),
}

fn io<'a>(
    action: &'static str,
    path: &'a Utf8Path,
) -> impl FnOnce(std::io::Error) -> OutputError + 'a {
    move |source| OutputError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

/// Print to stdout, ignoring a closed pipe (`airguard render --stdout | head`).
pub fn print(s: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(s.as_bytes());
    let _ = out.flush();
}

/// Print to stderr.
pub fn eprint(s: &str) {
    let mut out = std::io::stderr().lock();
    let _ = out.write_all(s.as_bytes());
    let _ = out.flush();
}

/// Write `artifacts` as the complete content of `dir`, atomically.
///
/// Everything is written to a fresh temporary directory next to `dir`; then `dir` (if present)
/// is moved aside, the new directory renamed into place, and the old one removed. Files in `dir`
/// that airguard did not write are not kept: `dir` is airguard's output directory.
pub fn write_atomic(dir: &Utf8Path, artifacts: &[Artifact]) -> Result<(), OutputError> {
    if dir.exists() && !dir.is_dir() {
        return Err(OutputError::NotADirectory(dir.to_owned()));
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_str().is_empty() => p.to_owned(),
        _ => Utf8PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(io("create directory", &parent))?;
    let name = dir.file_name().unwrap_or("out");
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.airguard-"))
        .tempdir_in(&parent)
        .map_err(io("create a temporary directory in", &parent))?;
    let tmp_path = Utf8Path::from_path(tmp.path())
        .expect("temp path is UTF-8")
        .to_owned();
    for a in artifacts {
        let path = tmp_path.join(&a.path);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).map_err(io("create directory", p))?;
        }
        std::fs::write(&path, a.content.as_bytes()).map_err(io("write", &path))?;
    }
    let staged = tmp.keep();
    let staged = Utf8PathBuf::from_path_buf(staged).expect("temp path is UTF-8");
    if dir.exists() {
        let old = parent.join(format!(".{name}.airguard-old-{}", std::process::id()));
        std::fs::rename(dir, &old).map_err(io("move aside", dir))?;
        if let Err(e) = std::fs::rename(&staged, dir) {
            let _ = std::fs::rename(&old, dir);
            let _ = std::fs::remove_dir_all(&staged);
            return Err(io("replace", dir)(e));
        }
        let _ = std::fs::remove_dir_all(&old);
    } else if let Err(e) = std::fs::rename(&staged, dir) {
        let _ = std::fs::remove_dir_all(&staged);
        return Err(io("create", dir)(e));
    }
    Ok(())
}

/// One difference between rendered artifacts and a directory.
#[derive(Debug, PartialEq, Eq)]
pub enum Drift {
    /// Rendered but absent on disk.
    Missing(String),
    /// Present on both sides with different content; carries a unified diff.
    Changed(String, String),
    /// On disk but not rendered.
    Extra(String),
}

/// Compare artifacts with the files under `dir`. Returns every drift, sorted by path.
pub fn check(dir: &Utf8Path, artifacts: &[Artifact]) -> Result<Vec<Drift>, OutputError> {
    let mut drift = Vec::new();
    let mut on_disk = BTreeSet::new();
    if dir.is_dir() {
        collect_files(dir, dir, &mut on_disk)?;
    }
    let rendered: BTreeSet<&str> = artifacts.iter().map(|a| a.path.as_str()).collect();
    for a in artifacts {
        let path = dir.join(&a.path);
        if !on_disk.contains(&a.path) {
            drift.push(Drift::Missing(a.path.clone()));
            continue;
        }
        let current = std::fs::read(&path).map_err(io("read", &path))?;
        let current = String::from_utf8_lossy(&current);
        if current != a.content {
            let diff = similar::TextDiff::from_lines(current.as_ref(), a.content.as_str())
                .unified_diff()
                .context_radius(3)
                .header(&format!("a/{}", a.path), &format!("b/{}", a.path))
                .to_string();
            drift.push(Drift::Changed(a.path.clone(), diff));
        }
    }
    for p in &on_disk {
        if !rendered.contains(p.as_str()) {
            drift.push(Drift::Extra(p.clone()));
        }
    }
    drift.sort_by(|a, b| drift_path(a).cmp(drift_path(b)));
    Ok(drift)
}

fn drift_path(d: &Drift) -> &str {
    match d {
        Drift::Missing(p) | Drift::Changed(p, _) | Drift::Extra(p) => p,
    }
}

fn collect_files(
    root: &Utf8Path,
    dir: &Utf8Path,
    out: &mut BTreeSet<String>,
) -> Result<(), OutputError> {
    for entry in dir.read_dir_utf8().map_err(io("read directory", dir))? {
        let entry = entry.map_err(io("read directory", dir))?;
        let path = entry.path();
        if path.is_dir() {
            collect_files(root, path, out)?;
        } else {
            let rel = path.strip_prefix(root).expect("under root");
            out.insert(rel.as_str().replace('\\', "/"));
        }
    }
    Ok(())
}

/// Human report of drift: unified diffs, then a summary line.
pub fn drift_report(drift: &[Drift]) -> String {
    let mut s = String::new();
    for d in drift {
        match d {
            Drift::Missing(p) => s.push_str(&format!("missing: {p} (rendered, not on disk)\n")),
            Drift::Extra(p) => s.push_str(&format!("extra: {p} (on disk, not rendered)\n")),
            Drift::Changed(p, diff) => {
                s.push_str(&format!("changed: {p}\n"));
                s.push_str(diff);
            }
        }
    }
    s
}

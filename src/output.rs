//! The only place that writes: stdout/stderr printing, atomic directory writes, and drift checks.
//!
//! [`write_atomic`] writes a complete set of artifacts into a staging directory beside the
//! target, syncs it to disk and swaps it in (one atomic exchange where the platform has one), so a
//! failure or a kill at any point leaves the old or the new output, and the next run removes what
//! a killed run left behind. [`check`] compares artifacts with a directory without following
//! symbolic links and produces unified diffs of every drift. Every [`OutputError`] has the stable
//! code `output-error` ([`OutputError::diagnostic`]).

use crate::diag::{Code, Diagnostic};
use crate::render::Artifact;
use camino::{Utf8Path, Utf8PathBuf};
use std::collections::{BTreeMap, BTreeSet};
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
    #[error("`{0}` exists and is not a directory; pass a directory for airguard's output")]
    NotADirectory(Utf8PathBuf),
    /// The target holds files airguard did not write (it would replace them).
    #[error(
        "`{0}` is not empty and was not written by airguard (no generated kustomization.yaml); \
         choose a new or empty directory, or pass --force to replace its content"
    )]
    NotOurs(Utf8PathBuf),
    /// Like [`OutputError::NotOurs`], for an output marked by another file (`export`'s index).
    #[error(
        "`{dir}` is not empty and was not written by airguard (no generated {marker}); \
         choose a new or empty directory, or pass --force to replace its content"
    )]
    NotOursMarked {
        /// The directory.
        dir: Utf8PathBuf,
        /// The marker file it lacks.
        marker: &'static str,
    },
    /// The target is the current directory, a parent of it, or holds the spec.
    #[error("refusing to use `{dir}` as the output directory: it contains {what}; use a subdirectory such as `manifests`")]
    Unsafe {
        /// The directory.
        dir: Utf8PathBuf,
        /// What it contains.
        what: String,
    },
    /// The output path is a symbolic link: airguard neither writes through it nor replaces it.
    #[error(
        "`{0}` is a symbolic link; airguard does not write or check through links: pass the \
         directory it points to, or a new path"
    )]
    Symlink(Utf8PathBuf),
}

impl OutputError {
    /// The error as a diagnostic with the stable code `output-error`; the message carries the
    /// cause.
    pub fn diagnostic(&self) -> Diagnostic {
        let message = match self {
            OutputError::Io { source, .. } => format!("{self}: {source}"),
            _ => self.to_string(),
        };
        Diagnostic::new(Code::OutputError, message)
    }
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

/// Write one whole file atomically: parent directories are created, the content goes to a
/// temporary file beside `path` (mode 0644 on unix), which is then renamed over `path`.
pub fn write_file_atomic(path: &Utf8Path, content: &str) -> Result<(), OutputError> {
    let dir = match path.parent() {
        Some(p) if !p.as_str().is_empty() => p.to_owned(),
        _ => Utf8PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(io("create directory", &dir))?;
    let mut tmp =
        tempfile::NamedTempFile::new_in(&dir).map_err(io("create a temporary file in", &dir))?;
    tmp.write_all(content.as_bytes())
        .map_err(io("write", path))?;
    let tmp_path =
        Utf8PathBuf::from_path_buf(tmp.path().to_path_buf()).expect("temp path is UTF-8");
    // Outputs are for others to read, not the temporary file's private 0600.
    set_mode(&tmp_path, 0o644);
    tmp.as_file().sync_all().map_err(io("write", path))?;
    tmp.persist(path).map_err(|e| OutputError::Io {
        action: "write",
        path: path.to_owned(),
        source: e.error,
    })?;
    Ok(())
}

/// Quote a path for a shell command line shown to the user (single quotes when needed).
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./-:=@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Marker that identifies a directory airguard wrote: its kustomization starts with the header.
const OWNED_MARKER: &str = "# Generated by airguard";

/// What is at a path, without following a symbolic link there.
enum Kind {
    Absent,
    Dir,
    Symlink,
    Other,
}

fn kind(path: &Utf8Path) -> Result<Kind, OutputError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Ok(Kind::Symlink),
        Ok(m) if m.is_dir() => Ok(Kind::Dir),
        Ok(_) => Ok(Kind::Other),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Kind::Absent),
        Err(e) => Err(io("inspect", path)(e)),
    }
}

/// Check that `dir` may be replaced by airguard's output: it is absent or empty, or airguard
/// wrote it (or `force`); it is a directory and not a symbolic link; it is not the current
/// directory or an ancestor of it; it does not hold any of `protect` (the spec).
pub fn check_target(dir: &Utf8Path, protect: &[&Utf8Path], force: bool) -> Result<(), OutputError> {
    check_target_marked(dir, "kustomization.yaml", protect, force)
}

/// [`check_target`] for an output whose marker is `marker`: a file at the top of `dir` that
/// starts with airguard's generated header (`render` uses `kustomization.yaml`, `export` its
/// `index.yaml`).
pub fn check_target_marked(
    dir: &Utf8Path,
    marker: &'static str,
    protect: &[&Utf8Path],
    force: bool,
) -> Result<(), OutputError> {
    match kind(dir)? {
        Kind::Absent => return Ok(()),
        Kind::Symlink => return Err(OutputError::Symlink(dir.to_owned())),
        Kind::Other => return Err(OutputError::NotADirectory(dir.to_owned())),
        Kind::Dir => {}
    }
    let canon = |p: &Utf8Path| std::fs::canonicalize(p).ok();
    let target = canon(dir);
    if let (Some(t), Ok(cwd)) = (&target, std::env::current_dir()) {
        if cwd.starts_with(t) {
            return Err(OutputError::Unsafe {
                dir: dir.to_owned(),
                what: "the current directory".into(),
            });
        }
    }
    for p in protect {
        if let (Some(t), Some(f)) = (&target, canon(p)) {
            if f.starts_with(t) {
                return Err(OutputError::Unsafe {
                    dir: dir.to_owned(),
                    what: format!("`{p}`"),
                });
            }
        }
    }
    let empty = dir
        .read_dir_utf8()
        .map_err(io("read directory", dir))?
        .next()
        .is_none();
    let ours =
        crate::input::read_no_follow(dir.join(marker).as_std_path(), crate::input::CHECK_LIMIT)
            .is_ok_and(|k| k.starts_with(OWNED_MARKER.as_bytes()));
    if empty || ours || force {
        Ok(())
    } else if marker == "kustomization.yaml" {
        Err(OutputError::NotOurs(dir.to_owned()))
    } else {
        Err(OutputError::NotOursMarked {
            dir: dir.to_owned(),
            marker,
        })
    }
}

/// Write `artifacts` as the complete content of `dir`, atomically and crash-safely.
///
/// Leftovers of earlier runs that were killed are recovered first ([`recover_leftovers`]).
/// Everything is then written into a staging directory beside `dir` (`.<name>.airguard-stage-…`),
/// every file and directory is synced to disk (each file by itself, or on Linux from 257 files on
/// with one `syncfs` of the filesystem), and the staging directory is swapped with `dir`:
/// on Linux with one `renameat2(RENAME_EXCHANGE)`, so `dir` always exists; elsewhere (or on a
/// filesystem without it) `dir` is renamed aside to `.<name>.airguard-old-<pid>` and the staging
/// directory renamed into place, a window in which a kill leaves the old output beside `dir` for
/// the next run to restore. The parent directory is synced after the swap and the previous output
/// removed. Any failure removes the staging directory and leaves `dir` as it was. Call
/// [`check_target`] first: `dir` is airguard's output directory and files in it that airguard did
/// not write are not kept.
pub fn write_atomic(dir: &Utf8Path, artifacts: &[Artifact]) -> Result<(), OutputError> {
    match kind(dir)? {
        Kind::Symlink => return Err(OutputError::Symlink(dir.to_owned())),
        Kind::Other => return Err(OutputError::NotADirectory(dir.to_owned())),
        Kind::Absent | Kind::Dir => {}
    }
    let (parent, name) = parent_and_name(dir);
    std::fs::create_dir_all(&parent).map_err(io("create directory", &parent))?;
    recover_leftovers(dir)?;
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}{MARKER}stage-{}-", crash::pid()))
        .tempdir_in(&parent)
        .map_err(io("create a temporary directory in", &parent))?;
    let tmp_path = Utf8Path::from_path(tmp.path())
        .expect("temp path is UTF-8")
        .to_owned();
    let mut dirs = BTreeSet::from([tmp_path.clone()]);
    // Many files (an export of thousands of objects) are made durable with one `syncfs` of the
    // staging directory's filesystem instead of one `fsync` each; a few (a render) keep their
    // own `fsync`, which flushes nothing else of the machine's.
    let one_sync = cfg!(target_os = "linux") && artifacts.len() > ONE_SYNC_FROM;
    for a in artifacts {
        let path = tmp_path.join(&a.path);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).map_err(io("create directory", p))?;
            dirs.extend(
                p.ancestors()
                    .take_while(|d| d.starts_with(&tmp_path))
                    .map(Utf8Path::to_owned),
            );
        }
        let mut f = std::fs::File::create(&path).map_err(io("write", &path))?;
        f.write_all(a.content.as_bytes())
            .map_err(io("write", &path))?;
        if !one_sync {
            f.sync_all().map_err(io("write", &path))?;
        }
    }
    if one_sync {
        sync_filesystem(&tmp_path).map_err(io("sync", &tmp_path))?;
    }
    // Written files get the usual mode (tempfile's directory is 0700).
    set_mode(&tmp_path, 0o755);
    // Deepest first, so each directory's entries are durable before its parent's.
    for d in dirs.iter().rev() {
        sync_dir(d).map_err(io("sync", d))?;
    }
    // From here on the staged directory is ours to clean up on every error path.
    let staged = Utf8PathBuf::from_path_buf(tmp.keep()).expect("temp path is UTF-8");
    if crash::at(crash::Point::Staged) {
        return Ok(());
    }
    let cleanup = |e: OutputError| {
        let _ = std::fs::remove_dir_all(&staged);
        e
    };
    if matches!(kind(dir).map_err(cleanup)?, Kind::Dir) {
        if exchange(&staged, dir).is_ok() {
            // `staged` now holds the previous output.
            if crash::at(crash::Point::Swapped) {
                return Ok(());
            }
            let _ = sync_dir(&parent);
            let _ = std::fs::remove_dir_all(&staged);
            return Ok(());
        }
        let old = parent.join(format!(".{name}{MARKER}old-{}", crash::pid()));
        std::fs::rename(dir, &old).map_err(|e| cleanup(io("move aside", dir)(e)))?;
        if crash::at(crash::Point::MovedAside) {
            return Ok(());
        }
        if let Err(e) = std::fs::rename(&staged, dir) {
            let _ = std::fs::rename(&old, dir);
            return Err(cleanup(io("replace", dir)(e)));
        }
        if crash::at(crash::Point::Swapped) {
            return Ok(());
        }
        let _ = sync_dir(&parent);
        let _ = std::fs::remove_dir_all(&old);
    } else {
        std::fs::rename(&staged, dir).map_err(|e| cleanup(io("create", dir)(e)))?;
        let _ = sync_dir(&parent);
    }
    Ok(())
}

/// What every staging and set-aside directory carries after `.<name>`.
const MARKER: &str = ".airguard-";

fn parent_and_name(dir: &Utf8Path) -> (Utf8PathBuf, String) {
    let parent = match dir.parent() {
        Some(p) if !p.as_str().is_empty() => p.to_owned(),
        _ => Utf8PathBuf::from("."),
    };
    (parent, dir.file_name().unwrap_or("out").to_owned())
}

/// Recover what killed runs of [`write_atomic`] left beside `dir`: when `dir` is missing, the
/// output a run had moved aside (`.<name>.airguard-old-<pid>`) is renamed back; then every
/// leftover staging or set-aside directory of `dir` whose process is no longer running is
/// removed. Leftovers of a running process (another render of the same directory) are kept.
pub fn recover_leftovers(dir: &Utf8Path) -> Result<(), OutputError> {
    let (parent, name) = parent_and_name(dir);
    let prefix = format!(".{name}{MARKER}");
    let Ok(entries) = parent.read_dir_utf8() else {
        return Ok(());
    };
    let mut old = Vec::new();
    let mut stale = Vec::new();
    for entry in entries.flatten() {
        let Some(rest) = entry.file_name().strip_prefix(&prefix) else {
            continue;
        };
        let pid = rest
            .strip_prefix("old-")
            .or_else(|| rest.strip_prefix("stage-"))
            .and_then(|r| r.split('-').next())
            .and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(process_is_running) {
            continue;
        }
        if rest.starts_with("old-") {
            old.push(entry.path().to_owned());
        } else {
            stale.push(entry.path().to_owned());
        }
    }
    old.sort();
    if matches!(kind(dir)?, Kind::Absent) {
        if let Some(previous) = old.pop() {
            std::fs::rename(&previous, dir).map_err(io("restore the previous output to", dir))?;
            let _ = sync_dir(&parent);
        }
    }
    for leftover in old.iter().chain(&stale) {
        let _ = match std::fs::symlink_metadata(leftover) {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(leftover),
            _ => std::fs::remove_file(leftover),
        };
    }
    Ok(())
}

/// Whether a process with this id is running (this one always is). Where that cannot be told,
/// no other process is considered running.
fn process_is_running(pid: u32) -> bool {
    pid == crash::pid()
        || (cfg!(target_os = "linux") && std::path::Path::new(&format!("/proc/{pid}")).exists())
}

/// Swap two directories atomically, where the platform can.
#[cfg(target_os = "linux")]
fn exchange(a: &Utf8Path, b: &Utf8Path) -> std::io::Result<()> {
    if crash::force_fallback() {
        return Err(std::io::ErrorKind::Unsupported.into());
    }
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    renameat_with(CWD, a.as_str(), CWD, b.as_str(), RenameFlags::EXCHANGE).map_err(Into::into)
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Utf8Path, _b: &Utf8Path) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// From how many files [`write_atomic`] syncs the whole filesystem once instead of each file.
const ONE_SYNC_FROM: usize = 256;

/// Flush every file written under `dir` to disk with one `syncfs` of its filesystem.
#[cfg(target_os = "linux")]
fn sync_filesystem(dir: &Utf8Path) -> std::io::Result<()> {
    let d = std::fs::File::open(dir)?;
    rustix::fs::syncfs(&d).map_err(Into::into)
}

#[cfg(not(target_os = "linux"))]
fn sync_filesystem(_dir: &Utf8Path) -> std::io::Result<()> {
    Ok(())
}

/// Flush a directory's entries to disk (a no-op where directories cannot be opened).
fn sync_dir(dir: &Utf8Path) -> std::io::Result<()> {
    if cfg!(unix) {
        std::fs::File::open(dir)?.sync_all()
    } else {
        Ok(())
    }
}

/// Simulated kills for the crash-safety tests: `at(point)` is true when a test asked to stop
/// there (leaving everything as a killed process would). Always false outside tests.
mod crash {
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(super) enum Point {
        /// The staging directory is complete and synced; nothing swapped yet.
        Staged,
        /// Fallback only: the previous output is set aside; the new one not yet in place.
        MovedAside,
        /// The new output is in place; the previous one not yet removed.
        Swapped,
    }

    #[cfg(test)]
    thread_local! {
        pub(super) static STOP: std::cell::Cell<Option<Point>> = const { std::cell::Cell::new(None) };
        pub(super) static FALLBACK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
        pub(super) static PID: std::cell::Cell<Option<u32>> = const { std::cell::Cell::new(None) };
    }

    /// The process id that names staging directories; a test may pose as another process.
    #[cfg(test)]
    pub(super) fn pid() -> u32 {
        PID.with(std::cell::Cell::get)
            .unwrap_or_else(std::process::id)
    }

    #[cfg(not(test))]
    pub(super) fn pid() -> u32 {
        std::process::id()
    }

    #[cfg(test)]
    pub(super) fn at(point: Point) -> bool {
        STOP.with(|s| s.get() == Some(point))
    }

    #[cfg(not(test))]
    pub(super) fn at(_point: Point) -> bool {
        false
    }

    #[cfg(all(test, target_os = "linux"))]
    pub(super) fn force_fallback() -> bool {
        FALLBACK.with(std::cell::Cell::get)
    }

    #[cfg(all(not(test), target_os = "linux"))]
    pub(super) fn force_fallback() -> bool {
        false
    }
}

#[cfg(unix)]
fn set_mode(path: &Utf8Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
}

#[cfg(not(unix))]
fn set_mode(_path: &Utf8Path, _mode: u32) {}

/// One difference between rendered artifacts and a directory.
#[derive(Debug, PartialEq, Eq)]
pub enum Drift {
    /// Rendered but absent on disk.
    Missing(String),
    /// Present on both sides with different content; carries a unified diff.
    Changed(String, String),
    /// On disk but not rendered.
    Extra(String),
    /// Rendered, but on disk something that is not compared: a symbolic link (never followed),
    /// a FIFO, device or directory, or a file over [`crate::input::CHECK_LIMIT`]. Carries what it
    /// is ("is a symbolic link").
    NotComparable(String, String),
}

/// What [`check`] found at a path on disk.
enum OnDisk {
    File,
    Special(&'static str),
}

/// Compare artifacts with the files under `dir`. Returns every drift, sorted by path.
///
/// Symbolic links are never followed: a link where a file is rendered is drift ("is a symbolic
/// link"), its target is not read, and a linked directory is not walked (so link loops end).
pub fn check(dir: &Utf8Path, artifacts: &[Artifact]) -> Result<Vec<Drift>, OutputError> {
    let mut on_disk = BTreeMap::new();
    match kind(dir)? {
        Kind::Symlink => return Err(OutputError::Symlink(dir.to_owned())),
        Kind::Other => return Err(OutputError::NotADirectory(dir.to_owned())),
        Kind::Dir => collect_files(dir, dir, &mut on_disk)?,
        Kind::Absent => {}
    }
    let mut drift = Vec::new();
    let rendered: BTreeSet<&str> = artifacts.iter().map(|a| a.path.as_str()).collect();
    for a in artifacts {
        let path = dir.join(&a.path);
        match on_disk.get(&a.path) {
            None => drift.push(Drift::Missing(a.path.clone())),
            Some(OnDisk::Special(what)) => {
                drift.push(Drift::NotComparable(a.path.clone(), format!("is {what}")))
            }
            Some(OnDisk::File) => {
                use crate::input::InputError;
                let current = match crate::input::read_no_follow(
                    path.as_std_path(),
                    crate::input::CHECK_LIMIT,
                ) {
                    Ok(bytes) => bytes,
                    Err(e @ (InputError::TooLarge { .. } | InputError::NotARegularFile { .. })) => {
                        let what = match e {
                            InputError::NotARegularFile { kind, .. } => format!("is {kind}"),
                            _ => format!(
                                "is larger than {} MiB",
                                crate::input::CHECK_LIMIT / (1024 * 1024)
                            ),
                        };
                        drift.push(Drift::NotComparable(a.path.clone(), what));
                        continue;
                    }
                    Err(e) => {
                        return Err(OutputError::Io {
                            action: "read",
                            path,
                            source: e.into(),
                        })
                    }
                };
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
        }
    }
    for p in on_disk.keys() {
        if !rendered.contains(p.as_str()) {
            drift.push(Drift::Extra(p.clone()));
        }
    }
    drift.sort_by(|a, b| drift_path(a).cmp(drift_path(b)));
    Ok(drift)
}

fn drift_path(d: &Drift) -> &str {
    match d {
        Drift::Missing(p) | Drift::Changed(p, _) | Drift::Extra(p) | Drift::NotComparable(p, _) => {
            p
        }
    }
}

/// Every entry under `dir`, by path relative to `root`. Directories are walked; symbolic links
/// (to directories too) and other non-regular entries are recorded as they are, never followed.
fn collect_files(
    root: &Utf8Path,
    dir: &Utf8Path,
    out: &mut BTreeMap<String, OnDisk>,
) -> Result<(), OutputError> {
    for entry in dir.read_dir_utf8().map_err(io("read directory", dir))? {
        let entry = entry.map_err(io("read directory", dir))?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(io("inspect", path))?;
        if file_type.is_dir() {
            collect_files(root, path, out)?;
            continue;
        }
        let rel = path.strip_prefix(root).expect("under root");
        let what = if file_type.is_file() {
            OnDisk::File
        } else {
            OnDisk::Special(crate::input::kind_of(&file_type))
        };
        out.insert(rel.as_str().replace('\\', "/"), what);
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
            Drift::NotComparable(p, what) => s.push_str(&format!(
                "changed: {p} {what}, not the rendered regular file (not read)\n"
            )),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::OWNED_MARKER;
    use camino::Utf8Path;

    #[cfg(unix)]
    #[test]
    fn single_files_are_written_world_readable_with_parents() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = camino::Utf8PathBuf::from_path_buf(dir.path().join("out/conform.json")).unwrap();
        super::write_file_atomic(&path, "{}\n").unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o644);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}\n");
    }

    fn artifacts(content: &str) -> Vec<crate::render::Artifact> {
        [
            "kustomization.yaml",
            "networkpolicies/a.yaml",
            "secrets/b.yaml",
        ]
        .into_iter()
        .map(|p| crate::render::Artifact {
            path: p.to_owned(),
            content: format!("{OWNED_MARKER}\n{p}: {content}\n"),
        })
        .collect()
    }

    /// Which complete output `dir` holds: "old", "new", or an error naming what is wrong.
    fn holds(dir: &Utf8Path) -> Result<&'static str, String> {
        for (label, version) in [("old", artifacts("old")), ("new", artifacts("new"))] {
            if super::check(dir, &version)
                .map_err(|e| e.to_string())?
                .is_empty()
            {
                return Ok(label);
            }
        }
        Err(format!("{dir} holds neither the old nor the new output"))
    }

    fn siblings(parent: &Utf8Path) -> Vec<String> {
        let mut names: Vec<String> = parent
            .read_dir_utf8()
            .unwrap()
            .map(|e| e.unwrap().file_name().to_owned())
            .collect();
        names.sort();
        names
    }

    /// A kill at every point of the swap, with and without the atomic exchange: the output
    /// directory holds the old or the new output (with the exchange: at every point; without
    /// it: after the next run's recovery), and the next run leaves nothing else behind.
    #[test]
    fn regression_killed_render_leaves_old_or_new_output_and_is_recovered() {
        use super::crash::{Point, FALLBACK, PID, STOP};
        for fallback in [false, true] {
            for point in [Point::Staged, Point::MovedAside, Point::Swapped] {
                let tmp = tempfile::tempdir().unwrap();
                let parent = Utf8Path::from_path(tmp.path()).unwrap();
                let out = parent.join("out");
                super::write_atomic(&out, &artifacts("old")).unwrap();
                // The killed run: a process that no longer exists (no PID is this large).
                FALLBACK.with(|f| f.set(fallback));
                STOP.with(|s| s.set(Some(point)));
                PID.with(|p| p.set(Some(u32::MAX - 1)));
                super::write_atomic(&out, &artifacts("new")).unwrap();
                STOP.with(|s| s.set(None));
                PID.with(|p| p.set(None));
                let case = format!("fallback={fallback} killed at {point:?}");
                let exchanged = cfg!(target_os = "linux") && !fallback;
                if exchanged || point != Point::MovedAside {
                    holds(&out).unwrap_or_else(|e| panic!("{case}: {e}"));
                }
                super::recover_leftovers(&out).unwrap();
                holds(&out).unwrap_or_else(|e| panic!("{case}, recovered: {e}"));
                assert_eq!(siblings(parent), ["out"], "{case}: leftovers removed");
                super::write_atomic(&out, &artifacts("new")).unwrap();
                assert_eq!(holds(&out), Ok("new"), "{case}");
                assert_eq!(siblings(parent), ["out"], "{case}");
                FALLBACK.with(|f| f.set(false));
            }
        }
    }

    #[test]
    fn leftovers_of_a_running_process_are_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let parent = Utf8Path::from_path(tmp.path()).unwrap();
        let out = parent.join("out");
        let mine = parent.join(format!(".out.airguard-stage-{}-x", super::crash::pid()));
        std::fs::create_dir(&mine).unwrap();
        super::write_atomic(&out, &artifacts("new")).unwrap();
        assert!(mine.is_dir());
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(super::shell_quote("a/b.yaml"), "a/b.yaml");
        assert_eq!(super::shell_quote("my spec.yaml"), "'my spec.yaml'");
        assert_eq!(super::shell_quote("it's"), "'it'\\''s'");
    }
}

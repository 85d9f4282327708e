//! Which commit a build comes from: shared by `build.rs` (which embeds it in `--version`) and
//! the tests that check each way of finding it.
//!
//! In order: the `AIRGUARD_BUILD_COMMIT` environment variable (for builds from a source archive
//! that know their commit, such as a container build without `.git`); `git` in the source
//! directory, only when that directory is the root of its work tree (so a source archive
//! unpacked inside some other repository does not report that repository's commit); the
//! `.cargo_vcs_info.json` Cargo writes into every packaged crate (`cargo install airguard`).
//! None of them: the commit is unknown, and the build goes on.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The environment variable that names the commit when nothing else can.
pub const ENV: &str = "AIRGUARD_BUILD_COMMIT";

/// Length of the abbreviated commit id embedded in the version.
pub const SHORT: usize = 12;

/// Where the commit came from, and the files whose change means it may have changed.
#[derive(Debug, PartialEq, Eq)]
pub struct Found {
    /// Abbreviated commit id (lowercase hex, [`SHORT`] characters).
    pub commit: String,
    /// Files to watch (`cargo:rerun-if-changed`).
    pub watch: Vec<PathBuf>,
}

/// The commit the source in `dir` was built from. `env` is the value of [`ENV`], if set.
pub fn find(dir: &Path, env: Option<&str>) -> Option<Found> {
    if let Some(c) = env.and_then(hex) {
        return Some(Found {
            commit: c,
            watch: Vec::new(),
        });
    }
    from_git(dir).or_else(|| from_vcs_info(dir))
}

fn hex(s: &str) -> Option<String> {
    let s = s.trim();
    let ok = s.len() >= 7 && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then(|| s[..s.len().min(SHORT)].to_ascii_lowercase())
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?;
    Some(s.trim().to_string())
}

fn from_git(dir: &Path) -> Option<Found> {
    let top = PathBuf::from(git(dir, &["rev-parse", "--show-toplevel"])?);
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same(&top, dir) {
        return None;
    }
    let commit = hex(&git(dir, &["rev-parse", "HEAD"])?)?;
    // HEAD, the branch it names (its loose file, and the directory a new one appears in), and
    // packed refs: a commit or a checkout changes one of them. Only existing paths are watched
    // (Cargo reruns a build script on every build while a watched path is missing).
    let mut paths = vec!["HEAD".to_string(), "packed-refs".to_string()];
    if let Some(r) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        if let Some((parent, _)) = r.rsplit_once('/') {
            paths.push(parent.to_string());
        }
        paths.push(r);
    }
    let watch = paths
        .iter()
        .filter_map(|p| {
            git(
                dir,
                &["rev-parse", "--path-format=absolute", "--git-path", p],
            )
        })
        .map(PathBuf::from)
        .filter(|p| p.exists())
        .collect();
    Some(Found { commit, watch })
}

fn from_vcs_info(dir: &Path) -> Option<Found> {
    let path = dir.join(".cargo_vcs_info.json");
    let text = std::fs::read_to_string(&path).ok()?;
    // {"git": {"sha1": "<40 hex>", ...}, "path_in_vcs": ""}: find the value after "sha1".
    let rest = &text[text.find("\"sha1\"")? + 6..];
    let rest = rest
        .trim_start()
        .strip_prefix(':')?
        .trim_start()
        .strip_prefix('"')?;
    let commit = hex(&rest[..rest.find('"')?])?;
    Some(Found {
        commit,
        watch: vec![path],
    })
}

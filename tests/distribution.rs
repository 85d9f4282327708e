//! Distribution: `--version` and the commit it names (`build/commit.rs`, every way of finding
//! it), shell completions (bash sources and uses them), man pages (groff and `man -l` render them
//! without a warning), the Dockerfile's rules (and hadolint), `.pre-commit-hooks.yaml` and the CI
//! snippets of `docs/ci.md` (parsed by airguard's own argument parser and run on a starter spec).
//!
//! Tools outside the repository follow the tier pattern: `.ci/setup-packaging.sh` exports
//! `AIRGUARD_HADOLINT`, `AIRGUARD_PRE_COMMIT` and `AIRGUARD_MAN`; under `CI` a missing one fails,
//! otherwise that check is skipped with a note.

#[path = "../build/commit.rs"]
#[allow(dead_code)]
mod commit;

use crate::util::{airguard, root};
use clap::{CommandFactory, Parser};
use std::path::Path;
use std::process::Command;

fn tool(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(p) => Some(p),
        Err(_) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but {var} is not: run .ci/setup-packaging.sh"
            );
            eprintln!("{var} not set: that check is not run");
            None
        }
    }
}

fn stdout(args: &[&str]) -> String {
    let out = airguard().args(args).output().unwrap();
    assert!(out.status.success(), "airguard {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .env_remove("GIT_DIR")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn subcommands() -> Vec<String> {
    airguard::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect()
}

// ---- --version ---------------------------------------------------------------------------

#[test]
fn version_names_the_package_version_and_the_commit_built_from() {
    let env = std::env::var(commit::ENV).ok();
    let expected = commit::find(&root(), env.as_deref())
        .map(|f| f.commit)
        .unwrap_or_else(|| "unknown".into());
    let line = format!(
        "airguard {} (commit {expected})\n",
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(stdout(&["--version"]), line);
    // every subcommand answers --version the same way
    assert_eq!(
        stdout(&["render", "--version"]),
        line.replace("airguard", "airguard-render")
    );
}

#[test]
fn commit_from_git_is_head_when_the_source_is_the_repository_root() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    std::fs::write(dir.path().join("f"), "x").unwrap();
    git(dir.path(), &["add", "f"]);
    git(dir.path(), &["commit", "-q", "-m", "one"]);
    let head = git(dir.path(), &["rev-parse", "HEAD"]);
    let found = commit::find(dir.path(), None).expect("a commit");
    assert_eq!(found.commit, head[..commit::SHORT]);
    // HEAD and the branch file are watched, so a new commit rebuilds with the new id
    let heads = dir
        .path()
        .join(".git/refs/heads/main")
        .canonicalize()
        .unwrap();
    let watched: Vec<_> = found
        .watch
        .iter()
        .map(|p| p.canonicalize().unwrap())
        .collect();
    assert!(watched.contains(&heads), "{watched:?}");
    assert!(
        watched.iter().any(|p| p.ends_with(".git/HEAD")),
        "{watched:?}"
    );
}

#[test]
fn commit_of_a_source_archive_unpacked_inside_another_repository_is_not_that_repository() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    git(
        dir.path(),
        &["commit", "-q", "--allow-empty", "-m", "other"],
    );
    let src = dir.path().join("airguard-0.1.0");
    std::fs::create_dir(&src).unwrap();
    assert_eq!(commit::find(&src, None), None);
    // ... but Cargo's packaging record in it names the commit (`cargo install airguard`)
    std::fs::write(
        src.join(".cargo_vcs_info.json"),
        "{\n  \"git\": {\n    \"sha1\": \"0123456789ABCDEF0123456789abcdef01234567\"\n  },\n  \"path_in_vcs\": \"\"\n}",
    )
    .unwrap();
    let found = commit::find(&src, None).expect("from .cargo_vcs_info.json");
    assert_eq!(found.commit, "0123456789ab");
    assert_eq!(found.watch, vec![src.join(".cargo_vcs_info.json")]);
}

#[test]
fn commit_from_the_environment_wins_and_nonsense_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let found = commit::find(dir.path(), Some(" DEADBEEF00112233 ")).unwrap();
    assert_eq!(found.commit, "deadbeef0011");
    for bad in ["", "main", "v0.1.0", "abc", "0123456789abcdefg"] {
        assert_eq!(commit::find(dir.path(), Some(bad)), None, "{bad:?}");
    }
    // a plain archive without any record: unknown, and the build goes on
    assert_eq!(commit::find(dir.path(), None), None);
}

// ---- completions and man pages -------------------------------------------------------------

#[test]
fn bash_completion_parses_sources_and_completes_subcommands_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("airguard.bash");
    std::fs::write(&script, stdout(&["completions", "bash"])).unwrap();
    let status = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .status()
        .unwrap();
    assert!(status.success(), "bash -n rejects the script");
    let probe = r#"source "$1" || exit 3
complete -p airguard || exit 4
COMP_WORDS=(airguard re); COMP_CWORD=1; COMP_LINE="airguard re"; COMP_POINT=11
_airguard airguard re airguard; echo "sub: ${COMPREPLY[*]}"
COMP_WORDS=(airguard render --ch); COMP_CWORD=2; COMP_LINE="airguard render --ch"; COMP_POINT=20
_airguard airguard --ch render; echo "flag: ${COMPREPLY[*]}"
"#;
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", probe, "probe"])
        .arg(&script)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(text.contains("-F _airguard airguard\n"), "{text}");
    assert!(text.contains("sub: render"), "{text}");
    assert!(text.contains("flag: --check"), "{text}");
}

#[test]
fn every_shell_gets_a_script_naming_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let s = stdout(&["completions", shell]);
        for sub in subcommands() {
            assert!(s.contains(&sub), "{shell} completion lacks {sub}");
        }
    }
    airguard().args(["completions", "tcsh"]).assert().code(2);
}

fn render_man(page: &str, dir: &Path, name: &str) {
    let path = dir.join(name);
    std::fs::write(&path, page).unwrap();
    // groff as man-db runs it (`-k`: preconv reads UTF-8), every warning on: none may be printed
    let out = Command::new("groff")
        .args(["-k", "-man", "-Tutf8", "-ww", "-z"])
        .arg(&path)
        .output()
        .expect("groff runs (apt-get install groff-base)");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{name}: {out:?}"
    );
    if let Some(man) = tool("AIRGUARD_MAN") {
        let out = Command::new(man)
            .arg("-l")
            .arg(&path)
            .env("MANWIDTH", "80")
            .env("MAN_KEEP_FORMATTING", "0")
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .output()
            .unwrap();
        // man formats for a terminal (bold as `X\bX`); keep the text only
        let mut text = String::new();
        for c in String::from_utf8_lossy(&out.stdout).chars() {
            if c == '\u{8}' {
                text.pop();
            } else {
                text.push(c);
            }
        }
        assert!(out.status.success(), "{name}: {out:?}");
        assert!(text.contains("NAME") && text.contains("SYNOPSIS"), "{text}");
        assert!(
            out.stderr.is_empty(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn man_pages_render_for_airguard_and_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let page = stdout(&["man"]);
    assert!(
        page.starts_with(".ie \\n(.g .ds Aq"),
        "roff expected: {page:.80}"
    );
    assert!(page.contains(".TH airguard 1"), "{page:.200}");
    for sub in subcommands() {
        assert!(
            page.contains(&format!("airguard\\-{sub}(1)")),
            "{sub} not listed"
        );
    }
    render_man(&page, dir.path(), "airguard.1");
    for sub in subcommands() {
        let page = stdout(&["man", &sub]);
        assert!(
            page.contains(&format!(".TH airguard-{sub} 1")),
            "{page:.200}"
        );
        render_man(&page, dir.path(), &format!("airguard-{sub}.1"));
    }
    airguard()
        .args(["man", "rendr"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no subcommand `rendr`"));
}

#[test]
fn install_docs_list_every_man_page() {
    let doc = std::fs::read_to_string(root().join("docs/install.md")).unwrap();
    let line = doc
        .lines()
        .find(|l| l.starts_with("for c in "))
        .expect("a man page loop");
    let listed: Vec<&str> = line["for c in ".len()..line.len() - "; do".len()]
        .split_whitespace()
        .collect();
    assert_eq!(listed, subcommands(), "docs/install.md: {line}");
}

// ---- Dockerfile ----------------------------------------------------------------------------

/// Instructions of a Dockerfile: (keyword, arguments), continuation lines joined.
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        let t = line.trim();
        if cur.is_empty() && (t.is_empty() || t.starts_with('#')) {
            continue;
        }
        if let Some(body) = t.strip_suffix('\\') {
            cur.push_str(body);
            cur.push(' ');
            continue;
        }
        cur.push_str(t);
        let (k, rest) = cur.split_once(' ').unwrap_or((&cur, ""));
        out.push((k.to_ascii_uppercase(), rest.trim().to_string()));
        cur.clear();
    }
    out
}

#[test]
fn dockerfile_is_multi_stage_pinned_non_root_and_shell_free_at_run_time() {
    let text = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    let ins = instructions(&text);
    let froms: Vec<&String> = ins.iter().filter(|i| i.0 == "FROM").map(|i| &i.1).collect();
    assert!(froms.len() >= 2, "multi-stage: {froms:?}");
    for f in &froms {
        let image = f.split_whitespace().next().unwrap();
        let pinned = image.contains("@sha256:")
            || image
                .rsplit_once(':')
                .is_some_and(|(_, tag)| tag != "latest" && tag.chars().any(|c| c.is_ascii_digit()));
        assert!(
            pinned,
            "base image not pinned to a digest or versioned tag: {image}"
        );
    }
    let last = ins.iter().rposition(|i| i.0 == "FROM").unwrap();
    let runtime = &ins[last..];
    let base = runtime[0].1.as_str();
    assert!(
        base.starts_with("gcr.io/distroless/static") || base == "scratch",
        "final stage is not static distroless or scratch: {base}"
    );
    assert!(
        runtime.iter().all(|i| i.0 != "RUN"),
        "the final stage runs commands, so it needs a shell"
    );
    let user = runtime
        .iter()
        .rev()
        .find(|i| i.0 == "USER")
        .expect("USER in the final stage");
    let uid: u32 = user
        .1
        .split(':')
        .next()
        .unwrap()
        .parse()
        .expect("numeric USER");
    assert_ne!(uid, 0, "USER is root");
    let entry = runtime
        .iter()
        .find(|i| i.0 == "ENTRYPOINT")
        .expect("ENTRYPOINT");
    let argv: Vec<String> = serde_json::from_str(&entry.1).expect("exec-form ENTRYPOINT");
    assert!(argv[0].ends_with("/airguard"), "{argv:?}");
    assert!(runtime
        .iter()
        .any(|i| i.0 == "COPY" && i.1.starts_with("--from=")));
    // the build context leaves out build output and history
    let ignore = std::fs::read_to_string(root().join(".dockerignore")).unwrap();
    assert!(ignore.lines().any(|l| l == "target/"), "{ignore}");
}

#[test]
fn hadolint_passes_the_dockerfile() {
    let Some(hadolint) = tool("AIRGUARD_HADOLINT") else {
        return;
    };
    let out = Command::new(hadolint)
        .args(["--no-color", "--failure-threshold", "style", "Dockerfile"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

// ---- pre-commit and CI ---------------------------------------------------------------------

/// A command line as the CI snippet or hook states it: words up to the first shell operator,
/// and the file stdout is redirected to, if any.
fn command_line(line: &str) -> (Vec<String>, Option<String>) {
    assert!(
        !line.contains(['"', '\'', '$', '`']),
        "keep commands plain: {line}"
    );
    let mut words = line.split_whitespace();
    let mut argv = Vec::new();
    let mut redirect = None;
    while let Some(w) = words.next() {
        match w {
            ">" => redirect = words.next().map(str::to_string),
            "|" | "||" | "&&" | ";" => break,
            _ if redirect.is_none() => argv.push(w.to_string()),
            _ => break,
        }
    }
    (argv, redirect)
}

fn parses(argv: &[String]) {
    assert_eq!(
        argv.first().map(String::as_str),
        Some("airguard"),
        "{argv:?}"
    );
    if let Err(e) = airguard::cli::Cli::try_parse_from(argv) {
        panic!("`{}` does not parse: {e}", argv.join(" "));
    }
}

/// A starter project: `airguard init`, rendered into `manifests/`.
fn starter_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    airguard()
        .current_dir(dir.path())
        .arg("init")
        .assert()
        .success();
    airguard()
        .current_dir(dir.path())
        .args(["render", "--spec", "airguard.yaml", "--out", "manifests"])
        .assert()
        .success();
    dir
}

/// Run a command line of a snippet in `dir`, sending stdout where it redirects it.
fn run_in(dir: &Path, argv: &[String], redirect: Option<&str>) -> i32 {
    let out = airguard()
        .current_dir(dir)
        .args(&argv[1..])
        .output()
        .unwrap();
    if let Some(r) = redirect {
        std::fs::write(dir.join(r), &out.stdout).unwrap();
    }
    out.status.code().unwrap()
}

#[test]
fn pre_commit_hooks_are_airguard_invocations_that_pass_on_a_starter_project() {
    let text = std::fs::read_to_string(root().join(".pre-commit-hooks.yaml")).unwrap();
    let hooks: Vec<serde_json::Value> = serde_saphyr::from_str(&text).unwrap();
    let ids: Vec<&str> = hooks.iter().map(|h| h["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "airguard-render-check",
            "airguard-validate",
            "airguard-audit"
        ]
    );
    let project = starter_project();
    for h in &hooks {
        for key in ["name", "entry", "language"] {
            assert!(h[key].is_string(), "{} has no {key}", h["id"]);
        }
        assert_eq!(
            h["pass_filenames"], false,
            "{}: airguard reads the spec itself",
            h["id"]
        );
        let (mut argv, redirect) = command_line(h["entry"].as_str().unwrap());
        assert_eq!(redirect, None);
        argv.extend(
            h["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string()),
        );
        parses(&argv);
        assert_eq!(run_in(project.path(), &argv, None), 0, "{argv:?}");
    }
    if let Some(pre_commit) = tool("AIRGUARD_PRE_COMMIT") {
        let out = Command::new(pre_commit)
            .args(["validate-manifest", ".pre-commit-hooks.yaml"])
            .current_dir(root())
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }
}

#[test]
fn ci_snippets_parse_run_and_write_the_reports_they_upload() {
    let doc = std::fs::read_to_string(root().join("docs/ci.md")).unwrap();
    let mut in_block = false;
    let mut commands = Vec::new();
    for line in doc.lines() {
        if line.starts_with("```") {
            in_block = !in_block;
            continue;
        }
        let t = line.trim_start().trim_start_matches("- ");
        let t = t.strip_prefix("run: ").unwrap_or(t);
        let t = t.strip_prefix("entry: ").unwrap_or(t);
        if in_block && t.starts_with("airguard ") {
            commands.push(command_line(t));
        }
    }
    let lines: Vec<String> = commands.iter().map(|c| c.0.join(" ")).collect();
    for needed in [
        "airguard render --check",
        "airguard audit manifests --spec airguard.yaml --format sarif",
        "airguard conform --mock --spec airguard.yaml --report junit:",
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(needed)),
            "no `{needed}` in docs/ci.md"
        );
    }
    let project = starter_project();
    for (argv, redirect) in &commands {
        parses(argv);
        assert_eq!(
            run_in(project.path(), argv, redirect.as_deref()),
            0,
            "{argv:?}"
        );
    }
    // the files the snippets upload are there and are what the CI systems read
    let sarif: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(project.path().join("airguard.sarif")).unwrap(),
    )
    .unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    for junit in ["airguard-audit.xml", "airguard-conform.xml"] {
        let x = std::fs::read_to_string(project.path().join(junit)).unwrap();
        assert!(
            x.starts_with("<?xml") && x.contains("<testsuite"),
            "{junit}: {x:.200}"
        );
    }
    for upload in [
        "sarif_file: airguard.sarif",
        "path: airguard-conform.xml",
        "junit: [airguard-audit.xml, airguard-conform.xml]",
    ] {
        assert!(
            doc.contains(upload),
            "docs/ci.md does not upload `{upload}`"
        );
    }
}

// ---- explain, doc anchors, troubleshooting --------------------------------------------------

/// The anchor GitHub gives a Markdown heading: lowercase, punctuation but `-` and `_` dropped,
/// spaces as `-`.
fn github_anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

#[test]
fn every_code_explains_itself_and_its_docs_anchor_exists() {
    use strum::IntoEnumIterator;
    let page = std::fs::read_to_string(root().join("docs/diagnostics.md")).unwrap();
    let anchors: Vec<String> = page
        .lines()
        .filter_map(|l| l.strip_prefix("### "))
        .map(github_anchor)
        .collect();
    for code in airguard::diag::Code::iter() {
        let link = airguard::diag::docs::anchor(code);
        let (file, anchor) = link.split_once('#').unwrap();
        assert_eq!(file, "docs/diagnostics.md");
        assert!(anchors.iter().any(|a| a == anchor), "{link} has no heading");
        let text = stdout(&["explain", code.as_str()]);
        assert!(text.contains(&link), "{text}");
    }
    let text = stdout(&["explain", "UNKNOWN-KEY"]);
    assert!(
        text.starts_with(
            "unknown-key (default severity: error)\n\nA key the spec does not define."
        ),
        "{text}"
    );
    airguard()
        .args(["explain", "unknown-ky"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("did you mean `unknown-key`?"));
    airguard()
        .args(["explain", "zzz"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "`zzz` is not a diagnostic code\n",
        ));
}

#[test]
fn diagnostics_name_their_explain_command_and_json_their_anchor() {
    let spec = crate::util::fixture("specs/invalid/non-canonical-cidr.yaml");
    airguard()
        .args(["validate", "--color", "never", "--spec"])
        .arg(&spec)
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "= help: airguard explain non-canonical-cidr\n",
        ));
    let out = airguard()
        .args(["validate", "--format", "json", "--spec"])
        .arg(&spec)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let diags = doc["diagnostics"].as_array().unwrap();
    assert!(!diags.is_empty());
    for d in diags {
        assert_eq!(
            d["docs"],
            format!("docs/diagnostics.md#{}", d["code"].as_str().unwrap())
        );
    }
}

/// Shell words of a simple command line: whitespace-separated, `"..."` kept as one word.
fn shell_words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut any) = (false, false);
    for c in line.chars() {
        match c {
            '"' => (quoted, any) = (!quoted, true),
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

#[test]
fn troubleshooting_covers_each_symptom_with_commands_that_parse() {
    let doc = std::fs::read_to_string(root().join("docs/troubleshooting.md")).unwrap();
    for symptom in [
        "## The Airflow worker cannot reach Airbyte",
        "## ESO says SecretSyncedError",
        "## The sync succeeded with 0 records",
        "## conform says 401",
        "## audit says pod-not-isolated",
    ] {
        assert!(doc.contains(symptom), "no section `{symptom}`");
    }
    let mut seen = 0;
    let mut in_block = false;
    for line in doc.lines() {
        if line.starts_with("```") {
            in_block = !in_block;
            continue;
        }
        let t = line
            .split_whitespace()
            .skip_while(|w| w.contains('='))
            .collect::<Vec<_>>()
            .join(" ");
        if !in_block || !t.starts_with("airguard ") {
            continue;
        }
        let argv: Vec<String> = shell_words(&t)
            .into_iter()
            .take_while(|w| !w.starts_with(['|', '>']) && !w.starts_with("2>"))
            .collect();
        parses(&argv);
        seen += 1;
    }
    assert!(seen >= 6, "only {seen} commands found");
    // the codes the guide sends readers to are real, and named there
    for code in [
        "blocked-declared-flow",
        "undeclared-flow",
        "egress-without-dns",
        "invalid-url",
        "api-url-outside-cluster",
        "unconditioned-cluster-store",
        "incomplete-provider",
        "zero-refresh-interval",
        "job-connection-mismatch",
        "invalid-uuid",
        "pod-not-isolated-ingress",
        "pod-not-isolated-egress",
    ] {
        assert!(code.parse::<airguard::diag::Code>().is_ok(), "{code}");
        assert!(
            doc.contains(&format!("`{code}`")),
            "{code} not in the guide"
        );
    }
}

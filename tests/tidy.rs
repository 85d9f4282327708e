//! House rules no compiler checks, as a test over the source tree (`cargo xtask tidy` runs it).
//!
//! Each rule is a pure function of a file's path (relative to the repository root) and text, so
//! the unit tests below feed it small made-up files that break it. The rules are ARCHITECTURE.md's
//! invariants: every module starts with a `//!` paragraph; `diag` imports nothing else of the
//! crate; `render` and `topology` touch no filesystem, network, environment or clock; nothing in
//! `src/` outside `spec` imports `spec::raw`; only `output.rs` writes files (`input.rs` opens
//! files to read them); `anyhow` only in `src/cli` and `src/main.rs`; the std stdout/stderr
//! handles only in `output.rs` and `src/cli`; the CLI calls library use cases instead of wiring
//! phases (no `spec::validate`, `spec::load_file`, `topology` or `conform::client` in `src/cli`);
//! one `tokio::runtime::Builder`, in `src/cli/mod.rs`. Print macros are denied by clippy
//! (`src/lib.rs`).
//!
//! Paths are found by reading `a::b::{c, d::e}` in the code (comments and string literals
//! removed) and expanding the braces, so `use std::{fs, io}` counts as `std::fs`.

use std::path::Path;

/// One broken rule: where, and what to do.
#[derive(Debug, PartialEq)]
struct Problem {
    file: String,
    line: usize,
    message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// Every rule over one file. `rel` uses `/` and is relative to the repository root.
fn check_file(rel: &str, text: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut problem = |line: usize, message: String| {
        problems.push(Problem {
            file: rel.to_string(),
            line,
            message,
        })
    };
    if !text.trim_start().starts_with("//!") {
        problem(1, "does not start with a `//!` module doc paragraph".into());
    }
    if !rel.starts_with("src/") {
        return problems;
    }
    let code = strip_comments_and_strings(text);
    for (line, path) in paths(&code) {
        let segs: Vec<&str> = path.split("::").collect();
        let starts = |prefix: &[&str]| segs.starts_with(prefix);
        let has = |window: &[&str]| segs.windows(window.len()).any(|w| w == window);
        let last2 = |a: &str, b: &str| segs.len() >= 2 && segs[segs.len() - 2..] == [a, b];

        if rel.starts_with("src/diag/") {
            let outside = (starts(&["crate"]) && segs.get(1) != Some(&"diag"))
                || escapes_diag_via_super(rel, &segs);
            if outside {
                problem(
                    line,
                    format!("`diag` imports nothing else of the crate, found `{path}`"),
                );
            }
        }

        if rel.starts_with("src/render/") || rel.starts_with("src/topology/") {
            if let Some(what) = io_or_clock(&segs) {
                problem(
                    line,
                    format!("render and topology are pure: no {what} (`{path}`)"),
                );
            }
        }

        if !rel.starts_with("src/spec/") && has(&["spec", "raw"]) {
            problem(
                line,
                format!(
                    "only `spec` imports `spec::raw` (`{path}`); use or add a re-export in `spec::model`"
                ),
            );
        }

        let writes = last2("fs", "write")
            || last2("File", "create")
            || last2("fs", "rename")
            || last2("fs", "copy")
            || last2("fs", "hard_link")
            || segs.last().is_some_and(|s| {
                s.starts_with("create_dir") || s.starts_with("remove_") || *s == "set_permissions"
            }) && segs.contains(&"fs");
        let opens = segs.contains(&"OpenOptions");
        let write_allowed = rel == "src/output.rs";
        if (writes && !write_allowed) || (opens && !write_allowed && rel != "src/input.rs") {
            problem(
                line,
                format!("only `src/output.rs` writes files (`{path}`); go through `crate::output`"),
            );
        }

        let cli = rel.starts_with("src/cli/") || rel == "src/main.rs";
        if segs.first() == Some(&"anyhow") && !cli {
            problem(
                line,
                format!(
                    "library errors are `thiserror` enums; `anyhow` only in `src/cli` (`{path}`)"
                ),
            );
        }

        if rel.starts_with("src/") && has(&["runtime", "Builder"]) && rel != "src/cli/mod.rs" {
            problem(
                line,
                format!("one async runtime, built by `cli::runtime` (`{path}`)"),
            );
        }

        let orchestration = has(&["spec", "validate"])
            || has(&["spec", "load_file"])
            || segs.contains(&"topology")
            || has(&["conform", "client"]);
        if rel.starts_with("src/cli/") && orchestration {
            problem(
                line,
                format!(
                    "the CLI calls one library use case (`spec::load`, `audit::Input`, `conform::target::run`), it does not wire phases (`{path}`)"
                ),
            );
        }

        if (last2("io", "stdout") || last2("io", "stderr")) && !cli && rel != "src/output.rs" {
            problem(
                line,
                format!("print through `crate::output::print`/`eprint` (`{path}`)"),
            );
        }
    }
    problems
}

/// Whether a `super::…` path in a file under `src/diag/` climbs out of `diag`. Inline modules
/// (`mod tests { use super::super::… }`) are not counted, so this errs towards reporting.
fn escapes_diag_via_super(rel: &str, segs: &[&str]) -> bool {
    let ups = segs.iter().take_while(|s| **s == "super").count();
    if ups == 0 {
        return false;
    }
    // src/diag/mod.rs is `crate::diag` (depth 1); src/diag/render.rs is depth 2.
    let parts: Vec<&str> = rel.trim_start_matches("src/").split('/').collect();
    let depth = if parts.last() == Some(&"mod.rs") {
        parts.len() - 1
    } else {
        parts.len()
    };
    depth <= ups
}

/// What a path in `render`/`topology` would touch, if anything.
fn io_or_clock(segs: &[&str]) -> Option<&'static str> {
    let root = segs.first().copied().unwrap_or_default();
    let second = segs.get(1).copied().unwrap_or_default();
    let last = segs.last().copied().unwrap_or_default();
    match (root, second) {
        ("std" | "tokio" | "async_std", "fs") => Some("filesystem"),
        ("std" | "tokio", "net") if !matches!(last, "IpAddr" | "Ipv4Addr" | "Ipv6Addr") => {
            Some("network")
        }
        ("reqwest" | "hyper" | "hyper_util" | "ureq", _) => Some("network"),
        ("std", "env") => Some("environment"),
        ("std" | "tokio", "process") => Some("process"),
        ("crate", "input" | "output") => Some("filesystem"),
        _ if segs.contains(&"SystemTime")
            || segs.ends_with(&["Instant", "now"])
            || segs.ends_with(&["Utc", "now"])
            || segs.ends_with(&["Local", "now"]) =>
        {
            Some("clock")
        }
        _ => None,
    }
}

/// The text with comments, string and char literals blanked (newlines kept, so line numbers
/// hold). Raw strings (`r"…"`, `r#"…"#`) are blanked too.
fn strip_comments_and_strings(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, c: u8| out.push(if c == b'\n' { b'\n' } else { b' ' });
    while i < b.len() {
        let c = b[i];
        let prev_ident = i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                out.push(b' ');
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, b[i]);
                    i += 1;
                }
            }
        } else if c == b'r' && !prev_ident && matches!(b.get(i + 1), Some(b'"' | b'#')) {
            let hashes = b[i + 1..].iter().take_while(|x| **x == b'#').count();
            if b.get(i + 1 + hashes) != Some(&b'"') {
                out.push(c);
                i += 1;
                continue;
            }
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            let start = i + 2 + hashes;
            let end = b[start..]
                .windows(close.len())
                .position(|w| w == close.as_slice())
                .map_or(b.len(), |p| start + p + close.len());
            for &x in &b[i..end] {
                blank(&mut out, x);
            }
            i = end;
        } else if c == b'"' {
            out.push(b' ');
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' && i + 1 < b.len() {
                    blank(&mut out, b[i]);
                    i += 1;
                }
                blank(&mut out, b[i]);
                i += 1;
            }
            if i < b.len() {
                out.push(b' ');
                i += 1;
            }
        } else if c == b'\'' && !prev_ident {
            // A char literal ('a', '\n', '\u{7f}') or a lifetime ('a): blank only the former.
            let len = if b.get(i + 1) == Some(&b'\\') {
                b[i + 2..].iter().position(|x| *x == b'\'').map(|p| p + 3)
            } else {
                let ch = text[i + 1..].chars().next().map_or(1, char::len_utf8);
                (b.get(i + 1 + ch) == Some(&b'\'')).then_some(ch + 2)
            };
            match len {
                Some(n) => {
                    for &x in &b[i..i + n] {
                        blank(&mut out, x);
                    }
                    i += n;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every `a::b…` path in `code` (braces expanded, `self` dropped, `as` renames ignored), with
/// the 1-based line it starts on.
fn paths(code: &str) -> Vec<(usize, String)> {
    let b = code.as_bytes();
    let is_ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let starts_path = is_ident(b[i])
            && !b[i].is_ascii_digit()
            && (i == 0 || !(is_ident(b[i - 1]) || b[i - 1] == b':'));
        if !starts_path {
            i += 1;
            continue;
        }
        let (expanded, end) = parse_path(b, i);
        let line = 1 + b[..i].iter().filter(|c| **c == b'\n').count();
        for p in expanded {
            if p.contains("::") {
                out.push((line, p));
            }
        }
        i = end.max(i + 1);
    }
    out
}

/// Parse one path starting at `i`; returns its expansions and the index after it.
fn parse_path(b: &[u8], mut i: usize) -> (Vec<String>, usize) {
    let is_ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let skip_ws = |mut i: usize| {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    };
    let mut prefix: Vec<String> = Vec::new();
    loop {
        let start = i;
        while i < b.len() && is_ident(b[i]) {
            i += 1;
        }
        if i > start {
            prefix.push(String::from_utf8_lossy(&b[start..i]).into_owned());
        } else if i < b.len() && b[i] == b'*' {
            prefix.push("*".into());
            i += 1;
        }
        if b.get(i) == Some(&b':') && b.get(i + 1) == Some(&b':') {
            i = skip_ws(i + 2);
            if b.get(i) == Some(&b'{') {
                let mut items = Vec::new();
                i = skip_ws(i + 1);
                while i < b.len() && b[i] != b'}' {
                    let (sub, end) = parse_path(b, i);
                    items.extend(sub);
                    i = skip_ws(end);
                    // `Name as Alias`
                    if b[i..].starts_with(b"as") && b.get(i + 2).is_some_and(|c| !is_ident(*c)) {
                        i = skip_ws(i + 2);
                        while i < b.len() && is_ident(b[i]) {
                            i += 1;
                        }
                        i = skip_ws(i);
                    }
                    if b.get(i) == Some(&b',') {
                        i = skip_ws(i + 1);
                    } else if b.get(i) != Some(&b'}') {
                        break; // not a use tree; stop here
                    }
                }
                let base = prefix.join("::");
                let expanded = items
                    .into_iter()
                    .map(|item| {
                        if item == "self" {
                            base.clone()
                        } else {
                            format!("{base}::{item}")
                        }
                    })
                    .collect();
                return (expanded, (i + 1).min(b.len()));
            }
            continue;
        }
        return (vec![prefix.join("::")], i);
    }
}

fn rust_files(root: &Path, dir: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.join(dir)];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(root).expect("under root");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn tidy() {
    let root = crate::util::root();
    let mut problems = Vec::new();
    let mut checked = 0;
    for dir in ["src", "xtask/src", "tests"] {
        for rel in rust_files(&root, dir) {
            let text = std::fs::read_to_string(root.join(&rel)).expect("readable source");
            problems.extend(check_file(&rel, &text));
            checked += 1;
        }
    }
    assert!(checked > 50, "tidy found only {checked} files; wrong root?");
    assert!(
        problems.is_empty(),
        "tidy found {} problem(s) (see ARCHITECTURE.md):\n{}",
        problems.len(),
        problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[cfg(test)]
mod checker {
    use super::*;

    const DOC: &str = "//! A module.\n\n";

    fn messages(rel: &str, body: &str) -> Vec<String> {
        check_file(rel, &format!("{DOC}{body}"))
            .into_iter()
            .map(|p| p.to_string())
            .collect()
    }

    fn assert_one(rel: &str, body: &str, line: usize, needle: &str) {
        let found = messages(rel, body);
        assert_eq!(
            found.len(),
            1,
            "{rel}: expected one problem, got {found:#?}"
        );
        assert!(
            found[0].starts_with(&format!("{rel}:{line}: ")) && found[0].contains(needle),
            "{rel}: expected line {line} and {needle:?}, got {:?}",
            found[0]
        );
    }

    fn assert_clean(rel: &str, body: &str) {
        let found = messages(rel, body);
        assert!(
            found.is_empty(),
            "{rel}: expected no problem, got {found:#?}"
        );
    }

    #[test]
    fn tidy_requires_a_module_doc() {
        let found = check_file("src/spec/x.rs", "// a plain comment\nuse std::fmt;\n");
        assert_eq!(found.len(), 1);
        assert!(found[0].to_string().starts_with("src/spec/x.rs:1: "));
        assert!(found[0].message.contains("//!"));
        assert!(check_file("xtask/src/x.rs", "fn main() {}\n").len() == 1);
        assert!(check_file("tests/x.rs", "//! Tests.\nfn f() {}\n").is_empty());
    }

    #[test]
    fn tidy_diag_imports_nothing_of_the_crate() {
        assert_one(
            "src/diag/render.rs",
            "use crate::spec::Model;\n",
            3,
            "`crate::spec::Model`",
        );
        assert_one(
            "src/diag/render.rs",
            "use crate::{diag::Code, text::escape_control};\n",
            3,
            "crate::text::escape_control",
        );
        assert_one(
            "src/diag/mod.rs",
            "use super::output;\n",
            3,
            "super::output",
        );
        assert_one(
            "src/diag/files.rs",
            "\nuse super::super::spec;\n",
            4,
            "super::super::spec",
        );
        assert_clean(
            "src/diag/render.rs",
            "use super::Code;\nuse crate::diag::files::Files;\n/// [`crate::spec`] is a reader.\n",
        );
    }

    #[test]
    fn tidy_render_and_topology_are_pure() {
        assert_one("src/render/dags.rs", "use std::fs;\n", 3, "filesystem");
        assert_one(
            "src/render/dags.rs",
            "use std::{env, fmt};\n",
            3,
            "environment",
        );
        assert_one(
            "src/topology/mod.rs",
            "let s = std::net::TcpStream::connect(a);\n",
            3,
            "network",
        );
        assert_one(
            "src/topology/airbyte.rs",
            "use reqwest::Client;\n",
            3,
            "network",
        );
        assert_one(
            "src/render/mod.rs",
            "let t = std::time::SystemTime::now();\n",
            3,
            "clock",
        );
        assert_one("src/render/mod.rs", "let t = Instant::now();\n", 3, "clock");
        assert_one(
            "src/render/mod.rs",
            "crate::input::read(p);\n",
            3,
            "filesystem",
        );
        assert_clean(
            "src/render/mod.rs",
            "use std::net::IpAddr;\nuse std::time::Duration;\nlet s = \"std::fs::write\";\n// std::env::var\n",
        );
        // The same code is fine elsewhere.
        assert_clean(
            "src/conform/client/mod.rs",
            "use std::time::Instant;\nlet t = Instant::now();\n",
        );
    }

    #[test]
    fn tidy_only_spec_imports_spec_raw() {
        assert_one(
            "src/topology/airbyte.rs",
            "use crate::spec::raw::ChartProfile;\n",
            3,
            "spec::raw",
        );
        assert_one(
            "src/render/mod.rs",
            "use crate::spec::{\n    model::Model,\n    raw::Provider,\n};\n",
            3,
            "crate::spec::raw::Provider",
        );
        assert_clean(
            "src/spec/validate/mod.rs",
            "use crate::spec::raw::RawSpec;\n",
        );
        assert_clean(
            "src/render/mod.rs",
            "use crate::spec::model::{Model, Provider};\n",
        );
    }

    #[test]
    fn tidy_only_output_writes_files() {
        assert_one(
            "src/cli/render.rs",
            "std::fs::write(p, b)?;\n",
            3,
            "only `src/output.rs` writes",
        );
        assert_one(
            "src/mock/x.rs",
            "let f = File::create(p)?;\n",
            3,
            "File::create",
        );
        assert_one(
            "src/audit/x.rs",
            "use std::fs::{self, OpenOptions};\n",
            3,
            "OpenOptions",
        );
        assert_one(
            "src/conform/x.rs",
            "fs::remove_dir_all(p)?;\n",
            3,
            "remove_dir_all",
        );
        assert_one(
            "src/spec/x.rs",
            "std::fs::create_dir_all(p)?;\n",
            3,
            "create_dir_all",
        );
        assert_one(
            "src/input.rs",
            "std::fs::write(p, b)?;\n",
            3,
            "only `src/output.rs` writes",
        );
        assert_clean(
            "src/input.rs",
            "let f = std::fs::OpenOptions::new().read(true).open(p)?;\n",
        );
        assert_clean(
            "src/output.rs",
            "std::fs::write(p, b)?;\nstd::fs::rename(a, b)?;\nfs::remove_dir_all(p)?;\n",
        );
    }

    #[test]
    fn tidy_anyhow_only_in_the_cli() {
        assert_one("src/render/mod.rs", "use anyhow::Result;\n", 3, "anyhow");
        assert_one(
            "src/spec/load.rs",
            "fn f() -> anyhow::Result<()> { Ok(()) }\n",
            3,
            "anyhow",
        );
        assert_clean("src/cli/mod.rs", "use anyhow::{bail, Context, Result};\n");
        assert_clean(
            "src/main.rs",
            "fn main() -> anyhow::Result<()> { Ok(()) }\n",
        );
    }

    #[test]
    fn tidy_std_handles_only_in_the_printer_and_cli() {
        assert_one(
            "src/audit/x.rs",
            "let mut o = std::io::stdout();\n",
            3,
            "crate::output::print",
        );
        assert_clean("src/output.rs", "let mut o = std::io::stdout().lock();\n");
        assert_clean("src/cli/conform.rs", "let w = std::io::stderr;\n");
    }

    #[test]
    fn tidy_one_runtime_builder_in_the_cli() {
        let body = "let rt = tokio::runtime::Builder::new_multi_thread().build()?;\n";
        assert_one("src/cli/demo.rs", body, 3, "cli::runtime");
        assert_one("src/conform/x.rs", body, 3, "cli::runtime");
        assert_clean("src/cli/mod.rs", body);
        assert_clean("tests/x.rs", &format!("//! T.\n{body}"));
    }

    #[test]
    fn tidy_the_cli_does_not_wire_phases() {
        for body in [
            "let m = crate::spec::validate::validate(&raw, &doc, &mut d);\n",
            "let l = crate::spec::load_file(&mut files, p);\n",
            "let t = crate::topology::Topology::from_model(&m);\n",
            "use crate::conform::client::Client;\n",
        ] {
            assert_one("src/cli/audit.rs", body, 3, "one library use case");
            assert_clean("src/audit/mod.rs", body);
        }
        assert_clean(
            "src/cli/audit.rs",
            "let (s, d) = crate::spec::load(&mut f, p);\n",
        );
    }

    #[test]
    fn tidy_ignores_comments_strings_and_char_literals() {
        let code = strip_comments_and_strings(
            "let a = '\"'; let b = \"x // y\"; /* std::fs */ let c = r#\"std::fs\"#; fn f<'a>(x: &'a str) {}\n",
        );
        assert!(!code.contains("std::fs"), "{code}");
        assert!(code.contains("fn f<'a>(x: &'a str)"), "{code}");
        assert_eq!(
            paths("use a::{b::{c, d as e}, f};\nx::y(z);\n"),
            vec![
                (1, "a::b::c".to_string()),
                (1, "a::b::d".to_string()),
                (1, "a::f".to_string()),
                (2, "x::y".to_string())
            ]
        );
    }
}

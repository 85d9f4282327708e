//! The vendored upstream files under `schemas/upstream/` are exactly the ones `SOURCE.md` names:
//! every listed file exists with the listed sha256, and every file there is listed.

use crate::util::{root, upstream};
use std::collections::BTreeMap;

/// `file → sha256` from the provenance table of `schemas/upstream/SOURCE.md`.
fn listed() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(upstream("SOURCE.md")).expect("SOURCE.md is readable");
    let mut rows = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        if cells.len() != 6 || cells[0] == "file" || cells[0].starts_with("---") {
            continue;
        }
        let sha = cells[4];
        assert!(
            sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
            "SOURCE.md: `{}` has no sha256 ({sha:?})",
            cells[0]
        );
        assert!(
            !cells[5].is_empty(),
            "SOURCE.md: `{}` names no license",
            cells[0]
        );
        let previous = rows.insert(cells[0].to_string(), sha.to_ascii_lowercase());
        assert!(previous.is_none(), "SOURCE.md lists `{}` twice", cells[0]);
    }
    rows
}

fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn files_under(dir: &std::path::Path, base: &std::path::Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            files_under(&path, base, out);
        } else {
            let rel = path.strip_prefix(base).unwrap().to_string_lossy();
            out.push(rel.replace('\\', "/"));
        }
    }
}

#[test]
fn vendored_files_match_source_md() {
    let rows = listed();
    assert!(
        rows.len() >= 12,
        "SOURCE.md lists the vendored files ({})",
        rows.len()
    );
    for (file, sha) in &rows {
        let bytes = std::fs::read(upstream(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(
            &sha256_hex(&bytes),
            sha,
            "{file}: sha256 differs from SOURCE.md"
        );
    }
    let base = upstream("");
    let mut on_disk = Vec::new();
    files_under(&base, &base, &mut on_disk);
    for f in on_disk.iter().filter(|f| *f != "SOURCE.md") {
        assert!(
            rows.contains_key(f),
            "{f} is vendored but not listed in SOURCE.md"
        );
    }
}

/// The tests read their oracles from the repository, so a fresh clone passes on its own.
#[test]
fn regression_fresh_clone_tests_need_no_shared_directory() {
    let mut sources = Vec::new();
    let tests = root().join("tests");
    files_under(&tests, &tests, &mut sources);
    for f in sources.iter().filter(|f| f.ends_with(".rs")) {
        let text = std::fs::read_to_string(tests.join(f)).unwrap();
        // Built from parts so that this file does not match itself.
        for needle in [
            ["..", "shared"].join("/"),
            ["join(\"", "shared\")"].join(""),
        ] {
            assert!(
                !text.contains(&needle),
                "tests/{f} looks outside the repository: {needle}"
            );
        }
    }
}

#[test]
fn sha256_is_computed_correctly() {
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

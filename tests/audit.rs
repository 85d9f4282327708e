//! Audit engine tests: the semantic case table (`fixtures/audit/cases/*.yaml`, one case per file,
//! each with its manifests and the expected connectivity) and the output formats.

use crate::util;
use airguard::audit;
use airguard::diag::Files;
use serde::Deserialize;

/// One semantic case.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// What the case proves.
    about: String,
    /// A file under `_base/` whose objects are prepended.
    #[serde(default)]
    base: Option<String>,
    /// The manifests (a multi-document YAML stream).
    objects: String,
    /// Keep rows with external addresses (dropped by default to keep cases short).
    #[serde(default)]
    external: bool,
    /// Keep only rows with this source.
    #[serde(default)]
    src: Option<String>,
    /// Keep only rows with this destination.
    #[serde(default)]
    dst: Option<String>,
    /// Diagnostic codes the input must produce (then `expect` may be omitted).
    #[serde(default)]
    errors: Vec<String>,
    /// Expected CSV (header included).
    #[serde(default)]
    expect: Option<String>,
}

fn run_case(case: &Case) -> Result<(), String> {
    let mut text = String::new();
    if let Some(b) = &case.base {
        text = std::fs::read_to_string(util::fixture(&format!("audit/cases/_base/{b}.yaml")))
            .map_err(|e| e.to_string())?;
        text.push_str("\n---\n");
    }
    text.push_str(&case.objects);
    let mut files = Files::new();
    let (inv, mut diags) = audit::load_text(&mut files, "case.yaml", &text);
    let (analysis, more) = audit::analyze(&inv);
    diags.extend(more);
    let codes: Vec<String> = diags.iter().map(|d| d.code.as_str().to_string()).collect();
    if codes != case.errors {
        return Err(format!(
            "diagnostics {codes:?}, expected {:?}: {diags:#?}",
            case.errors
        ));
    }
    let Some(expect) = &case.expect else {
        return Ok(());
    };
    let rows: Vec<_> = analysis
        .rows()
        .into_iter()
        .filter(|r| {
            case.external
                || (r.src.contains('/')
                    && r.dst.contains('/')
                    && !is_ext(&r.src)
                    && !is_ext(&r.dst))
        })
        .filter(|r| case.src.as_ref().is_none_or(|s| &r.src == s))
        .filter(|r| case.dst.as_ref().is_none_or(|d| &r.dst == d))
        .collect();
    let got = audit::format::csv::render(&rows);
    let want = format!("{}\n", expect.trim());
    if got != want {
        return Err(format!("--- expected\n{want}--- got\n{got}"));
    }
    Ok(())
}

fn is_ext(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_digit()) || s.contains(':')
}

#[test]
fn semantic_case_table() {
    let dir = util::fixture("audit/cases");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 40,
        "the case table must hold at least 40 cases, has {}",
        paths.len()
    );
    let mut failures = Vec::new();
    for p in &paths {
        let case: Case = serde_saphyr::from_str(&std::fs::read_to_string(p).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        if let Err(e) = run_case(&case) {
            failures.push(format!(
                "{} ({}):\n{e}",
                p.file_name().unwrap().to_string_lossy(),
                case.about
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        paths.len(),
        failures.join("\n\n")
    );
}

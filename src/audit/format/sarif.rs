//! SARIF 2.1.0 for code scanning: one rule per finding code, one result per finding with a
//! physical location (file URI and line) and the policy's JSON pointer as a logical location.
//! Suppressed findings are kept as results with an `inSource` suppression and its justification.

use super::{describe, position, Report, FINDING_CODES};
use crate::diag::{Code, Diagnostic, Files, Severity};
use serde_json::{json, Value};

/// The SARIF schema this output follows.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// A relative file name as a URI reference (forward slashes, spaces and `%` escaped).
fn uri(name: &str) -> String {
    let mut out = String::new();
    for ch in name.replace('\\', "/").chars() {
        match ch {
            ' ' => out.push_str("%20"),
            '%' => out.push_str("%25"),
            '#' => out.push_str("%23"),
            '?' => out.push_str("%3F"),
            c => out.push(c),
        }
    }
    out
}

fn result(files: &Files, rules: &[Code], d: &Diagnostic, suppression: Option<&str>) -> Value {
    let rule_index = rules.iter().position(|c| *c == d.code);
    let mut text = d.message.clone();
    if let Some(h) = &d.help {
        text.push_str(&format!(". Fix: {h}"));
    }
    let mut res = json!({
        "ruleId": d.code.as_str(),
        "level": level(d.severity),
        "message": { "text": text },
    });
    if let Some(i) = rule_index {
        res["ruleIndex"] = json!(i);
    }
    if let Some((file, line, column)) = position(files, d) {
        let mut loc = json!({
            "physicalLocation": {
                "artifactLocation": { "uri": uri(file) },
                "region": { "startLine": line, "startColumn": column }
            }
        });
        if let Some(p) = d.path.as_deref().filter(|p| !p.is_empty()) {
            loc["logicalLocations"] = json!([{ "fullyQualifiedName": p, "kind": "member" }]);
        }
        res["locations"] = json!([loc]);
    }
    if let Some(reason) = suppression {
        res["suppressions"] = json!([{ "kind": "inSource", "justification": reason }]);
    }
    res
}

/// Render the findings as a SARIF 2.1.0 log (pretty JSON, trailing newline).
pub fn render(r: &Report<'_>) -> String {
    let mut results: Vec<Value> = r
        .findings
        .active
        .iter()
        .map(|d| result(r.files, FINDING_CODES, d, None))
        .collect();
    results.extend(
        r.findings
            .suppressed
            .iter()
            .map(|s| result(r.files, FINDING_CODES, &s.finding, Some(&s.reason))),
    );
    log(FINDING_CODES, results)
}

/// Any command's findings as a SARIF 2.1.0 log with `rules` as its rules (`export` uses it).
pub fn diagnostics(files: &Files, rules: &[Code], diags: &[Diagnostic]) -> String {
    log(
        rules,
        diags
            .iter()
            .map(|d| result(files, rules, d, None))
            .collect(),
    )
}

fn log(codes: &[Code], results: Vec<Value>) -> String {
    let rules: Vec<Value> = codes
        .iter()
        .map(|c| {
            json!({
                "id": c.as_str(),
                "name": c.as_str(),
                "shortDescription": { "text": describe(*c) },
                "fullDescription": { "text": describe(*c) },
                "help": { "text": format!("See docs/diagnostics.md, section `{}`, in the airguard sources.", c.as_str()) },
                "defaultConfiguration": { "level": level(c.default_severity()) }
            })
        })
        .collect();
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "airguard",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results
        }]
    });
    let mut s = serde_json::to_string_pretty(&log).expect("sarif serializes");
    s.push('\n');
    s
}

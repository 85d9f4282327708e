//! Audit engine tests: the semantic case table (`fixtures/audit/cases/*.yaml`, one case per file,
//! each with its manifests and the expected connectivity) and the output formats.

use crate::util;
use airguard::audit;
use airguard::diag::Files;
use serde::Deserialize;

/// One semantic case.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// What the case proves.
    pub about: String,
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
    /// Why the case is kept out of the NCA cross-check (a documented NCA divergence).
    #[serde(default)]
    nca_skip: Option<String>,
}

impl Case {
    /// Whether the NCA cross-check uses this case as a cluster.
    pub fn for_nca(&self) -> bool {
        self.errors.is_empty() && self.nca_skip.is_none()
    }
}

/// Every case file, sorted by name, parsed.
pub fn cases() -> Vec<(String, Case)> {
    let dir = util::fixture("audit/cases");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let case: Case = serde_saphyr::from_str(&std::fs::read_to_string(&p).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p.file_name().unwrap().to_string_lossy().into_owned(), case)
        })
        .collect()
}

/// The full manifest text of a case: its base, then its objects.
pub fn case_text(case: &Case) -> String {
    let mut text = String::new();
    if let Some(b) = &case.base {
        text =
            std::fs::read_to_string(util::fixture(&format!("audit/cases/_base/{b}.yaml"))).unwrap();
        text.push_str("\n---\n");
    }
    text.push_str(&case.objects);
    text
}

fn run_case(case: &Case) -> Result<(), String> {
    let text = case_text(case);
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
        .filter(|r| case.external || (!is_ext(&r.src) && !is_ext(&r.dst)))
        .filter(|r| case.src.as_ref().is_none_or(|s| *r.src == **s))
        .filter(|r| case.dst.as_ref().is_none_or(|d| *r.dst == **d))
        .collect();
    let got = audit::format::csv::render(&rows);
    let want = format!("{}\n", expect.trim());
    if got != want {
        return Err(format!("--- expected\n{want}--- got\n{got}"));
    }
    Ok(())
}

/// Whether a map end is an external address (endpoint ids never start with a digit or hold `:`).
pub fn is_ext(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_digit()) || s.contains(':')
}

#[test]
fn semantic_case_table() {
    let cases = cases();
    assert!(
        cases.len() >= 40,
        "the case table must hold at least 40 cases, has {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for (name, case) in &cases {
        if let Err(e) = run_case(case) {
            failures.push(format!("{name} ({}):\n{e}", case.about));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

/// Run `airguard audit` from the repository root; returns (exit code, stdout).
fn audit_cli(args: &[&str]) -> (i32, String) {
    let out = util::airguard()
        .current_dir(util::root())
        .arg("audit")
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    (out.status.code().unwrap_or(-1), stdout)
}

#[test]
fn formats_are_golden_on_the_demo_cluster() {
    for fmt in ["text", "json", "sarif", "junit", "csv", "dot"] {
        let (code, out) =
            audit_cli(&["fixtures/audit/demo", "--format", fmt, "--fail-on", "never"]);
        assert_eq!(code, 0, "{fmt}: --fail-on never exits 0");
        insta::assert_snapshot!(format!("demo_{fmt}"), out);
    }
}

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(util::root().join("tests/data/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let (_, out) = audit_cli(&["fixtures/audit/demo", "--format", "sarif"]);
    let log: serde_json::Value = serde_json::from_str(&out).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let loc = &r["locations"][0]["physicalLocation"];
        assert!(
            loc["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .starts_with("fixtures/audit/demo/"),
            "{r}"
        );
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1, "{r}");
    }
    // A broken log must fail the same validator, so the check above can fail.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(validator.iter_errors(&broken).next().is_some());
}

#[test]
fn fail_on_sets_the_exit_code() {
    // The demo has errors (egress without DNS), warnings and notes.
    assert_eq!(audit_cli(&["fixtures/audit/demo", "--format", "csv"]).0, 1);
    assert_eq!(
        audit_cli(&[
            "fixtures/audit/demo",
            "--format",
            "csv",
            "--fail-on",
            "never"
        ])
        .0,
        0
    );
    // Case 04 alone has only warnings: the default (error) passes, warning fails.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("ok.yaml");
    std::fs::write(
        &f,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: x}\nspec: {containers: [{name: c}]}\n",
    )
    .unwrap();
    let f = f.to_str().unwrap();
    assert_eq!(audit_cli(&[f]).0, 0);
    assert_eq!(audit_cli(&[f, "--fail-on", "warning"]).0, 1);
}

/// `--format json` covers input errors too: a bad manifest gives the JSON diagnostics document
/// on stdout (nothing on stderr), still exit 2; a bad `--spec` too.
#[test]
fn bad_input_with_format_json_prints_json_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.yaml");
    std::fs::write(
        &f,
        "kind: Pod\nmetadata: {name: b}\nspec: {containers: 7}\n",
    )
    .unwrap();
    let out = util::airguard()
        .args(["audit", "--format", "json"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc["schema_version"],
        airguard::diag::render::JSON_SCHEMA_VERSION
    );
    assert_eq!(doc["summary"]["errors"], 1);
    let d = &doc["diagnostics"][0];
    assert_eq!(d["code"], "invalid-manifest");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(d["file"].as_str().unwrap().ends_with("bad.yaml"));

    let spec = dir.path().join("spec.yaml");
    std::fs::write(&spec, "version: 1\nnot-a-key: true\n").unwrap();
    let out = util::airguard()
        .args(["audit", "--format", "json", "--spec"])
        .arg(&spec)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<&str> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"unknown-key"), "{codes:?}");
}

#[test]
fn bad_input_exits_2_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.yaml");
    std::fs::write(&f, "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\nkind: Pod\nmetadata: {name: b}\nspec: {containers: 7}\n")
        .unwrap();
    let out = util::airguard().arg("audit").arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("invalid-manifest") && err.contains("bad.yaml:5:1"),
        "{err}"
    );
    let out = util::airguard()
        .arg("audit")
        .arg(dir.path().join("missing.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn explain_names_the_rules_that_decide() {
    let (code, out) = audit_cli(&[
        "fixtures/audit/demo",
        "--explain",
        "shop/frontend shop/api 9000/TCP",
    ]);
    assert_eq!(code, 0, "{out}");
    insta::assert_snapshot!("explain_allowed", out);
    let (code, out) = audit_cli(&[
        "fixtures/audit/demo",
        "--explain",
        "shop/api shop/frontend http",
    ]);
    assert_eq!(code, 1, "{out}");
    insta::assert_snapshot!("explain_denied", out);
    let (code, out) = audit_cli(&[
        "fixtures/audit/demo",
        "--explain",
        "shop/api 203.0.113.7 443/TCP",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ipBlock 0.0.0.0/0"), "{out}");
    let (code, _) = audit_cli(&["fixtures/audit/demo", "--explain", "shop/nope shop/api 80"]);
    assert_eq!(code, 2);
}

/// `--explain` names the specific reason of each non-matching rule (`fixtures/audit/explain`):
/// (snapshot, query, exit code, a phrase the report must contain).
const EXPLAIN_REASONS: &[(&str, &str, i32, &str)] = &[
    (
        "explain_except_ingress",
        "192.168.1.5 a/srv 80/TCP",
        1,
        "does not match: 192.168.1.5 is excluded by except 192.168.1.0/24",
    ),
    (
        "explain_except_egress",
        "a/srv 10.1.2.3 443/TCP",
        1,
        "does not match: 10.1.2.3 is excluded by except 10.1.0.0/16",
    ),
    (
        "explain_except_ipv6",
        "a/srv fd00:1::5 53/UDP",
        1,
        "does not match: fd00:1::5 is excluded by except fd00:1::/32",
    ),
    (
        "explain_outside_cidr",
        "a/srv 172.16.0.1 443",
        1,
        "does not match: 172.16.0.1 is outside 10.0.0.0/8",
    ),
    (
        "explain_end_port_and_namespace",
        "b/client a/srv 8011/TCP",
        1,
        "namespace b (labels kubernetes.io/metadata.name=b,team=b) does not match \
         namespaceSelector team=a; port 8011 is outside TCP 8000-8010",
    ),
    (
        "explain_protocol_mismatch",
        "b/client a/srv 80/UDP",
        1,
        "TCP 80 is TCP, the flow is UDP",
    ),
    (
        "explain_named_port_unresolved",
        "a/job a/srv 80/TCP",
        1,
        "named port web/TCP does not resolve on a/srv (no container port named web)",
    ),
    (
        "explain_named_port_other_protocol",
        "a/job a/srv 53/UDP",
        1,
        "named port http/UDP does not resolve on a/srv (http is TCP there)",
    ),
    (
        "explain_named_port_external",
        "a/job 203.0.113.9 443",
        1,
        "named port https/TCP never matches an external address (203.0.113.9)",
    ),
    (
        "explain_except_allows_the_rest",
        "192.168.3.5 a/srv 80/TCP",
        0,
        "from: ipBlock 192.168.0.0/16 except [192.168.1.0/24, 192.168.2.0/24]; ports: TCP 80; \
         ALLOWS the flow",
    ),
];

#[test]
fn explain_names_the_specific_reason_of_each_denial() {
    for (snap, query, want, phrase) in EXPLAIN_REASONS {
        let (code, out) = audit_cli(&["fixtures/audit/explain", "--explain", query]);
        assert_eq!(code, *want, "{query}: {out}");
        assert!(
            out.contains(phrase),
            "{query}: missing `{phrase}` in\n{out}"
        );
        assert!(!out.contains("peer not selected"), "{query}: vague: {out}");
        assert!(!out.contains("port not listed"), "{query}: vague: {out}");
        insta::assert_snapshot!(*snap, out);
    }
}

#[test]
fn suppression_moves_findings_aside_with_their_reason() {
    let (_, out) = audit_cli(&[
        "fixtures/audit/demo",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let sup = doc["suppressed"].as_array().unwrap();
    assert!(sup.iter().any(|s| s["code"] == "pod-not-isolated-egress"
        && s["reason"].as_str().unwrap().contains("TICKET-42")));
    assert!(!doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["message"].as_str().unwrap().contains("legacy/cron")));
}

/// One findings case: manifests and the exact findings (`code: message`, sorted).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FindingsCase {
    about: String,
    objects: String,
    #[serde(default)]
    errors: Vec<String>,
    expect: Vec<String>,
}

#[test]
fn findings_table() {
    let dir = util::fixture("audit/findings");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    assert!(paths.len() >= 5);
    let mut failures = Vec::new();
    for p in &paths {
        let case: FindingsCase = serde_saphyr::from_str(&std::fs::read_to_string(p).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let mut files = Files::new();
        let (inv, mut diags) = audit::load_text(&mut files, "case.yaml", &case.objects);
        let (analysis, more) = audit::analyze(&inv);
        diags.extend(more);
        let codes: Vec<String> = diags.iter().map(|d| d.code.as_str().to_string()).collect();
        let mut got: Vec<String> = audit::findings::findings(&analysis)
            .active
            .iter()
            .map(|d| format!("{}: {}", d.code, d.message))
            .collect();
        got.sort();
        if codes != case.errors || got != case.expect {
            failures.push(format!(
                "{} ({}):\n  input errors {codes:?}, expected {:?}\n  got {got:#?}\n  expected {:#?}",
                p.display(),
                case.about,
                case.errors,
                case.expect
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Render a spec into a temporary directory; returns it.
fn render_spec(spec: &std::path::Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = util::airguard()
        .arg("render")
        .arg("--spec")
        .arg(spec)
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

fn spec_findings(policies: &std::path::Path, spec: &std::path::Path) -> Vec<(String, String)> {
    let out = util::airguard()
        .arg("audit")
        .arg(policies)
        .arg("--spec")
        .arg(spec)
        .args(["--format", "json", "--fail-on", "never"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn rendered_policies_allow_exactly_the_declared_flows() {
    let mut specs: Vec<_> = std::fs::read_dir(util::fixture("specs/valid"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    specs.sort();
    assert!(!specs.is_empty());
    let mut failures = Vec::new();
    for spec in &specs {
        let dir = render_spec(spec);
        let found = spec_findings(&dir.path().join("out/networkpolicies"), spec);
        let bad: Vec<_> = found
            .iter()
            .filter(|(c, _)| {
                c == "undeclared-flow" || c == "blocked-declared-flow" || c == "egress-without-dns"
            })
            .collect();
        if !bad.is_empty() {
            failures.push(format!("{}: {bad:#?}", spec.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn spec_intent_catches_extra_and_missing_flows() {
    let spec = util::fixture("specs/valid/example.yaml");
    let dir = render_spec(&spec);
    let np = dir.path().join("out/networkpolicies");
    // Replace Airflow's policies by a bare default deny: its declared calls become blocked.
    std::fs::write(
        np.join("airflow.yaml"),
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: airflow}\nspec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n",
    )
    .unwrap();
    // Open Airbyte's ingress to everything: flows nobody declared appear.
    std::fs::write(
        np.join("extra.yaml"),
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: open, namespace: airbyte}\nspec: {podSelector: {}, ingress: [{}]}\n",
    )
    .unwrap();
    let found = spec_findings(&np, &spec);
    let has = |code: &str, part: &str| found.iter().any(|(c, m)| c == code && m.contains(part));
    assert!(
        has(
            "blocked-declared-flow",
            "`airflow/airflow-scheduler` -> `kube-system/dns`"
        ),
        "{found:#?}"
    );
    assert!(
        has("undeclared-flow", "-> `airbyte/airbyte-db`"),
        "{found:#?}"
    );
}

/// The GCS layout with its storage networks replaced by `cidrs` and two more egress rules.
fn gcs_spec_with(
    dir: &std::path::Path,
    name: &str,
    cidrs: &str,
    egress: &str,
) -> std::path::PathBuf {
    let text =
        std::fs::read_to_string(util::fixture("specs/valid/external-db-gcs-v1.yaml")).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with("    cidrs: [199.36.153.") {
            out.push_str(&format!("    cidrs: [{cidrs}]\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
        if line == "  egress:" {
            out.push_str(egress);
        }
    }
    assert!(out.contains(cidrs) && out.contains(egress), "{out}");
    let path = dir.join(name);
    std::fs::write(&path, out).unwrap();
    path
}

const ADJACENT_EGRESS: &str = "    - {name: warehouse-a, cidr: 10.80.0.0/25, ports: [443]}\n    - {name: warehouse-b, cidr: 10.80.0.128/25, ports: [443]}\n";

#[test]
fn regression_adjacent_declared_cidrs_are_not_undeclared() {
    // Two adjacent declared networks (Google's restricted and private API ranges as two entries
    // of `airbyte.storage.cidrs`, and two egress rules on one port) are allowed as one merged
    // range; together they declare all of it.
    let tmp = tempfile::tempdir().unwrap();
    let spec = gcs_spec_with(
        tmp.path(),
        "spec.yaml",
        "199.36.153.4/30, 199.36.153.8/30",
        ADJACENT_EGRESS,
    );
    let dir = render_spec(&spec);
    let found = spec_findings(&dir.path().join("out/networkpolicies"), &spec);
    let bad: Vec<_> = found
        .iter()
        .filter(|(c, _)| c == "undeclared-flow" || c == "blocked-declared-flow")
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn undeclared_range_adjacent_to_a_declared_one_is_still_found() {
    // Render with both ranges, then audit against a spec that declares only one of each pair:
    // exactly the other half is reported, on the declared port.
    let tmp = tempfile::tempdir().unwrap();
    let both = gcs_spec_with(
        tmp.path(),
        "both.yaml",
        "199.36.153.4/30, 199.36.153.8/30",
        ADJACENT_EGRESS,
    );
    let one = gcs_spec_with(
        tmp.path(),
        "one.yaml",
        "199.36.153.4/30",
        "    - {name: warehouse-a, cidr: 10.80.0.0/25, ports: [443]}\n",
    );
    let dir = render_spec(&both);
    let found = spec_findings(&dir.path().join("out/networkpolicies"), &one);
    let undeclared: Vec<&str> = found
        .iter()
        .filter(|(c, _)| c == "undeclared-flow")
        .map(|(_, m)| m.as_str())
        .collect();
    assert!(!undeclared.is_empty(), "{found:#?}");
    for m in &undeclared {
        assert!(
            m.contains("-> 199.36.153.8/30 is allowed on TCP 443,")
                || m.contains("-> 10.80.0.128/25 is allowed on TCP 443,"),
            "{m}"
        );
    }
    assert!(
        undeclared.iter().any(|m| m.contains("10.80.0.128/25")),
        "{undeclared:#?}"
    );
    assert!(
        undeclared.iter().any(|m| m.contains("199.36.153.8/30")),
        "{undeclared:#?}"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 48, ..Default::default() })]

    /// For random specs drawn over the layout options (shared or separate namespaces, a jobs
    /// namespace, ingress controller and DNS pods in their own namespace or inside an owned one
    /// with labels that may collide with the charts', DNS by address, egress rules, Airbyte on an
    /// external database and S3/GCS/Azure storage at one network or two adjacent ones), the policies
    /// airguard renders allow, over the spec's own inventory, exactly the declared flows (which
    /// include the always-on DNS and chart-internal ones): no `undeclared-flow`, no
    /// `blocked-declared-flow`. A spec it rejects is rejected only for overlapping selectors.
    #[test]
    fn rendered_policies_allow_exactly_the_declared_flows_for_random_specs((spec, layout) in crate::props::layout_spec()) {
        let text = serde_saphyr::to_string(&spec).unwrap();
        let mut files = Files::new();
        let (model, diags) = airguard::spec::from_str(&mut files, "spec.yaml", &text);
        let Some(model) = model else {
            let codes: Vec<&str> = diags.iter().filter(|d| d.severity == airguard::diag::Severity::Error).map(|d| d.code.as_str()).collect();
            proptest::prop_assert!(
                !codes.is_empty() && codes.iter().all(|c| *c == "overlapping-selectors"),
                "{:?}\n{:?}\n{}", diags, layout, text
            );
            return Ok(());
        };
        let artifacts = airguard::render::render(&model).unwrap();
        for a in artifacts.iter().filter(|a| a.path.starts_with("networkpolicies/")) {
            proptest::prop_assert_eq!(a.content.matches("podSelector: {}").count(), 1, "{}", a.content);
        }
        let policies: String = artifacts
            .iter()
            .filter(|a| a.path.starts_with("networkpolicies/"))
            .map(|a| format!("{}\n---\n", a.content))
            .collect();
        proptest::prop_assert!(!policies.is_empty());
        let (mut inv, diags) = audit::load_text(&mut files, "policies.yaml", &policies);
        proptest::prop_assert!(diags.is_empty(), "{:?}", diags);
        let topo = airguard::topology::Topology::from_model(&model);
        let spec_file = files.add("spec-intent", "");
        audit::intent::add_endpoints(&mut inv, &topo, audit::inventory::Loc { file: spec_file, offset: 0 });
        let (analysis, diags) = audit::analyze(&inv);
        proptest::prop_assert!(diags.is_empty(), "{:?}", diags);
        let found: Vec<String> = audit::intent::check(&analysis, &topo, spec_file, None)
            .iter()
            .map(|d| format!("{}: {}", d.code, d.message))
            .collect();
        proptest::prop_assert!(found.is_empty(), "{:#?}\n{:?}\n{}", found, layout, text);
    }
}

/// Run `airguard audit` with the given arguments; returns (exit code, stdout, stderr).
fn audit_run(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = util::airguard().arg("audit").args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: x}\nspec: {containers: [{name: c}]}\n";

#[test]
fn regression_audit_of_its_own_render_directory_exits_0() {
    let spec = util::fixture("specs/valid/example.yaml");
    let dir = render_spec(&spec);
    let out = dir.path().join("out");
    let (code, stdout, stderr) = audit_run(&[
        out.as_os_str(),
        "--spec".as_ref(),
        spec.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["findings"], serde_json::json!([]), "{stdout}");
}

#[test]
fn regression_directory_walk_skips_files_that_are_not_manifests() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pod.yaml"), POD).unwrap();
    std::fs::create_dir(dir.path().join("chart")).unwrap();
    let values = dir.path().join("chart/values.yaml");
    std::fs::write(
        &values,
        "executor: CeleryExecutor\nworkers: {replicas: 2}\n",
    )
    .unwrap();
    let (code, stdout, stderr) = audit_run(&[dir.path().as_os_str()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("note: skipped")
            && stdout.contains("values.yaml (not a Kubernetes manifest"),
        "{stdout}"
    );
    // Named on the command line, the same file stays an error.
    let (code, _, stderr) = audit_run(&[values.as_os_str()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("object without a `kind`"), "{stderr}");
    // A broken object in a manifest found by the walk is still an error.
    std::fs::write(
        dir.path().join("bad.yaml"),
        "kind: Pod\nspec: {containers: 3}\n",
    )
    .unwrap();
    assert_eq!(audit_run(&[dir.path().as_os_str()]).0, 2);
}

#[test]
fn regression_directory_walk_honours_kustomization_resources() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("base")).unwrap();
    std::fs::write(d.join("base/pod.yaml"), POD).unwrap();
    std::fs::write(
        d.join("base/kustomization.yaml"),
        "resources:\n- pod.yaml\n",
    )
    .unwrap();
    std::fs::write(
        d.join("policy.yaml"),
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: x}\nspec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n",
    )
    .unwrap();
    // Not listed, so never read, though it would be an error.
    std::fs::write(
        d.join("unlisted.yaml"),
        "kind: Pod\nspec: {containers: 3}\n",
    )
    .unwrap();
    std::fs::write(
        d.join("kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- base\n- policy.yaml\n- https://example.com/remote.yaml\n",
    )
    .unwrap();
    let (code, stdout, stderr) = audit_run(&[d.as_os_str(), "--format".as_ref(), "json".as_ref()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["summary"]["endpoints"], 1, "{stdout}");
    assert_eq!(doc["summary"]["policies"], 1, "{stdout}");
    assert_eq!(doc["summary"]["skipped"], serde_json::json!({}), "{stdout}");
    assert!(
        doc["summary"]["skipped_files"][0]
            .as_str()
            .unwrap()
            .contains("remote resource"),
        "{stdout}"
    );
}

#[cfg(unix)]
#[test]
fn regression_directory_walk_ends_on_symlink_loops() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("sub")).unwrap();
    std::fs::write(d.join("sub/pod.yaml"), POD).unwrap();
    // A link to its own directory: following it re-enters `sub` until the OS gives up.
    std::os::unix::fs::symlink(".", d.join("sub/self")).unwrap();
    let (code, stdout, stderr) = audit_run(&[d.as_os_str(), "--format".as_ref(), "json".as_ref()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        doc["summary"]["endpoints"], 1,
        "the pod is read once: {stdout}"
    );
}

#[test]
fn regression_audit_rejects_what_the_api_server_rejects() {
    // Each of these was accepted and analysed; the API server refuses them.
    let policy = |ns: &str, spec: &str| {
        format!("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p, namespace: {ns}}}\nspec: {spec}\n")
    };
    let inputs = [
        policy("a", "{podSelector: {}, ingress: [{ports: [{port: \"80\"}]}]}"),
        policy("a", "{podSelector: {}, ingress: [{ports: [{port: \"not a name!\"}]}]}"),
        policy("a", "{podSelector: {matchLabels: {\"a b\": x}}}"),
        policy("../../etc", "{podSelector: {}}"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: x}\nspec: {containers: [{name: c, ports: [{name: \"not a name!\", containerPort: 80}]}]}\n".to_string(),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, text) in inputs.iter().enumerate() {
        let f = dir.path().join(format!("in{i}.yaml"));
        std::fs::write(&f, text).unwrap();
        let (code, stdout, stderr) = audit_run(&[f.as_os_str()]);
        assert_eq!(code, 2, "{text}\n{stdout}{stderr}");
        assert!(
            stderr.contains("invalid-policy") || stderr.contains("invalid-manifest"),
            "{stderr}"
        );
    }
}

/// Whether XML 1.0 allows the character anywhere in a document.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

#[cfg(unix)]
#[test]
fn regression_control_characters_from_inputs_never_reach_the_output_raw() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    // A file name, a skipped kind and a suppression reason, all with ESC, BEL and a NUL (YAML
    // allows them only as escapes in quoted strings; the error case below has them raw).
    let name = std::ffi::OsStr::from_bytes(b"evil\x1b[2J\x07.yaml");
    let f = dir.path().join(name);
    std::fs::write(
        &f,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: x\n  annotations:\n    airguard.io/suppress: \"pod-not-isolated-egress: ok \\e[5m\\a\\0\"\nspec: {containers: [{name: c}]}\n---\nkind: \"Ev\\e[31mil\"\n",
    )
    .unwrap();
    let raw = |s: &str| s.chars().any(|c| c.is_control() && c != '\n' && c != '\t');
    let (code, stdout, stderr) = audit_run(&[f.as_os_str()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!raw(&stdout), "{stdout:?}");
    assert!(stdout.contains("\\u{1b}"), "{stdout}");
    let (_, stdout, _) = audit_run(&[f.as_os_str(), "--format".as_ref(), "junit".as_ref()]);
    assert!(stdout.chars().all(xml_char), "{stdout:?}");
    assert!(!raw(&stdout), "{stdout:?}");
    for fmt in ["csv", "dot"] {
        let (_, stdout, _) = audit_run(&[f.as_os_str(), "--format".as_ref(), fmt.as_ref()]);
        assert!(!raw(&stdout), "{fmt}: {stdout:?}");
    }
    // Input errors go to stderr: the same holds there.
    std::fs::write(
        &f,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations: {airguard.io/suppress: \"\\e[31m\\u009b: x\"}\nspec: {containers: [{name: c}]} # \u{1b}[2J\n",
    )
    .unwrap();
    let (code, _, stderr) = audit_run(&[f.as_os_str()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(!raw(&stderr), "{stderr:?}");
    assert!(stderr.contains("\\u{1b}"), "{stderr}");
}

/// Strategies for hostile audit inputs: manifests shaped like the kinds the audit reads, with
/// valid and invalid names, labels, selectors, ports and CIDRs, mixed with arbitrary documents.
mod hostile {
    use proptest::prelude::*;
    use serde_json::{json, Value};

    fn word() -> impl Strategy<Value = String> {
        prop_oneof![
            24 => "[a-c]{1,2}",
            1 => Just("a b".to_string()),
            1 => Just("../../etc".to_string()),
            1 => "\\PC{0,6}",
            1 => Just("x\u{1b}[31m\u{7}".to_string()),
        ]
    }

    fn labels() -> impl Strategy<Value = Value> {
        proptest::collection::btree_map(word(), word(), 0..3).prop_map(|m| json!(m))
    }

    fn any_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| json!(f)),
            word().prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                proptest::collection::btree_map(word(), inner, 0..4).prop_map(|m| json!(m)),
            ]
        })
    }

    fn selector() -> impl Strategy<Value = Value> {
        let expr = (
            word(),
            prop_oneof![
                Just("In"),
                Just("NotIn"),
                Just("Exists"),
                Just("DoesNotExist"),
                Just("Like")
            ],
            proptest::option::of(proptest::collection::vec(word(), 0..3)),
        )
            .prop_map(|(key, operator, values)| json!({"key": key, "operator": operator, "values": values}));
        (
            proptest::option::of(labels()),
            proptest::option::of(proptest::collection::vec(expr, 0..2)),
        )
            .prop_map(|(l, e)| json!({"matchLabels": l, "matchExpressions": e}))
    }

    fn port() -> impl Strategy<Value = Value> {
        let p = prop_oneof![
            (-2i64..70_000).prop_map(Value::from),
            word().prop_map(Value::from),
            Just(json!("80")),
            Just(json!("http")),
        ];
        (
            proptest::option::of(p),
            proptest::option::of(prop_oneof![
                Just("TCP"),
                Just("UDP"),
                Just("SCTP"),
                Just("tcp"),
                Just("ICMP")
            ]),
            proptest::option::of(-2i64..70_000),
        )
            .prop_map(
                |(port, protocol, end)| json!({"port": port, "protocol": protocol, "endPort": end}),
            )
    }

    fn peer() -> impl Strategy<Value = Value> {
        let cidr = prop_oneof![
            Just("10.0.0.0/8"),
            Just("0.0.0.0/0"),
            Just("::/0"),
            Just("fd00::/8"),
            Just("10.1.0.0/16"),
            Just("1.2.3.4/33"),
            Just("x"),
        ];
        let ip = (cidr.clone(), proptest::collection::vec(cidr, 0..3))
            .prop_map(|(c, e)| json!({"cidr": c, "except": e}));
        (
            proptest::option::of(selector()),
            proptest::option::of(selector()),
            proptest::option::of(ip),
        )
            .prop_map(|(p, n, i)| json!({"podSelector": p, "namespaceSelector": n, "ipBlock": i}))
    }

    fn rule() -> impl Strategy<Value = Value> {
        (
            proptest::option::of(proptest::collection::vec(peer(), 0..3)),
            proptest::option::of(proptest::collection::vec(port(), 0..3)),
        )
            .prop_map(|(peers, ports)| json!({"from": peers, "to": peers, "ports": ports}))
    }

    fn policy() -> impl Strategy<Value = Value> {
        (
            word(),
            word(),
            selector(),
            proptest::option::of(proptest::collection::vec(
                prop_oneof![Just("Ingress"), Just("Egress"), Just("Both")],
                0..3,
            )),
            proptest::option::of(proptest::collection::vec(rule(), 0..3)),
            proptest::option::of(proptest::collection::vec(rule(), 0..3)),
        )
            .prop_map(|(name, ns, sel, types, ingress, egress)| {
                json!({
                    "apiVersion": "networking.k8s.io/v1",
                    "kind": "NetworkPolicy",
                    "metadata": {"name": name, "namespace": ns},
                    "spec": {"podSelector": sel, "policyTypes": types, "ingress": ingress, "egress": egress}
                })
            })
    }

    fn workload() -> impl Strategy<Value = Value> {
        let cport = (
            -2i64..70_000,
            proptest::option::of(word()),
            proptest::option::of(prop_oneof![Just("TCP"), Just("UDP"), Just("udp")]),
        )
            .prop_map(|(p, n, pr)| json!({"containerPort": p, "name": n, "protocol": pr}));
        (
            prop_oneof![Just("Pod"), Just("Deployment"), Just("CronJob")],
            word(),
            word(),
            labels(),
            proptest::collection::vec(cport, 0..3),
        )
            .prop_map(|(kind, name, ns, labels, ports)| {
                let pod = json!({"containers": [{"name": "c", "ports": ports}]});
                let meta = json!({"name": name, "namespace": ns, "labels": labels});
                match kind {
                    "Pod" => json!({"apiVersion": "v1", "kind": kind, "metadata": meta, "spec": pod}),
                    "Deployment" => json!({"apiVersion": "apps/v1", "kind": kind, "metadata": meta,
                        "spec": {"selector": {}, "template": {"metadata": meta, "spec": pod}}}),
                    _ => json!({"apiVersion": "batch/v1", "kind": kind, "metadata": meta,
                        "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"metadata": meta, "spec": pod}}}}}),
                }
            })
    }

    fn namespace() -> impl Strategy<Value = Value> {
        (word(), labels()).prop_map(|(name, labels)| {
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
        })
    }

    /// A multi-document stream of manifests (JSON documents are YAML too).
    pub fn manifests() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                3 => policy(),
                3 => workload(),
                1 => namespace(),
                1 => any_value(),
            ],
            0..8,
        )
        .prop_map(|docs| {
            docs.iter()
                .map(|d| serde_json::to_string(d).unwrap())
                .collect::<Vec<_>>()
                .join("\n---\n")
        })
    }
}

/// Everything the audit does with one input, as the library: load, analyse, findings, every
/// format and an explanation. Returns the exit code the CLI would give.
fn audit_everything(text: &str) -> i32 {
    let mut files = Files::new();
    let (inv, mut diags) = audit::load_text(&mut files, "in.yaml", text);
    let (analysis, more) = audit::analyze(&inv);
    diags.extend(more);
    if airguard::diag::has_errors(&diags) {
        let (files, diags) = audit::format::terminal_safe(&files, &diags);
        airguard::diag::render::human(&files, &diags, false);
        return 2;
    }
    let findings = audit::findings::findings(&analysis);
    let rows = analysis.rows();
    let report = audit::format::Report {
        analysis: &analysis,
        files: &files,
        findings: &findings,
        rows: &rows,
        fail_on: Some(airguard::diag::Severity::Error),
    };
    audit::format::text::render(&report, true);
    audit::format::json::render(&report);
    audit::format::sarif::render(&report);
    let junit = audit::format::junit::render(&report);
    assert!(junit.chars().all(xml_char), "{junit:?}");
    audit::format::csv::render(&rows);
    audit::format::dot::render(&report);
    let ids: Vec<String> = inv.endpoints.iter().map(|e| e.id()).collect();
    if let [a, .., b] = ids.as_slice() {
        for q in [
            format!("{a} {b} 80/TCP"),
            format!("{b} 10.0.0.1 53/UDP"),
            format!("::1 {a} http"),
        ] {
            let _ = audit::explain::explain(&analysis, &files, &q);
        }
    }
    i32::from(findings.active.iter().any(|d| report.fails(d)))
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

    /// Arbitrary manifests (valid and invalid) never panic the audit, in any format.
    #[test]
    fn hostile_manifests_never_panic_the_audit(text in hostile::manifests()) {
        let code = audit_everything(&text);
        proptest::prop_assert!((0..=2).contains(&code));
    }

    /// Arbitrary bytes never panic the audit.
    #[test]
    fn arbitrary_bytes_never_panic_the_audit(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
        audit_everything(&String::from_utf8_lossy(&bytes));
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 12, ..Default::default() })]

    /// Through the CLI, arbitrary bytes or manifests exit 0, 1 or 2: never a panic (101).
    #[test]
    fn hostile_inputs_exit_0_1_or_2_through_the_cli(
        bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256),
        text in hostile::manifests(),
        as_bytes in proptest::prelude::any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("in.yaml");
        std::fs::write(&f, if as_bytes { bytes } else { text.into_bytes() }).unwrap();
        for fmt in ["text", "junit"] {
            let (code, _, stderr) = audit_run(&[f.as_os_str(), "--format".as_ref(), fmt.as_ref()]);
            proptest::prop_assert!((0..=2).contains(&code), "exit {}: {}", code, stderr);
        }
    }
}

#[test]
fn regression_pods_no_policy_tells_apart_form_one_class() {
    // 30 pods with labels no other pod has, in 3 namespaces, and no policy: grouped by raw
    // labels they were 30 classes and 870 pairs (pods² at scale); no policy can tell them apart.
    let mut text = String::new();
    for i in 0..30 {
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: n{}, labels: {{uid: u{i}}}}}\nspec: {{containers: [{{name: c}}]}}\n",
            i % 3
        ));
    }
    let mut files = Files::new();
    let (inv, diags) = audit::load_text(&mut files, "pods.yaml", &text);
    assert!(diags.is_empty(), "{diags:?}");
    let (analysis, diags) = audit::analyze(&inv);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(analysis.classes.len(), 1);
    // The endpoint-level map is unchanged: every pod reaches every other and every address.
    assert_eq!(analysis.rows().len(), 30 * 29 + 30 * 4);
    assert_eq!(analysis.row_count(), 30 * 29 + 30 * 4);
    // The class-level map lists the class once per peer: itself and the four address ranges.
    let rows = analysis.class_rows();
    assert_eq!(rows.len(), 5, "{rows:#?}");
    assert!(rows
        .iter()
        .any(|r| r.src == r.dst && r.src.starts_with("{n0/p0 n0/p12 ")));
}

#[test]
fn classes_split_exactly_where_a_selector_tells_endpoints_apart() {
    // Same labels in a, b, c, d; a's policy admits b by namespace. a (selected), b (a peer) and
    // the rest (selected by nothing) are three classes; c and d share one.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("in.yaml");
    let pod = |ns: &str| {
        format!("---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: {ns}, labels: {{app: web}}}}\nspec: {{containers: [{{name: c, ports: [{{name: http, containerPort: 80}}]}}]}}\n")
    };
    let mut text: String = ["a", "b", "c", "d"].iter().map(|n| pod(n)).collect();
    text.push_str("---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: from-b, namespace: a}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: b}}}], ports: [{port: http}]}]\n");
    std::fs::write(&f, text).unwrap();
    let (code, stdout, stderr) = audit_run(&[f.as_os_str(), "--format".as_ref(), "csv".as_ref()]);
    assert_eq!(code, 0, "{stderr}");
    let pods: Vec<&str> = stdout
        .lines()
        .filter(|l| !l.contains('.') && !l.contains("::"))
        .collect();
    assert_eq!(
        pods,
        [
            "src,dst,conns",
            "a/p,b/p,All",
            "a/p,{c/p d/p},All",
            "b/p,a/p,TCP 80",
            "b/p,{c/p d/p},All",
            "{c/p d/p},b/p,All",
            "{c/p d/p},{c/p d/p},All",
        ],
        "{stdout}"
    );
}

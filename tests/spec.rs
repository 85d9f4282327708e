//! Spec loading and validation, data-driven: every file in `fixtures/specs/invalid/` is loaded
//! and the diagnostics are rendered exactly as users see them (human text, no colour) into one
//! snapshot per fixture. Every file in `fixtures/specs/valid/` must load with no error.

use airguard::diag::{self, Files};

/// Load a spec fixture and render its diagnostics as the CLI prints them.
fn check(path: &std::path::Path) -> (bool, String) {
    let text = std::fs::read_to_string(path).expect("fixture readable");
    let name = format!(
        "fixtures/specs/{}",
        path.strip_prefix(crate::util::fixture("specs"))
            .unwrap()
            .display()
    );
    let mut files = Files::new();
    let (model, diags) = airguard::spec::from_str(&mut files, &name, &text);
    let mut out = diag::render::human(&files, &diags, false);
    out.push_str(&diag::render::summary(&diags));
    out.push('\n');
    (model.is_some(), out)
}

#[test]
fn invalid_specs_report_located_diagnostics() {
    insta::glob!("../fixtures/specs/invalid", "*.yaml", |path| {
        let (ok, rendered) = check(path);
        // Fixtures with warnings only still load; every other fixture must fail to load.
        let errors = rendered.lines().any(|l| l.starts_with("error["));
        assert_eq!(ok, !errors, "{}: loads = {ok}", path.display());
        assert!(
            rendered.contains("error[") || rendered.contains("warning["),
            "{}: no diagnostic",
            path.display()
        );
        insta::assert_snapshot!(rendered);
    });
}

#[test]
fn every_rule_has_an_invalid_fixture() {
    // Each spec diagnostic code must be exercised by a fixture whose diagnostics contain it.
    let mut seen = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(crate::util::fixture("specs/invalid")).unwrap() {
        let (_, rendered) = check(&entry.unwrap().path());
        for line in rendered.lines() {
            if let Some(rest) = line
                .strip_prefix("error[")
                .or_else(|| line.strip_prefix("warning["))
            {
                seen.insert(rest.split(']').next().unwrap().to_string());
            }
        }
    }
    use strum::IntoEnumIterator;
    let missing: Vec<&str> = diag::Code::iter()
        .map(diag::Code::as_str)
        // Codes about the file itself or the output, not its content: tests/cli.rs triggers them.
        .filter(|c| {
            ![
                "io-error",
                "render-self-check",
                "not-a-regular-file",
                "input-too-large",
                "output-error",
            ]
            .contains(c)
                && !seen.contains(*c)
        })
        .filter(|c| is_spec_code(c))
        .collect();
    assert!(
        missing.is_empty(),
        "codes without an invalid-spec fixture: {missing:?}"
    );
}

/// Codes that spec loading can emit (the audit has its own fixtures).
fn is_spec_code(code: &str) -> bool {
    let idx = |c: diag::Code| c as usize;
    use strum::IntoEnumIterator;
    let code = diag::Code::iter().find(|c| c.as_str() == code).unwrap();
    idx(code) <= idx(diag::Code::RenderSelfCheck)
}

#[test]
fn valid_specs_load_without_errors() {
    insta::glob!("../fixtures/specs/valid", "*.yaml", |path| {
        let (ok, rendered) = check(path);
        assert!(ok, "{}:\n{rendered}", path.display());
    });
}

#[test]
fn missing_file_and_directory_are_io_errors() {
    let mut files = Files::new();
    let (m, d) =
        airguard::spec::from_file(&mut files, camino::Utf8Path::new("does/not/exist.yaml"));
    assert!(m.is_none());
    assert_eq!(d[0].code, diag::Code::IoError);
    assert!(d[0].message.contains("does not exist"), "{}", d[0].message);
    let (m, d) = airguard::spec::from_file(&mut files, camino::Utf8Path::new("fixtures"));
    assert!(m.is_none());
    assert!(d[0].message.contains("is a directory"), "{}", d[0].message);
}

/// A duplicate points at its second use and, with a secondary label, at the first: in human
/// text ("first used here") and in JSON (`related`), for names and for connection ids alike.
#[test]
fn duplicates_point_at_the_first_definition_too() {
    let related = |text: &str, code: &str| {
        let mut files = Files::new();
        let (_, diags) = airguard::spec::from_str(&mut files, "spec.yaml", text);
        let json: serde_json::Value =
            serde_json::from_str(&diag::render::json(&files, &diags)).unwrap();
        let d = json["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["code"] == code)
            .unwrap_or_else(|| panic!("no {code} in {json}"))
            .clone();
        let human = diag::render::human(&files, &diags, false);
        (d, human)
    };
    let text =
        std::fs::read_to_string(crate::util::fixture("specs/invalid/duplicate-name.yaml")).unwrap();
    let (d, human) = related(&text, "duplicate-name");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(40), Some(11))
    );
    assert_eq!(d["path"], "/connections/1/name");
    assert_eq!(d["related"][0]["line"], 37, "{d}");
    assert_eq!(d["related"][0]["column"], 11, "{d}");
    assert_eq!(d["related"][0]["message"], "first used here", "{d}");
    assert!(human.contains("first used here"), "{human}");

    let example =
        std::fs::read_to_string(crate::util::fixture("specs/valid/example.yaml")).unwrap();
    let text = example.replace(
        "id: 0d6e8a2c-1b3f-4e5a-8c7d-9e0f1a2b3c4d",
        "id: 7C2B1F4E-3A5D-4C8E-9F10-2B3C4D5E6F70",
    );
    assert_ne!(text, example);
    let (d, _) = related(&text, "duplicate-name");
    assert_eq!(d["path"], "/connections/1/id");
    assert_eq!(d["line"], 89);
    assert_eq!(d["related"][0]["line"], 86, "{d}");
    assert_eq!(d["related"][0]["message"], "first declared here", "{d}");
}

#[test]
fn json_diagnostics_carry_line_and_column() {
    let path = crate::util::fixture("specs/invalid/non-canonical-cidr.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    let mut files = Files::new();
    let (_, diags) = airguard::spec::from_str(&mut files, "spec.yaml", &text);
    let json: serde_json::Value =
        serde_json::from_str(&diag::render::json(&files, &diags)).unwrap();
    let d = &json["diagnostics"][0];
    assert_eq!(d["code"], "non-canonical-cidr");
    assert_eq!(d["line"], 13);
    assert_eq!(d["column"], 13);
    assert_eq!(d["path"], "/airbyte/egress/0/cidr");
    assert_eq!(json["schema_version"], 1);
}

/// The example spec with `from` replaced by `to` (which must change it).
fn example_with(from: &str, to: &str) -> String {
    let text = std::fs::read_to_string(crate::util::fixture("specs/valid/example.yaml")).unwrap();
    assert!(text.contains(from), "{from}");
    text.replacen(from, to, 1)
}

#[test]
fn regression_yaml11_booleans_and_numbers_are_rejected_with_a_hint() {
    // (replace, with, the help must contain). Each reads differently in YAML 1.1 (the parser)
    // and YAML 1.2 (the published JSON Schema, editors).
    let cases = [
        // A key the parser turned into `true`: rendered as label `"true"` before.
        ("    k8s-app: kube-dns", "    on: kube-dns", "`\"on\":`"),
        ("    k8s-app: kube-dns", "    y: kube-dns", "`\"y\":`"),
        // A YAML 1.1 boolean in a boolean field: YAML 1.2 reads a string.
        (
            "      ports: [5432]\n",
            "      ports: [5432]\n      allow-internet: yes\n      reason: x\n",
            "write `true`",
        ),
        (
            "    app.kubernetes.io/name: ingress-nginx\n",
            "    app.kubernetes.io/name: ingress-nginx\n  airflow-ui: Off\n",
            "write `false`",
        ),
        // Booleans and numbers where text belongs.
        ("  release: airflow", "  release: True", "quote it"),
        ("  release: airflow", "  release: n", "quote it"),
        ("  release: airflow", "  release: FALSE", "quote it"),
        (
            "  chart-version: \"2.0.19\"",
            "  chart-version: 2.10",
            "`\"2.10\"`",
        ),
        // Numbers YAML 1.1 reads otherwise (octal, `_`).
        ("  port: 53", "  port: 053", "plain decimal"),
        (
            "      ports: [5432]",
            "      ports: [5_432]",
            "plain decimal",
        ),
    ];
    for (from, to, hint) in cases {
        let text = example_with(from, to);
        let mut files = Files::new();
        let (model, diags) = airguard::spec::from_str(&mut files, "spec.yaml", &text);
        let rendered = diag::render::human(&files, &diags, false);
        assert!(model.is_none(), "{to:?} accepted");
        assert!(
            rendered.contains(hint),
            "{to:?}: no hint {hint:?}:\n{rendered}"
        );
    }
}

#[test]
fn regression_non_utf8_spec_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spec.yaml");
    std::fs::write(&path, b"version: 1\nplatform:\n  name: caf\xe9\n").unwrap();
    let path = camino::Utf8PathBuf::from_path_buf(path).unwrap();
    let mut files = Files::new();
    let (model, diags) = airguard::spec::from_file(&mut files, &path);
    assert!(model.is_none());
    let json: serde_json::Value =
        serde_json::from_str(&diag::render::json(&files, &diags)).unwrap();
    let d = &json["diagnostics"][0];
    assert_eq!(d["code"], "yaml-syntax", "{json}");
    assert_eq!(d["line"], 3, "{json}");
    assert_eq!(d["column"], 12, "{json}");
    assert!(
        d["message"].as_str().unwrap().contains("not UTF-8"),
        "{json}"
    );
}

/// Load `text`; the codes of its diagnostics, and whether a model came out.
fn codes(text: &str) -> (bool, Vec<String>) {
    let mut files = Files::new();
    let (model, diags) = airguard::spec::from_str(&mut files, "spec.yaml", text);
    let codes = diags.iter().map(|d| d.code.as_str().to_string()).collect();
    (model.is_some(), codes)
}

#[test]
fn regression_forward_after_is_an_unknown_dependency() {
    // The sync of `orders` runs after the step that waits for it: conform skipped that step.
    let text = example_with(
        "steps: [{ sync: orders }, { sync: customers, after: orders }]",
        "steps: [{ sync: customers, after: orders }, { sync: orders }]",
    );
    assert_eq!(
        codes(&text),
        (false, vec!["unknown-dependency".to_string()])
    );
    let mut files = Files::new();
    let (_, diags) = airguard::spec::from_str(&mut files, "spec.yaml", &text);
    assert_eq!(diags[0].path.as_deref(), Some("/pipelines/1/steps/0/after"));
    // A step cannot wait for itself.
    let itself = example_with(
        "steps: [{ sync: orders }, { sync: customers, after: orders }]",
        "steps: [{ sync: customers, after: customers }, { sync: orders }]",
    );
    assert_eq!(
        codes(&itself),
        (false, vec!["unknown-dependency".to_string()])
    );
    // Waiting for an earlier step on the same connection stays valid.
    let again = example_with(
        "steps: [{ sync: orders }, { sync: customers, after: orders }]",
        "steps: [{ sync: orders }, { sync: orders, after: orders }]",
    );
    assert_eq!(codes(&again), (true, vec![]));
}

#[test]
fn regression_local_executor_with_default_or_worker_callers_loads() {
    for callers in ["  callers: [worker, triggerer]\n", ""] {
        let text = example_with(
            "  executor: celery          # celery, kubernetes or local\n  connection-id: airbyte_default\n  callers: [worker, triggerer]\n",
            &format!("  executor: local\n{callers}"),
        );
        assert_eq!(codes(&text), (true, vec![]), "{callers:?}");
    }
}

#[test]
fn regression_kubernetes_api_to_the_internet_needs_a_justification() {
    let open = example_with(
        "cidrs: [172.20.0.10/32, 172.20.0.11/32]",
        "cidrs: [0.0.0.0/0]",
    );
    assert_eq!(
        codes(&open),
        (false, vec!["internet-egress-unjustified".to_string()])
    );
    let justified = example_with(
        "cidrs: [172.20.0.10/32, 172.20.0.11/32]",
        "cidrs: [0.0.0.0/0]\n    allow-internet: true\n    reason: managed control plane behind changing addresses",
    );
    assert_eq!(codes(&justified), (true, vec![]));
}

#[test]
fn regression_basic_and_bearer_auth_warn_that_airflow_gets_no_credentials() {
    let basic = example_with("    auth: client-credentials", "    auth: basic");
    assert_eq!(
        codes(&basic),
        (
            true,
            vec!["airflow-connection-without-credentials".to_string()]
        )
    );
    let bearer = example_with("    auth: client-credentials", "    auth: bearer").replace(
        "client-secret: platform/airbyte#client_secret",
        "token: platform/airbyte#token",
    );
    let (ok, found) = codes(&bearer);
    assert!(ok, "{found:?}");
    assert!(found.contains(&"airflow-connection-without-credentials".to_string()));
}

#[test]
fn regression_chart_without_public_api_is_reported() {
    let text = example_with("  chart: v2", "  chart: v1")
        .replace("chart-version: \"2.0.19\"", "chart-version: \"0.64.81\"");
    let (ok, found) = codes(&text);
    assert!(
        !ok && found.contains(&"public-api-unavailable".to_string()),
        "{found:?}"
    );
    let current = example_with("  chart: v2", "  chart: v1")
        .replace("chart-version: \"2.0.19\"", "chart-version: \"0.654.0\"");
    assert!(!codes(&current)
        .1
        .contains(&"public-api-unavailable".to_string()));
}

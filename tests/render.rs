//! Rendering, data-driven: every valid fixture spec renders to one golden snapshot of all its
//! artifacts (the `--stdout` stream), and rendering is byte-stable.

fn render(path: &std::path::Path) -> Vec<airguard::render::Artifact> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut files = airguard::diag::Files::new();
    let name = path.file_name().unwrap().to_str().unwrap();
    let (model, diags) = airguard::spec::from_str(&mut files, name, &text);
    let model =
        model.unwrap_or_else(|| panic!("{}", airguard::diag::render::human(&files, &diags, false)));
    airguard::render::render(&model).expect("renders")
}

#[test]
fn valid_specs_render_to_golden_artifacts() {
    insta::glob!("../fixtures/specs/valid", "*.yaml", |path| {
        let artifacts = render(path);
        insta::assert_snapshot!(airguard::render::stream(&artifacts));
    });
}

#[test]
fn rendering_twice_gives_the_same_bytes() {
    insta::glob!("../fixtures/specs/valid", "*.yaml", |path| {
        assert_eq!(render(path), render(path));
    });
}

#[test]
fn kustomization_lists_every_resource_file() {
    insta::glob!("../fixtures/specs/valid", "*.yaml", |path| {
        let artifacts = render(path);
        let k = artifacts
            .iter()
            .find(|a| a.path == "kustomization.yaml")
            .unwrap();
        for a in &artifacts {
            let listed = k.content.contains(&format!("- {}\n", a.path));
            let is_resource = a.path.starts_with("secrets/")
                || a.path.starts_with("networkpolicies/")
                || a.path.starts_with("observability/");
            assert_eq!(listed, is_resource, "{} in kustomization: {listed}", a.path);
        }
    });
}

#[test]
fn every_file_starts_with_the_generated_header() {
    insta::glob!("../fixtures/specs/valid", "*.yaml", |path| {
        for a in render(path) {
            assert!(
                a.content.starts_with(airguard::render::HEADER),
                "{}",
                a.path
            );
            assert!(!a.content.contains("\t"), "{} has tabs", a.path);
        }
    });
}

/// Render the example spec as if its file were called `name`, as one `--stdout` stream.
fn render_named(name: &str) -> String {
    let text = std::fs::read_to_string(crate::util::fixture("specs/valid/example.yaml")).unwrap();
    let mut files = airguard::diag::Files::new();
    let (model, diags) = airguard::spec::from_str(&mut files, name, &text);
    let model =
        model.unwrap_or_else(|| panic!("{}", airguard::diag::render::human(&files, &diags, false)));
    airguard::render::stream(&airguard::render::render(&model).expect("renders"))
}

#[test]
fn regression_renaming_the_spec_changes_no_output_byte() {
    let base = render_named("airguard.yaml");
    for name in [
        "renamed.yaml",
        "other/dir/spec.yaml",
        "line\u{2028}separator.yaml",
        "paragraph\u{2029}separator.yaml",
        "next\u{85}line.yaml",
        "x\nkind: Pod\n.yaml",
    ] {
        assert_eq!(render_named(name), base, "spec named {name:?}");
    }
}

#[test]
fn regression_a_file_name_with_yaml_line_breaks_cannot_inject_a_document() {
    // Through the CLI, with real files: the one named with U+2028, U+2029 and U+0085 renders
    // exactly what the plain one does.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(crate::util::fixture("specs/valid/example.yaml")).unwrap();
    let plain = dir.path().join("airguard.yaml");
    let odd = dir.path().join("a\u{2028}kind: Pod\u{2029}b\u{85}c.yaml");
    std::fs::write(&plain, &text).unwrap();
    std::fs::write(&odd, &text).unwrap();
    let stdout = |spec: &std::path::Path| {
        let run = crate::util::airguard()
            .args(["render", "--stdout", "--spec"])
            .arg(spec)
            .assert()
            .success();
        String::from_utf8(run.get_output().stdout.clone()).unwrap()
    };
    let (a, b) = (stdout(&plain), stdout(&odd));
    assert!(a == b, "the spec's file name changed the output");
    assert!(!b.contains(['\u{2028}', '\u{2029}', '\u{85}']));
}

#[test]
fn regression_check_after_renaming_the_spec_reports_no_drift() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(crate::util::fixture("specs/valid/example.yaml")).unwrap();
    let (old, new, out) = (
        dir.path().join("airguard.yaml"),
        dir.path().join("platform.yaml"),
        dir.path().join("manifests"),
    );
    std::fs::write(&old, &text).unwrap();
    crate::util::airguard()
        .args(["render", "--spec"])
        .arg(&old)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    std::fs::rename(&old, &new).unwrap();
    crate::util::airguard()
        .args(["render", "--check", "--spec"])
        .arg(&new)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(0);
}

/// The example spec with its connector egress list replaced by `n` distinct rules.
fn example_with_egress_rules(n: usize) -> String {
    let text = std::fs::read_to_string(crate::util::fixture("specs/valid/example.yaml")).unwrap();
    let (head, rest) = text.split_once("  egress:\n").unwrap();
    let tail = &rest[rest.find("  # The connector registry").unwrap()..];
    let rules: String = (0..n)
        .map(|i| {
            let (a, b) = ((i / 256) % 256, i % 256);
            format!(
                "    - name: rule-{i}\n      cidr: 10.{a}.{b}.0/24\n      ports: [{}]\n",
                1024 + i
            )
        })
        .collect();
    format!("{head}  egress:\n{rules}{tail}")
}

#[test]
fn regression_twenty_thousand_egress_rules_pass_the_self_check() {
    // The parse-back of `networkpolicies/airbyte.yaml` (some 330 000 YAML nodes) hit the
    // parser's default node budget, a limit meant for hostile input, not for airguard's output.
    let text = example_with_egress_rules(20_000);
    let mut files = airguard::diag::Files::new();
    let (model, diags) = airguard::spec::from_str(&mut files, "big.yaml", &text);
    let model =
        model.unwrap_or_else(|| panic!("{}", airguard::diag::render::human(&files, &diags, false)));
    let artifacts = airguard::render::render(&model).unwrap_or_else(|e| panic!("{e}"));
    let np = artifacts
        .iter()
        .find(|a| a.path == "networkpolicies/airbyte.yaml")
        .unwrap();
    assert!(np.content.contains("egress-rule-19999"));
}

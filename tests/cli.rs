//! End-to-end CLI behaviour: arguments, exit codes, stdout/stderr, and what lands on disk.

use crate::util::{airguard, fixture};
use predicates::prelude::*;

#[test]
fn init_render_check_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("airguard.yaml");
    let out = dir.path().join("manifests");
    airguard()
        .current_dir(dir.path())
        .arg("init")
        .assert()
        .success();
    assert!(spec.exists() && dir.path().join("airguard.schema.json").exists());
    airguard()
        .args(["render", "--spec"])
        .arg(&spec)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    assert!(out.join("kustomization.yaml").exists());
    airguard()
        .args(["render", "--check", "--spec"])
        .arg(&spec)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(0)
        .stderr(predicate::str::contains("up to date"));

    // Drift: edit one file, delete nothing, add one → exit 1 with a unified diff.
    let k = out.join("kustomization.yaml");
    let edited = std::fs::read_to_string(&k)
        .unwrap()
        .replace("resources:", "resources: # edited\n");
    std::fs::write(&k, edited).unwrap();
    std::fs::write(out.join("stray.yaml"), "x: 1\n").unwrap();
    airguard()
        .args(["render", "--check", "--spec"])
        .arg(&spec)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("changed: kustomization.yaml"))
        .stdout(predicate::str::contains("--- a/kustomization.yaml"))
        .stdout(predicate::str::contains("extra: stray.yaml"));

    // Rendering again restores the directory exactly.
    airguard()
        .args(["render", "--spec"])
        .arg(&spec)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    assert!(!out.join("stray.yaml").exists());
    airguard()
        .args(["render", "--check", "--spec"])
        .arg(&spec)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(0);
}

#[test]
fn invalid_spec_exits_2_and_leaves_output_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("manifests");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("keep.yaml"), "keep: me\n").unwrap();
    airguard()
        .args(["render", "--color", "never", "--spec"])
        .arg(fixture("specs/invalid/non-canonical-cidr.yaml"))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("error[non-canonical-cidr]"))
        .stderr(predicate::str::contains("non-canonical-cidr.yaml:13:13"));
    let entries: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        std::fs::read_to_string(out.join("keep.yaml")).unwrap(),
        "keep: me\n"
    );
    // and nothing was left beside it
    let siblings: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(siblings.len(), 1, "{siblings:?}");
}

#[test]
fn missing_spec_and_directory_spec_exit_2() {
    airguard()
        .args(["validate", "--spec", "no/such/airguard.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("does not exist"))
        .stderr(predicate::str::contains("airguard init"));
    airguard()
        .args(["validate", "--spec"])
        .arg(fixture("specs"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is a directory"));
}

#[test]
fn init_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("airguard.yaml"), "mine\n").unwrap();
    airguard()
        .current_dir(dir.path())
        .arg("init")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--force"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("airguard.yaml")).unwrap(),
        "mine\n"
    );
    airguard()
        .current_dir(dir.path())
        .args(["init", "--force"])
        .assert()
        .success();
    assert_ne!(
        std::fs::read_to_string(dir.path().join("airguard.yaml")).unwrap(),
        "mine\n"
    );
}

#[test]
fn validate_json_reports_on_stdout() {
    let out = airguard()
        .args(["validate", "--format", "json", "--spec"])
        .arg(fixture("specs/invalid/several-errors.yaml"))
        .assert()
        .code(2)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["summary"]["errors"], 3);
}

#[test]
fn render_stdout_is_a_multi_document_stream() {
    airguard()
        .args(["render", "--stdout", "--spec"])
        .arg(fixture("specs/valid/example.yaml"))
        .assert()
        .success()
        .stdout(predicate::str::starts_with("---\n# Source: "));
}

#[test]
fn schema_prints_the_committed_schema() {
    let committed =
        std::fs::read_to_string(crate::util::root().join("schemas/airguard.schema.json")).unwrap();
    airguard()
        .arg("schema")
        .assert()
        .success()
        .stdout(committed);
}

#[test]
fn usage_errors_exit_2() {
    airguard().args(["render"]).assert().code(2);
    airguard().args(["no-such-command"]).assert().code(2);
}

#[test]
fn demo_renders_the_example_and_passes_the_lifecycle_against_the_mock() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo-out");
    airguard()
        .arg("demo")
        .arg("--out")
        .arg(&out)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("networkpolicies/airbyte.yaml"))
        .stdout(predicate::str::contains("conform passed"));
    assert!(out.join("airflow/values.yaml").exists());
    assert!(out.join("kustomization.yaml").exists());
}

#[test]
fn render_refuses_to_replace_a_directory_it_did_not_write() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mine");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "important\n").unwrap();
    let spec = fixture("specs/valid/example.yaml");
    airguard()
        .args(["render", "--spec"])
        .arg(&spec)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("was not written by airguard"))
        .stderr(predicate::str::contains("--force"));
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "important\n"
    );
    airguard()
        .args(["render", "--force", "--spec"])
        .arg(&spec)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    assert!(!out.join("notes.txt").exists());
    // once airguard owns it, no --force is needed
    airguard()
        .args(["render", "--spec"])
        .arg(&spec)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
}

#[test]
fn render_refuses_the_current_directory_and_the_spec_directory() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("airguard.yaml");
    std::fs::copy(fixture("specs/valid/example.yaml"), &spec).unwrap();
    airguard()
        .current_dir(dir.path())
        .args(["render", "--force", "--out", "."])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("current directory"));
    airguard()
        .args(["render", "--force", "--spec"])
        .arg(&spec)
        .arg("--out")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("airguard.yaml"));
    assert!(spec.exists());
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "nothing staged is left behind");
}

#[test]
fn check_against_a_file_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("afile");
    std::fs::write(&file, "x").unwrap();
    airguard()
        .args(["render", "--check", "--spec"])
        .arg(fixture("specs/valid/example.yaml"))
        .arg("--out")
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a directory"));
}

#[test]
fn json_diagnostics_do_not_corrupt_the_stdout_stream() {
    let out = airguard()
        .args(["render", "--stdout", "--format", "json", "--spec"])
        .arg(fixture("specs/valid/example.yaml"))
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(out.stdout.starts_with(b"---\n# Source: "));
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"schema_version\""));
}

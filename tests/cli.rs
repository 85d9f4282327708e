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

// ---- files, devices and symbolic links --------------------------------------------------------

/// Everything in `dir`, sorted by name.
fn names_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn render_into(out: &std::path::Path) -> assert_cmd::assert::Assert {
    airguard()
        .args(["render", "--color", "never", "--spec"])
        .arg(fixture("specs/valid/example.yaml"))
        .arg("--out")
        .arg(out)
        .assert()
}

fn check_against(out: &std::path::Path) -> assert_cmd::assert::Assert {
    airguard()
        .args(["render", "--check", "--color", "never", "--spec"])
        .arg(fixture("specs/valid/example.yaml"))
        .arg("--out")
        .arg(out)
        .assert()
}

#[cfg(unix)]
#[test]
fn regression_spec_that_is_a_device_or_fifo_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("spec.fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    let mut cases = vec![("/dev/zero".into(), "a character device")];
    if made.is_ok_and(|s| s.success()) {
        cases.push((fifo, "a FIFO"));
    }
    for (path, kind) in cases {
        for args in [
            &["validate", "--color", "never", "--spec"][..],
            &["render", "--color", "never", "--stdout", "--spec"][..],
        ] {
            airguard()
                .args(args)
                .arg(&path)
                .assert()
                .code(2)
                .stderr(predicate::str::contains("error[not-a-regular-file]"))
                .stderr(predicate::str::contains(kind));
        }
    }
}

#[test]
fn regression_oversize_spec_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("airguard.yaml");
    // Sparse: 16 MiB + 1 byte of nothing, cheap to create.
    let f = std::fs::File::create(&spec).unwrap();
    f.set_len(airguard::input::SPEC_LIMIT + 1).unwrap();
    airguard()
        .args(["validate", "--color", "never", "--spec"])
        .arg(&spec)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("error[input-too-large]"))
        .stderr(predicate::str::contains("16 MiB"));
}

#[cfg(unix)]
#[test]
fn regression_audit_and_mock_scenario_refuse_a_device() {
    airguard()
        .args(["audit", "--color", "never", "/dev/zero"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not-a-regular-file"));
    airguard()
        .args([
            "mock",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--scenario",
            "/dev/zero",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a regular file"));
}

#[cfg(unix)]
#[test]
fn regression_render_out_symlink_is_refused_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    std::fs::create_dir(&real).unwrap();
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    render_into(&link)
        .code(2)
        .stderr(predicate::str::contains("error[output-error]"))
        .stderr(predicate::str::contains("symbolic link"));
    assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
    assert!(names_in(&real).is_empty());
    check_against(&link)
        .code(2)
        .stderr(predicate::str::contains("symbolic link"));
}

#[cfg(unix)]
#[test]
fn regression_check_does_not_follow_symlinks_in_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "TOPSECRET-VALUE\n").unwrap();
    let out = dir.path().join("manifests");
    render_into(&out).success();
    let k = out.join("kustomization.yaml");
    std::fs::remove_file(&k).unwrap();
    std::os::unix::fs::symlink(&secret, &k).unwrap();
    // a loop and a link to a directory outside
    std::os::unix::fs::symlink(&out, out.join("loop")).unwrap();
    std::os::unix::fs::symlink("/", out.join("root")).unwrap();
    let assert = check_against(&out).code(1);
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(
        stdout.contains("changed: kustomization.yaml is a symbolic link"),
        "{stdout}"
    );
    assert!(stdout.contains("extra: loop"), "{stdout}");
    assert!(stdout.contains("extra: root"), "{stdout}");
    assert!(!stdout.contains("TOPSECRET"), "{stdout}");
    // a linked kustomization.yaml does not mark the directory as airguard's; with --force,
    // rendering replaces the link with the file, and the link's target is untouched
    render_into(&out).code(2);
    airguard()
        .args(["render", "--force", "--spec"])
        .arg(fixture("specs/valid/example.yaml"))
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    check_against(&out).code(0);
    assert_eq!(
        std::fs::read_to_string(&secret).unwrap(),
        "TOPSECRET-VALUE\n"
    );
}

#[test]
fn regression_leftovers_of_a_killed_render_are_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    render_into(&out).success();
    // What a render killed mid-swap left: the previous output moved aside (no `out` at all), a
    // staging directory and one from an older airguard, all of a process that no longer exists.
    let dead = u32::MAX - 1;
    let old = dir.path().join(format!(".out.airguard-old-{dead}"));
    std::fs::rename(&out, &old).unwrap();
    for staging in [
        format!(".out.airguard-stage-{dead}-AbC123"),
        ".out.airguard-Xy12Ab".to_owned(),
    ] {
        std::fs::create_dir_all(dir.path().join(&staging).join("secrets")).unwrap();
        std::fs::write(
            dir.path().join(&staging).join("secrets/half.yaml"),
            "kind: Sec",
        )
        .unwrap();
    }
    // --check of the directory the killed run left is not a write: it leaves things alone
    check_against(&out).code(1);
    render_into(&out).success();
    assert_eq!(names_in(dir.path()), ["out"]);
    check_against(&out).code(0);
}

#[test]
fn regression_init_does_not_overwrite_the_schema_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("airguard.schema.json");
    std::fs::write(&schema, "{\"mine\": true}\n").unwrap();
    airguard()
        .current_dir(dir.path())
        .arg("init")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("airguard.schema.json"))
        .stderr(predicate::str::contains("--force"));
    assert_eq!(
        std::fs::read_to_string(&schema).unwrap(),
        "{\"mine\": true}\n"
    );
    assert!(!dir.path().join("airguard.yaml").exists());
    airguard()
        .current_dir(dir.path())
        .args(["init", "--force"])
        .assert()
        .success();
    assert_ne!(
        std::fs::read_to_string(&schema).unwrap(),
        "{\"mine\": true}\n"
    );
}

#[test]
fn regression_output_io_errors_have_a_code() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("afile");
    std::fs::write(&file, "x").unwrap();
    // the parent of --out is a file: the directory cannot be created
    render_into(&file.join("out"))
        .code(2)
        .stderr(predicate::str::contains("error[output-error]"))
        .stderr(predicate::str::contains("afile"));
    let assert = airguard()
        .args(["render", "--format", "json", "--spec"])
        .arg(fixture("specs/valid/example.yaml"))
        .arg("--out")
        .arg(file.join("out"))
        .assert()
        .code(2);
    let json: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!(json["diagnostics"][0]["code"], "output-error", "{json}");
    // a write error in another command (init) carries the code as well
    airguard()
        .args(["init", "--out"])
        .arg(file.join("airguard.yaml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("error[output-error]"));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
    /// Arbitrary bytes as a spec file: loading never panics and says why it fails.
    #[test]
    fn arbitrary_bytes_as_a_spec_file_never_panic(
        bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048)
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = camino::Utf8PathBuf::from_path_buf(dir.path().join("airguard.yaml")).unwrap();
        std::fs::write(&path, &bytes).unwrap();
        let mut files = airguard::diag::Files::new();
        let (model, diags) = airguard::spec::from_file(&mut files, &path);
        proptest::prop_assert!(model.is_some() || airguard::diag::has_errors(&diags));
    }
}

#[test]
fn arbitrary_bytes_as_a_spec_exit_0_1_or_2_through_the_cli() {
    use proptest::strategy::{Strategy, ValueTree};
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512);
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("airguard.yaml");
    let mut inputs: Vec<Vec<u8>> = (0..16)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect();
    inputs.push(b"version: 1\n\xff\xfe".to_vec());
    inputs.push(std::fs::read(fixture("specs/valid/example.yaml")).unwrap()[..200].to_vec());
    for bytes in inputs {
        std::fs::write(&spec, &bytes).unwrap();
        let out = airguard()
            .args(["render", "--stdout", "--spec"])
            .arg(&spec)
            .output()
            .unwrap();
        assert!(
            matches!(out.status.code(), Some(0..=2)),
            "{bytes:?}: {:?}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

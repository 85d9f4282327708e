//! Generated, committed files must match what the code generates today
//! (`cargo xtask codegen` regenerates them).

fn assert_fresh(rel: &str, expected: &str) {
    let path = crate::util::root().join(rel);
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == expected,
        "{rel} is stale: run `cargo xtask codegen` and commit the result"
    );
}

#[test]
fn spec_schema_is_fresh() {
    assert_fresh(
        "schemas/airguard.schema.json",
        &airguard::spec::schema::json_schema_text(),
    );
}

#[test]
fn diagnostics_reference_is_fresh() {
    let code_rs = std::fs::read_to_string(crate::util::root().join("src/diag/code.rs")).unwrap();
    assert_fresh(
        "docs/diagnostics.md",
        &airguard::diag::docs::markdown(&code_rs),
    );
}

#[test]
fn spec_reference_is_fresh() {
    assert_fresh("docs/reference.md", &airguard::spec::reference::markdown());
}

#[test]
fn starter_spec_is_the_example_fixture() {
    let fixture =
        std::fs::read_to_string(crate::util::fixture("specs/valid/example.yaml")).unwrap();
    assert_eq!(
        fixture,
        airguard::cli::init::STARTER_SPEC,
        "fixtures/specs/valid/example.yaml must equal templates/airguard.yaml"
    );
}

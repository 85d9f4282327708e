//! Generated, committed files must match what the code generates today
//! (`cargo xtask codegen` regenerates them; `airguard::generated::files` is the one list).

#[test]
fn generated_files_are_fresh() {
    let stale: Vec<&str> = airguard::generated::files()
        .into_iter()
        .filter(|(rel, expected)| {
            let current =
                std::fs::read_to_string(crate::util::root().join(rel)).unwrap_or_default();
            current != *expected
        })
        .map(|(rel, _)| rel)
        .collect();
    assert!(
        stale.is_empty(),
        "stale generated files: {}; run `cargo xtask codegen` and commit the result",
        stale.join(", ")
    );
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

//! The one integration-test binary. Each module below holds one kind of test; add a module here
//! rather than a new file at the top of `tests/` (see Cargo.toml `autotests = false`).

/// The CLI end to end: exit codes, output, files on disk.
mod cli;
/// Generated files (schema, diagnostics reference) are committed and fresh.
mod generated;
/// Property tests: random valid specs render deterministically; mutated YAML never panics.
mod props;
/// Spec loading: invalid fixtures → rendered diagnostics snapshots; valid fixtures load.
mod spec;
/// Small helpers shared by the modules: paths to fixtures, the binary under test.
mod util;

/// `airguard audit`: the semantic case table, output formats, CLI behaviour.
mod audit;

/// `airguard audit` cross-checked against network-config-analyzer (needs `AIRGUARD_NCA`).
mod audit_nca;

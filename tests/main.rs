//! The one integration-test binary. Each module below holds one kind of test; add a module here
//! rather than a new file at the top of `tests/` (see Cargo.toml `autotests = false`).

/// Small helpers shared by the modules: paths to fixtures, the binary under test.
mod util;

/// `airguard audit`: the semantic case table, output formats, CLI behaviour.
mod audit;

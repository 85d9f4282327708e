//! The one integration-test binary. Each module below holds one kind of test; add a module here
//! rather than a new file at the top of `tests/` (see Cargo.toml `autotests = false`).

/// Small helpers shared by the modules: paths to fixtures, the binary under test.
mod util;

/// The mock Airbyte server over HTTP: OpenAPI fidelity, state machine, faults, auth.
mod mock;

//! The one integration-test binary. Each module below holds one kind of test; add a module here
//! rather than a new file at the top of `tests/` (see Cargo.toml `autotests = false`).

/// Small helpers shared by the modules: paths to fixtures, the binary under test.
mod util;

/// ESO objects and Airflow Helm values against the upstream CRDs and chart schema; goldens.
mod secrets;

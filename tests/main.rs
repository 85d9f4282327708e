//! The one integration-test binary. Each module below holds one kind of test; add a module here
//! rather than a new file at the top of `tests/` (see Cargo.toml `autotests = false`).

/// The CLI end to end: exit codes, output, files on disk.
mod cli;
/// `airguard conform`: client, runner and reports against wiremock scenarios.
mod conform;
/// `airguard conform` against the in-process mock server, one test per fault scenario.
mod conform_mock;
/// Distribution: `--version`, completions, man pages, Dockerfile, pre-commit hooks, CI snippets.
mod distribution;
/// `airguard export` against the mock: golden export, drift, secrets, paging, spec findings.
mod export;
/// Generated files (schema, diagnostics reference) are committed and fresh.
mod generated;
/// NetworkPolicies: golden output, strict upstream schema, exactness against the topology.
mod netpol;
/// Sync metrics: rule against the CRD, statsd mapping semantics, cross-references, promtool.
mod observability;
/// Property tests: random valid specs render deterministically; mutated YAML never panics.
mod props;
/// Spec loading: invalid fixtures → rendered diagnostics snapshots; valid fixtures load.
mod spec;
/// statsd_exporter's mapping semantics and a PromQL selector scanner (observability, Airflow).
mod statsd;
/// House rules over the source tree (module docs, ARCHITECTURE.md's import rules).
mod tidy;
/// The vendored upstream oracles under `schemas/upstream/` match their SOURCE.md.
mod upstream;
/// Small helpers shared by the modules: paths to fixtures, the binary under test.
mod util;

/// Airbyte's chart values and the external database / storage layouts: key walk, keys, flows.
mod airbyte_values;
/// `airguard audit`: the semantic case table, output formats, CLI behaviour.
mod audit;

/// `airguard audit --format html`: golden page, escaping, intent marks, headless Chromium (needs
/// `AIRGUARD_CHROMIUM`).
mod audit_html;
/// `airguard audit` cross-checked against network-config-analyzer (needs `AIRGUARD_NCA`), and
/// the production layouts on pods written from chart facts (that part runs without it).
mod audit_nca;
/// Rendered DAGs in a real Airflow 3: DagBag, ruff, `dag.test()` against the mock (needs
/// `AIRGUARD_AIRFLOW_PY`).
mod dags_airflow;
/// The mock Airbyte server over HTTP: OpenAPI fidelity, state machine, faults, auth.
mod mock;
/// Rendering: golden snapshots of every artifact per valid fixture; byte stability.
mod render;
/// ESO objects and Airflow Helm values against the upstream CRDs and chart schema; goldens.
mod secrets;

//! The rendered `dags/` in a real Airflow 3 (needs `AIRGUARD_AIRFLOW_PY`, see
//! `.ci/setup-airflow.sh`; fails when `CI` is set without it, so CI cannot skip it silently).
//!
//! - every valid fixture spec, `fixtures/dags/demo.yaml` and `fixtures/dags/escaping.yaml`:
//!   the rendered DAGs import in a `DagBag` with no import error, one DAG per pipeline, and
//!   tasks, dependencies, trigger rules, retries, owner, tags and schedule are what the spec
//!   says (asserted against the model, then the whole structure snapshotted);
//! - the rendered Python passes the pinned `ruff check` and `ruff format --check`;
//! - the runtime module classifies errors (transient or final) and maps job stats as documented;
//! - `dag.test()` of each demo pipeline against the in-process mock (`fixtures/dags/mock.yaml`),
//!   reached through the same connection JSON `render` writes for `AIRFLOW_CONN_<ID>`;
//! - the metrics chain: `dag.test()` runs with Airflow's statsd on, pointed at a UDP listener
//!   here; the lines the tasks really send go through the chart's and the rendered
//!   `statsd.extraMappings` (statsd_exporter's semantics, `crate::statsd`), and the series and
//!   labels they give are the ones the rendered rules and dashboard select, with the mock's counts.
//! - `dag.test()` of the pipelines of `fixtures/dags/checks.yaml`, one run per case of
//!   `fixtures/dags/checks/cases.yaml`: SQL checks executed by `common.sql` on a sqlite table
//!   each case fills, a `python: module.callable` check, and every run's notification received
//!   by a local Slack webhook listener and SMTP sink (once, naming the DAG, the run and the
//!   failed task, no secret).

use crate::util::{fixture, root};
use airguard::diag::Files;
use airguard::mock::{self, MockAuth, MockConfig, Scenario};
use airguard::spec::model::{Model, PreviousOutcome, StepKind};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The venv's python, or `None` (with a loud note) when the tier is not set up.
fn airflow_python() -> Option<PathBuf> {
    let Some(py) = std::env::var_os("AIRGUARD_AIRFLOW_PY") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but AIRGUARD_AIRFLOW_PY is not: source .ci/setup-airflow.sh so the Airflow tier runs"
        );
        eprintln!(
            "AIRGUARD_AIRFLOW_PY not set: Airflow DAG tests NOT RUN (source .ci/setup-airflow.sh)"
        );
        return None;
    };
    Some(PathBuf::from(py))
}

fn load(path: &Path) -> Model {
    let mut files = Files::new();
    let p = camino::Utf8PathBuf::from_path_buf(path.to_path_buf()).expect("utf-8 path");
    let (m, diags) = airguard::spec::from_file(&mut files, &p);
    m.unwrap_or_else(|| panic!("{}: {diags:?}", path.display()))
}

/// Render `model` into `dir` and return `dir/dags`.
fn render_into(model: &Model, dir: &Path) -> PathBuf {
    for a in airguard::render::render(model).expect("renders") {
        let p = dir.join(&a.path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, a.content).unwrap();
    }
    dir.join("dags")
}

/// A python command with a throwaway `AIRFLOW_HOME` (sqlite, no examples) using `dags`.
fn python(py: &Path, home: &Path, dags: &Path) -> Command {
    std::fs::create_dir_all(home).unwrap();
    if let Some(db) = std::env::var_os("AIRGUARD_AIRFLOW_HOME")
        .map(|h| PathBuf::from(h).join("airflow.db"))
        .filter(|p| p.is_file())
    {
        std::fs::copy(db, home.join("airflow.db")).unwrap();
    }
    if !home.join("airflow.db").is_file() {
        // No pre-migrated database (AIRGUARD_AIRFLOW_HOME unset): migrate a fresh one.
        let status = Command::new(py.with_file_name("airflow"))
            .args(["db", "migrate"])
            .env("AIRFLOW_HOME", home)
            .env("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
            .env("AIRFLOW__CORE__DAGS_FOLDER", dags)
            .output()
            .expect("airflow db migrate runs");
        assert!(status.status.success(), "airflow db migrate failed");
    }
    let mut c = Command::new(py);
    c.env("AIRFLOW_HOME", home)
        .env("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
        .env("AIRFLOW__CORE__DAGS_FOLDER", dags)
        .env("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
        .current_dir(root());
    c
}

/// Run and return the JSON of every `AIRGUARD-RESULT` line.
fn results(mut c: Command) -> Vec<Value> {
    let out = c.output().expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let found: Vec<Value> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("AIRGUARD-RESULT "))
        .map(|l| serde_json::from_str(l).expect("result is JSON"))
        .collect();
    assert!(
        out.status.success() && !found.is_empty(),
        "{c:?} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    found
}

/// Every spec whose DAGs the tier loads: the valid fixtures and the two under `fixtures/dags/`.
fn specs() -> Vec<(String, PathBuf)> {
    let mut v: Vec<(String, PathBuf)> = Vec::new();
    for dir in ["specs/valid", "dags"] {
        for e in std::fs::read_dir(fixture(dir)).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            if name.ends_with(".yaml") && !(dir == "dags" && name == "mock.yaml") {
                v.push((format!("{dir}/{name}"), p));
            }
        }
    }
    v.sort();
    v
}

/// The trigger rule the first task of step `i` must have.
fn expected_rule(model: &Model, p: usize, i: usize) -> &'static str {
    let s = &model.pipelines[p].steps[i];
    if i == 0 {
        return "all_success";
    }
    match s.when.as_ref().and_then(|w| w.previous) {
        Some(PreviousOutcome::Succeeded) => "all_success",
        Some(PreviousOutcome::Failed) => "all_failed",
        None if s.after.is_some() => "all_success",
        None => "none_failed",
    }
}

#[test]
fn rendered_dags_import_in_a_real_dagbag_and_match_the_spec() {
    let Some(py) = airflow_python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut folders: BTreeMap<String, (Model, PathBuf)> = BTreeMap::new();
    for (i, (name, path)) in specs().into_iter().enumerate() {
        let model = load(&path);
        if model.pipelines.is_empty() {
            continue;
        }
        let dags = render_into(&model, &tmp.path().join(format!("spec{i}")));
        folders.insert(name, (model, dags));
    }
    assert!(folders.len() >= 3, "too few specs with pipelines");
    let mut c = python(&py, &tmp.path().join("home"), tmp.path());
    c.arg("tests/airflow/dagbag.py");
    for (_, dags) in folders.values() {
        c.arg(dags);
    }
    let out = results(c).remove(0);
    for (name, (model, dags)) in &folders {
        let got = &out[dags.to_str().unwrap()];
        assert_eq!(got["import_errors"], serde_json::json!({}), "{name}");
        let ids: Vec<&str> = got
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .filter(|k| *k != "import_errors")
            .collect();
        let mut want: Vec<&str> = model.pipelines.iter().map(|p| p.name.as_str()).collect();
        want.sort_unstable();
        assert_eq!(ids, want, "{name}: one DAG per pipeline");
        for (pi, p) in model.pipelines.iter().enumerate() {
            let dag = &got[p.name.as_str()];
            let d = &model.dags.pipelines[pi];
            assert_eq!(dag["file"], format!("{}.py", p.name), "{name}");
            assert_eq!(dag["owner"], d.owner.as_str(), "{name}/{}", p.name);
            let mut tags = d.tags.clone();
            tags.sort();
            assert_eq!(dag["tags"], serde_json::json!(tags), "{name}/{}", p.name);
            assert_eq!(dag["schedule"], serde_json::json!(d.schedule), "{name}");
            let tasks = dag["tasks"].as_object().unwrap();
            for (i, step) in p.steps.iter().enumerate() {
                let prefix = format!("step{}_", i + 1);
                let mine: Vec<(&String, &Value)> = tasks
                    .iter()
                    .filter(|(k, _)| k.starts_with(&prefix))
                    .collect();
                assert!(
                    !mine.is_empty(),
                    "{name}/{}: no task for step {}",
                    p.name,
                    i + 1
                );
                // The step's first task: no upstream inside the step.
                let (first_id, first) = mine
                    .iter()
                    .find(|(_, t)| {
                        t["upstream"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .all(|u| !u.as_str().unwrap().starts_with(&prefix))
                    })
                    .copied()
                    .unwrap();
                assert_eq!(
                    first["trigger_rule"],
                    expected_rule(model, pi, i),
                    "{name}/{}: {first_id}",
                    p.name
                );
                let ups: Vec<&str> = first["upstream"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|u| u.as_str().unwrap())
                    .collect();
                if i > 0 {
                    let prev = format!("step{i}_");
                    assert!(
                        ups.iter().any(|u| u.starts_with(&prev)),
                        "{name}/{}: {first_id} does not follow step {i}",
                        p.name
                    );
                }
                if let Some(after) = &step.after {
                    let dep = p.steps[..i]
                        .iter()
                        .rposition(|s| s.kind.connection() == Some(after.as_str()));
                    if let Some(j) = dep {
                        let dep_prefix = format!("step{}_", j + 1);
                        assert!(
                            ups.iter().any(|u| u.starts_with(&dep_prefix)),
                            "{name}/{}: {first_id} does not wait for step {} (`after: {after}`)",
                            p.name,
                            j + 1
                        );
                    }
                }
                for (id, t) in &mine {
                    let class = t["class"].as_str().unwrap();
                    let want = match class {
                        "ValidateRecordsOperator"
                        | "PythonCheckOperator"
                        | "SQLTableCheckOperator"
                        | "SQLColumnCheckOperator" => 0,
                        _ => d.retries,
                    };
                    assert_eq!(t["retries"], want, "{name}/{}: {id} retries", p.name);
                }
                let wants_class = match step.kind {
                    StepKind::Health => "HealthOperator",
                    StepKind::Check(_) => "ConnectionCheckOperator",
                    StepKind::Sync(_) | StepKind::Reset(_) | StepKind::Clear(_) => {
                        "WaitForJobSensor"
                    }
                    StepKind::Validate(_) => "ValidateRecordsOperator",
                };
                assert!(
                    mine.iter().any(|(_, t)| t["class"] == wants_class),
                    "{name}/{}: step {} has no {wants_class}",
                    p.name,
                    i + 1
                );
            }
        }
        insta::assert_json_snapshot!(
            format!(
                "dagbag-{}",
                name.replace('/', "-").trim_end_matches(".yaml")
            ),
            got
        );
    }
}

#[test]
fn rendered_dags_pass_ruff() {
    let Some(py) = airflow_python() else { return };
    let ruff = py.with_file_name("ruff");
    let tmp = tempfile::tempdir().unwrap();
    let mut dirs = Vec::new();
    for (i, (_, path)) in specs().into_iter().enumerate() {
        let model = load(&path);
        if !model.pipelines.is_empty() {
            dirs.push(render_into(&model, &tmp.path().join(format!("spec{i}"))));
        }
    }
    for args in [
        &[
            "check",
            "--isolated",
            "--no-cache",
            "--target-version",
            "py310",
        ][..],
        &[
            "format",
            "--check",
            "--isolated",
            "--no-cache",
            "--target-version",
            "py310",
        ][..],
    ] {
        let out = Command::new(&ruff).args(args).args(&dirs).output().unwrap();
        assert!(
            out.status.success(),
            "ruff {args:?}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn runtime_module_classifies_errors_and_maps_stats() {
    let Some(py) = airflow_python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dags = render_into(&load(&fixture("dags/demo.yaml")), &tmp.path().join("out"));
    let mut c = python(&py, &tmp.path().join("home"), &dags);
    c.arg("tests/airflow/runtime_unit.py").arg(&dags);
    assert_eq!(results(c), vec![Value::String("ok".into())]);
}

fn task<'a>(run: &'a Value, id: &str) -> (&'a str, u64) {
    let t = &run["tasks"][id];
    (
        t["state"].as_str().unwrap_or("absent"),
        t["try_number"].as_u64().unwrap_or(0),
    )
}

/// The in-process mock (`fixtures/dags/mock.yaml`) and the Airbyte connection exactly as render
/// writes it for `model`, pointed at the mock, plus the credentials ESO would fill in.
struct Mock {
    rt: tokio::runtime::Runtime,
    server: mock::MockServer,
    records: u64,
    bytes: u64,
    conn: String,
}

impl Mock {
    fn start(model: &Model) -> Mock {
        let scenario = Scenario::from_file(&fixture("dags/mock.yaml")).unwrap();
        let (records, bytes) = (scenario.jobs.records, scenario.jobs.bytes);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let server = rt
            .block_on(mock::start(
                "127.0.0.1:0".parse().unwrap(),
                MockConfig {
                    scenario,
                    auth: MockAuth::default_client_credentials(),
                },
            ))
            .unwrap();
        let mut at_mock = model.clone();
        at_mock.airbyte.api.url = server.base_url();
        let conn = airguard::render::airflow_conn::connection_json(&at_mock, false);
        let mut conn: serde_json::Map<String, Value> = serde_json::from_str(&conn).unwrap();
        conn.insert("login".into(), mock::DEFAULT_CLIENT_ID.into());
        conn.insert("password".into(), mock::DEFAULT_CLIENT_SECRET.into());
        Mock {
            rt,
            server,
            records,
            bytes,
            conn: Value::Object(conn).to_string(),
        }
    }

    /// Stop the mock and return the requests it saw, as `METHOD /path`.
    fn stop(self) -> Vec<String> {
        let requests = self
            .server
            .requests()
            .into_iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        self.rt.block_on(self.server.shutdown());
        requests
    }
}

#[test]
fn demo_dags_run_against_the_mock() {
    let Some(py) = airflow_python() else { return };
    let model = load(&fixture("dags/demo.yaml"));
    let mock = Mock::start(&model);
    let (records, bytes) = (mock.records, mock.bytes);
    let tmp = tempfile::tempdir().unwrap();
    let dags = render_into(&model, &tmp.path().join("out"));
    let busy = &model
        .connections
        .iter()
        .find(|c| c.name == "busy")
        .unwrap()
        .id;
    let mut c = python(&py, &tmp.path().join("home"), &dags);
    c.env(model.airflow.conn_env_name(), &mock.conn)
        .arg("tests/airflow/run_dag.py")
        .arg(&dags)
        .arg(format!("attach+busy={busy}"));
    for id in [
        "healthy",
        "zero-records",
        "failed",
        "deadline",
        "queued",
        "reset-then-sync",
        "conditional",
        "conditional",
        "conditional-old",
    ] {
        c.arg(id);
    }
    let runs = results(c);
    let requests = mock.stop();
    let by = |i: usize, id: &str| {
        assert_eq!(runs[i]["dag_id"], id, "run {i}");
        &runs[i]
    };

    // 409 → attached to the running job (the first job the mock created), and succeeded.
    let r = by(0, "attach");
    assert_eq!(r["state"], "success", "{r}");
    assert_eq!(
        r["xcom"]["step1_sync_busy"]["return_value"]["job_id"], 1,
        "{r}"
    );
    assert_eq!(r["xcom"]["step1_wait_busy"]["airbyte_job_id"], 1);
    // Its first two polls got a 503 (fixtures/dags/mock.yaml): logged and polled again.
    let polls = requests
        .iter()
        .filter(|r| *r == "GET /api/public/v1/jobs/1")
        .count();
    assert!(polls >= 3, "{polls} polls of job 1: {requests:?}");

    // Healthy: success, and XCom holds the seed's stats with the mock's counts.
    let r = by(1, "healthy");
    assert_eq!(r["state"], "success", "{r}");
    let x = &r["xcom"]["step3_wait_orders"];
    for key in [
        "airbyte_job_id",
        "airbyte_connection_id",
        "airbyte_records",
        "airbyte_bytes",
        "airbyte_start_time",
        "airbyte_end_time",
    ] {
        assert!(!x[key].is_null(), "{key} missing: {x}");
    }
    assert_eq!(x["airbyte_records"], records);
    assert_eq!(x["airbyte_bytes"], bytes);
    let orders = &model
        .connections
        .iter()
        .find(|c| c.name == "orders")
        .unwrap()
        .id;
    assert_eq!(x["airbyte_connection_id"], orders.as_str());

    // Zero records: the validate task fails, once, without retry.
    let r = by(2, "zero-records");
    assert_eq!(r["state"], "failed");
    assert_eq!(task(r, "step1_wait_empty").0, "success");
    assert_eq!(task(r, "step1_validate_empty"), ("failed", 1), "{r}");

    // A failed job fails the wait.
    let r = by(3, "failed");
    assert_eq!(r["state"], "failed");
    assert_eq!(task(r, "step1_wait_broken").0, "failed", "{r}");

    // Deadline: the stuck job is cancelled (the mock saw the DELETE) and the wait fails.
    let r = by(4, "deadline");
    assert_eq!(r["state"], "failed");
    assert_eq!(task(r, "step1_wait_stuck").0, "failed", "{r}");
    let job = r["xcom"]["step1_sync_stuck"]["return_value"]["job_id"]
        .as_u64()
        .unwrap();
    assert!(
        requests.contains(&format!("DELETE /api/public/v1/jobs/{job}")),
        "no cancel of job {job}: {requests:?}"
    );

    // `queued` is in progress, not an error.
    let r = by(5, "queued");
    assert_eq!(r["state"], "success", "{r}");

    // Reset then sync: the reset job first, then the sync job.
    let r = by(6, "reset-then-sync");
    assert_eq!(r["state"], "success", "{r}");
    let reset = r["xcom"]["step1_reset_orders"]["return_value"]["job_id"]
        .as_u64()
        .unwrap();
    let sync = r["xcom"]["step2_sync_orders"]["return_value"]["job_id"]
        .as_u64()
        .unwrap();
    assert!(reset < sync, "reset {reset} then sync {sync}");

    // Conditional: runs with no earlier sync, is skipped while the last one is recent, runs
    // when it is older than the condition.
    let r = by(7, "conditional");
    assert_eq!(task(r, "step1_sync_recent").0, "success", "{r}");
    let r = by(8, "conditional");
    assert_eq!(r["state"], "success", "{r}");
    assert_eq!(task(r, "step1_when_recent").0, "skipped", "{r}");
    assert_eq!(task(r, "step1_sync_recent").0, "skipped", "{r}");
    let r = by(9, "conditional-old");
    assert_eq!(task(r, "step1_when_recent").0, "success", "{r}");
    assert_eq!(task(r, "step1_sync_recent").0, "success", "{r}");
}

/// A UDP listener on loopback that keeps every datagram until [`Listener::lines`] is called.
struct Listener {
    port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<Vec<String>>,
}

impl Listener {
    fn start() -> Self {
        use std::sync::atomic::{AtomicBool, Ordering};
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = socket.local_addr().unwrap().port();
        // The timeout only lets the loop look at `stop`; nothing is asserted about time.
        socket
            .set_read_timeout(Some(std::time::Duration::from_millis(100)))
            .unwrap();
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut lines = Vec::new();
            let mut buf = [0u8; 65536];
            loop {
                match socket.recv(&mut buf) {
                    Ok(n) => lines.extend(
                        String::from_utf8_lossy(&buf[..n])
                            .lines()
                            .map(str::to_string),
                    ),
                    // Loopback delivers a datagram when it is sent, so once the sender has
                    // exited and `stop` is set, an empty queue means everything was read.
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) =>
                    {
                        if flag.load(Ordering::SeqCst) {
                            return lines;
                        }
                    }
                    Err(e) => panic!("statsd listener: {e}"),
                }
            }
        });
        Listener { port, stop, thread }
    }

    /// Every line received, once the senders are done.
    fn lines(self) -> Vec<String> {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        self.thread.join().unwrap()
    }
}

/// A statsd line `name:value|type[|...]` as (name, value, Prometheus type).
fn parse_statsd(line: &str) -> (String, f64, &'static str) {
    let (name, rest) = line.split_once(':').unwrap_or_else(|| panic!("{line}"));
    let mut fields = rest.split('|');
    let value: f64 = fields.next().unwrap().parse().unwrap();
    let kind = match fields.next() {
        Some("c") => "counter",
        Some("g") => "gauge",
        Some("ms") => "observer",
        other => panic!("{line}: statsd type {other:?}"),
    };
    (name.to_string(), value, kind)
}

#[test]
fn demo_dags_send_the_metrics_contract_through_statsd() {
    use crate::statsd::{apply, chart_and_rendered, selectors, selects};
    use airguard::metrics;
    let Some(py) = airflow_python() else { return };
    let model = load(&fixture("dags/demo.yaml"));
    assert!(model.observability.is_some(), "demo.yaml has observability");
    let mock = Mock::start(&model);
    let (records, bytes) = (mock.records, mock.bytes);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let dags = render_into(&model, &out);
    let listener = Listener::start();
    let mut c = python(&py, &tmp.path().join("home"), &dags);
    c.env(model.airflow.conn_env_name(), &mock.conn)
        .env("AIRFLOW__METRICS__STATSD_ON", "True")
        .env("AIRFLOW__METRICS__STATSD_HOST", "127.0.0.1")
        .env("AIRFLOW__METRICS__STATSD_PORT", listener.port.to_string())
        .env("AIRFLOW__METRICS__STATSD_PREFIX", metrics::STATSD_PREFIX)
        .arg("tests/airflow/run_dag.py")
        .arg(&dags);
    let runs = ["healthy", "zero-records", "failed", "deadline"];
    c.args(runs);
    let states: Vec<(String, String)> = results(c)
        .iter()
        .map(|r| {
            (
                r["dag_id"].as_str().unwrap().to_string(),
                r["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let lines = listener.lines();
    mock.stop();
    assert_eq!(
        states,
        [
            ("healthy", "success"),
            ("zero-records", "failed"),
            ("failed", "failed"),
            ("deadline", "failed"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );

    // Through the chart's mappings and the rendered ones, as the exporter reads them.
    let values: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(out.join("airflow/values.yaml")).unwrap())
            .unwrap();
    let maps = chart_and_rendered(&values);
    let prefix = format!("{}.airguard.", metrics::STATSD_PREFIX);
    let contract: BTreeMap<&str, &str> = metrics::METRICS
        .iter()
        .map(|m| (m.name, m.kind.prometheus()))
        .collect();
    // Series (name, labels) → last value, as the exporter keeps gauges and sums counters.
    let mut series: BTreeMap<(String, BTreeMap<String, String>), f64> = BTreeMap::new();
    for line in lines.iter().filter(|l| l.starts_with(&prefix)) {
        let (name, value, kind) = parse_statsd(line);
        let (metric, labels) =
            apply(&maps, &name, kind).unwrap_or_else(|| panic!("{line} matches no mapping"));
        assert_eq!(
            contract.get(metric.as_str()),
            Some(&kind),
            "{line} -> {metric}"
        );
        let v = series.entry((metric, labels)).or_insert(0.0);
        *v = if kind == "counter" { *v + value } else { value };
    }
    // Nothing of ours goes out under another name.
    assert!(
        lines
            .iter()
            .all(|l| !l.contains("airguard") || l.starts_with(&prefix)),
        "{lines:?}"
    );

    // What each run reported, values of the clock replaced by a mark once checked.
    let mut shown: BTreeMap<String, String> = BTreeMap::new();
    for ((name, labels), v) in &series {
        let l: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        let key = format!("{name}{{{}}}", l.join(","));
        let text = match name.as_str() {
            "airguard_sync_duration_seconds" | "airguard_last_success_timestamp_seconds" => {
                assert!(*v > 0.0, "{key} = {v}");
                "<clock>".to_string()
            }
            _ => v.to_string(),
        };
        shown.insert(key, text);
    }
    let get = |k: &str| shown.get(k).map(String::as_str);
    let sync =
        |p: &str, c: &str, m: &str| format!("{m}{{connection={c:?},pipeline={p:?},step=\"sync\"}}");
    assert_eq!(
        get(&sync("healthy", "orders", "airguard_sync_records")),
        Some(records.to_string().as_str())
    );
    assert_eq!(
        get(&sync("healthy", "orders", "airguard_sync_bytes")),
        Some(bytes.to_string().as_str())
    );
    assert_eq!(
        get(&sync("zero-records", "empty", "airguard_sync_records")),
        Some("0")
    );
    assert_eq!(
        get(&sync("zero-records", "empty", "airguard_sync_min_records")),
        Some("1")
    );
    let outcome = |p: &str, c: &str, o: &str| {
        format!(
            "airguard_sync_total{{connection={c:?},outcome={o:?},pipeline={p:?},step=\"sync\"}}"
        )
    };
    for (p, c, o) in [
        ("healthy", "orders", "succeeded"),
        ("zero-records", "empty", "validation-failed"),
        ("failed", "broken", "failed"),
        ("deadline", "stuck", "cancelled"),
    ] {
        assert_eq!(get(&outcome(p, c, o)), Some("1"), "{shown:#?}");
    }
    let outcomes = shown
        .keys()
        .filter(|k| k.starts_with("airguard_sync_total{"))
        .count();
    assert_eq!(
        outcomes,
        runs.len(),
        "one outcome per finished step: {shown:#?}"
    );
    insta::assert_debug_snapshot!("statsd-series-demo", shown);

    // The rendered rules and dashboard select exactly these series: every produced series is
    // read by some query, and each alert's selectors pick what the runs warrant.
    let rule: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(out.join(airguard::render::observability::RULE_PATH)).unwrap(),
    )
    .unwrap();
    let mut queries: Vec<(String, String)> = rule["spec"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap().iter())
        .map(|r| {
            (
                r["alert"].as_str().unwrap().to_string(),
                r["expr"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    queries.extend(
        crate::observability::dashboard_exprs(&model)
            .into_iter()
            .map(|e| ("dashboard".to_string(), e)),
    );
    let mut read: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut unread: BTreeSet<&(String, BTreeMap<String, String>)> = series.keys().collect();
    for (who, expr) in &queries {
        for s in selectors(expr) {
            if !contract.contains_key(s.name.as_str()) {
                continue;
            }
            for key in series
                .keys()
                .filter(|(n, l)| *n == s.name && selects(&s, l))
            {
                unread.remove(key);
                if who != "dashboard" {
                    let l: Vec<String> = key.1.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
                    read.entry(who.clone()).or_default().insert(format!(
                        "{}{{{}}}",
                        key.0,
                        l.join(",")
                    ));
                }
            }
        }
    }
    assert!(unread.is_empty(), "series no query reads: {unread:?}");
    // The zero-records run is what the validation alert selects, and only it.
    assert_eq!(
        read["AirguardValidationFailed"],
        BTreeSet::from([outcome("zero-records", "empty", "validation-failed")])
    );
    insta::assert_debug_snapshot!("statsd-series-demo-alerts", read);
}

/// One `dag.test()` run of `fixtures/dags/checks/cases.yaml`.
#[derive(serde::Deserialize)]
struct CheckCase {
    name: String,
    dag: String,
    sql: Option<String>,
    run: String,
    failed: Option<String>,
    tasks: BTreeMap<String, String>,
}

/// Must reach no notification: the Slack webhook token and the SMTP password of the test's
/// connections.
const NOTIFY_SECRET: &str = "s3cret-never-in-a-notification";

/// The runs of `fixtures/dags/checks/cases.yaml` (run once, shared by the tests below), each
/// with its case, or `None` when the tier is not set up.
fn check_runs() -> Option<&'static [(CheckCase, Value)]> {
    static RUNS: std::sync::OnceLock<Vec<(CheckCase, Value)>> = std::sync::OnceLock::new();
    let py = airflow_python()?;
    Some(RUNS.get_or_init(|| run_checks(&py)))
}

fn run_checks(py: &Path) -> Vec<(CheckCase, Value)> {
    let model = load(&fixture("dags/checks.yaml"));
    let cases_dir = fixture("dags/checks");
    let cases: Vec<CheckCase> =
        serde_saphyr::from_str(&std::fs::read_to_string(cases_dir.join("cases.yaml")).unwrap())
            .unwrap();
    // The one sqlite connection the spec's SQL checks use, and the notify targets.
    let sql_conn = model
        .dags
        .pipelines
        .iter()
        .flat_map(|p| &p.steps)
        .find_map(|s| s.checks.as_ref()?.sql.as_ref())
        .map(|s| s.connection_id.clone())
        .expect("a SQL check");
    let notify = &model.dags.notify;
    let slack = notify.slack.as_deref().expect("notify.slack");
    let (smtp, _) = notify.email.clone().expect("notify.email");
    assert!(notify.on_success);

    let mock = Mock::start(&model);
    let tmp = tempfile::tempdir().unwrap();
    let dags = render_into(&model, &tmp.path().join("out"));
    let db = tmp.path().join("warehouse.db");
    let mut c = python(py, &tmp.path().join("home"), &dags);
    c.env(model.airflow.conn_env_name(), &mock.conn)
        .env(
            format!("AIRFLOW_CONN_{}", sql_conn.to_uppercase()),
            serde_json::json!({ "conn_type": "sqlite", "host": db }).to_string(),
        )
        .env("AIRGUARD_SQLITE", &db)
        .env("AIRGUARD_NOTIFY_SECRET", NOTIFY_SECRET)
        .env("AIRGUARD_NOTIFY_SLACK_CONN", slack)
        .env("AIRGUARD_NOTIFY_SMTP_CONN", &smtp)
        // `checks: {python: quality.has_records}` imports this directory's quality.py.
        .env("PYTHONPATH", &cases_dir)
        .arg("tests/airflow/run_dag.py")
        .arg(&dags);
    for case in &cases {
        match &case.sql {
            Some(sql) => c.arg(format!(
                "{}+sql={}",
                case.dag,
                cases_dir.join(sql).display()
            )),
            None => c.arg(&case.dag),
        };
    }
    let runs = results(c);
    mock.stop();
    assert_eq!(runs.len(), cases.len());
    cases.into_iter().zip(runs).collect()
}

/// A run's one Slack text and one e-mail (subject and body), each with what it is.
fn notifications(case: &CheckCase, r: &Value) -> Vec<(&'static str, String)> {
    let name = &case.name;
    let posts = r["slack"].as_array().unwrap();
    let mails = r["email"].as_array().unwrap();
    assert_eq!(posts.len(), 1, "{name}: Slack posts {posts:?}");
    assert_eq!(mails.len(), 1, "{name}: e-mails {mails:?}");
    let text: Value = serde_json::from_str(posts[0]["body"].as_str().unwrap()).unwrap();
    vec![
        ("Slack text", text["text"].as_str().unwrap().to_string()),
        ("subject", mails[0]["subject"].as_str().unwrap().to_string()),
        (
            "e-mail body",
            mails[0]["body"].as_str().unwrap().to_string(),
        ),
    ]
}

#[test]
fn data_checks_execute_and_fail_the_run_without_retry() {
    let Some(runs) = check_runs() else { return };
    for (case, r) in runs {
        let name = &case.name;
        assert_eq!(r["dag_id"], case.dag.as_str(), "{name}");
        assert_eq!(r["state"], case.run.as_str(), "{name}: {r}");
        for (id, want) in &case.tasks {
            let (state, tries) = task(r, id);
            assert_eq!(state, want, "{name}: {id}: {r}");
            if state == "failed" {
                assert_eq!(tries, 1, "{name}: {id} was retried");
            }
        }
    }
}

#[test]
fn notifications_reach_slack_and_smtp_once_without_secrets() {
    let Some(runs) = check_runs() else { return };
    let model = load(&fixture("dags/checks.yaml"));
    let (_, to) = model.dags.notify.email.clone().unwrap();
    for (case, r) in runs {
        let name = &case.name;
        let outcome = if case.run == "success" {
            "succeeded"
        } else {
            "failed"
        };
        for (what, msg) in notifications(case, r) {
            let run = format!("DAG {} run {} ", case.dag, r["run_id"].as_str().unwrap());
            assert!(
                msg.contains(&run) && msg.contains(outcome),
                "{name}: {what} {msg:?}"
            );
        }
        // Posted where the Slack connection says; sent to the spec's recipients after a login.
        let post = &r["slack"][0];
        let path = post["path"].as_str().unwrap();
        assert!(
            path.ends_with(&format!("/services/T000/B000/{NOTIFY_SECRET}")),
            "{name}: {post}"
        );
        let mail = &r["email"][0];
        assert_eq!(mail["to"], serde_json::json!(to), "{name}");
        assert_eq!(mail["auth"], "PLAIN", "{name}: no SMTP login");
        for (what, sent) in [
            ("Slack body", post["body"].as_str().unwrap()),
            ("e-mail", mail["raw"].as_str().unwrap()),
            ("e-mail body", mail["body"].as_str().unwrap()),
        ] {
            assert!(
                !sent.contains(NOTIFY_SECRET),
                "{name}: secret in the {what}"
            );
        }
    }
}

#[test]
fn regression_failure_notification_names_the_failed_task() {
    let Some(runs) = check_runs() else { return };
    for (case, r) in runs {
        let Some(failed) = &case.failed else { continue };
        for (what, msg) in notifications(case, r) {
            assert!(
                msg.contains(&format!("task {failed}")),
                "{}: {what} {msg:?}",
                case.name
            );
        }
    }
}

//! `cargo xtask bench dags`: the cost of `dags/`.
//!
//! 1. Render time of `dags/` for 1 000 pipelines × 5 steps (load + validate separately), best of
//!    five rounds; goal < 1 s.
//! 2. With `AIRGUARD_AIRFLOW_PY` (from `.ci/setup-airflow.sh`): the DAG-parse cost every Airflow
//!    deployment pays per file and parse cycle, as the mean per-file parse time of a real
//!    `DagBag` over the rendered DAGs of a 200-pipeline spec, against the same DAGs (same
//!    operators, arguments and dependencies) as dag-factory 1.1.0 YAML, installed beside the
//!    pinned Airflow under `target/dagfactory-lib` (`bench_dags.py` does the comparison).
//! 3. Airbyte API requests per sync of a 10-minute job with the default polling (30 s), from the
//!    rendered tasks: counted, not measured (see the printed breakdown).

use anyhow::{bail, Context, Result};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// A valid spec with `pipelines` pipelines of 5 steps each (2 connections per pipeline).
pub fn spec(pipelines: usize) -> String {
    let mut s = String::from(
        "version: 1\nplatform: {name: bench}\nairbyte:\n  namespace: airbyte\n  release: airbyte\n  chart: v2\n  api: {url: 'http://airbyte-airbyte-server-svc.airbyte:8001'}\n  kubernetes-api: {cidrs: [10.96.0.1/32]}\n",
    );
    s.push_str("airflow: {namespace: airflow, release: airflow}\n");
    s.push_str("secrets:\n  store:\n    kind: ClusterSecretStore\n    name: vault\n    conditions: [{namespaces: [airbyte, airflow]}]\n    provider: {vault: {server: 'https://vault:8200', path: secret, auth: {kubernetes: {role: eso}}}}\n");
    s.push_str("  airbyte: {client-id: 'p/a#id', client-secret: 'p/a#secret'}\nconnections:\n");
    for i in 0..pipelines * 2 {
        let _ = writeln!(
            s,
            "  - {{name: conn-{i}, id: 00000000-0000-4000-8000-{i:012}, min-records: 1}}"
        );
    }
    s.push_str("pipelines:\n");
    for p in 0..pipelines {
        let (a, b) = (2 * p, 2 * p + 1);
        let _ = writeln!(
            s,
            "  - {{name: p-{p}, schedule: '@daily', tags: [bench], steps: [health, {{check: conn-{a}}}, {{sync: conn-{a}}}, {{validate: conn-{a}}}, {{sync: conn-{b}, after: conn-{a}}}]}}"
        );
    }
    s
}

fn load(text: &str) -> Result<airguard::spec::Model> {
    let mut files = airguard::diag::Files::new();
    let (model, diags) = airguard::spec::from_str(&mut files, "bench.yaml", text);
    model.with_context(|| format!("generated spec invalid: {diags:?}"))
}

/// Entry point.
pub fn run(_args: &[String]) -> Result<()> {
    println!("dags benchmark (release build)");
    let text = spec(1_000);
    let (mut best_load, mut best_render) = (Duration::MAX, Duration::MAX);
    let mut files = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let model = load(&text)?;
        best_load = best_load.min(t.elapsed());
        let t = Instant::now();
        let out = airguard::render::dags::render(&model)?;
        best_render = best_render.min(t.elapsed());
        files = out.len();
    }
    println!(
        "render dags/ for 1 000 pipelines x 5 steps: {:.1} ms ({files} files; load + validate {:.1} ms); goal < 1 s",
        best_render.as_secs_f64() * 1e3,
        best_load.as_secs_f64() * 1e3
    );

    match std::env::var_os("AIRGUARD_AIRFLOW_PY") {
        None => println!(
            "DagBag parse time: not measured (AIRGUARD_AIRFLOW_PY not set; source .ci/setup-airflow.sh)"
        ),
        Some(py) => {
            let model = load(&spec(200))?;
            let dir = std::env::temp_dir().join(format!("airguard-bench-dags-{}", std::process::id()));
            let dags = dir.join("dags");
            std::fs::create_dir_all(&dags)?;
            for a in airguard::render::dags::render(&model)? {
                std::fs::write(dir.join(&a.path), a.content)?;
            }
            let home = dir.join("home");
            // dag-factory 1.1.0 beside the pinned Airflow: its own target dir, no dependency
            // changes (the pinned environment already satisfies them).
            let df_lib = crate::root().join("target/dagfactory-lib");
            if !df_lib.join("dagfactory").is_dir() {
                let _ = std::process::Command::new(&py)
                    .args(["-m", "pip", "install", "--quiet", "--no-deps", "--target"])
                    .arg(&df_lib)
                    .arg("dag-factory==1.1.0")
                    .status();
            }
            let script = dir.join("bench_dags.py");
            std::fs::write(&script, include_str!("bench_dags.py"))?;
            let out = std::process::Command::new(&py)
                .arg(&script)
                .arg(&dags)
                .arg(dir.join("work"))
                .env("AIRFLOW_HOME", &home)
                .env("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
                .env("AIRFLOW__CORE__DAGS_FOLDER", &dags)
                .env("PYTHONPATH", &df_lib)
                .output()?;
            let _ = std::fs::remove_dir_all(&dir);
            if !out.status.success() {
                bail!("DagBag failed: {}", String::from_utf8_lossy(&out.stderr));
            }
            let stdout = String::from_utf8_lossy(&out.stdout);
            let line = stdout
                .lines()
                .find_map(|l| l.strip_prefix("AIRGUARD-RESULT "))
                .context("no result line from the DagBag script")?;
            let v: serde_json::Value = serde_json::from_str(line)?;
            let show = |v: &serde_json::Value| match v.get("mean_ms") {
                Some(_) => format!(
                    "{} files in {:.3} s, per DAG file mean {:.2} ms, median {:.2} ms",
                    v["files"], v["total_s"].as_f64().unwrap_or(0.0), v["mean_ms"].as_f64().unwrap_or(0.0), v["median_ms"].as_f64().unwrap_or(0.0)
                ),
                None => v.to_string(),
            };
            println!("DagBag parse, 200 pipelines (the pinned Airflow):");
            println!("  airguard dags/: {}", show(&v["rendered"]));
            println!("  dag-factory 1.1.0, same tasks: {}", show(&v["dag_factory"]));
            if let (Some(a), Some(b)) = (v["rendered"]["mean_ms"].as_f64(), v["dag_factory"]["mean_ms"].as_f64()) {
                println!("  ratio (mean): {:.2} (goal <= 0.33)", a / b);
            }
        }
    }

    // Requests per sync, from what the rendered tasks do (client credentials: each task try and
    // each reschedule poke builds its own AirbyteHook, so it fetches a token first).
    let job = 600u64;
    let poll = 30u64;
    let pokes = job.div_ceil(poll) + 1;
    let trigger = 2;
    let wait = 2 * pokes;
    println!(
        "API requests per sync of a {job} s job, poll {poll} s: {} = trigger {trigger} (token + POST /jobs) + wait {wait} ({pokes} pokes x (token + GET /jobs/{{id}})); validate reads XCom (0). A 409 attach adds 2 (409 + GET /jobs); bounded by deadline / poll.",
        trigger + wait
    );
    Ok(())
}

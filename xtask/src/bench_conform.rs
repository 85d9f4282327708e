//! `cargo xtask bench conform`: the conformance runner at scale against the mock over loopback.
//!
//! 1 000 connections, one pipeline each (`sync` → `wait` → `stats`), every job taking 500 ms in
//! the mock, the first poll 100 ms after the trigger and every 100 ms after that, `--parallel
//! 100`. The ideal schedule is ⌈1000 / 100⌉ × 500 ms = 5 s. Prints wall time against it (target
//! ratio ≤ 1.25), HTTP requests per job (a bounded constant) and peak memory of this process
//! (VmHWM; target ≤ 100 MB; it includes the mock, which runs in process on its own runtime).
//! Flags: `--connections N`, `--parallel N`, `--job-ms N`, `--first-poll-ms N`,
//! `--poll-factor F` (1.0 = fixed interval; the CLI default backoff is 1.5).

use airguard::conform::client::{Client, ClientConfig, Credentials};
use airguard::conform::runner::{self, RunnerConfig};
use airguard::mock::{
    self, ConnectionSpec, ConnectionStatus, JobBehaviour, MockAuth, MockConfig, Scenario,
};
use airguard::spec::model::{ApiFlavour, Connection, OnRunning, Pipeline, Step, StepKind};
use anyhow::{bail, Context, Result};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Settings {
    connections: usize,
    parallel: usize,
    job: Duration,
    first_poll: Duration,
    poll_factor: f64,
}

fn parse(args: &[String]) -> Result<Settings> {
    let mut s = Settings {
        connections: 1000,
        parallel: 100,
        job: Duration::from_millis(500),
        first_poll: Duration::from_millis(100),
        poll_factor: 1.0,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--connections" => s.connections = value.parse()?,
            "--parallel" => s.parallel = value.parse()?,
            "--job-ms" => s.job = Duration::from_millis(value.parse()?),
            "--first-poll-ms" => s.first_poll = Duration::from_millis(value.parse()?),
            "--poll-factor" => s.poll_factor = value.parse()?,
            other => bail!("unknown flag {other}"),
        }
    }
    Ok(s)
}

/// Peak resident set size of this process, in bytes.
fn vm_hwm() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Run the benchmark and print its figures.
pub fn run(args: &[String]) -> Result<()> {
    let s = parse(args)?;
    let ids: Vec<String> = (0..s.connections)
        .map(|i| format!("{i:08x}-0000-4000-8000-{i:012x}"))
        .collect();
    let scenario = Scenario {
        connections: ids
            .iter()
            .enumerate()
            .map(|(i, id)| ConnectionSpec {
                id: id.clone(),
                name: format!("c{i}"),
                status: ConnectionStatus::Active,
                jobs: None,
            })
            .collect(),
        jobs: JobBehaviour {
            pending: Duration::ZERO,
            duration: s.job,
            records: 1000,
            ..JobBehaviour::default()
        },
        faults: Vec::new(),
        token_ttl: Duration::from_secs(900),
        first_job_id: 1,
    };
    // The mock gets its own runtime (one worker), as a separate server process would.
    let mock_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let server = mock_rt
        .block_on(mock::start(
            "127.0.0.1:0".parse()?,
            MockConfig {
                scenario,
                auth: MockAuth::default_client_credentials(),
            },
        ))
        .context("starting the mock")?;
    let base = format!("{}/api/public/v1", server.base_url());
    let creds = Credentials::ClientCredentials {
        client_id: mock::DEFAULT_CLIENT_ID.to_string().into(),
        client_secret: mock::DEFAULT_CLIENT_SECRET.to_string().into(),
        token_url: format!("{base}/applications/token"),
        body: Default::default(),
    };
    let connections: Vec<Connection> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| Connection {
            name: format!("c{i}"),
            id: id.clone(),
            min_records: None,
        })
        .collect();
    let pipelines: Vec<Pipeline> = connections
        .iter()
        .map(|c| Pipeline {
            name: c.name.clone(),
            steps: vec![Step {
                kind: StepKind::Sync(c.name.clone()),
                after: None,
                when: None,
                on_running: OnRunning::Attach,
                min_records: None,
                timeout: Duration::from_secs(600),
            }],
        })
        .collect();
    let cfg = RunnerConfig {
        first_poll: s.first_poll,
        poll_factor: s.poll_factor,
        poll_cap: s.first_poll.max(Duration::from_secs(1)),
        progress_every: None,
        parallel: s.parallel,
        ..RunnerConfig::default()
    };
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let client = Arc::new(Client::new(ClientConfig::new(
        &base,
        ApiFlavour::Public,
        creds,
    ))?);
    let started = Instant::now();
    let report = client_rt.block_on(runner::run(client.clone(), &connections, &pipelines, &cfg));
    let wall = started.elapsed();
    let served = server.requests().len();
    mock_rt.block_on(server.shutdown());
    if !report.passed() {
        bail!(
            "the benchmark run failed:\n{}",
            airguard::conform::report::human(&report)
        );
    }
    let waves = s.connections.div_ceil(s.parallel.max(1)) as u32;
    let ideal = s.job * waves;
    let ratio = wall.as_secs_f64() / ideal.as_secs_f64();
    let sent = client.requests_sent();
    println!(
        "conform benchmark: {} connections, job {} ms, first poll {} ms, poll factor {}, --parallel {}",
        s.connections,
        s.job.as_millis(),
        s.first_poll.as_millis(),
        s.poll_factor,
        s.parallel
    );
    println!(
        "  wall time      {:>8.3} s   ideal {:.3} s   ratio {:.3} (target <= 1.25) {}",
        wall.as_secs_f64(),
        ideal.as_secs_f64(),
        ratio,
        if ratio <= 1.25 { "ok" } else { "MISSED" }
    );
    println!(
        "  HTTP requests  {sent} sent, {served} served, {:.2} per job (1 trigger + polls; 1 token for the run)",
        sent as f64 / s.connections as f64
    );
    match vm_hwm() {
        Some(b) => {
            let mb = b as f64 / (1024.0 * 1024.0);
            println!(
                "  peak memory    {mb:>8.1} MB (VmHWM, client and mock; target <= 100 MB) {}",
                if mb <= 100.0 { "ok" } else { "MISSED" }
            );
        }
        None => println!("  peak memory    unavailable (no /proc/self/status)"),
    }
    Ok(())
}

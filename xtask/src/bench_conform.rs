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
use airguard::mock::{self, ConnectionSpec, JobBehaviour, MockAuth, MockConfig, Scenario};
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
    in_process: bool,
}

fn parse(args: &[String]) -> Result<Settings> {
    let mut s = Settings {
        connections: 1000,
        parallel: 100,
        job: Duration::from_millis(500),
        first_poll: Duration::from_millis(100),
        poll_factor: 1.0,
        in_process: false,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "--in-process" {
            s.in_process = true;
            continue;
        }
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

/// Peak resident set size of a process (`self` or a pid), in bytes.
fn vm_hwm_of(proc: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{proc}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn vm_hwm() -> Option<u64> {
    vm_hwm_of("self")
}

/// The mock under test: in process, or an `airguard mock serve` child.
enum Mock {
    InProcess(tokio::runtime::Runtime, mock::MockServer),
    Process(std::process::Child, String, tempfile_path::TempFile),
}

mod tempfile_path {
    /// A file removed on drop.
    pub struct TempFile(pub std::path::PathBuf);
    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

impl Mock {
    fn base_url(&self) -> String {
        match self {
            Mock::InProcess(_, server) => server.base_url(),
            Mock::Process(_, url, _) => url.clone(),
        }
    }
}

/// Start `airguard mock serve` (release build) on a free loopback port with `scenario_yaml`.
fn spawn_mock(scenario_yaml: &str) -> Result<Mock> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf();
    let status = std::process::Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--release", "--bin", "airguard"])
        .current_dir(&root)
        .status()?;
    if !status.success() {
        bail!("building airguard failed");
    }
    let file = tempfile_path::TempFile(
        std::env::temp_dir().join(format!("airguard-bench-{}.yaml", std::process::id())),
    );
    std::fs::write(&file.0, scenario_yaml)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = std::process::Command::new(root.join("target/release/airguard"))
        .args([
            "mock",
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--scenario",
        ])
        .arg(&file.0)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .context("starting airguard mock serve")?;
    let url = format!("http://127.0.0.1:{port}");
    // Wait until it answers (bounded).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        if Instant::now() > deadline {
            bail!("airguard mock serve did not start");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(Mock::Process(child, url, file))
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
            .map(|(i, id)| ConnectionSpec::new(id.clone(), format!("c{i}")))
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
        ..Scenario::default()
    };
    let mock = if s.in_process {
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
        Mock::InProcess(mock_rt, server)
    } else {
        let mut yaml = String::from("connections:\n");
        for c in &scenario.connections {
            yaml.push_str(&format!("  - {{id: {}, name: {}}}\n", c.id, c.name));
        }
        yaml.push_str(&format!(
            "jobs: {{pending: 0s, duration: {}ms, records: 1000}}\n",
            s.job.as_millis()
        ));
        spawn_mock(&yaml)?
    };
    let base = format!("{}/api/public/v1", mock.base_url());
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
    let (served, mock_peak) = match mock {
        Mock::InProcess(rt, server) => {
            let served = server.requests().len().to_string();
            rt.block_on(server.shutdown());
            (served, None)
        }
        Mock::Process(mut child, _, _file) => {
            let peak = vm_hwm_of(&child.id().to_string());
            let _ = child.kill();
            let _ = child.wait();
            ("?".to_string(), peak)
        }
    };
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
        "conform benchmark: {} connections, job {} ms, first poll {} ms, poll factor {}, --parallel {}, mock {}",
        s.connections,
        s.job.as_millis(),
        s.first_poll.as_millis(),
        s.poll_factor,
        s.parallel,
        if s.in_process { "in process" } else { "`airguard mock serve` process" }
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
            let what = if s.in_process {
                "client and mock"
            } else {
                "conformance client"
            };
            println!(
                "  peak memory    {mb:>8.1} MB (VmHWM, {what}; target <= 100 MB) {}",
                if mb <= 100.0 { "ok" } else { "MISSED" }
            );
            if let Some(m) = mock_peak {
                println!(
                    "  mock process   {:>8.1} MB (VmHWM)",
                    m as f64 / (1024.0 * 1024.0)
                );
            }
        }
        None => println!("  peak memory    unavailable (no /proc/self/status)"),
    }
    Ok(())
}

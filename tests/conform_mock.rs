//! `conform` against the real mock server (`airguard::mock`), in process, one test per fault
//! scenario in `fixtures/mock/`: each asserts the verdict, the failing case's message and the
//! requests the mock saw. Job timings are shortened so every test runs in well under a second
//! of real time.

use crate::util::fixture;
use airguard::conform::client::{Client, ClientConfig, Credentials, RetryPolicy};
use airguard::conform::report::{Outcome, Report};
use airguard::conform::runner::{self, RunnerConfig};
use airguard::mock::{self, MockAuth, MockConfig, Scenario};
use airguard::spec::model::{ApiFlavour, Connection, OnRunning, Pipeline, Step, StepKind};
use std::sync::Arc;
use std::time::Duration;
use Outcome::{Failed, Passed, Skipped};

/// Load a fault scenario and shorten its job timings (faults and counts stay as written).
fn scenario(name: &str) -> Scenario {
    let mut s = Scenario::from_file(&fixture(&format!("mock/{name}.yaml"))).unwrap();
    let fast = |j: &mut mock::JobBehaviour| {
        j.pending = Duration::from_millis(20);
        j.duration = Duration::from_millis(60);
        j.retry_delay = Duration::from_millis(20);
        if !j.queued.is_zero() {
            j.queued = Duration::from_millis(40);
        }
    };
    fast(&mut s.jobs);
    for f in &mut s.faults {
        match &mut f.action {
            mock::FaultAction::Latency(d) => *d = Duration::from_millis(50),
            mock::FaultAction::RateLimit { retry_after } => *retry_after = Duration::from_secs(1),
            _ => {}
        }
    }
    for c in &mut s.connections {
        if let Some(j) = c.jobs.as_mut() {
            fast(j);
        }
    }
    s
}

struct Run {
    report: Report,
    requests: Vec<String>,
}

async fn run(scenario: Scenario, steps: impl Fn(&str) -> Vec<Step>, flavour: ApiFlavour) -> Run {
    run_with(scenario, steps, flavour, false).await
}

/// `busy`: start a sync before the pipeline runs, so its own sync gets a 409.
async fn run_with(
    scenario: Scenario,
    steps: impl Fn(&str) -> Vec<Step>,
    flavour: ApiFlavour,
    busy: bool,
) -> Run {
    let conn = scenario.connections[0].clone();
    let server = mock::start(
        "127.0.0.1:0".parse().unwrap(),
        MockConfig {
            scenario,
            auth: MockAuth::default_client_credentials(),
        },
    )
    .await
    .unwrap();
    let base_path = match flavour {
        ApiFlavour::Public => "/api/public/v1",
        ApiFlavour::Config => "/api/v1",
    };
    let base = format!("{}{base_path}", server.base_url());
    let creds = Credentials::ClientCredentials {
        client_id: mock::DEFAULT_CLIENT_ID.to_string().into(),
        client_secret: mock::DEFAULT_CLIENT_SECRET.to_string().into(),
        token_url: format!("{base}/applications/token"),
        body: Default::default(),
    };
    let mut cfg = ClientConfig::new(&base, flavour, creds);
    cfg.retry = RetryPolicy {
        base_delay: Duration::from_millis(20),
        ..RetryPolicy::default()
    };
    cfg.request_timeout = Some(Duration::from_secs(10));
    let client = Arc::new(Client::new(cfg).unwrap());
    if busy {
        let t = client
            .trigger(&conn.id, airguard::conform::client::JobKind::Sync)
            .await
            .unwrap();
        assert!(
            matches!(t, airguard::conform::client::Triggered::Started(_)),
            "{t:?}"
        );
    }
    let connections = vec![Connection {
        name: conn.name.clone(),
        id: conn.id.clone(),
        min_records: Some(1),
    }];
    let pipelines = vec![Pipeline {
        name: "p".into(),
        steps: steps(&conn.name),
    }];
    let rcfg = RunnerConfig {
        first_poll: Duration::from_millis(20),
        poll_factor: 1.5,
        poll_cap: Duration::from_millis(100),
        progress_every: None,
        cancel_confirm: Duration::from_secs(5),
        parallel: 1,
        ..RunnerConfig::default()
    };
    let report = runner::run(client, &connections, &pipelines, &rcfg).await;
    let requests = server
        .requests()
        .into_iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    server.shutdown().await;
    Run { report, requests }
}

fn step(kind: StepKind) -> Step {
    Step {
        kind,
        after: None,
        when: None,
        on_running: OnRunning::Attach,
        min_records: Some(1),
        timeout: Duration::from_secs(20),
    }
}

fn sync(c: &str) -> Vec<Step> {
    vec![step(StepKind::Sync(c.into()))]
}

fn outcomes(r: &Report) -> Vec<(String, Outcome)> {
    r.pipelines[0]
        .cases
        .iter()
        .map(|c| (c.label(), c.outcome))
        .collect()
}

fn message<'r>(r: &'r Report, name: &str) -> &'r str {
    let c = r.pipelines[0]
        .cases
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no {name} case"));
    c.message.as_deref().unwrap_or("")
}

fn count(reqs: &[String], what: &str) -> usize {
    reqs.iter().filter(|r| r.as_str() == what).count()
}

fn o(l: &str, c: &str, x: Outcome) -> (String, Outcome) {
    (format!("{l} {c}"), x)
}

#[tokio::test]
async fn default_scenario_full_lifecycle_passes_on_both_flavours() {
    for flavour in [ApiFlavour::Public, ApiFlavour::Config] {
        let steps = |c: &str| {
            vec![
                step(StepKind::Health),
                step(StepKind::Check(c.into())),
                step(StepKind::Reset(c.into())),
                step(StepKind::Sync(c.into())),
                step(StepKind::Clear(c.into())),
                step(StepKind::Sync(c.into())),
                step(StepKind::Validate(c.into())),
            ]
        };
        let r = run(scenario("default"), steps, flavour).await;
        assert!(
            r.report.passed(),
            "{flavour:?}: {}",
            airguard::conform::report::human(&r.report)
        );
        let stats = r.report.pipelines[0]
            .cases
            .iter()
            .find(|c| c.name == "stats")
            .unwrap();
        assert_eq!(
            stats.job.as_ref().unwrap().records,
            Some(1000),
            "{flavour:?}"
        );
    }
}

#[tokio::test]
async fn server_errors_on_trigger_are_retried() {
    let r = run(scenario("server-errors"), sync, ApiFlavour::Public).await;
    assert!(
        r.report.passed(),
        "{}",
        airguard::conform::report::human(&r.report)
    );
    // Three 503s, then the sync starts: 503 means "not processed", so no job lookup in between.
    assert_eq!(count(&r.requests, "POST /api/public/v1/jobs"), 4);
    assert_eq!(count(&r.requests, "GET /api/public/v1/jobs"), 0);
}

#[tokio::test]
async fn rate_limit_is_honoured() {
    let r = run(scenario("rate-limit"), sync, ApiFlavour::Public).await;
    assert!(
        r.report.passed(),
        "{}",
        airguard::conform::report::human(&r.report)
    );
    assert!(count(&r.requests, "GET /api/public/v1/jobs/1") >= 3);
}

#[tokio::test]
async fn dropped_trigger_response_attaches_instead_of_resending() {
    let r = run(scenario("drop"), sync, ApiFlavour::Public).await;
    assert!(
        r.report.passed(),
        "{}",
        airguard::conform::report::human(&r.report)
    );
    assert!(message(&r.report, "sync")
        .starts_with("the trigger's response was lost; attached to running job"));
    assert_eq!(
        count(&r.requests, "POST /api/public/v1/jobs"),
        1,
        "{:#?}",
        r.requests
    );
}

#[tokio::test]
async fn malformed_and_truncated_bodies_are_retried() {
    for name in ["malformed", "truncated"] {
        let r = run(scenario(name), sync, ApiFlavour::Public).await;
        assert!(
            r.report.passed(),
            "{name}: {}",
            airguard::conform::report::human(&r.report)
        );
    }
}

#[tokio::test]
async fn stuck_job_is_cancelled_at_the_deadline() {
    let steps = |c: &str| {
        vec![Step {
            timeout: Duration::from_millis(300),
            ..step(StepKind::Sync(c.into()))
        }]
    };
    let r = run(scenario("stuck"), steps, ApiFlavour::Public).await;
    assert_eq!(outcomes(&r.report)[1], o("wait", "stuck", Failed));
    let m = message(&r.report, "wait");
    assert!(
        m.starts_with(
            "deadline of 300ms passed with job 1 running; cancelled it; it ended cancelled"
        ),
        "{m}"
    );
    assert!(!m.contains("replacement"), "{m}");
    assert_eq!(count(&r.requests, "DELETE /api/public/v1/jobs/1"), 1);
}

#[tokio::test]
async fn cancel_that_spawns_a_job_is_caught() {
    let steps = |c: &str| {
        vec![Step {
            timeout: Duration::from_millis(300),
            ..step(StepKind::Sync(c.into()))
        }]
    };
    let r = run(scenario("cancel-spawns-job"), steps, ApiFlavour::Public).await;
    let m = message(&r.report, "wait");
    assert!(m.contains("a replacement sync job 2 appeared"), "{m}");
    assert!(m.ends_with("cancelled it"), "{m}");
    assert_eq!(count(&r.requests, "DELETE /api/public/v1/jobs/2"), 1);
    assert!(!r.report.passed());
}

#[tokio::test]
async fn zero_record_success_fails_validation() {
    let r = run(scenario("zero-records"), sync, ApiFlavour::Public).await;
    assert_eq!(
        outcomes(&r.report),
        [
            o("sync", "empty", Passed),
            o("wait", "empty", Passed),
            o("stats", "empty", Passed),
            o("validate", "empty", Failed)
        ]
    );
    assert_eq!(
        message(&r.report, "validate"),
        "job 1 succeeded with 0 records; min-records is 1"
    );
}

#[tokio::test]
async fn reset_that_creates_a_sync_job_fails() {
    let steps = |c: &str| vec![step(StepKind::Reset(c.into()))];
    let r = run(scenario("reset-creates-sync"), steps, ApiFlavour::Public).await;
    assert_eq!(outcomes(&r.report), [o("reset", "confused", Failed)]);
    assert_eq!(
        message(&r.report, "reset"),
        "POST /jobs: field `jobType` is `sync`, expected `reset`"
    );
    let r = run(scenario("reset-creates-sync"), steps, ApiFlavour::Config).await;
    assert_eq!(
        message(&r.report, "reset"),
        "POST /connections/reset: field `job.configType` is `sync`, expected `reset`"
    );
}

#[tokio::test]
async fn failed_job_fails_closed() {
    let r = run(scenario("failed"), sync, ApiFlavour::Config).await;
    assert_eq!(outcomes(&r.report)[1], o("wait", "broken", Failed));
    assert!(
        message(&r.report, "wait").starts_with("job 1 ended failed after"),
        "{}",
        message(&r.report, "wait")
    );
    assert!(message(&r.report, "wait").ends_with("2 attempt(s)"));
}

#[tokio::test]
async fn inactive_connection_fails_check_and_sync() {
    let steps = |c: &str| {
        vec![
            step(StepKind::Check(c.into())),
            step(StepKind::Sync(c.into())),
        ]
    };
    let r = run(scenario("inactive"), steps, ApiFlavour::Public).await;
    assert_eq!(
        outcomes(&r.report),
        [
            o("connection", "paused", Failed),
            o("sync", "paused", Failed)
        ]
    );
    assert!(message(&r.report, "connection").ends_with("is inactive, not active"));
}

#[tokio::test]
async fn queued_retries_token_expiry_and_latency_pass() {
    for name in ["queued", "retries", "token-expiry", "latency"] {
        let mut s = scenario(name);
        s.token_ttl = s.token_ttl.min(Duration::from_secs(60));
        let r = run(s, sync, ApiFlavour::Public).await;
        assert!(
            r.report.passed(),
            "{name}: {}",
            airguard::conform::report::human(&r.report)
        );
    }
}

#[tokio::test]
async fn already_running_sync_policies() {
    for (policy, want) in [
        (OnRunning::Attach, Passed),
        (OnRunning::Skip, Skipped),
        (OnRunning::Fail, Failed),
    ] {
        let steps = move |c: &str| {
            vec![Step {
                on_running: policy,
                ..step(StepKind::Sync(c.into()))
            }]
        };
        let mut s = scenario("default");
        s.jobs.duration = Duration::from_millis(300);
        let r = run_with(s, steps, ApiFlavour::Public, true).await;
        assert_eq!(
            r.report.pipelines[0].cases[0].outcome,
            want,
            "{policy:?}: {}",
            airguard::conform::report::human(&r.report)
        );
        let m = message(&r.report, "sync");
        assert!(
            m.starts_with("HTTP 409: A sync is already running for: "),
            "{m}"
        );
        if policy == OnRunning::Attach {
            assert!(m.ends_with("attached to running job 1"), "{m}");
            assert!(r.report.passed());
        }
    }
}

#[test]
fn cli_conform_mock_runs_the_example_spec() {
    let dir = tempfile::tempdir().unwrap();
    let out = crate::util::airguard()
        .args([
            "conform",
            "--mock",
            "--pipeline",
            "conditional",
            "--first-poll",
            "100ms",
            "--spec",
        ])
        .arg(fixture("specs/valid/example.yaml"))
        .args(["--report", "junit:conform.xml"])
        .current_dir(dir.path())
        .env_remove("AIRBYTE_API_CLIENT_ID")
        .env_remove("AIRBYTE_API_CLIENT_SECRET")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("conform passed: 1 pipeline(s), 4 case(s): 4 passed, 0 failed, 0 skipped"),
        "{stdout}"
    );
    assert!(std::fs::read_to_string(dir.path().join("conform.xml"))
        .unwrap()
        .contains(r#"<testsuite name="conditional""#));
}

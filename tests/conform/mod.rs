//! `conform` against wiremock scenarios: the client's retry, backoff, Retry-After, auth and
//! validation paths, and the runner's lifecycle (409 policies, lost trigger responses,
//! deadlines, fail-closed states, min-records, chained and conditional steps), plus golden
//! snapshots of the JSON, JUnit and Prometheus reports (kept here, so their snapshot names stay).
//!
//! Every test runs one scenario, mounted with [`scenario`] as rows of (method, path, times,
//! response), answers with literal JSON in the real API's shapes (never the client's own
//! structs), and asserts the method, path and query of every request it received. Waits use
//! paused tokio time, so no test sleeps for real. This module holds the shared helpers; each
//! submodule holds one subject.

/// The client's auth: tokens, refresh, basic and bearer.
mod auth;
/// The CLI end to end.
mod cli;
/// The client's request path: health, retries, validation, `get_json`.
mod client;
/// The Config API flavour.
mod config_api;
/// Step deadlines.
mod deadline;
/// Hostile servers (regression tests).
mod hostile;
/// The runner's sync lifecycle.
mod lifecycle;
/// No panic on any server body (proptest).
mod server_bodies;
/// Chained, conditional and concurrent steps.
mod steps;
/// Lost trigger responses.
mod trigger;

use airguard::conform::client::{
    Client, ClientConfig, ClientError, Credentials, FieldProblem, JobKind, JobStatus, RetryPolicy,
    TokenBody, Triggered,
};
use airguard::conform::report::{self, Outcome, Report};
use airguard::conform::runner::{self, RunnerConfig};
use airguard::spec::model::{
    ApiFlavour, Condition, Connection, OnRunning, Pipeline, PreviousOutcome, Step, StepKind,
};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wiremock::matchers::{body_json, body_string, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PUB: &str = "/api/public/v1";
const CFG: &str = "/api/v1";
const ORDERS: &str = "7c2b5b0e-3c3a-4c41-9a4f-0d6f1c2e9a01";
const CUSTOMERS: &str = "0b1e2c3d-4f5a-4b6c-8d7e-9f0a1b2c3d4e";

// ---- helpers ------------------------------------------------------------------------------------

fn retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(200),
        max_delay: Duration::from_secs(5),
        max_elapsed: Duration::from_secs(60),
    }
}

fn client_with(server: &MockServer, flavour: ApiFlavour, creds: Credentials) -> Arc<Client> {
    let base = match flavour {
        ApiFlavour::Public => PUB,
        ApiFlavour::Config => CFG,
    };
    let mut cfg = ClientConfig::new(&format!("{}{base}", server.uri()), flavour, creds);
    // Paused time auto-advances to the next timer while a request is in flight, so a request
    // timeout would fire at once; these tests run without one.
    cfg.request_timeout = None;
    cfg.retry = retry();
    Arc::new(Client::new(cfg).unwrap())
}

fn client(server: &MockServer) -> Arc<Client> {
    client_with(server, ApiFlavour::Public, Credentials::None)
}

fn cc(server: &MockServer, body: TokenBody) -> Credentials {
    Credentials::ClientCredentials {
        client_id: "airguard-client".to_string().into(),
        client_secret: "s3cr3t-value".to_string().into(),
        token_url: format!("{}{PUB}/applications/token", server.uri()),
        body,
    }
}

fn json(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.to_string(), "application/json")
}

/// One row of a wiremock scenario: `(method, path, times, response)`. The row answers the first
/// `times` matching requests ([`ALWAYS`]: every one); rows for the same method and path answer in
/// the order given, each until its count is used up.
type Row<'a> = (&'a str, &'a str, u64, ResponseTemplate);

/// A row's `times` for "every matching request".
const ALWAYS: u64 = u64::MAX;

/// Mount a scenario, row by row (mounted first = matched first).
async fn scenario<const N: usize>(server: &MockServer, rows: [Row<'_>; N]) {
    for (m, p, times, response) in rows {
        let mock = Mock::given(method(m)).and(path(p)).respond_with(response);
        let mock = if times == ALWAYS {
            mock
        } else {
            mock.up_to_n_times(times)
        };
        mock.mount(server).await;
    }
}

/// Every request the server received, as `METHOD /path?query`.
async fn log(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| match r.url.query() {
            Some(q) => format!("{} {}?{q}", r.method, r.url.path()),
            None => format!("{} {}", r.method, r.url.path()),
        })
        .collect()
}

fn public_job(id: i64, status: &str, job_type: &str, conn: &str) -> String {
    match status {
        "pending" => format!(
            r#"{{"jobId":{id},"status":"pending","jobType":"{job_type}","startTime":"2024-05-01T12:34Z","connectionId":"{conn}"}}"#
        ),
        "succeeded" | "failed" | "cancelled" => format!(
            r#"{{"jobId":{id},"status":"{status}","jobType":"{job_type}","startTime":"2024-05-01T12:34Z","connectionId":"{conn}","lastUpdatedAt":"2024-05-01T12:42:12Z","duration":"PT8M12S","bytesSynced":52428800,"rowsSynced":125000}}"#
        ),
        _ => format!(
            r#"{{"jobId":{id},"status":"{status}","jobType":"{job_type}","startTime":"2024-05-01T12:34Z","connectionId":"{conn}","duration":"PT1M3S","bytesSynced":1048576,"rowsSynced":2500}}"#
        ),
    }
}

/// A public job listing (`GET /jobs`) of `jobs`.
fn job_list(jobs: &[String]) -> String {
    format!(r#"{{"data":[{}]}}"#, jobs.join(","))
}

const CONFLICT: &str = r#"{"status":409,"type":"https://reference.airbyte.com/reference/errors#try-again-later","title":"try-again-later","detail":"Please try again later.","data":{"message":"A sync is already running for: 7c2b5b0e-3c3a-4c41-9a4f-0d6f1c2e9a01"}}"#;

fn connections() -> Vec<Connection> {
    vec![
        Connection {
            name: "orders".into(),
            id: ORDERS.into(),
            min_records: Some(100),
        },
        Connection {
            name: "customers".into(),
            id: CUSTOMERS.into(),
            min_records: None,
        },
    ]
}

fn step(kind: StepKind) -> Step {
    Step {
        kind,
        after: None,
        when: None,
        on_running: OnRunning::Attach,
        min_records: None,
        timeout: Duration::from_secs(3600),
    }
}

fn sync(conn: &str) -> Step {
    step(StepKind::Sync(conn.into()))
}

/// 2024-05-01T21:46:40Z.
fn fixed_now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_714_600_000)
}

fn runner_cfg() -> RunnerConfig {
    RunnerConfig {
        first_poll: Duration::from_secs(1),
        poll_factor: 2.0,
        poll_cap: Duration::from_secs(8),
        progress_every: None,
        cancel_confirm: Duration::from_secs(30),
        parallel: 1,
        clock: fixed_now,
    }
}

async fn run_steps(client: Arc<Client>, steps: Vec<Step>) -> Report {
    let pipelines = vec![Pipeline {
        name: "p".into(),
        steps,
    }];
    runner::run(client, &connections(), &pipelines, &runner_cfg()).await
}

/// `(label, outcome, message)` of every case.
fn cases(r: &Report) -> Vec<(String, Outcome, String)> {
    r.pipelines
        .iter()
        .flat_map(|p| &p.cases)
        .map(|c| (c.label(), c.outcome, c.message.clone().unwrap_or_default()))
        .collect()
}

fn outcomes(r: &Report) -> Vec<(String, Outcome)> {
    cases(r).into_iter().map(|(l, o, _)| (l, o)).collect()
}

fn message<'r>(r: &'r Report, label: &str) -> &'r str {
    r.pipelines
        .iter()
        .flat_map(|p| &p.cases)
        .find(|c| c.label() == label)
        .and_then(|c| c.message.as_deref())
        .unwrap_or_else(|| panic!("no case `{label}`"))
}

use Outcome::{Failed, Passed, Skipped};

fn o(label: &str, outcome: Outcome) -> (String, Outcome) {
    (label.to_string(), outcome)
}

/// A public-API client whose wall clock is `clock`.
fn client_at(server: &MockServer, clock: fn() -> SystemTime) -> Arc<Client> {
    let mut cfg = ClientConfig::new(
        &format!("{}{PUB}", server.uri()),
        ApiFlavour::Public,
        Credentials::None,
    );
    cfg.request_timeout = None; // paused time (see `client_with`)
    cfg.retry = retry();
    cfg.clock = clock;
    Arc::new(Client::new(cfg).unwrap())
}

/// A redirect to `location`.
fn redirect(status: u16, location: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).insert_header("location", location)
}

/// Run `f` (a run of the binary) on a blocking thread, so the wiremock servers keep answering.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

/// A client with a request timeout (which bounds calls by deadlines), for real-time tests.
fn timed_client(server: &MockServer) -> Arc<Client> {
    let mut cfg = ClientConfig::new(
        &format!("{}{PUB}", server.uri()),
        ApiFlavour::Public,
        Credentials::None,
    );
    cfg.request_timeout = Some(Duration::from_secs(30));
    cfg.retry = retry();
    Arc::new(Client::new(cfg).unwrap())
}

/// Run `steps` with fast polling (200 ms, ×2) and a 1 s cancel window.
async fn run_fast(client: Arc<Client>, steps: Vec<Step>) -> Report {
    let pipelines = vec![Pipeline {
        name: "p".into(),
        steps,
    }];
    let cfg = RunnerConfig {
        first_poll: Duration::from_millis(200),
        cancel_confirm: Duration::from_secs(1),
        ..runner_cfg()
    };
    runner::run(client, &connections(), &pipelines, &cfg).await
}

/// A case of the report by label.
fn case<'r>(r: &'r Report, label: &str) -> &'r airguard::conform::report::Case {
    r.pipelines
        .iter()
        .flat_map(|p| &p.cases)
        .find(|c| c.label() == label)
        .unwrap_or_else(|| panic!("no case `{label}`"))
}

/// Every rendering of a report, and the report's messages.
fn everything(r: &Report) -> String {
    let mut all = String::new();
    for f in [
        report::Format::Human,
        report::Format::Json,
        report::Format::Junit,
        report::Format::Prometheus,
    ] {
        all.push_str(&report::render(r, f));
    }
    for (_, _, m) in cases(r) {
        all.push_str(&m);
    }
    all
}

// ---- reports ------------------------------------------------------------------------------------

/// A fixed run across two pipelines: everything passes in one, the other fails on min-records
/// and skips its chained step.
async fn golden_report() -> Report {
    let server = MockServer::start().await;
    scenario(
        &server,
        [(
            "GET",
            &format!("{PUB}/health"),
            ALWAYS,
            ResponseTemplate::new(200).set_body_string("Successful operation"),
        )],
    )
    .await;
    Mock::given(method("POST"))
        .and(path(format!("{PUB}/jobs")))
        .and(body_json(
            serde_json::json!({"connectionId": ORDERS, "jobType": "sync"}),
        ))
        .respond_with(json(200, &public_job(42, "pending", "sync", ORDERS)))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{PUB}/jobs")))
        .and(body_json(
            serde_json::json!({"connectionId": ORDERS, "jobType": "reset"}),
        ))
        .respond_with(json(200, &public_job(41, "pending", "reset", ORDERS)))
        .mount(&server)
        .await;
    scenario(
        &server,
        [
            ("POST", &format!("{PUB}/jobs"), ALWAYS, json(200, &public_job(43, "pending", "sync", CUSTOMERS))),
            ("GET", &format!("{PUB}/jobs/41"), ALWAYS, json(200, &public_job(41, "succeeded", "reset", ORDERS))),
            ("GET", &format!("{PUB}/jobs/42"), 1, json(200, &public_job(42, "running", "sync", ORDERS))),
            ("GET", &format!("{PUB}/jobs/42"), ALWAYS, json(200, &public_job(42, "succeeded", "sync", ORDERS))),
            ("GET", &format!("{PUB}/jobs/43"), ALWAYS, json(200, &format!(r#"{{"jobId":43,"status":"succeeded","jobType":"sync","startTime":"2024-05-01T13:00Z","connectionId":"{CUSTOMERS}","lastUpdatedAt":"2024-05-01T13:00:05Z","duration":"PT5S","bytesSynced":0,"rowsSynced":0}}"#))),
        ],
    )
    .await;
    let pipelines = vec![
        Pipeline {
            name: "reset-then-sync".into(),
            steps: vec![
                step(StepKind::Health),
                step(StepKind::Reset("orders".into())),
                sync("orders"),
                step(StepKind::Validate("orders".into())),
            ],
        },
        Pipeline {
            name: "chained".into(),
            steps: vec![
                Step {
                    min_records: Some(10),
                    ..sync("customers")
                },
                Step {
                    after: Some("customers".into()),
                    ..sync("orders")
                },
            ],
        },
    ];
    runner::run(client(&server), &connections(), &pipelines, &runner_cfg()).await
}

#[tokio::test(start_paused = true)]
async fn golden_reports() {
    let r = golden_report().await;
    assert_eq!(r.verdict, Failed);
    // The snapshots live with every other one in `tests/snapshots/`.
    insta::with_settings!({ snapshot_path => "../snapshots" }, {
        insta::assert_snapshot!("conform_report_human", report::human(&r));
        insta::assert_snapshot!("conform_report_json", report::json(&r));
        insta::assert_snapshot!("conform_report_junit", report::junit(&r));
        insta::assert_snapshot!("conform_report_prometheus", report::prometheus(&r));
    });
    // Same run, same bytes.
    assert_eq!(report::json(&golden_report().await), report::json(&r));
}

//! `conform` against wiremock scenarios: the client's retry, backoff, Retry-After, auth and
//! validation paths, and the runner's lifecycle (409 policies, lost trigger responses,
//! deadlines, fail-closed states, min-records, chained and conditional steps), plus golden
//! snapshots of the JSON, JUnit and Prometheus reports.
//!
//! Every test runs one scenario, answers with literal JSON in the real API's shapes (never the
//! client's own structs), and asserts the method, path and query of every request it received.
//! Waits use paused tokio time, so no test sleeps for real.

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

/// Answer `m p` with `r`, at most `n` times (mounted first = matched first).
async fn on_n(server: &MockServer, m: &str, p: &str, n: u64, r: ResponseTemplate) {
    Mock::given(method(m))
        .and(path(p))
        .respond_with(r)
        .up_to_n_times(n)
        .mount(server)
        .await;
}

async fn on(server: &MockServer, m: &str, p: &str, r: ResponseTemplate) {
    Mock::given(method(m))
        .and(path(p))
        .respond_with(r)
        .mount(server)
        .await;
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

// ---- client: health and retries -----------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn health_public_is_plain_text_and_config_is_json() {
    let server = MockServer::start().await;
    on(
        &server,
        "GET",
        &format!("{PUB}/health"),
        ResponseTemplate::new(200).set_body_string("Successful operation"),
    )
    .await;
    on_n(
        &server,
        "GET",
        &format!("{CFG}/health"),
        1,
        json(200, r#"{"available":true}"#),
    )
    .await;
    on_n(
        &server,
        "GET",
        &format!("{CFG}/health"),
        1,
        json(200, r#"{"available":false}"#),
    )
    .await;
    client(&server).health().await.unwrap();
    let config = client_with(&server, ApiFlavour::Config, Credentials::None);
    config.health().await.unwrap();
    let err = config.health().await.unwrap_err();
    assert!(
        matches!(&err, ClientError::InvalidResponse { field, .. } if field == "available"),
        "{err}"
    );
    assert_eq!(
        log(&server).await,
        [
            "GET /api/public/v1/health",
            "GET /api/v1/health",
            "GET /api/v1/health"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn retries_5xx_then_succeeds() {
    let server = MockServer::start().await;
    let p = format!("{PUB}/jobs/42");
    on_n(&server, "GET", &p, 1, json(503, r#"{"status":503,"type":"https://reference.airbyte.com/reference/errors#unexpected-problem","title":"unexpected-problem","detail":"An unexpected problem has occurred."}"#)).await;
    on_n(
        &server,
        "GET",
        &p,
        1,
        ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>"),
    )
    .await;
    on(
        &server,
        "GET",
        &p,
        json(200, &public_job(42, "running", "sync", ORDERS)),
    )
    .await;
    let job = client(&server).job(42).await.unwrap();
    assert_eq!(
        (job.id, job.status, job.records),
        (42, JobStatus::Running, Some(2500))
    );
    assert_eq!(log(&server).await, vec!["GET /api/public/v1/jobs/42"; 3]);
}

#[tokio::test(start_paused = true)]
async fn gives_up_after_max_attempts() {
    let server = MockServer::start().await;
    on(&server, "GET", &format!("{PUB}/jobs/42"), json(500, r#"{"status":500,"type":"https://reference.airbyte.com/reference/errors#unexpected-problem","title":"unexpected-problem","detail":"An unexpected problem has occurred."}"#)).await;
    let err = client(&server).job(42).await.unwrap_err();
    match &err {
        ClientError::GaveUp { attempts, last, .. } => {
            assert_eq!(*attempts, 4);
            assert_eq!(last.status(), Some(500));
        }
        other => panic!("expected GaveUp, got {other}"),
    }
    assert!(
        err.chain().contains("An unexpected problem has occurred"),
        "{}",
        err.chain()
    );
    assert_eq!(log(&server).await, vec!["GET /api/public/v1/jobs/42"; 4]);
}

#[tokio::test(start_paused = true)]
async fn retry_after_seconds_is_honoured() {
    let server = MockServer::start().await;
    let p = format!("{PUB}/jobs/42");
    on_n(
        &server,
        "GET",
        &p,
        1,
        json(429, r#"{"message":"Too many requests"}"#).insert_header("Retry-After", "7"),
    )
    .await;
    on(
        &server,
        "GET",
        &p,
        json(200, &public_job(42, "running", "sync", ORDERS)),
    )
    .await;
    let start = tokio::time::Instant::now();
    client(&server).job(42).await.unwrap();
    // Paused time: exactly the 7 s the server asked for passed, not a jittered backoff.
    assert_eq!(start.elapsed().as_secs(), 7);
    assert_eq!(log(&server).await, vec!["GET /api/public/v1/jobs/42"; 2]);
}

#[tokio::test(start_paused = true)]
async fn retry_after_http_date_past_retries_now_and_beyond_budget_gives_up() {
    let server = MockServer::start().await;
    let p = format!("{PUB}/jobs/42");
    on_n(
        &server,
        "GET",
        &p,
        1,
        json(429, "{}").insert_header("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT"),
    )
    .await;
    on_n(
        &server,
        "GET",
        &p,
        1,
        json(200, &public_job(42, "running", "sync", ORDERS)),
    )
    .await;
    on(
        &server,
        "GET",
        &p,
        json(429, "{}").insert_header("Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT"),
    )
    .await;
    let c = client(&server);
    let start = tokio::time::Instant::now();
    c.job(42).await.unwrap();
    assert_eq!(start.elapsed(), Duration::ZERO);
    // A Retry-After beyond the elapsed budget: give up at once instead of hammering.
    let err = c.job(42).await.unwrap_err();
    assert!(
        matches!(err, ClientError::GaveUp { attempts: 1, .. }),
        "{err}"
    );
    assert_eq!(log(&server).await, vec!["GET /api/public/v1/jobs/42"; 3]);
}

/// 1994-11-06T08:49:30Z: seven seconds before the `Retry-After` date below.
fn seven_seconds_before_retry_date() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(784_111_770)
}

#[tokio::test(start_paused = true)]
async fn regression_retry_after_http_date_is_read_on_the_injected_clock() {
    let server = MockServer::start().await;
    let p = format!("{PUB}/jobs/42");
    on_n(
        &server,
        "GET",
        &p,
        1,
        json(429, "{}").insert_header("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT"),
    )
    .await;
    on(
        &server,
        "GET",
        &p,
        json(200, &public_job(42, "running", "sync", ORDERS)),
    )
    .await;
    let start = tokio::time::Instant::now();
    client_at(&server, seven_seconds_before_retry_date)
        .job(42)
        .await
        .unwrap();
    // The date is 7 s after the client's clock (not the machine's, where it is long past).
    assert_eq!(start.elapsed(), Duration::from_secs(7));
    assert_eq!(log(&server).await, vec!["GET /api/public/v1/jobs/42"; 2]);
}

#[tokio::test(start_paused = true)]
async fn other_4xx_are_never_retried() {
    let server = MockServer::start().await;
    on(&server, "GET", &format!("{PUB}/connections/{ORDERS}"), json(404, &format!(r#"{{"status":404,"type":"https://reference.airbyte.com/reference/errors#resource-not-found","title":"resource-not-found","detail":"Could not find a resource for: {ORDERS}","data":{{"resourceId":"{ORDERS}"}}}}"#))).await;
    on(&server, "POST", &format!("{PUB}/jobs"), json(422, r#"{"status":422,"type":"https://reference.airbyte.com/reference/errors#unprocessable-entity","title":"unprocessable-entity","detail":"Refreshes are not supported in the public API"}"#)).await;
    let c = client(&server);
    let err = c.connection(ORDERS).await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    let err = c.trigger(ORDERS, JobKind::Refresh).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "POST /jobs: HTTP 422: Refreshes are not supported in the public API"
    );
    assert_eq!(
        log(&server).await,
        [
            format!("GET {PUB}/connections/{ORDERS}"),
            format!("POST {PUB}/jobs")
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn connection_refused_is_retried_then_reported() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut cfg = ClientConfig::new(
        &format!("http://127.0.0.1:{port}{PUB}"),
        ApiFlavour::Public,
        Credentials::None,
    );
    cfg.request_timeout = None;
    cfg.retry = retry();
    let err = Client::new(cfg).unwrap().health().await.unwrap_err();
    match &err {
        ClientError::GaveUp {
            attempts: 4, last, ..
        } => assert!(matches!(**last, ClientError::Network { .. })),
        other => panic!("expected GaveUp after 4 attempts, got {other}"),
    }
}

#[tokio::test(start_paused = true)]
async fn truncated_json_on_a_read_is_retried() {
    let server = MockServer::start().await;
    let p = format!("{PUB}/jobs/42");
    on_n(
        &server,
        "GET",
        &p,
        1,
        json(200, r#"{"jobId":42,"status":"runn"#),
    )
    .await;
    on(
        &server,
        "GET",
        &p,
        json(200, &public_job(42, "succeeded", "sync", ORDERS)),
    )
    .await;
    let job = client(&server).job(42).await.unwrap();
    assert_eq!(job.status, JobStatus::Succeeded);
    assert_eq!(log(&server).await, vec!["GET /api/public/v1/jobs/42"; 2]);
}

// ---- client: validation -------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn responses_are_validated_field_by_field() {
    let server = MockServer::start().await;
    on(&server, "GET", &format!("{PUB}/jobs/1"), json(200, &format!(r#"{{"jobId":1,"status":"paused","jobType":"sync","startTime":"2024-05-01T12:34Z","connectionId":"{ORDERS}"}}"#))).await;
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs/2"),
        json(
            200,
            &format!(
                r#"{{"jobId":2,"status":"running","jobType":"sync","connectionId":"{ORDERS}"}}"#
            ),
        ),
    )
    .await;
    on(&server, "GET", &format!("{PUB}/jobs/3"), json(200, &format!(r#"{{"jobId":3,"status":"running","jobType":"sync","startTime":"May 1st","connectionId":"{ORDERS}"}}"#))).await;
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs/4"),
        json(200, &public_job(5, "running", "sync", ORDERS)),
    )
    .await;
    let c = client(&server);
    let field = |e: ClientError| match e {
        ClientError::InvalidResponse { field, problem, .. } => (field, problem),
        other => panic!("expected InvalidResponse, got {other}"),
    };
    assert_eq!(
        field(c.job(1).await.unwrap_err()),
        (
            "status".into(),
            FieldProblem::UnknownValue {
                value: "paused".into()
            }
        )
    );
    assert_eq!(
        field(c.job(2).await.unwrap_err()),
        ("startTime".into(), FieldProblem::Missing)
    );
    assert_eq!(field(c.job(3).await.unwrap_err()).0, "startTime");
    assert_eq!(field(c.job(4).await.unwrap_err()).0, "jobId");
    assert_eq!(
        log(&server).await,
        [
            "GET /api/public/v1/jobs/1",
            "GET /api/public/v1/jobs/2",
            "GET /api/public/v1/jobs/3",
            "GET /api/public/v1/jobs/4"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn reset_answered_with_a_sync_job_is_rejected() {
    let server = MockServer::start().await;
    on(
        &server,
        "POST",
        &format!("{PUB}/jobs"),
        json(200, &public_job(9, "pending", "sync", ORDERS)),
    )
    .await;
    let err = client(&server)
        .trigger(ORDERS, JobKind::Reset)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "POST /jobs: field `jobType` is `sync`, expected `reset`"
    );
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 1);
    let body: serde_json::Value = serde_json::from_slice(&reqs[0].body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"connectionId": ORDERS, "jobType": "reset"})
    );
}

// ---- client: auth -------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn client_credentials_token_is_fetched_and_refreshed_before_expiry() {
    let server = MockServer::start().await;
    let token = format!("{PUB}/applications/token");
    Mock::given(method("POST"))
        .and(path(token.as_str()))
        .and(body_json(serde_json::json!({"client_id":"airguard-client","client_secret":"s3cr3t-value","grant-type":"client_credentials"})))
        .respond_with(json(200, r#"{"access_token":"tok-1","token_type":"Bearer","expires_in":180}"#))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    on(
        &server,
        "POST",
        &token,
        json(
            200,
            r#"{"access_token":"tok-2","token_type":"Bearer","expires_in":180}"#,
        ),
    )
    .await;
    for (tok, id) in [("tok-1", 1), ("tok-2", 2)] {
        Mock::given(method("GET"))
            .and(path(format!("{PUB}/jobs/{id}")))
            .and(header("authorization", format!("Bearer {tok}").as_str()))
            .respond_with(json(200, &public_job(id, "running", "sync", ORDERS)))
            .mount(&server)
            .await;
    }
    let c = client_with(&server, ApiFlavour::Public, cc(&server, TokenBody::Json));
    c.job(1).await.unwrap();
    tokio::time::advance(Duration::from_secs(100)).await;
    c.job(1).await.unwrap(); // still fresh: 100 s < 180 s - 60 s
    tokio::time::advance(Duration::from_secs(21)).await;
    c.job(2).await.unwrap(); // 121 s: refreshed before expiry
    assert_eq!(
        log(&server).await,
        [
            &token,
            &format!("{PUB}/jobs/1"),
            &format!("{PUB}/jobs/1"),
            &token,
            &format!("{PUB}/jobs/2")
        ]
        .iter()
        .zip(["POST", "GET", "GET", "POST", "GET"])
        .map(|(p, m)| format!("{m} {p}"))
        .collect::<Vec<_>>()
    );
}

#[tokio::test(start_paused = true)]
async fn a_401_refreshes_the_token_once_then_fails() {
    let server = MockServer::start().await;
    let token = format!("{PUB}/applications/token");
    Mock::given(method("POST"))
        .and(path(token.as_str()))
        .and(body_string(
            "grant_type=client_credentials&client_id=airguard-client&client_secret=s3cr3t-value",
        ))
        .respond_with(json(
            200,
            r#"{"access_token":"tok-1","token_type":"bearer","expires_in":900}"#,
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    on_n(
        &server,
        "POST",
        &token,
        1,
        json(
            200,
            r#"{"access_token":"tok-2","token_type":"Bearer","expires_in":900}"#,
        ),
    )
    .await;
    on(
        &server,
        "POST",
        &token,
        json(
            200,
            r#"{"access_token":"tok-3","token_type":"Bearer","expires_in":900}"#,
        ),
    )
    .await;
    let unauthorized = r#"{"status":401,"type":"https://reference.airbyte.com/reference/errors#invalid-api-key","title":"invalid-api-key","detail":"Invalid API key"}"#;
    Mock::given(method("GET"))
        .and(path(format!("{PUB}/jobs/1")))
        .and(header("authorization", "Bearer tok-2"))
        .respond_with(json(200, &public_job(1, "running", "sync", ORDERS)))
        .mount(&server)
        .await;
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs/1"),
        json(401, unauthorized),
    )
    .await;
    let c = client_with(&server, ApiFlavour::Public, cc(&server, TokenBody::Form));
    // tok-1 is rejected, tok-2 works.
    c.job(1).await.unwrap();
    // Now every token is rejected: refresh once (tok-3), then fail.
    server.reset().await;
    on(
        &server,
        "POST",
        &token,
        json(
            200,
            r#"{"access_token":"tok-3","token_type":"Bearer","expires_in":900}"#,
        ),
    )
    .await;
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs/1"),
        json(401, unauthorized),
    )
    .await;
    let err = c.job(1).await.unwrap_err();
    assert!(matches!(err, ClientError::Unauthorized { .. }), "{err}");
    assert_eq!(
        log(&server).await,
        [
            format!("GET {PUB}/jobs/1"),
            format!("POST {token}"),
            format!("GET {PUB}/jobs/1")
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn token_responses_are_checked_and_secrets_stay_out_of_errors() {
    let server = MockServer::start().await;
    on(
        &server,
        "POST",
        &format!("{PUB}/applications/token"),
        json(200, r#"{"access_token":"tok-1","token_type":"MAC"}"#),
    )
    .await;
    let c = client_with(&server, ApiFlavour::Public, cc(&server, TokenBody::Json));
    let err = c.job(1).await.unwrap_err();
    let text = err.chain();
    assert!(text.contains("token_type"), "{text}");
    assert!(
        !text.contains("s3cr3t-value") && !format!("{c:?}").contains("s3cr3t-value"),
        "{text}"
    );
    assert_eq!(
        log(&server).await,
        [format!("POST {PUB}/applications/token")]
    );
}

#[tokio::test(start_paused = true)]
async fn basic_and_bearer_headers() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{PUB}/jobs/1")))
        .and(header("authorization", "Basic YWlyYnl0ZTpwYXNzd29yZA=="))
        .respond_with(json(200, &public_job(1, "running", "sync", ORDERS)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{PUB}/jobs/2")))
        .and(header("authorization", "Bearer static-token"))
        .respond_with(json(200, &public_job(2, "running", "sync", ORDERS)))
        .mount(&server)
        .await;
    let basic = Credentials::Basic {
        user: "airbyte".to_string().into(),
        password: "password".to_string().into(),
    };
    client_with(&server, ApiFlavour::Public, basic)
        .job(1)
        .await
        .unwrap();
    client_with(
        &server,
        ApiFlavour::Public,
        Credentials::Bearer("static-token".to_string().into()),
    )
    .job(2)
    .await
    .unwrap();
    assert_eq!(
        log(&server).await,
        [format!("GET {PUB}/jobs/1"), format!("GET {PUB}/jobs/2")]
    );
}

#[tokio::test(start_paused = true)]
async fn get_json_reads_with_auth_retries_and_an_encoded_query() {
    let server = MockServer::start().await;
    on(
        &server,
        "POST",
        &format!("{PUB}/applications/token"),
        json(
            200,
            r#"{"access_token":"tok-1","token_type":"Bearer","expires_in":180}"#,
        ),
    )
    .await;
    let p = format!("{PUB}/workspaces");
    on_n(&server, "GET", &p, 1, json(503, "{}")).await;
    Mock::given(method("GET"))
        .and(path(p.as_str()))
        .and(header("authorization", "Bearer tok-1"))
        .respond_with(json(
            200,
            r#"{"data":[{"workspaceId":"w-1","name":"ops"}],"next":""}"#,
        ))
        .mount(&server)
        .await;
    let c = client_with(&server, ApiFlavour::Public, cc(&server, TokenBody::Json));
    let v = c
        .get_json(
            "/workspaces",
            &[("limit", "20"), ("offset", "0"), ("name", "a b&c")],
        )
        .await
        .unwrap();
    assert_eq!(v["data"][0]["workspaceId"], "w-1");
    let q = "limit=20&offset=0&name=a+b%26c";
    assert_eq!(
        log(&server).await,
        [
            format!("POST {PUB}/applications/token"),
            format!("GET {PUB}/workspaces?{q}"),
            format!("GET {PUB}/workspaces?{q}"),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn get_json_refuses_what_every_call_refuses_and_redacts() {
    let server = MockServer::start().await;
    on(
        &server,
        "GET",
        &format!("{PUB}/sources"),
        redirect(302, "http://elsewhere.example/sources"),
    )
    .await;
    on(
        &server,
        "GET",
        &format!("{PUB}/destinations"),
        json(200, r#"{"data":[],"data":[]}"#),
    )
    .await;
    on(
        &server,
        "GET",
        &format!("{PUB}/connections"),
        json(
            403,
            r#"{"status":403,"detail":"token bearer-s3cr3t may not list"}"#,
        ),
    )
    .await;
    let big = "x".repeat(airguard::conform::client::MAX_RESPONSE_BYTES + 1);
    on(
        &server,
        "GET",
        &format!("{PUB}/streams"),
        ResponseTemplate::new(200).set_body_string(big),
    )
    .await;
    let bearer = Credentials::Bearer("bearer-s3cr3t".to_string().into());
    let c = client_with(&server, ApiFlavour::Public, bearer);
    let err = c.get_json("/sources", &[]).await.unwrap_err();
    assert!(
        matches!(err, ClientError::Redirect { status: 302, .. }),
        "{err}"
    );
    let err = c.get_json("destinations", &[]).await.unwrap_err();
    assert!(
        matches!(&err, ClientError::DuplicateKey { key, .. } if key == "data"),
        "{err}"
    );
    let err = c.get_json("/connections", &[]).await.unwrap_err();
    assert_eq!(
        c.describe(&err),
        "GET /connections: HTTP 403: token <redacted> may not list"
    );
    let err = c.get_json("/streams", &[]).await.unwrap_err();
    assert!(matches!(err, ClientError::TooLarge { .. }), "{err}");
    // None of them is retried.
    assert_eq!(
        log(&server).await,
        [
            format!("GET {PUB}/sources"),
            format!("GET {PUB}/destinations"),
            format!("GET {PUB}/connections"),
            format!("GET {PUB}/streams"),
        ]
    );
}

// ---- client: lost trigger responses -------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn lost_sync_response_attaches_to_the_running_job() {
    let server = MockServer::start().await;
    on(
        &server,
        "POST",
        &format!("{PUB}/jobs"),
        json(200, r#"{"jobId":77,"status":"pen"#),
    )
    .await;
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs"),
        json(
            200,
            &format!(
                r#"{{"data":[{}, {}]}}"#,
                public_job(77, "running", "sync", ORDERS),
                public_job(70, "succeeded", "sync", ORDERS)
            ),
        ),
    )
    .await;
    let t = client(&server)
        .trigger(ORDERS, JobKind::Sync)
        .await
        .unwrap();
    assert!(matches!(&t, Triggered::Recovered(j) if j.id == 77), "{t:?}");
    assert_eq!(
        log(&server).await,
        [format!("POST {PUB}/jobs"), format!("GET {PUB}/jobs?connectionId={ORDERS}&limit=20&jobType=sync&orderBy=createdAt%7CDESC")]
    );
}

#[tokio::test(start_paused = true)]
async fn lost_sync_response_with_nothing_running_is_sent_again() {
    let server = MockServer::start().await;
    on_n(&server, "POST", &format!("{PUB}/jobs"), 1, json(500, r#"{"status":500,"type":"https://reference.airbyte.com/reference/errors#unexpected-problem","title":"unexpected-problem","detail":"An unexpected problem has occurred."}"#)).await;
    on(
        &server,
        "POST",
        &format!("{PUB}/jobs"),
        json(200, &public_job(78, "pending", "sync", ORDERS)),
    )
    .await;
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs"),
        json(
            200,
            &format!(
                r#"{{"data":[{}]}}"#,
                public_job(70, "succeeded", "sync", ORDERS)
            ),
        ),
    )
    .await;
    let t = client(&server)
        .trigger(ORDERS, JobKind::Sync)
        .await
        .unwrap();
    assert!(matches!(&t, Triggered::Started(j) if j.id == 78), "{t:?}");
    assert_eq!(
        log(&server).await,
        [
            format!("POST {PUB}/jobs"),
            format!("GET {PUB}/jobs?connectionId={ORDERS}&limit=20&jobType=sync&orderBy=createdAt%7CDESC"),
            format!("POST {PUB}/jobs"),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn lost_clear_response_finds_the_reset_job_it_created() {
    let server = MockServer::start().await;
    on(
        &server,
        "POST",
        &format!("{PUB}/jobs"),
        json(200, r#"{"jobId":80,"status":"pend"#),
    )
    .await;
    // A clear creates a `reset` job, so the listing is not filtered by job type on the server.
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs"),
        json(
            200,
            &format!(
                r#"{{"data":[{},{}]}}"#,
                public_job(81, "running", "sync", ORDERS),
                public_job(80, "running", "reset", ORDERS)
            ),
        ),
    )
    .await;
    let t = client(&server)
        .trigger(ORDERS, JobKind::Clear)
        .await
        .unwrap();
    assert!(matches!(&t, Triggered::Recovered(j) if j.id == 80), "{t:?}");
    assert_eq!(
        log(&server).await,
        [
            format!("POST {PUB}/jobs"),
            format!("GET {PUB}/jobs?connectionId={ORDERS}&limit=20&orderBy=createdAt%7CDESC")
        ]
    );
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

/// 2024-05-01T12:34:01Z: one second after `public_job`'s `startTime`.
fn second_after_start() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_714_566_841)
}

/// 2024-05-01T12:34:02Z: two seconds after `public_job`'s `startTime`.
fn two_seconds_after_start() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_714_566_842)
}

#[tokio::test(start_paused = true)]
async fn lost_sync_response_finds_its_job_even_when_it_already_ended() {
    let server = MockServer::start().await;
    on(
        &server,
        "POST",
        &format!("{PUB}/jobs"),
        json(200, r#"{"jobId":77,"status":"pen"#),
    )
    .await;
    // Job 77 was created at 12:34:00, within a second of the trigger (sent at 12:34:01), and
    // finished before the listing.
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs"),
        json(
            200,
            &format!(
                r#"{{"data":[{}]}}"#,
                public_job(77, "succeeded", "sync", ORDERS)
            ),
        ),
    )
    .await;
    let pipelines = vec![Pipeline {
        name: "p".into(),
        steps: vec![sync("orders")],
    }];
    let client = client_at(&server, second_after_start);
    let r = runner::run(client, &connections(), &pipelines, &runner_cfg()).await;
    assert_eq!(
        cases(&r),
        [
            (
                "sync orders".to_string(),
                Passed,
                "the trigger's response was lost; attached to succeeded job 77".to_string()
            ),
            (
                "wait orders".to_string(),
                Passed,
                "job 77 succeeded after 0s".to_string()
            ),
            (
                "stats orders".to_string(),
                Passed,
                "job 77, 125000 records, 52428800 bytes, 8m 12s long".to_string()
            ),
        ]
    );
    assert_eq!(
        log(&server).await,
        [format!("POST {PUB}/jobs"), format!("GET {PUB}/jobs?connectionId={ORDERS}&limit=20&jobType=sync&orderBy=createdAt%7CDESC")]
    );

    // Sent two seconds after that job was created: it is not this trigger's, so it is re-sent.
    let server = MockServer::start().await;
    on_n(
        &server,
        "POST",
        &format!("{PUB}/jobs"),
        1,
        json(200, r#"{"jobId":77,"status":"pen"#),
    )
    .await;
    on(
        &server,
        "POST",
        &format!("{PUB}/jobs"),
        json(200, &public_job(78, "pending", "sync", ORDERS)),
    )
    .await;
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs"),
        json(
            200,
            &format!(
                r#"{{"data":[{}]}}"#,
                public_job(77, "succeeded", "sync", ORDERS)
            ),
        ),
    )
    .await;
    let t = client_at(&server, two_seconds_after_start)
        .trigger(ORDERS, JobKind::Sync)
        .await
        .unwrap();
    assert!(matches!(&t, Triggered::Started(j) if j.id == 78), "{t:?}");
    assert_eq!(
        log(&server).await,
        [
            format!("POST {PUB}/jobs"),
            format!("GET {PUB}/jobs?connectionId={ORDERS}&limit=20&jobType=sync&orderBy=createdAt%7CDESC"),
            format!("POST {PUB}/jobs"),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn config_500_with_a_message_and_no_job_fails_with_that_message() {
    let server = MockServer::start().await;
    on(&server, "POST", &format!("{CFG}/connections/sync"), json(500, r#"{"message":"Internal Server Error: Can only sync an active connection","exceptionClassName":"java.lang.IllegalStateException"}"#)).await;
    on(
        &server,
        "POST",
        &format!("{CFG}/jobs/list"),
        json(200, r#"{"jobs":[],"totalJobCount":0}"#),
    )
    .await;
    let e = client_with(&server, ApiFlavour::Config, Credentials::None)
        .trigger(ORDERS, JobKind::Sync)
        .await
        .unwrap_err();
    assert_eq!(
        e.chain(),
        "POST /connections/sync: HTTP 500: Internal Server Error: Can only sync an active connection"
    );
    assert_eq!(e.status(), Some(500));
    assert_eq!(
        log(&server).await,
        [
            format!("POST {CFG}/connections/sync"),
            format!("POST {CFG}/jobs/list"),
        ]
    );
    let reqs = server.received_requests().await.unwrap();
    let body: serde_json::Value = serde_json::from_slice(&reqs[0].body).unwrap();
    assert_eq!(body, serde_json::json!({"connectionId": ORDERS}));
}

#[tokio::test]
async fn trigger_timeout_is_not_resent_blindly() {
    // Real time: a request timeout cannot be tested under paused time (see `client_with`).
    let server = MockServer::start().await;
    on(
        &server,
        "POST",
        &format!("{PUB}/jobs"),
        json(200, &public_job(79, "pending", "sync", ORDERS)).set_delay(Duration::from_secs(5)),
    )
    .await;
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs"),
        json(
            200,
            &format!(
                r#"{{"data":[{}]}}"#,
                public_job(79, "running", "sync", ORDERS)
            ),
        ),
    )
    .await;
    let mut cfg = ClientConfig::new(
        &format!("{}{PUB}", server.uri()),
        ApiFlavour::Public,
        Credentials::None,
    );
    cfg.request_timeout = Some(Duration::from_millis(300));
    cfg.retry = RetryPolicy {
        base_delay: Duration::from_millis(10),
        ..retry()
    };
    let t = Client::new(cfg)
        .unwrap()
        .trigger(ORDERS, JobKind::Sync)
        .await
        .unwrap();
    assert!(matches!(&t, Triggered::Recovered(j) if j.id == 79), "{t:?}");
    assert_eq!(
        log(&server).await,
        [format!("POST {PUB}/jobs"), format!("GET {PUB}/jobs?connectionId={ORDERS}&limit=20&jobType=sync&orderBy=createdAt%7CDESC")]
    );
}

// ---- runner: sync lifecycle ---------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn sync_waits_with_backoff_and_reports_stats() {
    let server = MockServer::start().await;
    on(
        &server,
        "POST",
        &format!("{PUB}/jobs"),
        json(200, &public_job(42, "pending", "sync", ORDERS)),
    )
    .await;
    let p = format!("{PUB}/jobs/42");
    on_n(
        &server,
        "GET",
        &p,
        1,
        json(200, &public_job(42, "pending", "sync", ORDERS)),
    )
    .await;
    on_n(
        &server,
        "GET",
        &p,
        2,
        json(200, &public_job(42, "running", "sync", ORDERS)),
    )
    .await;
    on_n(
        &server,
        "GET",
        &p,
        1,
        json(200, &public_job(42, "incomplete", "sync", ORDERS)),
    )
    .await;
    on(
        &server,
        "GET",
        &p,
        json(200, &public_job(42, "succeeded", "sync", ORDERS)),
    )
    .await;
    let start = tokio::time::Instant::now();
    let r = run_steps(
        client(&server),
        vec![sync("orders"), step(StepKind::Validate("orders".into()))],
    )
    .await;
    // Polls after 1, 2, 4, 8, 8 s (factor 2, cap 8 s).
    assert_eq!(start.elapsed().as_secs(), 23);
    assert_eq!(
        outcomes(&r),
        [
            o("sync orders", Passed),
            o("wait orders", Passed),
            o("stats orders", Passed),
            o("validate orders", Passed)
        ]
    );
    assert_eq!(
        message(&r, "stats orders"),
        "job 42, 125000 records, 52428800 bytes, 8m 12s long"
    );
    assert_eq!(
        message(&r, "validate orders"),
        "125000 records committed (min-records 100)"
    );
    let mut want = vec![format!("POST {PUB}/jobs")];
    want.extend(vec![format!("GET {PUB}/jobs/42"); 5]);
    assert_eq!(log(&server).await, want);
    assert!(r.passed());
}

#[tokio::test(start_paused = true)]
async fn on_running_attach_polls_the_running_job() {
    let server = MockServer::start().await;
    on(&server, "POST", &format!("{PUB}/jobs"), json(409, CONFLICT)).await;
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs"),
        json(
            200,
            &format!(
                r#"{{"data":[{},{}]}}"#,
                public_job(41, "running", "sync", ORDERS),
                public_job(40, "succeeded", "sync", ORDERS)
            ),
        ),
    )
    .await;
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs/41"),
        json(200, &public_job(41, "succeeded", "sync", ORDERS)),
    )
    .await;
    let r = run_steps(client(&server), vec![sync("orders")]).await;
    assert_eq!(
        outcomes(&r),
        [
            o("sync orders", Passed),
            o("wait orders", Passed),
            o("stats orders", Passed)
        ]
    );
    assert_eq!(
        message(&r, "sync orders"),
        format!("HTTP 409: A sync is already running for: {ORDERS}; attached to running job 41")
    );
    assert_eq!(
        log(&server).await,
        [
            format!("POST {PUB}/jobs"),
            format!("GET {PUB}/jobs?connectionId={ORDERS}&limit=20&jobType=sync&orderBy=createdAt%7CDESC"),
            format!("GET {PUB}/jobs/41"),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn on_running_attach_without_a_running_job_fails() {
    let server = MockServer::start().await;
    on(&server, "POST", &format!("{PUB}/jobs"), json(409, CONFLICT)).await;
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs"),
        json(
            200,
            &format!(
                r#"{{"data":[{}]}}"#,
                public_job(40, "succeeded", "sync", ORDERS)
            ),
        ),
    )
    .await;
    let r = run_steps(client(&server), vec![sync("orders")]).await;
    assert_eq!(outcomes(&r), [o("sync orders", Failed)]);
    assert!(
        message(&r, "sync orders").ends_with("but no running sync job of the connection was found")
    );
    assert_eq!(log(&server).await.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn on_running_skip_and_fail() {
    let server = MockServer::start().await;
    on(&server, "POST", &format!("{PUB}/jobs"), json(409, CONFLICT)).await;
    let skip = Step {
        on_running: OnRunning::Skip,
        ..sync("orders")
    };
    let fail = Step {
        on_running: OnRunning::Fail,
        ..sync("orders")
    };
    let r = run_steps(client(&server), vec![skip, fail]).await;
    assert_eq!(
        outcomes(&r),
        [o("sync orders", Skipped), o("sync orders", Failed)]
    );
    assert_eq!(
        cases(&r)[1].2,
        format!("HTTP 409: A sync is already running for: {ORDERS}; on-running: fail")
    );
    assert_eq!(log(&server).await, vec![format!("POST {PUB}/jobs"); 2]);
    assert!(!r.passed());
}

#[tokio::test(start_paused = true)]
async fn deadline_cancels_confirms_and_catches_a_replacement_job() {
    let server = MockServer::start().await;
    on(
        &server,
        "POST",
        &format!("{PUB}/jobs"),
        json(200, &public_job(42, "pending", "sync", ORDERS)),
    )
    .await;
    on_n(
        &server,
        "GET",
        &format!("{PUB}/jobs/42"),
        3,
        json(200, &public_job(42, "running", "sync", ORDERS)),
    )
    .await;
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs/42"),
        json(200, &public_job(42, "cancelled", "sync", ORDERS)),
    )
    .await;
    on(
        &server,
        "DELETE",
        &format!("{PUB}/jobs/42"),
        json(200, &public_job(42, "running", "sync", ORDERS)),
    )
    .await;
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs"),
        json(
            200,
            &format!(
                r#"{{"data":[{},{}]}}"#,
                public_job(43, "pending", "sync", ORDERS),
                public_job(42, "cancelled", "sync", ORDERS)
            ),
        ),
    )
    .await;
    on(
        &server,
        "DELETE",
        &format!("{PUB}/jobs/43"),
        json(200, &public_job(43, "cancelled", "sync", ORDERS)),
    )
    .await;
    let s = Step {
        timeout: Duration::from_secs(5),
        ..sync("orders")
    };
    let r = run_steps(client(&server), vec![s]).await;
    assert_eq!(
        outcomes(&r),
        [
            o("sync orders", Passed),
            o("wait orders", Failed),
            o("stats orders", Skipped)
        ]
    );
    assert_eq!(
        message(&r, "wait orders"),
        "deadline of 5s passed with job 42 running; cancelled it; it ended cancelled; \
         a replacement sync job 43 appeared (pending), cancelled it"
    );
    assert_eq!(
        log(&server).await,
        [
            format!("POST {PUB}/jobs"),
            format!("GET {PUB}/jobs/42"), // 1 s
            format!("GET {PUB}/jobs/42"), // 3 s
            format!("GET {PUB}/jobs/42"), // 5 s: deadline
            format!("DELETE {PUB}/jobs/42"),
            format!("GET {PUB}/jobs/42"), // confirm
            format!("GET {PUB}/jobs?connectionId={ORDERS}&limit=20&orderBy=createdAt%7CDESC"),
            format!("DELETE {PUB}/jobs/43"),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn deadline_with_a_job_that_will_not_stop_is_reported() {
    let server = MockServer::start().await;
    on(
        &server,
        "POST",
        &format!("{PUB}/jobs"),
        json(200, &public_job(42, "pending", "sync", ORDERS)),
    )
    .await;
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs/42"),
        json(200, &public_job(42, "running", "sync", ORDERS)),
    )
    .await;
    on(&server, "DELETE", &format!("{PUB}/jobs/42"), json(409, r#"{"status":409,"type":"https://reference.airbyte.com/reference/errors#state-conflict","title":"state-conflict","detail":"State conflict","data":{"message":"Job is not currently running"}}"#)).await;
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs"),
        json(
            200,
            &format!(
                r#"{{"data":[{}]}}"#,
                public_job(42, "running", "sync", ORDERS)
            ),
        ),
    )
    .await;
    let s = Step {
        timeout: Duration::from_secs(2),
        ..sync("orders")
    };
    let r = run_steps(client(&server), vec![s]).await;
    assert_eq!(
        message(&r, "wait orders"),
        "deadline of 2s passed with job 42 running; cancel failed: DELETE /jobs/42: HTTP 409: Job is not currently running; \
         it is still running after 30s"
    );
    let polls = log(&server)
        .await
        .iter()
        .filter(|l| *l == &format!("GET {PUB}/jobs/42"))
        .count();
    // 1 s, 2 s (deadline), then confirming at 3, 5, 9, 17, 25 and 32 s (the end of the window).
    assert_eq!(polls, 8);
    assert_eq!(
        log(&server).await.last().unwrap(),
        &format!("GET {PUB}/jobs?connectionId={ORDERS}&limit=20&orderBy=createdAt%7CDESC")
    );
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

fn wait_ms(r: &Report) -> u64 {
    r.pipelines[0]
        .cases
        .iter()
        .find(|c| c.label() == "wait orders")
        .unwrap()
        .duration_ms
}

#[tokio::test]
async fn deadline_cuts_off_a_poll_that_hangs() {
    // Real time: a hanging request cannot be cut off on a paused clock (see `client_with`).
    let server = MockServer::start().await;
    on(
        &server,
        "POST",
        &format!("{PUB}/jobs"),
        json(200, &public_job(42, "pending", "sync", ORDERS)),
    )
    .await;
    on_n(
        &server,
        "GET",
        &format!("{PUB}/jobs/42"),
        1,
        json(200, &public_job(42, "running", "sync", ORDERS)),
    )
    .await;
    // The next poll hangs far beyond the deadline (and the 30 s request timeout).
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs/42"),
        json(200, &public_job(42, "running", "sync", ORDERS)).set_delay(Duration::from_secs(600)),
    )
    .await;
    on(
        &server,
        "DELETE",
        &format!("{PUB}/jobs/42"),
        json(200, &public_job(42, "cancelled", "sync", ORDERS)),
    )
    .await;
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs"),
        json(
            200,
            &format!(
                r#"{{"data":[{}]}}"#,
                public_job(42, "cancelled", "sync", ORDERS)
            ),
        ),
    )
    .await;
    let s = Step {
        timeout: Duration::from_secs(2),
        ..sync("orders")
    };
    let r = run_fast(timed_client(&server), vec![s]).await;
    assert_eq!(
        outcomes(&r),
        [
            o("sync orders", Passed),
            o("wait orders", Failed),
            o("stats orders", Skipped)
        ]
    );
    assert_eq!(
        message(&r, "wait orders"),
        "deadline of 2s passed with job 42 running; cancelled it; it ended cancelled"
    );
    // Failed at the deadline, not after the hung request's timeout and retries (30 s and more).
    let took = wait_ms(&r);
    assert!((2000..10_000).contains(&took), "{took} ms");
    assert_eq!(
        log(&server).await,
        [
            format!("POST {PUB}/jobs"),
            format!("GET {PUB}/jobs/42"), // 0.2 s
            format!("GET {PUB}/jobs/42"), // 0.6 s: hangs until the deadline cuts it off
            format!("DELETE {PUB}/jobs/42"),
            format!("GET {PUB}/jobs?connectionId={ORDERS}&limit=20&orderBy=createdAt%7CDESC"),
        ]
    );
}

#[tokio::test]
async fn deadline_cancel_and_replacement_check_are_bounded() {
    // Real time, as above. Cancelling and listing hang; each gets the 1 s cancel window.
    let server = MockServer::start().await;
    on(
        &server,
        "POST",
        &format!("{PUB}/jobs"),
        json(200, &public_job(42, "pending", "sync", ORDERS)),
    )
    .await;
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs/42"),
        json(200, &public_job(42, "running", "sync", ORDERS)),
    )
    .await;
    on(
        &server,
        "DELETE",
        &format!("{PUB}/jobs/42"),
        json(200, &public_job(42, "cancelled", "sync", ORDERS)).set_delay(Duration::from_secs(600)),
    )
    .await;
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs"),
        json(200, r#"{"data":[]}"#).set_delay(Duration::from_secs(600)),
    )
    .await;
    let s = Step {
        timeout: Duration::from_secs(1),
        ..sync("orders")
    };
    let r = run_fast(timed_client(&server), vec![s]).await;
    assert_eq!(
        message(&r, "wait orders"),
        "deadline of 1s passed with job 42 running; cancel failed: no answer within 1s; \
         could not confirm it ended; could not check for a replacement job: no answer within 1s"
    );
    // 1 s deadline (from the step's start, the trigger included) + 1 s cancel window + 1 s
    // replacement-check window.
    let took = wait_ms(&r);
    assert!((2000..10_000).contains(&took), "{took} ms");
    assert_eq!(
        log(&server).await,
        [
            format!("POST {PUB}/jobs"),
            format!("GET {PUB}/jobs/42"), // 0.2 s
            format!("GET {PUB}/jobs/42"), // 0.6 s; at 1 s no time is left to poll
            format!("DELETE {PUB}/jobs/42"),
            format!("GET {PUB}/jobs?connectionId={ORDERS}&limit=20&orderBy=createdAt%7CDESC"),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn unknown_and_non_success_terminal_states_fail_closed() {
    let server = MockServer::start().await;
    on(
        &server,
        "POST",
        &format!("{PUB}/jobs"),
        json(200, &public_job(42, "pending", "sync", ORDERS)),
    )
    .await;
    on_n(&server, "GET", &format!("{PUB}/jobs/42"), 1, json(200, &format!(r#"{{"jobId":42,"status":"paused","jobType":"sync","startTime":"2024-05-01T12:34Z","connectionId":"{ORDERS}"}}"#))).await;
    let r = run_steps(client(&server), vec![sync("orders")]).await;
    assert_eq!(
        outcomes(&r),
        [
            o("sync orders", Passed),
            o("wait orders", Failed),
            o("stats orders", Skipped)
        ]
    );
    assert_eq!(
        message(&r, "wait orders"),
        "polling job 42: GET /jobs/42: field `status` has unknown value `paused`"
    );
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs/42"),
        json(200, &public_job(42, "cancelled", "sync", ORDERS)),
    )
    .await;
    let r = run_steps(client(&server), vec![sync("orders")]).await;
    assert_eq!(
        message(&r, "wait orders"),
        "job 42 ended cancelled after 1s"
    );
    assert!(!r.passed());
    assert_eq!(
        log(&server).await,
        [
            format!("POST {PUB}/jobs"),
            format!("GET {PUB}/jobs/42"),
            format!("POST {PUB}/jobs"),
            format!("GET {PUB}/jobs/42")
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn zero_record_success_fails_when_a_minimum_is_set() {
    let server = MockServer::start().await;
    let zero = format!(
        r#"{{"jobId":42,"status":"succeeded","jobType":"sync","startTime":"2024-05-01T12:34Z","connectionId":"{ORDERS}","lastUpdatedAt":"2024-05-01T12:34:09Z","duration":"PT9S","bytesSynced":0,"rowsSynced":0}}"#
    );
    on(
        &server,
        "POST",
        &format!("{PUB}/jobs"),
        json(200, &public_job(42, "pending", "sync", ORDERS)),
    )
    .await;
    on(&server, "GET", &format!("{PUB}/jobs/42"), json(200, &zero)).await;
    // `orders` has min-records 100; `customers` none, so 0 records pass there.
    let r = run_steps(
        client(&server),
        vec![sync("orders"), step(StepKind::Validate("orders".into()))],
    )
    .await;
    assert_eq!(outcomes(&r)[3], o("validate orders", Failed));
    assert_eq!(
        message(&r, "validate orders"),
        "job 42 succeeded with 0 records; min-records is 100"
    );
    let with_min = Step {
        min_records: Some(1),
        ..sync("orders")
    };
    let r = run_steps(client(&server), vec![with_min]).await;
    assert_eq!(
        outcomes(&r),
        [
            o("sync orders", Passed),
            o("wait orders", Passed),
            o("stats orders", Passed),
            o("validate orders", Failed)
        ]
    );
    assert_eq!(
        log(&server).await,
        vec![
            format!("POST {PUB}/jobs"),
            format!("GET {PUB}/jobs/42"),
            format!("POST {PUB}/jobs"),
            format!("GET {PUB}/jobs/42")
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn reset_and_clear_wait_and_check_the_job_type() {
    let server = MockServer::start().await;
    // Public API: a clear request produces a `reset` job (the server creates reset_connection).
    on_n(
        &server,
        "POST",
        &format!("{PUB}/jobs"),
        1,
        json(200, &public_job(50, "pending", "reset", ORDERS)),
    )
    .await;
    on_n(
        &server,
        "POST",
        &format!("{PUB}/jobs"),
        1,
        json(200, &public_job(51, "pending", "reset", ORDERS)),
    )
    .await;
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs/50"),
        json(200, &public_job(50, "succeeded", "reset", ORDERS)),
    )
    .await;
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs/51"),
        json(200, &public_job(51, "running", "sync", ORDERS)),
    )
    .await;
    let r = run_steps(
        client(&server),
        vec![
            step(StepKind::Reset("orders".into())),
            step(StepKind::Clear("orders".into())),
        ],
    )
    .await;
    assert_eq!(
        outcomes(&r),
        [
            o("reset orders", Passed),
            o("wait orders", Passed),
            o("clear orders", Passed),
            o("wait orders", Failed)
        ]
    );
    assert_eq!(
        cases(&r)[3].2,
        "job 51 is a sync job, but a clear was asked for"
    );
    let bodies: Vec<serde_json::Value> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(
        bodies,
        [
            serde_json::json!({"connectionId": ORDERS, "jobType": "reset"}),
            serde_json::json!({"connectionId": ORDERS, "jobType": "clear"})
        ]
    );
    assert_eq!(
        log(&server).await,
        [
            format!("POST {PUB}/jobs"),
            format!("GET {PUB}/jobs/50"),
            format!("POST {PUB}/jobs"),
            format!("GET {PUB}/jobs/51")
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn chained_steps_run_only_after_their_dependency_passed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("{PUB}/jobs")))
        .and(body_json(
            serde_json::json!({"connectionId": ORDERS, "jobType": "sync"}),
        ))
        .respond_with(json(200, &public_job(60, "pending", "sync", ORDERS)))
        .mount(&server)
        .await;
    on(
        &server,
        "POST",
        &format!("{PUB}/jobs"),
        json(200, &public_job(61, "pending", "sync", CUSTOMERS)),
    )
    .await;
    on_n(
        &server,
        "GET",
        &format!("{PUB}/jobs/60"),
        1,
        json(200, &public_job(60, "failed", "sync", ORDERS)),
    )
    .await;
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs/60"),
        json(200, &public_job(60, "succeeded", "sync", ORDERS)),
    )
    .await;
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs/61"),
        json(200, &public_job(61, "succeeded", "sync", CUSTOMERS)),
    )
    .await;
    let chained = || Step {
        after: Some("orders".into()),
        ..sync("customers")
    };
    let r = run_steps(client(&server), vec![sync("orders"), chained()]).await;
    assert_eq!(
        outcomes(&r),
        [
            o("sync orders", Passed),
            o("wait orders", Failed),
            o("stats orders", Skipped),
            o("sync customers", Skipped)
        ]
    );
    assert_eq!(
        message(&r, "sync customers"),
        "skipped: the step it comes after (on `orders`) failed"
    );
    let r = run_steps(client(&server), vec![sync("orders"), chained()]).await;
    assert!(r.passed());
    assert_eq!(outcomes(&r).len(), 6);
    assert_eq!(
        log(&server).await,
        [
            format!("POST {PUB}/jobs"),
            format!("GET {PUB}/jobs/60"),
            format!("POST {PUB}/jobs"),
            format!("GET {PUB}/jobs/60"),
            format!("POST {PUB}/jobs"),
            format!("GET {PUB}/jobs/61"),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn conditional_steps_follow_last_sync_age_and_previous_outcome() {
    let server = MockServer::start().await;
    // Last successful sync of `customers` ended 2024-05-01T20:00:00Z, 1h46m40s before "now".
    let last = format!(
        r#"{{"data":[{{"jobId":30,"status":"succeeded","jobType":"sync","startTime":"2024-05-01T19:58Z","connectionId":"{CUSTOMERS}","lastUpdatedAt":"2024-05-01T20:00Z","duration":"PT2M","bytesSynced":10,"rowsSynced":1}}]}}"#
    );
    on(&server, "GET", &format!("{PUB}/jobs"), json(200, &last)).await;
    on(
        &server,
        "POST",
        &format!("{PUB}/jobs"),
        json(200, &public_job(62, "pending", "sync", CUSTOMERS)),
    )
    .await;
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs/62"),
        json(200, &public_job(62, "succeeded", "sync", CUSTOMERS)),
    )
    .await;
    let older = |h: u64| Step {
        when: Some(Condition {
            last_sync_older_than: Some(Duration::from_secs(h * 3600)),
            previous: None,
        }),
        ..sync("customers")
    };
    let after_failure = Step {
        when: Some(Condition {
            last_sync_older_than: None,
            previous: Some(PreviousOutcome::Failed),
        }),
        ..sync("customers")
    };
    let r = run_steps(client(&server), vec![older(6), older(1), after_failure]).await;
    assert_eq!(
        outcomes(&r),
        [
            o("sync customers", Skipped),
            o("sync customers", Passed),
            o("wait customers", Passed),
            o("stats customers", Passed),
            o("sync customers", Skipped),
        ]
    );
    assert_eq!(
        cases(&r)[0].2,
        "skipped: last successful sync (job 30) ended 1h 46m 40s ago, within last-sync-older-than 6h"
    );
    assert_eq!(
        cases(&r)[4].2,
        "skipped: `when.previous` wants the previous step failed; it passed"
    );
    let list = format!("GET {PUB}/jobs?connectionId={CUSTOMERS}&limit=1&jobType=sync&status=succeeded&orderBy=createdAt%7CDESC");
    assert_eq!(
        log(&server).await,
        [
            list.clone(),
            list,
            format!("POST {PUB}/jobs"),
            format!("GET {PUB}/jobs/62")
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn connection_check_and_health_steps() {
    let server = MockServer::start().await;
    on(
        &server,
        "GET",
        &format!("{PUB}/health"),
        ResponseTemplate::new(200).set_body_string("Successful operation"),
    )
    .await;
    let conn = |id: &str, status: &str| {
        format!(
            r#"{{"connectionId":"{id}","name":"Orders → Warehouse","sourceId":"9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f","destinationId":"1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d","workspaceId":"00000000-0000-0000-0000-000000000000","status":"{status}","schedule":{{"scheduleType":"manual"}},"dataResidency":"auto","nonBreakingSchemaUpdatesBehavior":"ignore","namespaceDefinition":"destination","configurations":{{"streams":[]}},"createdAt":1714566840,"tags":[]}}"#
        )
    };
    on(
        &server,
        "GET",
        &format!("{PUB}/connections/{ORDERS}"),
        json(200, &conn(ORDERS, "active")),
    )
    .await;
    on(
        &server,
        "GET",
        &format!("{PUB}/connections/{CUSTOMERS}"),
        json(200, &conn(CUSTOMERS, "inactive")),
    )
    .await;
    let r = run_steps(
        client(&server),
        vec![
            step(StepKind::Health),
            step(StepKind::Check("orders".into())),
            step(StepKind::Check("customers".into())),
        ],
    )
    .await;
    assert_eq!(
        outcomes(&r),
        [
            o("health", Passed),
            o("connection orders", Passed),
            o("connection customers", Failed)
        ]
    );
    assert_eq!(
        message(&r, "connection customers"),
        format!("connection {CUSTOMERS} is inactive, not active")
    );
    assert_eq!(
        log(&server).await,
        [
            format!("GET {PUB}/health"),
            format!("GET {PUB}/connections/{ORDERS}"),
            format!("GET {PUB}/connections/{CUSTOMERS}")
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn pipelines_sharing_a_connection_run_in_spec_order_others_concurrently() {
    let server = MockServer::start().await;
    for (conn, id) in [(ORDERS, 60), (CUSTOMERS, 61)] {
        Mock::given(method("POST"))
            .and(path(format!("{PUB}/jobs")))
            .and(body_json(
                serde_json::json!({"connectionId": conn, "jobType": "sync"}),
            ))
            .respond_with(json(200, &public_job(id, "pending", "sync", conn)))
            .mount(&server)
            .await;
        on_n(
            &server,
            "GET",
            &format!("{PUB}/jobs/{id}"),
            1,
            json(200, &public_job(id, "running", "sync", conn)),
        )
        .await;
        on(
            &server,
            "GET",
            &format!("{PUB}/jobs/{id}"),
            json(200, &public_job(id, "succeeded", "sync", conn)),
        )
        .await;
    }
    let pipelines = vec![
        Pipeline {
            name: "first".into(),
            steps: vec![sync("orders")],
        },
        Pipeline {
            name: "independent".into(),
            steps: vec![sync("customers")],
        },
        Pipeline {
            name: "second".into(),
            steps: vec![sync("orders")],
        },
    ];
    let cfg = RunnerConfig {
        parallel: 3,
        ..runner_cfg()
    };
    let r = runner::run(client(&server), &connections(), &pipelines, &cfg).await;
    assert!(r.passed());
    let reqs = server.received_requests().await.unwrap();
    let seen: Vec<String> = reqs
        .iter()
        .map(|q| match q.body.is_empty() {
            true => format!("{} {}", q.method, q.url.path()),
            false => format!(
                "{} {} {}",
                q.method,
                q.url.path(),
                String::from_utf8_lossy(&q.body)
            ),
        })
        .collect();
    let post = |c: &str| format!(r#"POST {PUB}/jobs {{"connectionId":"{c}","jobType":"sync"}}"#);
    let pos = |s: &str, from: usize| {
        from + seen[from..]
            .iter()
            .position(|x| x == s)
            .unwrap_or_else(|| panic!("{s} in {seen:#?}"))
    };
    let first_post = pos(&post(ORDERS), 0);
    let first_done = pos(
        &format!("GET {PUB}/jobs/60"),
        pos(&format!("GET {PUB}/jobs/60"), 0) + 1,
    );
    let second_post = pos(&post(ORDERS), first_post + 1);
    assert!(
        second_post > first_done,
        "the second orders pipeline waited: {seen:#?}"
    );
    // The independent pipeline did not wait for the first.
    assert!(pos(&post(CUSTOMERS), 0) < first_done, "{seen:#?}");
    assert_eq!(seen.len(), 8);
}

// ---- Config API flavour -------------------------------------------------------------------------

fn config_job(id: i64, status: &str, config_type: &str, attempts: &str) -> String {
    format!(
        r#"{{"job":{{"id":{id},"configType":"{config_type}","configId":"{ORDERS}","enabledStreams":[{{"name":"orders"}}],"createdAt":1714566840,"updatedAt":1714567332,"startedAt":1714566841,"status":"{status}"}},"attempts":[{attempts}]}}"#
    )
}

const ATTEMPTS: &str = r#"{"attempt":{"id":0,"status":"failed","createdAt":1714566841,"updatedAt":1714567000,"endedAt":1714567000,"totalStats":{"recordsEmitted":400,"bytesEmitted":4000,"recordsCommitted":400,"bytesCommitted":4000},"failureSummary":{"failures":[{"failureOrigin":"source","timestamp":1714567000000}],"partialSuccess":true}},"logType":"formatted"},{"attempt":{"id":1,"status":"succeeded","createdAt":1714567001,"updatedAt":1714567332,"endedAt":1714567332,"totalStats":{"recordsEmitted":600,"bytesEmitted":6000,"recordsCommitted":600,"bytesCommitted":6000}},"logType":"formatted"}"#;

#[tokio::test(start_paused = true)]
async fn config_api_sync_with_attempts() {
    let server = MockServer::start().await;
    on(
        &server,
        "GET",
        &format!("{CFG}/health"),
        json(200, r#"{"available":true}"#),
    )
    .await;
    on(
        &server,
        "POST",
        &format!("{CFG}/connections/sync"),
        json(200, &config_job(7, "pending", "sync", "")),
    )
    .await;
    on_n(&server, "POST", &format!("{CFG}/jobs/get_without_logs"), 1, json(200, &config_job(7, "incomplete", "sync", r#"{"attempt":{"id":0,"status":"failed","createdAt":1714566841,"updatedAt":1714567000}}"#))).await;
    on(
        &server,
        "POST",
        &format!("{CFG}/jobs/get_without_logs"),
        json(200, &config_job(7, "succeeded", "sync", ATTEMPTS)),
    )
    .await;
    let c = client_with(&server, ApiFlavour::Config, Credentials::None);
    let r = run_steps(
        c,
        vec![
            step(StepKind::Health),
            sync("orders"),
            step(StepKind::Validate("orders".into())),
        ],
    )
    .await;
    assert!(r.passed(), "{}", report::human(&r));
    assert_eq!(
        message(&r, "stats orders"),
        "job 7, 1000 records, 10000 bytes, 8m 11s long, 2 attempt(s)"
    );
    let reqs = server.received_requests().await.unwrap();
    let seen: Vec<(String, String)> = reqs
        .iter()
        .map(|r| {
            (
                format!("{} {}", r.method, r.url.path()),
                String::from_utf8_lossy(&r.body).into_owned(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (format!("GET {CFG}/health"), String::new()),
            (
                format!("POST {CFG}/connections/sync"),
                format!(r#"{{"connectionId":"{ORDERS}"}}"#)
            ),
            (
                format!("POST {CFG}/jobs/get_without_logs"),
                r#"{"id":7}"#.to_string()
            ),
            (
                format!("POST {CFG}/jobs/get_without_logs"),
                r#"{"id":7}"#.to_string()
            ),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn config_api_409_and_job_list() {
    let server = MockServer::start().await;
    on(&server, "POST", &format!("{CFG}/connections/sync"), json(409, &format!(r#"{{"message":"A sync is already running for: {ORDERS}","exceptionClassName":"io.airbyte.commons.server.errors.ValueConflictKnownException"}}"#))).await;
    let list = format!(
        r#"{{"jobs":[{{"job":{{"id":8,"configType":"sync","configId":"{ORDERS}","createdAt":1714566840,"updatedAt":1714566900,"status":"running"}},"attempts":[{{"id":0,"status":"running","createdAt":1714566841,"updatedAt":1714566900}}]}}],"totalJobCount":1}}"#
    );
    on(
        &server,
        "POST",
        &format!("{CFG}/jobs/list"),
        json(200, &list),
    )
    .await;
    on(
        &server,
        "POST",
        &format!("{CFG}/jobs/get_without_logs"),
        json(200, &config_job(8, "succeeded", "sync", ATTEMPTS)),
    )
    .await;
    let c = client_with(&server, ApiFlavour::Config, Credentials::None);
    let r = run_steps(c, vec![sync("orders")]).await;
    assert!(r.passed(), "{}", report::human(&r));
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs[1].url.path(), format!("{CFG}/jobs/list"));
    let body: serde_json::Value = serde_json::from_slice(&reqs[1].body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"configTypes":["sync"],"configId":ORDERS,"pagination":{"pageSize":20,"rowOffset":0}})
    );
    assert_eq!(reqs.len(), 3);
}

// ---- reports ------------------------------------------------------------------------------------

/// A fixed run across two pipelines: everything passes in one, the other fails on min-records
/// and skips its chained step.
async fn golden_report() -> Report {
    let server = MockServer::start().await;
    on(
        &server,
        "GET",
        &format!("{PUB}/health"),
        ResponseTemplate::new(200).set_body_string("Successful operation"),
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
    on(
        &server,
        "POST",
        &format!("{PUB}/jobs"),
        json(200, &public_job(43, "pending", "sync", CUSTOMERS)),
    )
    .await;
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs/41"),
        json(200, &public_job(41, "succeeded", "reset", ORDERS)),
    )
    .await;
    on_n(
        &server,
        "GET",
        &format!("{PUB}/jobs/42"),
        1,
        json(200, &public_job(42, "running", "sync", ORDERS)),
    )
    .await;
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs/42"),
        json(200, &public_job(42, "succeeded", "sync", ORDERS)),
    )
    .await;
    on(&server, "GET", &format!("{PUB}/jobs/43"), json(200, &format!(r#"{{"jobId":43,"status":"succeeded","jobType":"sync","startTime":"2024-05-01T13:00Z","connectionId":"{CUSTOMERS}","lastUpdatedAt":"2024-05-01T13:00:05Z","duration":"PT5S","bytesSynced":0,"rowsSynced":0}}"#))).await;
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
    insta::assert_snapshot!("conform_report_human", report::human(&r));
    insta::assert_snapshot!("conform_report_json", report::json(&r));
    insta::assert_snapshot!("conform_report_junit", report::junit(&r));
    insta::assert_snapshot!("conform_report_prometheus", report::prometheus(&r));
    // Same run, same bytes.
    assert_eq!(report::json(&golden_report().await), report::json(&r));
}

// ---- the CLI end to end -------------------------------------------------------------------------

const EX_ORDERS: &str = "7c2b1f4e-3a5d-4c8e-9f10-2b3c4d5e6f70";
const EX_CUSTOMERS: &str = "0d6e8a2c-1b3f-4e5a-8c7d-9e0f1a2b3c4d";

/// A server for the example spec's `chained` pipeline: token, then a sync of each connection.
async fn example_server(orders_records: u64) -> MockServer {
    let server = MockServer::start().await;
    on(
        &server,
        "POST",
        &format!("{PUB}/applications/token"),
        json(
            200,
            r#"{"access_token":"tok-cli","token_type":"Bearer","expires_in":900}"#,
        ),
    )
    .await;
    for (id, conn, records) in [(101, EX_ORDERS, orders_records), (102, EX_CUSTOMERS, 5)] {
        Mock::given(method("POST"))
            .and(path(format!("{PUB}/jobs")))
            .and(header("authorization", "Bearer tok-cli"))
            .and(body_json(
                serde_json::json!({"connectionId": conn, "jobType": "sync"}),
            ))
            .respond_with(json(200, &public_job(id, "pending", "sync", conn)))
            .mount(&server)
            .await;
        on(&server, "GET", &format!("{PUB}/jobs/{id}"), json(200, &format!(r#"{{"jobId":{id},"status":"succeeded","jobType":"sync","startTime":"2024-05-01T12:34Z","connectionId":"{conn}","lastUpdatedAt":"2024-05-01T12:35:02Z","duration":"PT1M2S","bytesSynced":4096,"rowsSynced":{records}}}"#))).await;
    }
    server
}

fn conform_cmd(server: &MockServer, dir: &std::path::Path) -> assert_cmd::Command {
    let mut cmd = crate::util::airguard();
    cmd.arg("conform")
        .arg("--spec")
        .arg(crate::util::fixture("specs/valid/example.yaml"))
        .args([
            "--api-url",
            &server.uri(),
            "--pipeline",
            "chained",
            "--first-poll",
            "10ms",
        ])
        .env("AIRBYTE_API_CLIENT_ID", "cli-client")
        .env("AIRBYTE_API_CLIENT_SECRET", "cli-s3cret-do-not-print")
        .env("AIRGUARD_LOG", "debug")
        .current_dir(dir);
    cmd
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_passes_writes_reports_and_never_prints_secrets() {
    let server = example_server(250).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = conform_cmd(&server, dir.path());
    cmd.args([
        "--report",
        "junit:out/conform.xml",
        "--report",
        "json:out/conform.json",
        "--report",
        "prometheus:out/conform.prom",
    ]);
    let out = blocking(move || cmd.output().unwrap()).await;
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("conform passed: 1 pipeline(s), 8 case(s): 8 passed, 0 failed, 0 skipped"),
        "{stdout}"
    );
    for secret in ["cli-s3cret-do-not-print", "tok-cli"] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{secret} leaked:\n{stderr}"
        );
    }
    assert!(stderr.contains("POST /jobs"), "debug logs are on: {stderr}");
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/conform.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (
            report["schema_version"].as_u64(),
            report["verdict"].as_str()
        ),
        (Some(1), Some("passed"))
    );
    let junit = std::fs::read_to_string(dir.path().join("out/conform.xml")).unwrap();
    assert!(
        junit.contains(r#"<testsuite name="chained" tests="8" failures="0""#),
        "{junit}"
    );
    let prom = std::fs::read_to_string(dir.path().join("out/conform.prom")).unwrap();
    assert!(prom.contains(r#"airguard_sync_records{pipeline="chained",connection="orders",step="sync",step_index="1"} 250"#), "{prom}");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 3, "no temporary files left: {leftovers:?}");
    assert_eq!(
        log(&server).await,
        [
            format!("POST {PUB}/applications/token"),
            format!("POST {PUB}/jobs"),
            format!("GET {PUB}/jobs/101"),
            format!("POST {PUB}/jobs"),
            format!("GET {PUB}/jobs/102"),
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_exits_1_when_a_check_fails() {
    let server = example_server(50).await; // orders has min-records 100
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = conform_cmd(&server, dir.path());
    let out = blocking(move || cmd.output().unwrap()).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("chained / 1. validate orders: job 101 committed 50 records, fewer than min-records 100"), "{stdout}");
    // The chained customers sync is skipped, not run.
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("2. sync customers") && l.contains("skipped")),
        "{stdout}"
    );
}

/// A server whose first sync trigger fails for good: the token, then `POST /jobs` 400.
async fn failing_trigger_server() -> MockServer {
    let server = MockServer::start().await;
    on(
        &server,
        "POST",
        &format!("{PUB}/applications/token"),
        json(
            200,
            r#"{"access_token":"tok-cli","token_type":"Bearer","expires_in":900}"#,
        ),
    )
    .await;
    on(&server, "POST", &format!("{PUB}/jobs"), json(400, r#"{"status":400,"type":"https://reference.airbyte.com/reference/errors#bad-request","title":"bad-request","detail":"The request could not be understood by the server due to malformed syntax."}"#)).await;
    server
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_text_logs_have_no_colour_codes_unless_asked() {
    let server = failing_trigger_server().await;
    let dir = tempfile::tempdir().unwrap();
    // stderr is a pipe here, so `--color auto` (the default) means no colour.
    let plain = conform_cmd(&server, dir.path());
    let mut always = conform_cmd(&server, dir.path());
    always.args(["--color", "always"]);
    let outs = blocking(move || [plain, always].map(|mut c| c.output().unwrap())).await;
    let stderr: Vec<String> = outs
        .iter()
        .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
        .collect();
    for (o, e) in outs.iter().zip(&stderr) {
        assert_eq!(o.status.code(), Some(1), "{e}");
        assert!(e.contains("POST /jobs"), "debug logs are on: {e}");
    }
    assert!(!stderr[0].contains("\x1b["), "{:?}", stderr[0]);
    assert!(stderr[1].contains("\x1b["), "{:?}", stderr[1]);
    assert_eq!(
        log(&server).await,
        [
            format!("POST {PUB}/applications/token"),
            format!("POST {PUB}/jobs"),
            format!("POST {PUB}/applications/token"),
            format!("POST {PUB}/jobs"),
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_exits_2_on_input_errors() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut no_creds = conform_cmd(&server, dir.path());
    no_creds.env_remove("AIRBYTE_API_CLIENT_SECRET");
    let mut bad_pipeline = conform_cmd(&server, dir.path());
    bad_pipeline.args(["--pipeline", "nope"]);
    let mut bad_report = conform_cmd(&server, dir.path());
    bad_report.args(["--report", "xml:out.xml"]);
    let mut no_target = crate::util::airguard();
    no_target
        .args(["conform", "--spec"])
        .arg(crate::util::fixture("specs/valid/example.yaml"));
    let outs = blocking(move || {
        [no_creds, bad_pipeline, bad_report, no_target].map(|mut c| c.output().unwrap())
    })
    .await;
    let stderr: Vec<String> = outs
        .iter()
        .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
        .collect();
    for (o, e) in outs.iter().zip(&stderr) {
        assert_eq!(o.status.code(), Some(2), "{e}");
    }
    assert!(
        stderr[0].contains("environment variable AIRBYTE_API_CLIENT_SECRET is not set"),
        "{}",
        stderr[0]
    );
    assert!(
        stderr[1].contains("no pipeline named `nope`"),
        "{}",
        stderr[1]
    );
    assert!(
        stderr[2].contains("unknown report format `xml`"),
        "{}",
        stderr[2]
    );
    assert!(log(&server).await.is_empty());
}

// ---- hostile servers -----------------------------------------------------------------------------

/// A redirect to `location`.
fn redirect(status: u16, location: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).insert_header("location", location)
}

/// `POST /jobs` starts pending sync job 42 of orders; `GET /jobs/42` answers `poll`.
async fn job_42_polled_as(server: &MockServer, poll: &str) {
    on(
        server,
        "POST",
        &format!("{PUB}/jobs"),
        json(200, &public_job(42, "pending", "sync", ORDERS)),
    )
    .await;
    on(server, "GET", &format!("{PUB}/jobs/42"), json(200, poll)).await;
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

#[tokio::test(start_paused = true)]
async fn regression_token_redirect_is_refused() {
    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    on(
        &server,
        "POST",
        &format!("{PUB}/applications/token"),
        redirect(307, &format!("{}/steal/token", elsewhere.uri())),
    )
    .await;
    on(
        &elsewhere,
        "POST",
        "/steal/token",
        json(200, r#"{"access_token":"tok-x","token_type":"Bearer"}"#),
    )
    .await;
    on(
        &elsewhere,
        "GET",
        &format!("{PUB}/jobs/1"),
        json(200, &public_job(1, "running", "sync", ORDERS)),
    )
    .await;
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs/1"),
        json(200, &public_job(1, "running", "sync", ORDERS)),
    )
    .await;
    let c = client_with(&server, ApiFlavour::Public, cc(&server, TokenBody::Json));
    let err = c.job(1).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "POST token: HTTP 307 redirect from {0}{PUB}/applications/token to {1}/steal/token refused (airguard never follows redirects)",
            server.uri(),
            elsewhere.uri()
        )
    );
    assert_eq!(err.code().map(|c| c.as_str()), Some("redirect-refused"));
    // The client secret never went to the other host.
    assert!(log(&elsewhere).await.is_empty());
    assert_eq!(
        log(&server).await,
        [format!("POST {PUB}/applications/token")]
    );
}

#[tokio::test(start_paused = true)]
async fn regression_job_trigger_redirect_is_refused() {
    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    on(
        &server,
        "POST",
        &format!("{PUB}/jobs"),
        redirect(302, &format!("{}{PUB}/jobs/9", elsewhere.uri())),
    )
    .await;
    on(
        &elsewhere,
        "GET",
        &format!("{PUB}/jobs/9"),
        json(200, &public_job(9, "succeeded", "sync", ORDERS)),
    )
    .await;
    let r = run_steps(client(&server), vec![sync("orders")]).await;
    assert_eq!(outcomes(&r), [o("sync orders", Failed)]);
    let c = case(&r, "sync orders");
    assert_eq!(c.code.as_deref(), Some("redirect-refused"));
    assert_eq!(
        c.message.as_deref().unwrap(),
        format!(
            "POST /jobs: HTTP 302 redirect from {0}{PUB}/jobs to {1}{PUB}/jobs/9 refused (airguard never follows redirects)",
            server.uri(),
            elsewhere.uri()
        )
    );
    assert!(log(&elsewhere).await.is_empty());
    assert_eq!(log(&server).await, [format!("POST {PUB}/jobs")]);
}

#[tokio::test(start_paused = true)]
async fn regression_error_bodies_echoing_credentials_are_redacted() {
    let server = MockServer::start().await;
    on(
        &server,
        "POST",
        &format!("{PUB}/applications/token"),
        json(
            200,
            r#"{"access_token":"tok-echoed-back","token_type":"Bearer","expires_in":900}"#,
        ),
    )
    .await;
    // 422 echoes the token and the client secret (raw and form-encoded).
    on(&server, "POST", &format!("{PUB}/jobs"), json(422, r#"{"status":422,"title":"unprocessable","detail":"Bearer tok-echoed-back rejected; client_secret=s3cr3t-value&x; raw s3cr3t-value"}"#)).await;
    // 500 (retried, then given up) echoes them on a read.
    on(
        &server,
        "GET",
        &format!("{PUB}/connections/{ORDERS}"),
        json(
            500,
            r#"{"message":"boom: Authorization: Bearer tok-echoed-back, secret s3cr3t-value"}"#,
        ),
    )
    .await;
    let c = client_with(&server, ApiFlavour::Public, cc(&server, TokenBody::Json));
    let r = run_steps(
        c,
        vec![step(StepKind::Check("orders".into())), sync("orders")],
    )
    .await;
    assert_eq!(
        outcomes(&r),
        [o("connection orders", Failed), o("sync orders", Failed)]
    );
    let all = everything(&r);
    for secret in ["tok-echoed-back", "s3cr3t-value"] {
        assert!(!all.contains(secret), "{secret} leaked:\n{all}");
    }
    assert!(
        message(&r, "sync orders")
            .contains("Bearer <redacted> rejected; client_secret=<redacted>&x; raw <redacted>"),
        "{}",
        message(&r, "sync orders")
    );
}

#[tokio::test(start_paused = true)]
async fn regression_basic_password_echoed_in_a_401_is_redacted() {
    let server = MockServer::start().await;
    // Echoes the password and the Basic header (base64 of `airbyte:pw-Hunter2`).
    on(&server, "GET", &format!("{PUB}/connections/{ORDERS}"), json(401, r#"{"status":401,"title":"unauthorized","detail":"bad password pw-Hunter2 in Basic YWlyYnl0ZTpwdy1IdW50ZXIy"}"#)).await;
    let basic = Credentials::Basic {
        user: "airbyte".to_string().into(),
        password: "pw-Hunter2".to_string().into(),
    };
    let c = client_with(&server, ApiFlavour::Public, basic);
    let r = run_steps(c, vec![step(StepKind::Check("orders".into()))]).await;
    let all = everything(&r);
    assert!(
        !all.contains("pw-Hunter2") && !all.contains("YWlyYnl0ZTpwdy1IdW50ZXIy"),
        "{all}"
    );
    assert!(
        message(&r, "connection orders")
            .ends_with("HTTP 401: bad password <redacted> in Basic <redacted>"),
        "{}",
        message(&r, "connection orders")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn regression_cli_api_url_password_is_never_logged() {
    let server = MockServer::start().await;
    on(
        &server,
        "POST",
        &format!("{PUB}/applications/token"),
        json(
            200,
            r#"{"access_token":"tok-cli","token_type":"Bearer","expires_in":900}"#,
        ),
    )
    .await;
    // The error body echoes the URL password.
    on(
        &server,
        "POST",
        &format!("{PUB}/jobs"),
        json(
            400,
            r#"{"status":400,"title":"bad-request","detail":"who is u:Url-Pa55word?"}"#,
        ),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let with_password = server.uri().replace("http://", "http://u:Url-Pa55word@");
    let mut cmd = crate::util::airguard();
    cmd.arg("conform")
        .arg("--spec")
        .arg(crate::util::fixture("specs/valid/example.yaml"))
        .args(["--api-url", &with_password, "--pipeline", "chained"])
        .args(["--report", "json:out.json"])
        .env("AIRBYTE_API_CLIENT_ID", "cli-client")
        .env("AIRBYTE_API_CLIENT_SECRET", "cli-s3cret-do-not-print")
        .env("AIRGUARD_LOG", "debug")
        .current_dir(dir.path());
    let out = blocking(move || cmd.output().unwrap()).await;
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("POST /jobs"), "debug logs are on: {stderr}");
    let json_report = std::fs::read_to_string(dir.path().join("out.json")).unwrap();
    for text in [&*stdout, &*stderr, &json_report] {
        assert!(!text.contains("Url-Pa55word"), "password leaked:\n{text}");
    }
    assert!(stdout.contains("who is u:<redacted>?"), "{stdout}");
}

#[tokio::test(start_paused = true)]
async fn regression_poll_of_a_job_of_another_connection_fails() {
    let server = MockServer::start().await;
    job_42_polled_as(&server, &public_job(42, "succeeded", "sync", CUSTOMERS)).await;
    let r = run_steps(client(&server), vec![sync("orders")]).await;
    assert_eq!(
        outcomes(&r),
        [
            o("sync orders", Passed),
            o("wait orders", Failed),
            o("stats orders", Skipped)
        ]
    );
    let c = case(&r, "wait orders");
    assert_eq!(c.code.as_deref(), Some("job-connection-mismatch"));
    assert_eq!(
        c.message.as_deref().unwrap(),
        format!("job 42 belongs to connection {CUSTOMERS}, not to {ORDERS} (`orders`) whose sync was triggered")
    );
    assert_eq!(r.verdict, Failed);
}

#[tokio::test(start_paused = true)]
async fn regression_config_poll_of_a_job_of_another_connection_fails() {
    let server = MockServer::start().await;
    let job = |conn: &str, status: &str| {
        format!(
            r#"{{"job":{{"id":5,"configType":"sync","configId":"{conn}","createdAt":100,"updatedAt":160,"status":"{status}"}},"attempts":[]}}"#
        )
    };
    on(
        &server,
        "POST",
        &format!("{CFG}/connections/sync"),
        json(200, &job(ORDERS, "running")),
    )
    .await;
    on(
        &server,
        "POST",
        &format!("{CFG}/jobs/get_without_logs"),
        json(200, &job(CUSTOMERS, "succeeded")),
    )
    .await;
    let c = client_with(&server, ApiFlavour::Config, Credentials::None);
    let r = run_steps(c, vec![sync("orders")]).await;
    assert_eq!(
        case(&r, "wait orders").code.as_deref(),
        Some("job-connection-mismatch")
    );
    assert_eq!(r.verdict, Failed);
}

#[tokio::test(start_paused = true)]
async fn regression_oversized_body_is_refused() {
    let server = MockServer::start().await;
    let big = "x".repeat(airguard::conform::client::MAX_RESPONSE_BYTES + 1);
    on(
        &server,
        "GET",
        &format!("{PUB}/health"),
        ResponseTemplate::new(200).set_body_string(big),
    )
    .await;
    let err = client(&server).health().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "GET /health: response body larger than 8388608 bytes; stopped reading"
    );
    assert_eq!(err.code().map(|c| c.as_str()), Some("response-too-large"));
    // Not retried.
    assert_eq!(log(&server).await, [format!("GET {PUB}/health")]);
}

/// A raw HTTP/1.1 server that answers every request with a chunked body of `total` bytes and no
/// `Content-Length`; returns its base URL.
async fn chunked_server(total: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let head = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n";
                if sock.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b'x'; 64 * 1024];
                let mut sent = 0;
                while sent < total {
                    let n = chunk.len().min(total - sent);
                    let frame = [format!("{n:x}\r\n").as_bytes(), &chunk[..n], b"\r\n"].concat();
                    if sock.write_all(&frame).await.is_err() {
                        return; // the client stopped reading
                    }
                    sent += n;
                }
                let _ = sock.write_all(b"0\r\n\r\n").await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn regression_endless_chunked_body_is_capped_while_streaming() {
    let base = chunked_server(airguard::conform::client::MAX_RESPONSE_BYTES + 100_000).await;
    let mut cfg = ClientConfig::new(
        &format!("{base}{PUB}"),
        ApiFlavour::Public,
        Credentials::None,
    );
    cfg.retry = retry();
    let c = Client::new(cfg).unwrap();
    let err = c.health().await.unwrap_err();
    assert!(
        matches!(err, ClientError::TooLarge { limit, .. } if limit == 8 * 1024 * 1024),
        "{err}"
    );
    // Below the limit, the same server is fine.
    let base = chunked_server(1_000_000).await;
    let cfg = ClientConfig::new(
        &format!("{base}{PUB}"),
        ApiFlavour::Public,
        Credentials::None,
    );
    Client::new(cfg).unwrap().health().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn regression_huge_expires_in_does_not_panic() {
    let server = MockServer::start().await;
    on(
        &server,
        "POST",
        &format!("{PUB}/applications/token"),
        json(
            200,
            r#"{"access_token":"tok-1","token_type":"Bearer","expires_in":1e30}"#,
        ),
    )
    .await;
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs/1"),
        json(200, &public_job(1, "running", "sync", ORDERS)),
    )
    .await;
    let c = client_with(&server, ApiFlavour::Public, cc(&server, TokenBody::Json));
    assert_eq!(c.job(1).await.unwrap().status, JobStatus::Running);
    // The lifetime is capped at a day: the token is refreshed then, not never.
    tokio::time::advance(Duration::from_secs(86_400)).await;
    c.job(1).await.unwrap();
    assert_eq!(
        log(&server).await,
        [
            format!("POST {PUB}/applications/token"),
            format!("GET {PUB}/jobs/1"),
            format!("POST {PUB}/applications/token"),
            format!("GET {PUB}/jobs/1"),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn regression_uppercase_status_fails_closed() {
    let server = MockServer::start().await;
    let upper = public_job(42, "succeeded", "sync", ORDERS).replace("succeeded", "SUCCEEDED");
    job_42_polled_as(&server, &upper).await;
    let r = run_steps(client(&server), vec![sync("orders")]).await;
    assert_eq!(
        message(&r, "wait orders"),
        "polling job 42: GET /jobs/42: field `status` has unknown value `SUCCEEDED`"
    );
    assert_eq!(r.verdict, Failed);
}

#[tokio::test(start_paused = true)]
async fn regression_duplicate_status_key_fails_closed() {
    let server = MockServer::start().await;
    let twice = public_job(42, "failed", "sync", ORDERS).replacen(
        "\"status\":\"failed\"",
        "\"status\":\"failed\",\"status\":\"succeeded\"",
        1,
    );
    job_42_polled_as(&server, &twice).await;
    let r = run_steps(client(&server), vec![sync("orders")]).await;
    let c = case(&r, "wait orders");
    assert_eq!(c.outcome, Failed);
    assert_eq!(c.code.as_deref(), Some("duplicate-json-key"));
    assert_eq!(
        c.message.as_deref().unwrap(),
        "polling job 42: GET /jobs/42: response repeats the JSON key `status`"
    );
}

#[tokio::test]
async fn regression_step_timeout_bounds_trigger_retries() {
    // Real time (a cut-off needs a request timeout). Every trigger answers 503 with a
    // Retry-After of 5 s: retries alone would take 15 s; the step's 2 s timeout ends it.
    let server = MockServer::start().await;
    on(
        &server,
        "POST",
        &format!("{PUB}/jobs"),
        json(503, r#"{"status":503,"title":"unavailable"}"#).insert_header("retry-after", "5"),
    )
    .await;
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs"),
        json(200, r#"{"data":[]}"#),
    )
    .await;
    let s = Step {
        timeout: Duration::from_secs(2),
        ..sync("orders")
    };
    let r = run_fast(timed_client(&server), vec![s]).await;
    assert_eq!(outcomes(&r), [o("sync orders", Failed)]);
    assert_eq!(
        message(&r, "sync orders"),
        "deadline of 2s passed before the sync trigger was answered; no job of it is running"
    );
    assert_eq!(
        log(&server).await,
        [
            format!("POST {PUB}/jobs"),
            format!("GET {PUB}/jobs?connectionId={ORDERS}&limit=20&jobType=sync&orderBy=createdAt%7CDESC"),
        ]
    );
}

#[tokio::test]
async fn regression_step_timeout_bounds_finding_the_running_job_after_a_409() {
    // Real time, as above: the listing that looks for the running sync hangs.
    let server = MockServer::start().await;
    on(&server, "POST", &format!("{PUB}/jobs"), json(409, CONFLICT)).await;
    on(
        &server,
        "GET",
        &format!("{PUB}/jobs"),
        json(200, r#"{"data":[]}"#).set_delay(Duration::from_secs(600)),
    )
    .await;
    let s = Step {
        timeout: Duration::from_secs(1),
        ..sync("orders")
    };
    let r = run_fast(timed_client(&server), vec![s]).await;
    assert_eq!(outcomes(&r), [o("sync orders", Failed)]);
    assert_eq!(
        message(&r, "sync orders"),
        format!("HTTP 409: A sync is already running for: {ORDERS}; deadline of 1s passed while looking for it")
    );
}

#[tokio::test(start_paused = true)]
async fn regression_step_after_a_dependency_that_never_ran_fails_the_pipeline() {
    let server = MockServer::start().await;
    // `after: orders` where no step on orders ran before (a forward `after:`).
    let forward = Step {
        after: Some("orders".into()),
        ..step(StepKind::Validate("customers".into()))
    };
    let r = run_steps(client(&server), vec![forward, sync("orders")]).await;
    let c = case(&r, "validate customers");
    assert_eq!(c.outcome, Failed);
    assert_eq!(c.code.as_deref(), Some("step-blocked"));
    assert_eq!(
        c.message.as_deref().unwrap(),
        "blocked: no step on `orders` passed before it (it was skipped, or comes later), so this step did not run"
    );
    assert_eq!((r.pipelines[0].outcome, r.verdict), (Failed, Failed));
    // A dependency skipped by its condition blocks the same way.
    let server = MockServer::start().await;
    let skipped = Step {
        when: Some(Condition {
            previous: Some(PreviousOutcome::Failed),
            last_sync_older_than: None,
        }),
        ..sync("orders")
    };
    let after = Step {
        after: Some("orders".into()),
        ..sync("customers")
    };
    let r = run_steps(client(&server), vec![skipped, after]).await;
    assert_eq!(
        outcomes(&r),
        [o("sync orders", Skipped), o("sync customers", Failed)]
    );
    assert_eq!(r.verdict, Failed);
    assert!(log(&server).await.is_empty());
}

#[tokio::test(start_paused = true)]
async fn regression_control_characters_from_servers_are_escaped() {
    let server = MockServer::start().await;
    on(&server, "POST", &format!("{PUB}/jobs"), json(400, r#"{"status":400,"title":"bad","detail":"\u001b[2J\u001b]0;pwned\u0007 line\u2028two\u0085 \u0000 \u202e"}"#)).await;
    let r = run_steps(client(&server), vec![sync("orders")]).await;
    assert_eq!(
        message(&r, "sync orders"),
        r"POST /jobs: HTTP 400: \u{1b}[2J\u{1b}]0;pwned\u{7} line\u{2028}two\u{85} \u{0} \u{202e}"
    );
    let human = report::human(&r);
    let junit = report::junit(&r);
    for (name, text) in [("human", &human), ("junit", &junit)] {
        let bad: Vec<char> = text
            .chars()
            .filter(|&c| airguard::text::is_unsafe(c) && c != '\n')
            .collect();
        assert!(bad.is_empty(), "{name} has {bad:?}:\n{text}");
    }
}

// ---- no panic on any server body ------------------------------------------------------------------

mod server_bodies {
    use airguard::conform::client::{auth, model, retry, strict};
    use airguard::conform::report::JobStats;
    use proptest::prelude::*;
    use serde_json::{Map, Value};

    const KEYS: &[&str] = &[
        "jobId",
        "status",
        "jobType",
        "connectionId",
        "startTime",
        "lastUpdatedAt",
        "duration",
        "rowsSynced",
        "bytesSynced",
        "data",
        "job",
        "attempts",
        "attempt",
        "id",
        "configType",
        "configId",
        "createdAt",
        "updatedAt",
        "startedAt",
        "aggregatedStats",
        "recordsCommitted",
        "bytesCommitted",
        "totalStats",
        "recordsSynced",
        "name",
        "sourceId",
        "destinationId",
        "available",
        "access_token",
        "token_type",
        "expires_in",
        "message",
        "detail",
    ];

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            ".{0,12}",
            // ISO-8601 times, plausible and not.
            "-?[0-9]{1,20}-[0-9]{1,3}-[0-9]{1,3}[Tt][0-9]{1,3}:[0-9]{1,3}(:[0-9]{1,3}(\\.[0-9]{1,4})?)?([Zz]|[+-][0-9]{1,20}:[0-9]{1,20}|[+-])?",
            // ISO-8601 durations.
            "P[0-9.\\-]{0,25}(D|T([0-9.\\-]{0,25}[HMSX])*)",
            prop::sample::select(vec![
                "pending", "queued", "running", "incomplete", "failed", "succeeded", "cancelled",
                "SUCCEEDED", "sync", "reset", "clear", "refresh", "reset_connection", "active",
                "inactive", "Bearer", "MAC", "",
            ])
            .prop_map(str::to_string),
        ]
    }

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            prop::num::f64::NORMAL.prop_map(Value::from),
            prop::sample::select(vec![1e30, -1e30, 1e308, 0.5, 0.0, -0.0, 86_400.0])
                .prop_map(Value::from),
            text().prop_map(Value::String),
        ]
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => prop::sample::select(KEYS).prop_map(str::to_string),
            1 => "[a-z]{1,6}",
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(4, 64, 10, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((key(), inner), 0..12)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
            ]
        })
    }

    /// Objects shaped like the API's, with every field arbitrary.
    fn shaped() -> impl Strategy<Value = Value> {
        let obj = || {
            prop::collection::vec((key(), leaf()), 0..16)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>()))
        };
        prop_oneof![
            obj(),
            prop::collection::vec(obj(), 0..3).prop_map(|d| serde_json::json!({ "data": d })),
            (obj(), prop::collection::vec(obj(), 0..3), obj()).prop_map(
                |(job, attempts, stats)| {
                    let attempts: Vec<Value> = attempts
                        .into_iter()
                        .map(|mut a| {
                            a["totalStats"] = stats.clone();
                            serde_json::json!({ "attempt": a })
                        })
                        .collect();
                    serde_json::json!({ "job": job, "attempts": attempts })
                }
            ),
            (obj(), obj()).prop_map(|(job, agg)| {
                let mut job = job;
                job["aggregatedStats"] = agg;
                serde_json::json!({ "jobs": [{ "job": job, "attempts": [] }] })
            }),
            value(),
        ]
    }

    fn every_parser(v: &Value) {
        for job in [model::public_job(v), model::config_job_info(v)]
            .into_iter()
            .flatten()
            .chain(model::public_jobs(v).into_iter().flatten())
            .chain(model::config_job_list(v).into_iter().flatten())
        {
            let stats = JobStats::from(&job);
            let _ = serde_json::to_string(&stats).unwrap();
            if let Some(d) = job.duration_secs {
                let _ = humantime::format_duration(std::time::Duration::from_secs(d)).to_string();
            }
        }
        let _ = model::public_connection(v);
        let _ = model::config_connection(v);
        let _ = model::config_health(v);
        let _ = auth::parse_token(v);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_json_never_panics_the_parsers(v in shaped()) {
            every_parser(&v);
            // The same body through the strict parser, and with a key repeated.
            let text = v.to_string();
            let parsed = strict::parse(text.as_bytes());
            prop_assert!(parsed.is_ok(), "{text}");
            if let Some(rest) = text.strip_prefix("{\"") {
                let doubled = format!("{{\"status\":1,\"status\":2,\"{rest}");
                prop_assert!(matches!(strict::parse(doubled.as_bytes()), Err(strict::StrictError::DuplicateKey(_))));
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic_the_parsers(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            if let Ok(v) = strict::parse(&bytes) {
                every_parser(&v);
            }
            let s = String::from_utf8_lossy(&bytes);
            let _ = model::parse_iso_time(&s);
            let _ = model::parse_iso_duration(&s);
            let _ = retry::parse_retry_after(&s, std::time::SystemTime::now());
        }

        #[test]
        fn arbitrary_strings_never_panic_the_field_parsers(s in text(), n in any::<i64>()) {
            let _ = model::parse_iso_time(&s);
            let _ = model::parse_iso_duration(&s);
            let _ = retry::parse_retry_after(&s, std::time::SystemTime::UNIX_EPOCH);
            let _ = retry::parse_http_date(&format!("Sun, 06 Nov {n} 08:49:37 GMT"));
            let _ = model::format_epoch(n);
        }
    }

    #[test]
    fn regression_huge_years_and_offsets_do_not_overflow() {
        assert_eq!(model::parse_iso_time("99999999999999-01-01T00:00Z"), None);
        assert_eq!(
            model::parse_iso_time("2024-05-01T12:00+99999999999999999:00"),
            None
        );
        assert_eq!(
            retry::parse_http_date("Sun, 06 Nov 9223372036854775807 08:49:37 GMT"),
            None
        );
        assert_eq!(model::format_epoch(i64::MAX), i64::MAX.to_string());
        let v = serde_json::json!({"job": {"id": 1, "configType": "sync", "configId": "c",
            "createdAt": 0, "updatedAt": i64::MAX, "status": "succeeded"},
            "attempts": [{"attempt": {"totalStats": {"recordsCommitted": u64::MAX}}},
                         {"attempt": {"totalStats": {"recordsCommitted": u64::MAX}}}]});
        let job = model::config_job_info(&v).unwrap();
        assert_eq!(job.records, Some(u64::MAX));
        let _ = JobStats::from(&job);
    }
}

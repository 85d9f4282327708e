//! The client's request path against wiremock: health, retries of 5xx and network errors,
//! `Retry-After` (seconds and dates, on the injected clock), 4xx never retried, field-by-field
//! validation, and `Client::get_json` with the same auth, retries, caps and redaction.

use super::*;

#[tokio::test(start_paused = true)]
async fn health_public_is_plain_text_and_config_is_json() {
    let server = MockServer::start().await;
    scenario(
        &server,
        [
            (
                "GET",
                &format!("{PUB}/health"),
                ALWAYS,
                ResponseTemplate::new(200).set_body_string("Successful operation"),
            ),
            (
                "GET",
                &format!("{CFG}/health"),
                1,
                json(200, r#"{"available":true}"#),
            ),
            (
                "GET",
                &format!("{CFG}/health"),
                1,
                json(200, r#"{"available":false}"#),
            ),
        ],
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
    scenario(
        &server,
        [
            ("GET", &p, 1, json(503, r#"{"status":503,"type":"https://reference.airbyte.com/reference/errors#unexpected-problem","title":"unexpected-problem","detail":"An unexpected problem has occurred."}"#)),
            ("GET", &p, 1, ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>")),
            ("GET", &p, ALWAYS, json(200, &public_job(42, "running", "sync", ORDERS))),
        ],
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
    scenario(
        &server,
        [
            ("GET", &format!("{PUB}/jobs/42"), ALWAYS, json(500, r#"{"status":500,"type":"https://reference.airbyte.com/reference/errors#unexpected-problem","title":"unexpected-problem","detail":"An unexpected problem has occurred."}"#)),
        ],
    )
    .await;
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
    scenario(
        &server,
        [
            (
                "GET",
                &p,
                1,
                json(429, r#"{"message":"Too many requests"}"#).insert_header("Retry-After", "7"),
            ),
            (
                "GET",
                &p,
                ALWAYS,
                json(200, &public_job(42, "running", "sync", ORDERS)),
            ),
        ],
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
    scenario(
        &server,
        [
            (
                "GET",
                &p,
                1,
                json(429, "{}").insert_header("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT"),
            ),
            (
                "GET",
                &p,
                1,
                json(200, &public_job(42, "running", "sync", ORDERS)),
            ),
            (
                "GET",
                &p,
                ALWAYS,
                json(429, "{}").insert_header("Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT"),
            ),
        ],
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
    scenario(
        &server,
        [
            (
                "GET",
                &p,
                1,
                json(429, "{}").insert_header("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT"),
            ),
            (
                "GET",
                &p,
                ALWAYS,
                json(200, &public_job(42, "running", "sync", ORDERS)),
            ),
        ],
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
    scenario(
        &server,
        [
            ("GET", &format!("{PUB}/connections/{ORDERS}"), ALWAYS, json(404, &format!(r#"{{"status":404,"type":"https://reference.airbyte.com/reference/errors#resource-not-found","title":"resource-not-found","detail":"Could not find a resource for: {ORDERS}","data":{{"resourceId":"{ORDERS}"}}}}"#))),
            ("POST", &format!("{PUB}/jobs"), ALWAYS, json(422, r#"{"status":422,"type":"https://reference.airbyte.com/reference/errors#unprocessable-entity","title":"unprocessable-entity","detail":"Refreshes are not supported in the public API"}"#)),
        ],
    )
    .await;
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
    scenario(
        &server,
        [
            ("GET", &p, 1, json(200, r#"{"jobId":42,"status":"runn"#)),
            (
                "GET",
                &p,
                ALWAYS,
                json(200, &public_job(42, "succeeded", "sync", ORDERS)),
            ),
        ],
    )
    .await;
    let job = client(&server).job(42).await.unwrap();
    assert_eq!(job.status, JobStatus::Succeeded);
    assert_eq!(log(&server).await, vec!["GET /api/public/v1/jobs/42"; 2]);
}

#[tokio::test(start_paused = true)]
async fn responses_are_validated_field_by_field() {
    let server = MockServer::start().await;
    scenario(
        &server,
        [
            ("GET", &format!("{PUB}/jobs/1"), ALWAYS, json(200, &format!(r#"{{"jobId":1,"status":"paused","jobType":"sync","startTime":"2024-05-01T12:34Z","connectionId":"{ORDERS}"}}"#))),
            ("GET", &format!("{PUB}/jobs/2"), ALWAYS, json(
            200,
            &format!(
                r#"{{"jobId":2,"status":"running","jobType":"sync","connectionId":"{ORDERS}"}}"#
            ),
        )),
            ("GET", &format!("{PUB}/jobs/3"), ALWAYS, json(200, &format!(r#"{{"jobId":3,"status":"running","jobType":"sync","startTime":"May 1st","connectionId":"{ORDERS}"}}"#))),
            ("GET", &format!("{PUB}/jobs/4"), ALWAYS, json(200, &public_job(5, "running", "sync", ORDERS))),
        ],
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
    scenario(
        &server,
        [(
            "POST",
            &format!("{PUB}/jobs"),
            ALWAYS,
            json(200, &public_job(9, "pending", "sync", ORDERS)),
        )],
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

#[tokio::test(start_paused = true)]
async fn get_json_reads_with_auth_retries_and_an_encoded_query() {
    let server = MockServer::start().await;
    scenario(
        &server,
        [(
            "POST",
            &format!("{PUB}/applications/token"),
            ALWAYS,
            json(
                200,
                r#"{"access_token":"tok-1","token_type":"Bearer","expires_in":180}"#,
            ),
        )],
    )
    .await;
    let p = format!("{PUB}/workspaces");
    scenario(&server, [("GET", &p, 1, json(503, "{}"))]).await;
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
    scenario(
        &server,
        [
            (
                "GET",
                &format!("{PUB}/sources"),
                ALWAYS,
                redirect(302, "http://elsewhere.example/sources"),
            ),
            (
                "GET",
                &format!("{PUB}/destinations"),
                ALWAYS,
                json(200, r#"{"data":[],"data":[]}"#),
            ),
            (
                "GET",
                &format!("{PUB}/connections"),
                ALWAYS,
                json(
                    403,
                    r#"{"status":403,"detail":"token bearer-s3cr3t may not list"}"#,
                ),
            ),
        ],
    )
    .await;
    let big = "x".repeat(airguard::conform::client::MAX_RESPONSE_BYTES + 1);
    scenario(
        &server,
        [(
            "GET",
            &format!("{PUB}/streams"),
            ALWAYS,
            ResponseTemplate::new(200).set_body_string(big),
        )],
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

//! Hostile servers: redirects refused, echoed credentials redacted, jobs of other connections,
//! oversized and endless bodies, odd tokens and statuses, step timeouts over retries, and control
//! characters escaped. Each test is a regression test of a fixed bug.

use super::*;

/// `POST /jobs` starts pending sync job 42 of orders; `GET /jobs/42` answers `poll`.
async fn job_42_polled_as(server: &MockServer, poll: &str) {
    scenario(
        server,
        [
            (
                "POST",
                &format!("{PUB}/jobs"),
                ALWAYS,
                json(200, &public_job(42, "pending", "sync", ORDERS)),
            ),
            ("GET", &format!("{PUB}/jobs/42"), ALWAYS, json(200, poll)),
        ],
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn regression_token_redirect_is_refused() {
    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    scenario(
        &server,
        [(
            "POST",
            &format!("{PUB}/applications/token"),
            ALWAYS,
            redirect(307, &format!("{}/steal/token", elsewhere.uri())),
        )],
    )
    .await;
    scenario(
        &elsewhere,
        [
            (
                "POST",
                "/steal/token",
                ALWAYS,
                json(200, r#"{"access_token":"tok-x","token_type":"Bearer"}"#),
            ),
            (
                "GET",
                &format!("{PUB}/jobs/1"),
                ALWAYS,
                json(200, &public_job(1, "running", "sync", ORDERS)),
            ),
        ],
    )
    .await;
    scenario(
        &server,
        [(
            "GET",
            &format!("{PUB}/jobs/1"),
            ALWAYS,
            json(200, &public_job(1, "running", "sync", ORDERS)),
        )],
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
    scenario(
        &server,
        [(
            "POST",
            &format!("{PUB}/jobs"),
            ALWAYS,
            redirect(302, &format!("{}{PUB}/jobs/9", elsewhere.uri())),
        )],
    )
    .await;
    scenario(
        &elsewhere,
        [(
            "GET",
            &format!("{PUB}/jobs/9"),
            ALWAYS,
            json(200, &public_job(9, "succeeded", "sync", ORDERS)),
        )],
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
    scenario(
        &server,
        [
            ("POST", &format!("{PUB}/applications/token"), ALWAYS, json(
            200,
            r#"{"access_token":"tok-echoed-back","token_type":"Bearer","expires_in":900}"#,
        )),
            // 422 echoes the token and the client secret (raw and form-encoded).
            ("POST", &format!("{PUB}/jobs"), ALWAYS, json(422, r#"{"status":422,"title":"unprocessable","detail":"Bearer tok-echoed-back rejected; client_secret=s3cr3t-value&x; raw s3cr3t-value"}"#)),
            // 500 (retried, then given up) echoes them on a read.
            ("GET", &format!("{PUB}/connections/{ORDERS}"), ALWAYS, json(
            500,
            r#"{"message":"boom: Authorization: Bearer tok-echoed-back, secret s3cr3t-value"}"#,
        )),
        ],
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
    scenario(
        &server,
        [
            ("GET", &format!("{PUB}/connections/{ORDERS}"), ALWAYS, json(401, r#"{"status":401,"title":"unauthorized","detail":"bad password pw-Hunter2 in Basic YWlyYnl0ZTpwdy1IdW50ZXIy"}"#)),
        ],
    )
    .await;
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
    scenario(
        &server,
        [
            (
                "POST",
                &format!("{PUB}/applications/token"),
                ALWAYS,
                json(
                    200,
                    r#"{"access_token":"tok-cli","token_type":"Bearer","expires_in":900}"#,
                ),
            ),
            // The error body echoes the URL password.
            (
                "POST",
                &format!("{PUB}/jobs"),
                ALWAYS,
                json(
                    400,
                    r#"{"status":400,"title":"bad-request","detail":"who is u:Url-Pa55word?"}"#,
                ),
            ),
        ],
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
    scenario(
        &server,
        [
            (
                "POST",
                &format!("{CFG}/connections/sync"),
                ALWAYS,
                json(200, &job(ORDERS, "running")),
            ),
            (
                "POST",
                &format!("{CFG}/jobs/get_without_logs"),
                ALWAYS,
                json(200, &job(CUSTOMERS, "succeeded")),
            ),
        ],
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
    scenario(
        &server,
        [(
            "GET",
            &format!("{PUB}/health"),
            ALWAYS,
            ResponseTemplate::new(200).set_body_string(big),
        )],
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
    scenario(
        &server,
        [
            (
                "POST",
                &format!("{PUB}/applications/token"),
                ALWAYS,
                json(
                    200,
                    r#"{"access_token":"tok-1","token_type":"Bearer","expires_in":1e30}"#,
                ),
            ),
            (
                "GET",
                &format!("{PUB}/jobs/1"),
                ALWAYS,
                json(200, &public_job(1, "running", "sync", ORDERS)),
            ),
        ],
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
    scenario(
        &server,
        [
            (
                "POST",
                &format!("{PUB}/jobs"),
                ALWAYS,
                json(503, r#"{"status":503,"title":"unavailable"}"#)
                    .insert_header("retry-after", "5"),
            ),
            (
                "GET",
                &format!("{PUB}/jobs"),
                ALWAYS,
                json(200, r#"{"data":[]}"#),
            ),
        ],
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
    scenario(
        &server,
        [
            ("POST", &format!("{PUB}/jobs"), ALWAYS, json(409, CONFLICT)),
            (
                "GET",
                &format!("{PUB}/jobs"),
                ALWAYS,
                json(200, r#"{"data":[]}"#).set_delay(Duration::from_secs(600)),
            ),
        ],
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
    scenario(
        &server,
        [
            ("POST", &format!("{PUB}/jobs"), ALWAYS, json(400, r#"{"status":400,"title":"bad","detail":"\u001b[2J\u001b]0;pwned\u0007 line\u2028two\u0085 \u0000 \u202e"}"#)),
        ],
    )
    .await;
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

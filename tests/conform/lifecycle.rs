//! The runner's sync lifecycle: waiting with backoff, stats, `on_running` policies after a 409,
//! fail-closed terminal states, min-records, and reset/clear job types.

use super::*;

#[tokio::test(start_paused = true)]
async fn sync_waits_with_backoff_and_reports_stats() {
    let server = MockServer::start().await;
    scenario(
        &server,
        [(
            "POST",
            &format!("{PUB}/jobs"),
            ALWAYS,
            json(200, &public_job(42, "pending", "sync", ORDERS)),
        )],
    )
    .await;
    let p = format!("{PUB}/jobs/42");
    scenario(
        &server,
        [
            (
                "GET",
                &p,
                1,
                json(200, &public_job(42, "pending", "sync", ORDERS)),
            ),
            (
                "GET",
                &p,
                2,
                json(200, &public_job(42, "running", "sync", ORDERS)),
            ),
            (
                "GET",
                &p,
                1,
                json(200, &public_job(42, "incomplete", "sync", ORDERS)),
            ),
            (
                "GET",
                &p,
                ALWAYS,
                json(200, &public_job(42, "succeeded", "sync", ORDERS)),
            ),
        ],
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
    scenario(
        &server,
        [
            ("POST", &format!("{PUB}/jobs"), ALWAYS, json(409, CONFLICT)),
            (
                "GET",
                &format!("{PUB}/jobs"),
                ALWAYS,
                json(
                    200,
                    &job_list(&[
                        public_job(41, "running", "sync", ORDERS),
                        public_job(40, "succeeded", "sync", ORDERS),
                    ]),
                ),
            ),
            (
                "GET",
                &format!("{PUB}/jobs/41"),
                ALWAYS,
                json(200, &public_job(41, "succeeded", "sync", ORDERS)),
            ),
        ],
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
    scenario(
        &server,
        [
            ("POST", &format!("{PUB}/jobs"), ALWAYS, json(409, CONFLICT)),
            (
                "GET",
                &format!("{PUB}/jobs"),
                ALWAYS,
                json(
                    200,
                    &job_list(&[public_job(40, "succeeded", "sync", ORDERS)]),
                ),
            ),
        ],
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
    scenario(
        &server,
        [("POST", &format!("{PUB}/jobs"), ALWAYS, json(409, CONFLICT))],
    )
    .await;
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
async fn unknown_and_non_success_terminal_states_fail_closed() {
    let server = MockServer::start().await;
    scenario(
        &server,
        [
            ("POST", &format!("{PUB}/jobs"), ALWAYS, json(200, &public_job(42, "pending", "sync", ORDERS))),
            ("GET", &format!("{PUB}/jobs/42"), 1, json(200, &format!(r#"{{"jobId":42,"status":"paused","jobType":"sync","startTime":"2024-05-01T12:34Z","connectionId":"{ORDERS}"}}"#))),
        ],
    )
    .await;
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
    scenario(
        &server,
        [(
            "GET",
            &format!("{PUB}/jobs/42"),
            ALWAYS,
            json(200, &public_job(42, "cancelled", "sync", ORDERS)),
        )],
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
    scenario(
        &server,
        [
            (
                "POST",
                &format!("{PUB}/jobs"),
                ALWAYS,
                json(200, &public_job(42, "pending", "sync", ORDERS)),
            ),
            ("GET", &format!("{PUB}/jobs/42"), ALWAYS, json(200, &zero)),
        ],
    )
    .await;
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
    scenario(
        &server,
        [
            (
                "POST",
                &format!("{PUB}/jobs"),
                1,
                json(200, &public_job(50, "pending", "reset", ORDERS)),
            ),
            (
                "POST",
                &format!("{PUB}/jobs"),
                1,
                json(200, &public_job(51, "pending", "reset", ORDERS)),
            ),
            (
                "GET",
                &format!("{PUB}/jobs/50"),
                ALWAYS,
                json(200, &public_job(50, "succeeded", "reset", ORDERS)),
            ),
            (
                "GET",
                &format!("{PUB}/jobs/51"),
                ALWAYS,
                json(200, &public_job(51, "running", "sync", ORDERS)),
            ),
        ],
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

//! Lost trigger responses: the client lists the connection's jobs and attaches to the job its
//! trigger started (running, or created since it was sent) before ever re-sending a trigger.

use super::*;

#[tokio::test(start_paused = true)]
async fn lost_sync_response_attaches_to_the_running_job() {
    let server = MockServer::start().await;
    scenario(
        &server,
        [
            (
                "POST",
                &format!("{PUB}/jobs"),
                ALWAYS,
                json(200, r#"{"jobId":77,"status":"pen"#),
            ),
            (
                "GET",
                &format!("{PUB}/jobs"),
                ALWAYS,
                json(
                    200,
                    &job_list(&[
                        public_job(77, "running", "sync", ORDERS),
                        public_job(70, "succeeded", "sync", ORDERS),
                    ]),
                ),
            ),
        ],
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
    scenario(
        &server,
        [
            ("POST", &format!("{PUB}/jobs"), 1, json(500, r#"{"status":500,"type":"https://reference.airbyte.com/reference/errors#unexpected-problem","title":"unexpected-problem","detail":"An unexpected problem has occurred."}"#)),
            ("POST", &format!("{PUB}/jobs"), ALWAYS, json(200, &public_job(78, "pending", "sync", ORDERS))),
            ("GET", &format!("{PUB}/jobs"), ALWAYS, json(
            200,
            &job_list(&[public_job(70, "succeeded", "sync", ORDERS)]),
        )),
        ],
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
    scenario(
        &server,
        [
            (
                "POST",
                &format!("{PUB}/jobs"),
                ALWAYS,
                json(200, r#"{"jobId":80,"status":"pend"#),
            ),
            // A clear creates a `reset` job, so the listing is not filtered by job type on the server.
            (
                "GET",
                &format!("{PUB}/jobs"),
                ALWAYS,
                json(
                    200,
                    &job_list(&[
                        public_job(81, "running", "sync", ORDERS),
                        public_job(80, "running", "reset", ORDERS),
                    ]),
                ),
            ),
        ],
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
    scenario(
        &server,
        [
            (
                "POST",
                &format!("{PUB}/jobs"),
                ALWAYS,
                json(200, r#"{"jobId":77,"status":"pen"#),
            ),
            // Job 77 was created at 12:34:00, within a second of the trigger (sent at 12:34:01), and
            // finished before the listing.
            (
                "GET",
                &format!("{PUB}/jobs"),
                ALWAYS,
                json(
                    200,
                    &job_list(&[public_job(77, "succeeded", "sync", ORDERS)]),
                ),
            ),
        ],
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
    scenario(
        &server,
        [
            (
                "POST",
                &format!("{PUB}/jobs"),
                1,
                json(200, r#"{"jobId":77,"status":"pen"#),
            ),
            (
                "POST",
                &format!("{PUB}/jobs"),
                ALWAYS,
                json(200, &public_job(78, "pending", "sync", ORDERS)),
            ),
            (
                "GET",
                &format!("{PUB}/jobs"),
                ALWAYS,
                json(
                    200,
                    &job_list(&[public_job(77, "succeeded", "sync", ORDERS)]),
                ),
            ),
        ],
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
    scenario(
        &server,
        [
            ("POST", &format!("{CFG}/connections/sync"), ALWAYS, json(500, r#"{"message":"Internal Server Error: Can only sync an active connection","exceptionClassName":"java.lang.IllegalStateException"}"#)),
            ("POST", &format!("{CFG}/jobs/list"), ALWAYS, json(200, r#"{"jobs":[],"totalJobCount":0}"#)),
        ],
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
    scenario(
        &server,
        [
            (
                "POST",
                &format!("{PUB}/jobs"),
                ALWAYS,
                json(200, &public_job(79, "pending", "sync", ORDERS))
                    .set_delay(Duration::from_secs(5)),
            ),
            (
                "GET",
                &format!("{PUB}/jobs"),
                ALWAYS,
                json(200, &job_list(&[public_job(79, "running", "sync", ORDERS)])),
            ),
        ],
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

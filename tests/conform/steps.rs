//! Step orchestration: chained and conditional steps, connection and health checks, and
//! pipelines sharing a connection running in spec order while others run concurrently.

use super::*;

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
    scenario(
        &server,
        [
            (
                "POST",
                &format!("{PUB}/jobs"),
                ALWAYS,
                json(200, &public_job(61, "pending", "sync", CUSTOMERS)),
            ),
            (
                "GET",
                &format!("{PUB}/jobs/60"),
                1,
                json(200, &public_job(60, "failed", "sync", ORDERS)),
            ),
            (
                "GET",
                &format!("{PUB}/jobs/60"),
                ALWAYS,
                json(200, &public_job(60, "succeeded", "sync", ORDERS)),
            ),
            (
                "GET",
                &format!("{PUB}/jobs/61"),
                ALWAYS,
                json(200, &public_job(61, "succeeded", "sync", CUSTOMERS)),
            ),
        ],
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
    scenario(
        &server,
        [
            ("GET", &format!("{PUB}/jobs"), ALWAYS, json(200, &last)),
            (
                "POST",
                &format!("{PUB}/jobs"),
                ALWAYS,
                json(200, &public_job(62, "pending", "sync", CUSTOMERS)),
            ),
            (
                "GET",
                &format!("{PUB}/jobs/62"),
                ALWAYS,
                json(200, &public_job(62, "succeeded", "sync", CUSTOMERS)),
            ),
        ],
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
    let conn = |id: &str, status: &str| {
        format!(
            r#"{{"connectionId":"{id}","name":"Orders → Warehouse","sourceId":"9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f","destinationId":"1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d","workspaceId":"00000000-0000-0000-0000-000000000000","status":"{status}","schedule":{{"scheduleType":"manual"}},"dataResidency":"auto","nonBreakingSchemaUpdatesBehavior":"ignore","namespaceDefinition":"destination","configurations":{{"streams":[]}},"createdAt":1714566840,"tags":[]}}"#
        )
    };
    scenario(
        &server,
        [
            (
                "GET",
                &format!("{PUB}/connections/{ORDERS}"),
                ALWAYS,
                json(200, &conn(ORDERS, "active")),
            ),
            (
                "GET",
                &format!("{PUB}/connections/{CUSTOMERS}"),
                ALWAYS,
                json(200, &conn(CUSTOMERS, "inactive")),
            ),
        ],
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
        scenario(
            &server,
            [
                (
                    "GET",
                    &format!("{PUB}/jobs/{id}"),
                    1,
                    json(200, &public_job(id, "running", "sync", conn)),
                ),
                (
                    "GET",
                    &format!("{PUB}/jobs/{id}"),
                    ALWAYS,
                    json(200, &public_job(id, "succeeded", "sync", conn)),
                ),
            ],
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

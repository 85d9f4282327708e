//! Step deadlines: cancel, confirm the job ended, catch a replacement job, and bound every call
//! (some of these run in real time with short timeouts, as paused time cannot bound a hung poll).

use super::*;

#[tokio::test(start_paused = true)]
async fn deadline_cancels_confirms_and_catches_a_replacement_job() {
    let server = MockServer::start().await;
    scenario(
        &server,
        [
            (
                "POST",
                &format!("{PUB}/jobs"),
                ALWAYS,
                json(200, &public_job(42, "pending", "sync", ORDERS)),
            ),
            (
                "GET",
                &format!("{PUB}/jobs/42"),
                3,
                json(200, &public_job(42, "running", "sync", ORDERS)),
            ),
            (
                "GET",
                &format!("{PUB}/jobs/42"),
                ALWAYS,
                json(200, &public_job(42, "cancelled", "sync", ORDERS)),
            ),
            (
                "DELETE",
                &format!("{PUB}/jobs/42"),
                ALWAYS,
                json(200, &public_job(42, "running", "sync", ORDERS)),
            ),
            (
                "GET",
                &format!("{PUB}/jobs"),
                ALWAYS,
                json(
                    200,
                    &job_list(&[
                        public_job(43, "pending", "sync", ORDERS),
                        public_job(42, "cancelled", "sync", ORDERS),
                    ]),
                ),
            ),
            (
                "DELETE",
                &format!("{PUB}/jobs/43"),
                ALWAYS,
                json(200, &public_job(43, "cancelled", "sync", ORDERS)),
            ),
        ],
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
    scenario(
        &server,
        [
            ("POST", &format!("{PUB}/jobs"), ALWAYS, json(200, &public_job(42, "pending", "sync", ORDERS))),
            ("GET", &format!("{PUB}/jobs/42"), ALWAYS, json(200, &public_job(42, "running", "sync", ORDERS))),
            ("DELETE", &format!("{PUB}/jobs/42"), ALWAYS, json(409, r#"{"status":409,"type":"https://reference.airbyte.com/reference/errors#state-conflict","title":"state-conflict","detail":"State conflict","data":{"message":"Job is not currently running"}}"#)),
            ("GET", &format!("{PUB}/jobs"), ALWAYS, json(
            200,
            &job_list(&[public_job(42, "running", "sync", ORDERS)]),
        )),
        ],
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
    scenario(
        &server,
        [
            (
                "POST",
                &format!("{PUB}/jobs"),
                ALWAYS,
                json(200, &public_job(42, "pending", "sync", ORDERS)),
            ),
            (
                "GET",
                &format!("{PUB}/jobs/42"),
                1,
                json(200, &public_job(42, "running", "sync", ORDERS)),
            ),
            // The next poll hangs far beyond the deadline (and the 30 s request timeout).
            (
                "GET",
                &format!("{PUB}/jobs/42"),
                ALWAYS,
                json(200, &public_job(42, "running", "sync", ORDERS))
                    .set_delay(Duration::from_secs(600)),
            ),
            (
                "DELETE",
                &format!("{PUB}/jobs/42"),
                ALWAYS,
                json(200, &public_job(42, "cancelled", "sync", ORDERS)),
            ),
            (
                "GET",
                &format!("{PUB}/jobs"),
                ALWAYS,
                json(
                    200,
                    &job_list(&[public_job(42, "cancelled", "sync", ORDERS)]),
                ),
            ),
        ],
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
    // Failed at the deadline, not after the hung request's timeout and retries (30 s and more):
    // the message above names the deadline, and the wait case ended well before the first
    // request timeout could have fired. No lower bound: how long the trigger took under load
    // (the deadline counts from the step's start) is not what this test is about.
    let took = wait_ms(&r);
    assert!(took < 25_000, "{took} ms");
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
    scenario(
        &server,
        [
            (
                "POST",
                &format!("{PUB}/jobs"),
                ALWAYS,
                json(200, &public_job(42, "pending", "sync", ORDERS)),
            ),
            (
                "GET",
                &format!("{PUB}/jobs/42"),
                ALWAYS,
                json(200, &public_job(42, "running", "sync", ORDERS)),
            ),
            (
                "DELETE",
                &format!("{PUB}/jobs/42"),
                ALWAYS,
                json(200, &public_job(42, "cancelled", "sync", ORDERS))
                    .set_delay(Duration::from_secs(600)),
            ),
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

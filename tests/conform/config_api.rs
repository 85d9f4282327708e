//! The Config API flavour (`/api/v1`, POST + JSON): a sync with attempts, a 409 and the job list.

use super::*;

fn config_job(id: i64, status: &str, config_type: &str, attempts: &str) -> String {
    format!(
        r#"{{"job":{{"id":{id},"configType":"{config_type}","configId":"{ORDERS}","enabledStreams":[{{"name":"orders"}}],"createdAt":1714566840,"updatedAt":1714567332,"startedAt":1714566841,"status":"{status}"}},"attempts":[{attempts}]}}"#
    )
}

const ATTEMPTS: &str = r#"{"attempt":{"id":0,"status":"failed","createdAt":1714566841,"updatedAt":1714567000,"endedAt":1714567000,"totalStats":{"recordsEmitted":400,"bytesEmitted":4000,"recordsCommitted":400,"bytesCommitted":4000},"failureSummary":{"failures":[{"failureOrigin":"source","timestamp":1714567000000}],"partialSuccess":true}},"logType":"formatted"},{"attempt":{"id":1,"status":"succeeded","createdAt":1714567001,"updatedAt":1714567332,"endedAt":1714567332,"totalStats":{"recordsEmitted":600,"bytesEmitted":6000,"recordsCommitted":600,"bytesCommitted":6000}},"logType":"formatted"}"#;

#[tokio::test(start_paused = true)]
async fn config_api_sync_with_attempts() {
    let server = MockServer::start().await;
    scenario(
        &server,
        [
            ("GET", &format!("{CFG}/health"), ALWAYS, json(200, r#"{"available":true}"#)),
            ("POST", &format!("{CFG}/connections/sync"), ALWAYS, json(200, &config_job(7, "pending", "sync", ""))),
            ("POST", &format!("{CFG}/jobs/get_without_logs"), 1, json(200, &config_job(7, "incomplete", "sync", r#"{"attempt":{"id":0,"status":"failed","createdAt":1714566841,"updatedAt":1714567000}}"#))),
            ("POST", &format!("{CFG}/jobs/get_without_logs"), ALWAYS, json(200, &config_job(7, "succeeded", "sync", ATTEMPTS))),
        ],
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
    scenario(
        &server,
        [
            ("POST", &format!("{CFG}/connections/sync"), ALWAYS, json(409, &format!(r#"{{"message":"A sync is already running for: {ORDERS}","exceptionClassName":"io.airbyte.commons.server.errors.ValueConflictKnownException"}}"#))),
        ],
    )
    .await;
    let list = format!(
        r#"{{"jobs":[{{"job":{{"id":8,"configType":"sync","configId":"{ORDERS}","createdAt":1714566840,"updatedAt":1714566900,"status":"running"}},"attempts":[{{"id":0,"status":"running","createdAt":1714566841,"updatedAt":1714566900}}]}}],"totalJobCount":1}}"#
    );
    scenario(
        &server,
        [
            (
                "POST",
                &format!("{CFG}/jobs/list"),
                ALWAYS,
                json(200, &list),
            ),
            (
                "POST",
                &format!("{CFG}/jobs/get_without_logs"),
                ALWAYS,
                json(200, &config_job(8, "succeeded", "sync", ATTEMPTS)),
            ),
        ],
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

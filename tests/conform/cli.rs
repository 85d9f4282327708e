//! `airguard conform` end to end through the binary: reports written, exit codes 0, 1 and 2,
//! log colours, and secrets never printed.

use super::*;

const EX_ORDERS: &str = "7c2b1f4e-3a5d-4c8e-9f10-2b3c4d5e6f70";
const EX_CUSTOMERS: &str = "0d6e8a2c-1b3f-4e5a-8c7d-9e0f1a2b3c4d";

/// A server for the example spec's `chained` pipeline: token, then a sync of each connection.
async fn example_server(orders_records: u64) -> MockServer {
    let server = MockServer::start().await;
    scenario(
        &server,
        [(
            "POST",
            &format!("{PUB}/applications/token"),
            ALWAYS,
            json(
                200,
                r#"{"access_token":"tok-cli","token_type":"Bearer","expires_in":900}"#,
            ),
        )],
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
        scenario(
            &server,
            [
                ("GET", &format!("{PUB}/jobs/{id}"), ALWAYS, json(200, &format!(r#"{{"jobId":{id},"status":"succeeded","jobType":"sync","startTime":"2024-05-01T12:34Z","connectionId":"{conn}","lastUpdatedAt":"2024-05-01T12:35:02Z","duration":"PT1M2S","bytesSynced":4096,"rowsSynced":{records}}}"#))),
            ],
        )
        .await;
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
    scenario(
        &server,
        [
            ("POST", &format!("{PUB}/applications/token"), ALWAYS, json(
            200,
            r#"{"access_token":"tok-cli","token_type":"Bearer","expires_in":900}"#,
        )),
            ("POST", &format!("{PUB}/jobs"), ALWAYS, json(400, r#"{"status":400,"type":"https://reference.airbyte.com/reference/errors#bad-request","title":"bad-request","detail":"The request could not be understood by the server due to malformed syntax."}"#)),
        ],
    )
    .await;
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

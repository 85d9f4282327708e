//! The mock Airbyte server, over real HTTP: every response body validates against the response
//! schema of its operation in the real OpenAPI files (`schemas/upstream/airbyte/`), the job
//! state machine walks the real statuses, and each fault fixture in `fixtures/mock/` does what
//! it says. Time is paused tokio time, so nothing here waits on the wall clock.

use crate::util;
use airguard::mock::{self, MockAuth, MockConfig, Scenario};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

// ---- the oracle: the real OpenAPI documents ---------------------------------------------------

struct Oracle {
    api: Value,
    config: Value,
    problems: Value,
}

fn load_yaml(rel: &str) -> Value {
    let path = util::upstream(rel);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

static ORACLE: LazyLock<Oracle> = LazyLock::new(|| Oracle {
    api: load_yaml("airbyte/api.yaml"),
    config: load_yaml("airbyte/config.yaml"),
    problems: load_yaml("airbyte/api-problems.yaml"),
});

#[derive(Clone, Copy)]
pub(crate) enum Doc {
    Api,
    Config,
    Problems,
}

/// Make every object schema that lists `properties` closed (`unevaluatedProperties: false`), so
/// a field the real schema does not declare (`id` instead of `jobId`) fails validation.
fn close(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if o.contains_key("properties")
                && !o.contains_key("additionalProperties")
                && !o.contains_key("unevaluatedProperties")
            {
                o.insert("unevaluatedProperties".into(), Value::Bool(false));
            }
            o.values_mut().for_each(close);
        }
        Value::Array(a) => a.iter_mut().for_each(close),
        _ => {}
    }
}

/// Compiled validators by (document, schema name).
type Validators = Mutex<HashMap<(u8, String), Arc<jsonschema::Validator>>>;

static VALIDATORS: LazyLock<Validators> = LazyLock::new(Default::default);

fn doc_value(doc: Doc) -> &'static Value {
    match doc {
        Doc::Api => &ORACLE.api,
        Doc::Config => &ORACLE.config,
        Doc::Problems => &ORACLE.problems,
    }
}

/// Every error of `body` against `components/schemas/<schema>` of `doc`, with `$ref`s resolved
/// in the whole document and undeclared fields rejected.
pub(crate) fn errors(doc: Doc, schema: &str, body: &Value) -> Vec<String> {
    let validator = VALIDATORS
        .lock()
        .unwrap()
        .entry((doc as u8, schema.to_owned()))
        .or_insert_with(|| {
            let d = doc_value(doc);
            assert!(d["components"]["schemas"].get(schema).is_some(), "no schema {schema}");
            let mut components = d["components"].clone();
            close(&mut components);
            let root = json!({ "$ref": format!("#/components/schemas/{schema}"), "components": components });
            let v = jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .build(&root)
                .unwrap_or_else(|e| panic!("schema {schema}: {e}"));
            Arc::new(v)
        })
        .clone();
    validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Assert that `body` validates against `components/schemas/<schema>` of `doc`.
pub(crate) fn check(doc: Doc, schema: &str, body: &Value) {
    let errors = errors(doc, schema, body);
    assert!(
        errors.is_empty(),
        "{schema} rejects {body:#}:\n{}",
        errors.join("\n")
    );
}

#[test]
fn the_oracle_rejects_what_the_real_server_would_not_send() {
    let good = json!({ "jobId": 1, "status": "running", "jobType": "sync", "startTime": "2024-05-01T12:34Z", "connectionId": "x" });
    assert!(errors(Doc::Api, "JobResponse", &good).is_empty());
    let mut renamed = good.clone();
    renamed.as_object_mut().unwrap().remove("jobId");
    renamed["id"] = json!(1);
    assert!(
        !errors(Doc::Api, "JobResponse", &renamed).is_empty(),
        "`id` is not a JobResponse field"
    );
    let mut bad_enum = good.clone();
    bad_enum["status"] = json!("done");
    assert!(!errors(Doc::Api, "JobResponse", &bad_enum).is_empty());
    let problem =
        json!({ "status": 409, "type": "t", "title": "try-again-later", "data": { "note": "x" } });
    assert!(
        !errors(
            Doc::Problems,
            "TryAgainLaterConflictProblemResponse",
            &problem
        )
        .is_empty(),
        "data.message is required"
    );
}

/// The response schema an operation declares for `status` in the real spec, by path and method.
pub(crate) fn declared_schema(doc: Doc, path: &str, method: &str, status: &str) -> String {
    let d = match doc {
        Doc::Api => &ORACLE.api,
        _ => &ORACLE.config,
    };
    let op = &d["paths"][path][method];
    let resp = &op["responses"][status];
    let resp = match resp.get("$ref").and_then(Value::as_str) {
        Some(r) => &d["components"]["responses"][r.rsplit('/').next().unwrap()],
        None => resp,
    };
    let r = resp["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .unwrap_or_else(|| panic!("{method} {path} declares no JSON schema for {status}"));
    r.rsplit('/').next().unwrap().to_owned()
}

// ---- a client against an in-process mock ------------------------------------------------------

const CONN: &str = "11111111-1111-4111-8111-111111111111";
const UNKNOWN: &str = "99999999-9999-4999-8999-999999999999";

pub(crate) struct Mock {
    server: mock::MockServer,
    http: reqwest::Client,
    token: Option<String>,
}

impl Mock {
    pub(crate) async fn start(scenario: Scenario) -> Self {
        let config = MockConfig {
            scenario,
            auth: MockAuth::default_client_credentials(),
        };
        let server = mock::start("127.0.0.1:0".parse().unwrap(), config)
            .await
            .unwrap();
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        let mut m = Mock {
            server,
            http,
            token: None,
        };
        let (status, body) = m
            .send(
                reqwest::Method::POST,
                "/api/public/v1/applications/token",
                Some(json!({ "client_id": mock::DEFAULT_CLIENT_ID, "client_secret": mock::DEFAULT_CLIENT_SECRET })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        m.token = Some(body["access_token"].as_str().unwrap().to_owned());
        m
    }

    async fn fixture(name: &str) -> Self {
        Self::start(Scenario::from_file(&util::fixture(&format!("mock/{name}.yaml"))).unwrap())
            .await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url())
    }

    async fn raw(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Result<reqwest::Response> {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let resp = self.raw(method, path, body).await.expect("request");
        let status = resp.status();
        let ct = resp
            .headers()
            .get("content-type")
            .map(|h| h.to_str().unwrap().to_owned());
        let bytes = resp.bytes().await.unwrap();
        if bytes.is_empty() {
            return (status, Value::Null);
        }
        assert_eq!(
            ct.as_deref(),
            Some("application/json"),
            "{status} {}",
            String::from_utf8_lossy(&bytes)
        );
        (status, serde_json::from_slice(&bytes).expect("JSON body"))
    }

    pub(crate) async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::DELETE, path, None).await
    }

    async fn create(&self, job_type: &str) -> (StatusCode, Value) {
        self.post(
            "/api/public/v1/jobs",
            json!({ "connectionId": CONN, "jobType": job_type }),
        )
        .await
    }

    async fn job(&self, id: i64) -> Value {
        let (s, b) = self.get(&format!("/api/public/v1/jobs/{id}")).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        check(Doc::Api, "JobResponse", &b);
        b
    }
}

async fn advance(d: Duration) {
    tokio::time::sleep(d).await;
}

fn scenario(yaml: &str) -> Scenario {
    Scenario::from_str("test", yaml).unwrap()
}

fn one_connection() -> Scenario {
    scenario(&format!(
        "connections: [{{ id: {CONN}, name: orders }}, {{ id: 22222222-2222-4222-8222-222222222222, name: customers }}]\njobs: {{ pending: 1s, duration: 4s, records: 10, bytes: 100 }}\n"
    ))
}

// ---- fidelity: public API ---------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn public_api_bodies_validate_against_api_yaml() {
    let m = Mock::start(one_connection()).await;

    // health: plain text, no auth
    let r = m
        .http
        .get(m.url("/api/public/v1/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "Successful operation");

    // token, form body with grant_type, as the SDK sends it
    let r = m
        .http
        .post(m.url("/v1/applications/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", mock::DEFAULT_CLIENT_ID),
            ("client_secret", mock::DEFAULT_CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let t: Value = r.json().await.unwrap();
    assert_eq!(
        declared_schema(Doc::Api, "/applications/token", "post", "200"),
        "PublicAccessTokenResponse"
    );
    check(Doc::Api, "PublicAccessTokenResponse", &t);
    assert_eq!(t["expires_in"], 900);

    // create: 200 JobResponse, pending
    assert_eq!(
        declared_schema(Doc::Api, "/jobs", "post", "200"),
        "JobResponse"
    );
    let (s, job) = m.create("sync").await;
    assert_eq!(s, StatusCode::OK);
    check(Doc::Api, "JobResponse", &job);
    assert_eq!(job["status"], "pending");
    assert!(job.get("duration").is_none() && job.get("lastUpdatedAt").is_none());
    let id = job["jobId"].as_i64().unwrap();

    // second sync: 409 try-again-later
    let (s, p) = m.create("sync").await;
    assert_eq!(s, StatusCode::CONFLICT);
    check(Doc::Problems, "TryAgainLaterConflictProblemResponse", &p);
    assert_eq!(
        p["data"]["message"],
        format!("A sync is already running for: {CONN}")
    );

    // running, then succeeded with stats, through both public prefixes
    advance(Duration::from_secs(2)).await;
    let running = m.job(id).await;
    assert_eq!(running["status"], "running");
    assert!(running.get("lastUpdatedAt").is_none());
    advance(Duration::from_secs(10)).await;
    let (s, done) = m.get(&format!("/v1/jobs/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    check(Doc::Api, "JobResponse", &done);
    assert_eq!(done["status"], "succeeded");
    assert_eq!(
        (done["rowsSynced"].as_u64(), done["bytesSynced"].as_u64()),
        (Some(10), Some(100))
    );
    assert_eq!(done["duration"], "PT5S");
    assert!(done["lastUpdatedAt"].as_str().unwrap().ends_with('Z'));

    // list with paging links
    let (_, second) = m.create("sync").await;
    assert_eq!(
        declared_schema(Doc::Api, "/jobs", "get", "200"),
        "JobsResponse"
    );
    let (s, list) = m
        .get(&format!(
            "/api/public/v1/jobs?connectionId={CONN}&limit=1&offset=1"
        ))
        .await;
    assert_eq!(s, StatusCode::OK);
    check(Doc::Api, "JobsResponse", &list);
    assert_eq!(
        list["data"][0]["jobId"], second["jobId"],
        "default order is createdAt ASC"
    );
    assert!(list["previous"].as_str().unwrap().contains("offset=0"));
    assert!(list.get("next").is_none());
    let (_, list) = m
        .get("/api/public/v1/jobs?orderBy=createdAt|DESC&status=succeeded&jobType=sync")
        .await;
    check(Doc::Api, "JobsResponse", &list);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let since = list["data"][0]["startTime"].as_str().unwrap().to_owned();
    let (s, list) = m
        .get(&format!(
            "/api/public/v1/jobs?createdAtStart={since}&workspaceIds={}",
            mock::body::WORKSPACE_ID
        ))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        2,
        "both jobs were created at or after {since}"
    );
    let (_, list) = m
        .get("/api/public/v1/jobs?createdAtEnd=2001-01-01T00:00:00Z")
        .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 0);
    let (_, list) = m
        .get(&format!("/api/public/v1/jobs?workspaceIds={UNKNOWN}"))
        .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 0);
    let (s, p) = m.get("/api/public/v1/jobs?createdAtStart=yesterday").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    check(Doc::Problems, "BadRequestProblemResponse", &p);

    // cancel: 200 JobResponse cancelled; cancel again: 409 state-conflict
    let second_id = second["jobId"].as_i64().unwrap();
    let (s, c) = m.delete(&format!("/api/public/v1/jobs/{second_id}")).await;
    assert_eq!(s, StatusCode::OK);
    check(Doc::Api, "JobResponse", &c);
    assert_eq!(c["status"], "cancelled");
    let (s, p) = m.delete(&format!("/api/public/v1/jobs/{second_id}")).await;
    assert_eq!(s, StatusCode::CONFLICT);
    check(Doc::Problems, "StateConflictProblemResponse", &p);

    // reset and clear: reset jobs
    for kind in ["reset", "clear"] {
        let (s, r) = m.create(kind).await;
        assert_eq!(s, StatusCode::OK);
        check(Doc::Api, "JobResponse", &r);
        assert_eq!(r["jobType"], "reset");
    }

    // connections
    assert_eq!(
        declared_schema(Doc::Api, "/connections/{connectionId}", "get", "200"),
        "ConnectionResponse"
    );
    let (s, c) = m.get(&format!("/api/public/v1/connections/{CONN}")).await;
    assert_eq!(s, StatusCode::OK);
    check(Doc::Api, "ConnectionResponse", &c);
    assert_eq!(c["status"], "active");
    let (s, cs) = m.get("/api/public/v1/connections?limit=1").await;
    assert_eq!(s, StatusCode::OK);
    check(Doc::Api, "ConnectionsResponse", &cs);
    assert!(cs["next"].as_str().unwrap().contains("offset=1"));

    // errors
    let (s, p) = m
        .get(&format!("/api/public/v1/connections/{UNKNOWN}"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    check(Doc::Problems, "ResourceNotFoundProblemResponse", &p);
    let (s, p) = m
        .post(
            "/api/public/v1/jobs",
            json!({ "connectionId": UNKNOWN, "jobType": "sync" }),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    check(Doc::Problems, "ResourceNotFoundProblemResponse", &p);
    let (s, p) = m.create("refresh").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    check(Doc::Problems, "UnprocessableEntityProblemResponse", &p);
    let (s, p) = m
        .post("/api/public/v1/jobs", json!({ "jobType": "sync" }))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    check(Doc::Problems, "UnprocessableEntityProblemResponse", &p);
    let (s, p) = m.get("/api/public/v1/jobs/424242").await;
    assert_eq!(s, StatusCode::CONFLICT);
    check(Doc::Problems, "StateConflictProblemResponse", &p);
    let (s, p) = m.get("/api/public/v1/jobs?limit=0").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    check(Doc::Problems, "BadRequestProblemResponse", &p);
    let (s, p) = m.get("/api/public/v1/jobs?orderBy=nonsense").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    check(Doc::Problems, "BadRequestProblemResponse", &p);
    let r = m
        .http
        .get(m.url("/api/public/v1/jobs/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    check(
        Doc::Problems,
        "InvalidApiKeyProblemResponse",
        &r.json().await.unwrap(),
    );
    let r = m
        .http
        .post(m.url("/api/public/v1/applications/token"))
        .json(&json!({ "client_id": mock::DEFAULT_CLIENT_ID, "client_secret": "wrong" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    check(
        Doc::Problems,
        "InvalidApiKeyProblemResponse",
        &r.json().await.unwrap(),
    );
    m.server.shutdown().await;
}

// ---- fidelity: Config API ---------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn config_api_bodies_validate_against_config_yaml() {
    let m = Mock::start(one_connection()).await;
    let (s, h) = m.get("/api/v1/health").await;
    assert_eq!((s, &h), (StatusCode::OK, &json!({ "available": true })));
    check(
        Doc::Config,
        &declared_schema(Doc::Config, "/v1/health", "get", "200"),
        &h,
    );

    let (s, t) = m
        .post("/api/v1/applications/token", json!({ "client_id": mock::DEFAULT_CLIENT_ID, "client_secret": mock::DEFAULT_CLIENT_SECRET }))
        .await;
    assert_eq!(s, StatusCode::OK);
    check(
        Doc::Config,
        &declared_schema(Doc::Config, "/v1/applications/token", "post", "200"),
        &t,
    );

    let (s, c) = m
        .post("/api/v1/connections/get", json!({ "connectionId": CONN }))
        .await;
    assert_eq!(s, StatusCode::OK);
    check(
        Doc::Config,
        &declared_schema(Doc::Config, "/v1/connections/get", "post", "200"),
        &c,
    );

    let (s, info) = m
        .post("/api/v1/connections/sync", json!({ "connectionId": CONN }))
        .await;
    assert_eq!(s, StatusCode::OK);
    check(
        Doc::Config,
        &declared_schema(Doc::Config, "/v1/connections/sync", "post", "200"),
        &info,
    );
    assert_eq!(
        (
            info["job"]["status"].as_str(),
            info["job"]["configType"].as_str()
        ),
        (Some("pending"), Some("sync"))
    );
    let id = info["job"]["id"].as_i64().unwrap();
    let created = info["job"]["createdAt"].as_i64().unwrap();
    assert!(
        created > 1_600_000_000,
        "epoch seconds, not millis: {created}"
    );
    assert!(
        created < 10_000_000_000,
        "epoch seconds, not millis: {created}"
    );

    let (s, p) = m
        .post("/api/v1/connections/sync", json!({ "connectionId": CONN }))
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    check(Doc::Config, "KnownExceptionInfo", &p);
    assert_eq!(
        p["message"],
        format!("A sync is already running for: {CONN}")
    );

    advance(Duration::from_secs(3)).await;
    for (path, schema_path) in [
        ("/api/v1/jobs/get", "/v1/jobs/get"),
        ("/api/v1/jobs/get_without_logs", "/v1/jobs/get_without_logs"),
    ] {
        let (s, j) = m.post(path, json!({ "id": id })).await;
        assert_eq!(s, StatusCode::OK);
        check(
            Doc::Config,
            &declared_schema(Doc::Config, schema_path, "post", "200"),
            &j,
        );
        assert_eq!(j["job"]["status"], "running");
        assert_eq!(j["attempts"][0]["attempt"]["id"], 0);
        let live = j["attempts"][0]["attempt"].get("totalStats").is_some();
        assert_eq!(
            live,
            path.ends_with("without_logs"),
            "{path}: live stats only without logs"
        );
    }
    advance(Duration::from_secs(10)).await;
    let (_, j) = m.post("/api/v1/jobs/get", json!({ "id": id })).await;
    check(Doc::Config, "JobInfoRead", &j);
    assert_eq!(j["job"]["status"], "succeeded");
    assert_eq!(
        j["attempts"][0]["attempt"]["totalStats"]["recordsCommitted"],
        10
    );

    let (s, l) = m
        .post(
            "/api/v1/jobs/list",
            json!({ "configTypes": ["sync"], "configId": CONN, "pagination": { "pageSize": 5 } }),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    check(
        Doc::Config,
        &declared_schema(Doc::Config, "/v1/jobs/list", "post", "200"),
        &l,
    );
    assert_eq!(l["totalJobCount"], 1);
    assert_eq!(
        l["jobs"][0]["job"]["aggregatedStats"]["recordsCommitted"],
        10
    );

    // reset while a sync runs: the sync is cancelled, a reset_connection job is returned
    let (_, info) = m
        .post("/api/v1/connections/sync", json!({ "connectionId": CONN }))
        .await;
    let running = info["job"]["id"].as_i64().unwrap();
    advance(Duration::from_secs(2)).await;
    for path in ["/api/v1/connections/reset", "/api/v1/connections/clear"] {
        let (s, r) = m.post(path, json!({ "connectionId": CONN })).await;
        assert_eq!(s, StatusCode::OK, "{path}");
        check(Doc::Config, "JobInfoRead", &r);
        assert_eq!(r["job"]["configType"], "reset_connection");
    }
    let (_, old) = m.post("/api/v1/jobs/get", json!({ "id": running })).await;
    assert_eq!(old["job"]["status"], "cancelled");
    assert_eq!(old["attempts"][0]["attempt"]["status"], "failed");

    let (_, info) = m
        .post(
            "/api/v1/connections/sync",
            json!({ "connectionId": "22222222-2222-4222-8222-222222222222" }),
        )
        .await;
    let (s, c) = m
        .post("/api/v1/jobs/cancel", json!({ "id": info["job"]["id"] }))
        .await;
    assert_eq!(s, StatusCode::OK);
    check(
        Doc::Config,
        &declared_schema(Doc::Config, "/v1/jobs/cancel", "post", "200"),
        &c,
    );
    assert_eq!(c["job"]["status"], "cancelled");

    // errors: 404 unknown connection, 422 bad body, 500 unknown job
    let (s, p) = m
        .post(
            "/api/v1/connections/get",
            json!({ "connectionId": UNKNOWN }),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    check(
        Doc::Config,
        &declared_schema(Doc::Config, "/v1/connections/get", "post", "404"),
        &p,
    );
    let (s, p) = m
        .post("/api/v1/connections/sync", json!({ "connection": CONN }))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    check(
        Doc::Config,
        &declared_schema(Doc::Config, "/v1/connections/sync", "post", "422"),
        &p,
    );
    let (s, p) = m.post("/api/v1/jobs/get", json!({ "id": 424242 })).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    check(Doc::Config, "KnownExceptionInfo", &p);
    assert_eq!(
        p["message"],
        "Internal Server Error: Could not find job with id: 424242"
    );
    m.server.shutdown().await;
}

// ---- the state machine ------------------------------------------------------------------------

/// Poll every 500 ms of mock time for `secs` seconds and return the distinct statuses seen.
async fn statuses(m: &Mock, id: i64, secs: u64) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for _ in 0..secs * 2 {
        let s = m.job(id).await["status"].as_str().unwrap().to_owned();
        if seen.last() != Some(&s) {
            seen.push(s);
        }
        advance(Duration::from_millis(500)).await;
    }
    seen
}

#[tokio::test(start_paused = true)]
async fn failed_attempts_show_incomplete_then_the_job_succeeds() {
    let m = Mock::fixture("retries").await;
    let (_, job) = m.create("sync").await;
    let id = job["jobId"].as_i64().unwrap();
    assert_eq!(
        statuses(&m, id, 30).await,
        [
            "pending",
            "running",
            "incomplete",
            "running",
            "incomplete",
            "running",
            "succeeded"
        ]
    );
    let (_, j) = m.post("/api/v1/jobs/get", json!({ "id": id })).await;
    let attempts: Vec<&str> = j["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["attempt"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(attempts, ["failed", "failed", "succeeded"]);
    assert_eq!(m.job(id).await["rowsSynced"], 42);
}

#[tokio::test(start_paused = true)]
async fn failed_outcome_and_inactive_connection() {
    let m = Mock::fixture("failed").await;
    let (_, job) = m.create("sync").await;
    let seen = statuses(&m, job["jobId"].as_i64().unwrap(), 20).await;
    assert_eq!(seen.last().map(String::as_str), Some("failed"));
    assert!(seen.contains(&"incomplete".to_owned()));

    let m = Mock::fixture("inactive").await;
    let (s, p) = m.create("sync").await;
    assert_eq!(s, StatusCode::CONFLICT);
    check(Doc::Problems, "StateConflictProblemResponse", &p);
    let (s, p) = m
        .post("/api/v1/connections/sync", json!({ "connectionId": CONN }))
        .await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        p["message"],
        "Internal Server Error: Can only sync an active connection"
    );
}

#[tokio::test(start_paused = true)]
async fn default_scenario_never_answers_queued_but_the_queued_fixture_does() {
    let m = Mock::start(Scenario::default_scenario()).await;
    let conn = &Scenario::default_scenario().connections[0].id;
    let (_, job) = m
        .post(
            "/api/public/v1/jobs",
            json!({ "connectionId": conn, "jobType": "sync" }),
        )
        .await;
    let seen = statuses(&m, job["jobId"].as_i64().unwrap(), 10).await;
    assert_eq!(seen, ["pending", "running", "succeeded"]);

    let m = Mock::fixture("queued").await;
    let (_, job) = m.create("sync").await;
    let seen = statuses(&m, job["jobId"].as_i64().unwrap(), 15).await;
    assert_eq!(seen, ["pending", "queued", "running", "succeeded"]);
}

// ---- faults -----------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn latency_fault_delays_answers() {
    let m = Mock::fixture("latency").await;
    let (_, job) = m.create("sync").await;
    let before = tokio::time::Instant::now();
    m.job(job["jobId"].as_i64().unwrap()).await;
    assert!(tokio::time::Instant::now() - before >= Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn server_error_burst_then_service() {
    let m = Mock::fixture("server-errors").await;
    for _ in 0..3 {
        let (s, p) = m.create("sync").await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
        check(Doc::Problems, "ServiceUnavailableProblemResponse", &p);
    }
    let (s, job) = m.create("sync").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(job["jobId"], 1, "the failed attempts created no job");
}

#[tokio::test(start_paused = true)]
async fn rate_limit_fault_sends_retry_after() {
    let m = Mock::fixture("rate-limit").await;
    let (_, job) = m.create("sync").await;
    let path = format!("/api/public/v1/jobs/{}", job["jobId"]);
    for _ in 0..2 {
        let r = m.raw(reqwest::Method::GET, &path, None).await.unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()["retry-after"], "2");
    }
    assert_eq!(m.get(&path).await.0, StatusCode::OK);
}

#[tokio::test(start_paused = true)]
async fn drop_fault_closes_the_connection_after_creating_the_job() {
    let m = Mock::fixture("drop").await;
    let err = m
        .raw(
            reqwest::Method::POST,
            "/api/public/v1/jobs",
            Some(json!({ "connectionId": CONN, "jobType": "sync" })),
        )
        .await;
    assert!(err.is_err(), "no response expected: {err:?}");
    let (_, list) = m
        .get(&format!(
            "/api/public/v1/jobs?connectionId={CONN}&status=pending"
        ))
        .await;
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        1,
        "the lost trigger did create a job: {list}"
    );
    let (s, _) = m.create("sync").await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "a blind re-send meets the job the lost request created"
    );
}

#[tokio::test(start_paused = true)]
async fn malformed_and_truncated_faults_corrupt_the_body() {
    for name in ["malformed", "truncated"] {
        let m = Mock::fixture(name).await;
        let (_, job) = m.create("sync").await;
        let path = format!("/api/public/v1/jobs/{}", job["jobId"]);
        let r = m.raw(reqwest::Method::GET, &path, None).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "application/json");
        let text = r.text().await.unwrap();
        assert!(
            serde_json::from_str::<Value>(&text).is_err(),
            "{name}: {text}"
        );
        if name == "truncated" {
            assert!(text.starts_with("{\"jobId\":1"), "{text}");
        }
        m.job(job["jobId"].as_i64().unwrap()).await;
    }
}

#[tokio::test(start_paused = true)]
async fn stuck_job_runs_until_cancelled() {
    let m = Mock::fixture("stuck").await;
    let (_, job) = m.create("sync").await;
    let id = job["jobId"].as_i64().unwrap();
    advance(Duration::from_secs(600)).await;
    let (_, j) = m.get(&format!("/api/public/v1/jobs/{id}")).await;
    assert_eq!(j["status"], "running");
    let (_, c) = m.delete(&format!("/api/public/v1/jobs/{id}")).await;
    assert_eq!(c["status"], "cancelled");
    let (_, list) = m
        .get(&format!("/api/public/v1/jobs?connectionId={CONN}"))
        .await;
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        1,
        "no replacement job"
    );
}

#[tokio::test(start_paused = true)]
async fn zero_record_success() {
    let m = Mock::fixture("zero-records").await;
    let (_, job) = m.create("sync").await;
    advance(Duration::from_secs(30)).await;
    let j = m.job(job["jobId"].as_i64().unwrap()).await;
    assert_eq!(
        (j["status"].as_str(), j["rowsSynced"].as_u64()),
        (Some("succeeded"), Some(0))
    );
}

#[tokio::test(start_paused = true)]
async fn reset_that_creates_a_sync_job() {
    let m = Mock::fixture("reset-creates-sync").await;
    let (_, r) = m.create("reset").await;
    assert_eq!(r["jobType"], "sync");
    let (_, r) = m
        .post("/api/v1/connections/reset", json!({ "connectionId": CONN }))
        .await;
    assert_eq!(r["job"]["configType"], "sync");
}

#[tokio::test(start_paused = true)]
async fn cancel_that_spawns_a_new_job() {
    let m = Mock::fixture("cancel-spawns-job").await;
    let (_, job) = m.create("sync").await;
    let id = job["jobId"].as_i64().unwrap();
    advance(Duration::from_secs(5)).await;
    let (_, c) = m.delete(&format!("/api/public/v1/jobs/{id}")).await;
    assert_eq!(c["status"], "cancelled");
    let (_, list) = m
        .get(&format!(
            "/api/public/v1/jobs?connectionId={CONN}&status=pending"
        ))
        .await;
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{list}");
    assert_ne!(data[0]["jobId"].as_i64(), Some(id));
}

#[tokio::test(start_paused = true)]
async fn expired_tokens_get_401() {
    let m = Mock::fixture("token-expiry").await;
    assert_eq!(
        m.get(&format!("/api/public/v1/connections/{CONN}")).await.0,
        StatusCode::OK
    );
    advance(Duration::from_secs(61)).await;
    let (s, p) = m.get(&format!("/api/public/v1/connections/{CONN}")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    check(Doc::Problems, "InvalidApiKeyProblemResponse", &p);
    let r = m
        .http
        .post(m.url("/api/v1/connections/get"))
        .bearer_auth("nope")
        .json(&json!({ "connectionId": CONN }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(start_paused = true)]
async fn every_fault_fixture_parses() {
    let dir = util::fixture("mock");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue; // `invalid/` holds the scenarios that must not load
        }
        Scenario::from_file(&path).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
        n += 1;
    }
    assert!(n >= 12, "{n} fixtures");
}

// ---- scenario files: located diagnostics ------------------------------------------------------

/// Load an invalid scenario fixture and render its diagnostics as `mock serve` prints them.
fn scenario_diagnostics(path: &std::path::Path) -> String {
    let text = std::fs::read_to_string(path).expect("fixture readable");
    let name = format!(
        "fixtures/mock/invalid/{}",
        path.file_name().unwrap().to_string_lossy()
    );
    let mut files = airguard::diag::Files::new();
    let diags = match Scenario::load(&mut files, &name, &text) {
        Ok(_) => panic!("{name} loads, but it is in fixtures/mock/invalid"),
        Err(d) => d,
    };
    for d in &diags {
        assert!(
            d.label.is_some() && d.help.is_some(),
            "{name}: every problem has a location and a hint: {d:?}"
        );
    }
    let mut out = airguard::diag::render::human(&files, &diags, false);
    out.push_str(&airguard::diag::render::summary(&diags));
    out.push('\n');
    out
}

#[test]
fn regression_invalid_scenarios_report_located_diagnostics() {
    insta::glob!("../fixtures/mock/invalid", "*.yaml", |path| {
        insta::assert_snapshot!(scenario_diagnostics(path));
    });
}

/// Run `airguard mock serve --listen 127.0.0.1:0 ARGS…`, which must fail at once: its exit code
/// and stderr.
fn serve_fails<I, S>(args: I) -> (Option<i32>, String)
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let out = util::airguard()
        .args(["mock", "serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn regression_mock_serve_prints_scenario_errors_with_code_and_location() {
    let bad = util::fixture("mock/invalid/unknown-key.yaml");
    let (code, err) = serve_fails([std::ffi::OsStr::new("--scenario"), bad.as_os_str()]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("error[invalid-scenario]: unknown key `duraton`")
            && err.contains("unknown-key.yaml:7:3")
            && err.contains("did you mean `duration`?"),
        "{err}"
    );
}

#[test]
fn mock_serve_reports_an_unreadable_scenario_as_an_io_error() {
    let missing = util::fixture("mock/does-not-exist.yaml");
    let (code, err) = serve_fails([std::ffi::OsStr::new("--scenario"), missing.as_os_str()]);
    assert_eq!(code, Some(2));
    assert!(err.contains("error[io-error]"), "{err}");
}

mod scenario_props {
    use super::*;
    use proptest::prelude::*;

    /// Lines that are plausible in a scenario, valid or not, to splice into the default one.
    fn yaml_line() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("jobs:".to_owned()),
            Just("  attempts: 0".to_owned()),
            Just("faults:".to_owned()),
            Just("  - action: { error: 99 }".to_owned()),
            Just("  - { operation: nope, action: drop }".to_owned()),
            Just("connections: [{ id: x, name: y }]".to_owned()),
            Just("token-ttl: forever".to_owned()),
            Just("first-job-id: 99999999999999999999999".to_owned()),
            Just("&a [*a]".to_owned()),
            "[ -~]{0,40}",
            "\\PC{0,20}",
        ]
    }

    fn mutated_default() -> impl Strategy<Value = String> {
        let lines: Vec<String> = airguard::mock::DEFAULT_SCENARIO
            .lines()
            .map(str::to_owned)
            .collect();
        let n = lines.len();
        (prop::collection::vec((0..=n, yaml_line(), any::<bool>()), 1..6)).prop_map(move |edits| {
            let mut l = lines.clone();
            for (at, line, replace) in edits {
                let at = at.min(l.len());
                if replace && at < l.len() {
                    l[at] = line;
                } else {
                    l.insert(at, line);
                }
            }
            l.join("\n")
        })
    }

    fn check(text: &str) -> Result<(), TestCaseError> {
        let mut files = airguard::diag::Files::new();
        if let Err(diags) = Scenario::load(&mut files, "s.yaml", text) {
            prop_assert!(!diags.is_empty());
            for d in &diags {
                let label = d.label.as_ref().expect("located");
                prop_assert!(label.range.end <= text.len(), "{d:?}");
                prop_assert!(d.help.is_some(), "{d:?}");
            }
            // Rendering never panics either.
            airguard::diag::render::human(&files, &diags, false);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_bytes_as_a_scenario_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            check(&String::from_utf8_lossy(&bytes))?;
        }

        #[test]
        fn mutated_scenarios_never_panic(text in mutated_default()) {
            check(&text)?;
        }
    }
}

// ---- auth modes and the in-process API --------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn basic_bearer_and_none_auth_modes() {
    let path = format!("/api/public/v1/connections/{CONN}");
    for (auth, good, bad) in [
        (
            MockAuth::Basic {
                user: "u".into(),
                password: "p".into(),
            },
            "Basic dTpw",
            "Basic dTp4",
        ),
        (
            MockAuth::Bearer {
                token: "tkn".into(),
            },
            "Bearer tkn",
            "Bearer other",
        ),
        (MockAuth::None, "", "Bearer whatever"),
    ] {
        let none = auth == MockAuth::None;
        let server = mock::start(
            "127.0.0.1:0".parse().unwrap(),
            MockConfig {
                scenario: one_connection(),
                auth,
            },
        )
        .await
        .unwrap();
        let http = reqwest::Client::new();
        let url = format!("{}{path}", server.base_url());
        let mut req = http.get(&url);
        if !good.is_empty() {
            req = req.header("authorization", good);
        }
        assert_eq!(req.send().await.unwrap().status(), StatusCode::OK);
        let bad_status = http
            .get(&url)
            .header("authorization", bad)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(
            bad_status,
            if none {
                StatusCode::OK
            } else {
                StatusCode::UNAUTHORIZED
            }
        );
        server.shutdown().await;
    }
}

#[tokio::test(start_paused = true)]
async fn requests_are_recorded_without_bodies() {
    let m = Mock::start(one_connection()).await;
    m.create("sync").await;
    m.get("/api/public/v1/jobs?connectionId=x").await;
    let r = m.server.requests();
    let seen: Vec<(String, String, Option<String>)> =
        r.into_iter().map(|r| (r.method, r.path, r.query)).collect();
    assert_eq!(
        seen,
        [
            (
                "POST".into(),
                "/api/public/v1/applications/token".into(),
                None
            ),
            ("POST".into(), "/api/public/v1/jobs".into(), None),
            (
                "GET".into(),
                "/api/public/v1/jobs".into(),
                Some("connectionId=x".into())
            ),
        ]
    );
    assert!(m.server.base_url().starts_with("http://127.0.0.1:"));
}

// ---- bounded under load: raw sockets on 127.0.0.1 ---------------------------------------------
//
// These run on real time: with paused time, a packet still in the kernel's loopback queue lets
// tokio jump to the next timer, which here would be one of the mock's own timeouts. Timeouts a
// test relies on are short; the others never fire; waits are bounded by BOUND, never asserted.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Long enough for anything that is going to happen; only a failing test waits that long.
const BOUND: Duration = Duration::from_secs(600);

/// A timeout a test relies on: short, and far below [`BOUND`].
const SHORT: Duration = Duration::from_secs(1);

async fn start_limited(limits: mock::Limits) -> mock::MockServer {
    let config = MockConfig {
        scenario: one_connection(),
        auth: MockAuth::None,
    };
    mock::start_with_limits("127.0.0.1:0".parse().unwrap(), config, limits)
        .await
        .unwrap()
}

/// Limits whose timeouts never fire within [`BOUND`], so a test sees only what it sets.
fn patient() -> mock::Limits {
    mock::Limits {
        header_read_timeout: Duration::from_secs(3600),
        idle_timeout: Duration::from_secs(3600),
        body_read_timeout: Duration::from_secs(3600),
        ..mock::Limits::default()
    }
}

/// Everything the mock sends until it closes the connection, or `None` if it is still open after
/// `within`.
async fn until_closed(s: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let read = async {
        let mut out = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return out,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(within, read).await.ok()
}

/// Send `request` on a new connection; everything the mock answers before it closes the
/// connection (the test fails with `still_open` if it does not within [`BOUND`]).
async fn exchange(server: &mock::MockServer, request: &[u8], still_open: &str) -> Vec<u8> {
    let mut s = TcpStream::connect(server.addr()).await.unwrap();
    s.write_all(request).await.unwrap();
    until_closed(&mut s, BOUND)
        .await
        .unwrap_or_else(|| panic!("{still_open}"))
}

/// Status code and JSON body of one raw HTTP/1.1 response.
fn parse_response(bytes: &[u8]) -> (u16, Value) {
    let text = String::from_utf8_lossy(bytes);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {text}"));
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn regression_huge_body_gets_413_without_being_read() {
    let server = start_limited(patient()).await;
    for (path, public) in [
        ("/api/public/v1/applications/token", true),
        ("/api/v1/connections/get", false),
    ] {
        // 1 GiB announced, none of it sent: only an answer without reading the body ends this.
        let reply = exchange(
            &server,
            format!("POST {path} HTTP/1.1\r\nHost: mock\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n").as_bytes(),
            "the mock waits for a 1 GiB body",
        )
        .await;
        let (status, body) = parse_response(&reply);
        assert_eq!(status, 413, "{}", String::from_utf8_lossy(&reply));
        if public {
            assert_eq!(body["status"], 413);
            assert_eq!(body["title"], "payload-too-large");
            assert!(body["type"]
                .as_str()
                .unwrap()
                .starts_with("https://reference.airbyte.com/reference/errors"));
            assert!(
                body["detail"].is_string() && body["data"]["message"].is_string(),
                "{body}"
            );
        } else {
            assert!(
                body["message"].is_string() && body["exceptionClassName"].is_string(),
                "{body}"
            );
        }
    }
    assert_eq!(server.panics(), 0);
}

#[tokio::test]
async fn regression_chunked_body_over_the_limit_gets_413() {
    let server = start_limited(mock::Limits {
        max_body_bytes: 1024,
        ..patient()
    })
    .await;
    // A chunked body announces no length: the mock must stop once the limit is passed, while
    // the body is still coming (its last chunk never is).
    let mut req = b"POST /api/public/v1/jobs HTTP/1.1\r\nHost: mock\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n".to_vec();
    req.extend(std::iter::repeat_n(b' ', 0x800));
    req.extend_from_slice(b"\r\n");
    let reply = exchange(
        &server,
        &req,
        "the mock waits for the end of an oversized chunked body",
    )
    .await;
    assert_eq!(parse_response(&reply).0, 413);
    // Within the limit, the same request is served.
    let r = reqwest::Client::new()
        .post(format!("{}/api/public/v1/jobs", server.base_url()))
        .json(&json!({ "connectionId": CONN, "jobType": "sync" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn regression_slow_body_gets_408_after_the_body_timeout() {
    let server = start_limited(mock::Limits {
        body_read_timeout: SHORT,
        ..patient()
    })
    .await;
    let reply = exchange(
        &server,
        b"POST /api/public/v1/jobs HTTP/1.1\r\nHost: mock\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"connectionId\"",
        "the mock waits forever for the rest of a body",
    )
    .await;
    assert_eq!(parse_response(&reply).0, 408);
}

#[tokio::test]
async fn regression_slow_loris_is_closed_after_the_header_timeout() {
    let server = start_limited(mock::Limits {
        header_read_timeout: SHORT,
        ..patient()
    })
    .await;
    let mut s = TcpStream::connect(server.addr()).await.unwrap();
    s.write_all(b"GET /api/public/v1/health HTTP/1.1\r\nHost: mock\r\n")
        .await
        .unwrap();
    // One more header byte every SHORT / 6: never idle, never a complete head.
    let trickle = async {
        let mut buf = [0u8; 1024];
        loop {
            tokio::select! {
                r = s.read(&mut buf) => if matches!(r, Ok(0) | Err(_)) { return; },
                _ = tokio::time::sleep(SHORT / 6) => {
                    if s.write_all(b"x").await.is_err() { return; }
                }
            }
        }
    };
    assert!(
        tokio::time::timeout(BOUND, trickle).await.is_ok(),
        "a connection sending a header byte now and then stays open"
    );
    assert_eq!(server.panics(), 0);
}

#[tokio::test]
async fn regression_idle_connections_are_closed() {
    let server = start_limited(mock::Limits {
        idle_timeout: SHORT,
        ..patient()
    })
    .await;
    // A connection that never says anything.
    let mut silent = TcpStream::connect(server.addr()).await.unwrap();
    // A keep-alive connection after its request was answered.
    let mut kept = TcpStream::connect(server.addr()).await.unwrap();
    kept.write_all(b"GET /api/public/v1/health HTTP/1.1\r\nHost: mock\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    while !String::from_utf8_lossy(&got).contains("Successful operation") {
        let mut buf = [0u8; 1024];
        let n = kept.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed before answering");
        got.extend_from_slice(&buf[..n]);
    }
    assert!(
        until_closed(&mut silent, BOUND).await.is_some(),
        "a silent connection stays open"
    );
    assert!(
        until_closed(&mut kept, BOUND).await.is_some(),
        "an idle keep-alive connection stays open"
    );
}

#[tokio::test]
async fn regression_a_flood_of_idle_connections_cannot_starve_real_clients() {
    // The cap is reached by two connections that sent one byte and then nothing; with timeouts
    // that never fire here, only eviction can make room for a real client.
    let server = start_limited(mock::Limits {
        max_connections: 2,
        ..patient()
    })
    .await;
    let mut first = TcpStream::connect(server.addr()).await.unwrap();
    first.write_all(b"G").await.unwrap();
    let mut second = TcpStream::connect(server.addr()).await.unwrap();
    second.write_all(b"G").await.unwrap();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let r = tokio::time::timeout(
        BOUND,
        client
            .get(format!("{}/api/public/v1/health", server.base_url()))
            .send(),
    )
    .await
    .expect("a real client waits behind idle connections")
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        until_closed(&mut first, BOUND).await.is_some(),
        "the oldest idle connection was not closed to make room"
    );
    // The other one was not evicted: it finishes its request and is served.
    second
        .write_all(b"ET /api/public/v1/health HTTP/1.1\r\nHost: mock\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let reply = until_closed(&mut second, BOUND).await.unwrap();
    assert_eq!(parse_response(&reply).0, 200);
    assert_eq!(server.panics(), 0);
}

#[tokio::test]
async fn busy_connections_are_never_evicted() {
    // One connection is busy in a latency fault while the cap is 1: a new client waits for it
    // instead of cutting it off.
    let mut sc = one_connection();
    sc.faults = scenario(
        "faults: [{ operation: list-connections, times: 1, action: { latency: 500ms } }]\n",
    )
    .faults;
    let server = mock::start_with_limits(
        "127.0.0.1:0".parse().unwrap(),
        MockConfig {
            scenario: sc,
            auth: MockAuth::None,
        },
        mock::Limits {
            max_connections: 1,
            ..patient()
        },
    )
    .await
    .unwrap();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let slow = client
        .get(format!("{}/api/public/v1/connections", server.base_url()))
        .send();
    let fast = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        client
            .get(format!("{}/api/public/v1/health", server.base_url()))
            .send()
            .await
    };
    let (slow, fast) = tokio::join!(slow, fast);
    assert_eq!(slow.unwrap().status(), StatusCode::OK);
    assert_eq!(fast.unwrap().status(), StatusCode::OK);
}

mod http_fuzz {
    use super::*;
    use proptest::prelude::*;

    /// Valid requests to start mutating from.
    const SEEDS: &[&[u8]] = &[
        b"GET /api/public/v1/health HTTP/1.1\r\nHost: m\r\n\r\n",
        b"POST /api/public/v1/jobs HTTP/1.1\r\nHost: m\r\nContent-Type: application/json\r\nContent-Length: 72\r\n\r\n{\"connectionId\":\"11111111-1111-4111-8111-111111111111\",\"jobType\":\"sync\"}",
        b"POST /api/v1/jobs/list HTTP/1.1\r\nHost: m\r\nTransfer-Encoding: chunked\r\n\r\n13\r\n{\"configTypes\":[]}\r\n0\r\n\r\n",
        b"GET /api/public/v1/jobs?limit=5&offset=1&orderBy=createdAt|DESC HTTP/1.1\r\nHost: m\r\nAuthorization: Basic Og==\r\n\r\n",
        b"POST /api/public/v1/applications/token HTTP/1.1\r\nHost: m\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 30\r\n\r\nclient_id=a&client_secret=b%ZZ",
    ];

    fn request_bytes() -> impl Strategy<Value = Vec<u8>> {
        let mutated = (
            0..SEEDS.len(),
            prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 0..8),
        )
            .prop_map(|(seed, edits)| {
                let mut b = SEEDS[seed].to_vec();
                for (at, byte, op) in edits {
                    let i = at.index(b.len() + 1);
                    match op {
                        0 if i < b.len() => b[i] = byte,
                        1 => b.insert(i, byte),
                        _ => b.truncate(i),
                    }
                }
                b
            });
        prop_oneof![prop::collection::vec(any::<u8>(), 0..512), mutated,]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn arbitrary_request_bytes_never_crash_the_mock(cases in prop::collection::vec(request_bytes(), 1..4)) {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let server = start_limited(mock::Limits {
                    max_body_bytes: 4096,
                    ..mock::Limits::default()
                })
                .await;
                for bytes in &cases {
                    let mut s = TcpStream::connect(server.addr()).await.unwrap();
                    let _ = s.write_all(bytes).await;
                    let _ = s.shutdown().await;
                    // Whatever it answers, it ends the exchange once the client has finished.
                    prop_assert!(until_closed(&mut s, BOUND).await.is_some(), "still open");
                }
                let r = reqwest::Client::new()
                    .get(format!("{}/api/public/v1/connections/{CONN}", server.base_url()))
                    .send()
                    .await;
                prop_assert!(r.is_ok(), "a valid request afterwards fails: {r:?}");
                prop_assert_eq!(r.unwrap().status(), StatusCode::OK);
                prop_assert_eq!(server.panics(), 0);
                Ok(())
            })?;
        }
    }
}

// ---- the CLI ----------------------------------------------------------------------------------

#[test]
fn mock_serve_refuses_zero_limits_with_exit_2() {
    for (flag, value) in [
        ("--max-connections", "0"),
        ("--max-body-size", "0"),
        ("--idle-timeout", "0s"),
        ("--header-read-timeout", "soon"),
    ] {
        let (code, err) = serve_fails([flag, value]);
        assert_eq!(code, Some(2), "{flag} {value}: {err}");
    }
}

#[test]
fn mock_serve_rejects_a_bad_scenario_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "jobs:\n  duraton: 2s\n").unwrap();
    let (code, err) = serve_fails([std::ffi::OsStr::new("--scenario"), bad.as_os_str()]);
    assert_eq!(code, Some(2));
    assert!(err.contains("error[invalid-scenario]"), "{err}");
}

/// Kills the spawned mock when the test ends, however it ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn mock_serve_prints_its_urls_and_credentials_and_serves() {
    use std::io::BufRead;
    let mut child = Child(
        std::process::Command::new(assert_cmd::cargo::cargo_bin("airguard"))
            .args([
                "mock",
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--client-id",
                "ci",
                "--client-secret",
                "s3cret-value",
            ])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let banner = tokio::task::spawn_blocking(move || {
        let mut lines = Vec::new();
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let done = line.starts_with("Press Ctrl-C");
            lines.push(line);
            if done {
                break;
            }
        }
        lines.join("\n")
    })
    .await
    .unwrap();
    assert!(
        banner.contains("/api/public/v1\n")
            && banner.contains("/api/v1\n")
            && banner.contains("/v1\n"),
        "{banner}"
    );
    assert!(banner.contains("client id:                ci"), "{banner}");
    assert!(
        !banner.contains("s3cret-value"),
        "a given secret is never echoed: {banner}"
    );
    let base = banner
        .lines()
        .next()
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_owned();
    let r = reqwest::get(format!("{base}/api/v1/health")).await.unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({ "available": true })
    );
    let r = reqwest::Client::new()
        .post(format!("{base}/api/public/v1/applications/token"))
        .form(&[("client_id", "ci"), ("client_secret", "s3cret-value")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

// ---- seeding from a spec ----------------------------------------------------------------------

fn load_model(fixture: &str) -> airguard::spec::Model {
    let mut files = airguard::diag::Files::new();
    let path = camino::Utf8PathBuf::from_path_buf(util::fixture(fixture)).unwrap();
    let (model, diags) = airguard::spec::from_file(&mut files, &path);
    model.unwrap_or_else(|| panic!("{fixture}: {diags:?}"))
}

#[tokio::test(start_paused = true)]
async fn for_model_serves_every_connection_the_spec_names_as_active() {
    let model = load_model("specs/valid/example.yaml");
    assert!(!model.connections.is_empty());
    let config = MockConfig::for_model(&model);
    assert_eq!(config.auth, MockAuth::default_client_credentials());
    let m = Mock {
        server: mock::start("127.0.0.1:0".parse().unwrap(), config)
            .await
            .unwrap(),
        http: reqwest::Client::new(),
        token: None,
    };
    let (_, t) = m
        .post(
            "/api/public/v1/applications/token",
            json!({ "client_id": mock::DEFAULT_CLIENT_ID, "client_secret": mock::DEFAULT_CLIENT_SECRET }),
        )
        .await;
    let m = Mock {
        token: Some(t["access_token"].as_str().unwrap().to_owned()),
        ..m
    };
    for c in &model.connections {
        let (s, body) = m.get(&format!("/api/public/v1/connections/{}", c.id)).await;
        assert_eq!(s, StatusCode::OK, "{}", c.name);
        assert_eq!(
            (body["name"].as_str(), body["status"].as_str()),
            (Some(c.name.as_str()), Some("active"))
        );
        let (s, job) = m
            .post(
                "/api/public/v1/jobs",
                json!({ "connectionId": c.id, "jobType": "sync" }),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        advance(Duration::from_secs(10)).await;
        assert_eq!(
            m.job(job["jobId"].as_i64().unwrap()).await["status"],
            "succeeded"
        );
    }
}

#[test]
fn mock_serve_with_an_invalid_spec_exits_2() {
    let out = util::airguard()
        .args(["mock", "serve", "--listen", "127.0.0.1:0", "--spec"])
        .arg(util::fixture("specs/invalid/invalid-connection-id.yaml"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

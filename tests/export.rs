//! `airguard export` against the mock: the mock's configuration reads validate against the real
//! `api.yaml`; an export is golden, byte-stable and checkable for drift; no secret reaches a file,
//! a log or the terminal; broken paging, a forbidden workspace and an unreachable API end with
//! exit 2 and nothing written; a spec gets its findings in every format; 5 000 connections page.

use crate::mock::{check, declared_schema, Doc, Mock};
use crate::util::{airguard, fixture};
use airguard::mock::Scenario;
use predicates::prelude::*;
use reqwest::StatusCode;
use std::path::{Path, PathBuf};

fn scenario_path() -> PathBuf {
    fixture("export/scenario.yaml")
}

/// `airguard export --mock --scenario SCENARIO --out OUT [extra…]`.
fn export(scenario: &Path, out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    airguard()
        .args(["export", "--mock", "--scenario"])
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .args(extra)
        .env("NO_COLOR", "1")
        .assert()
}

/// Every file under `dir`, relative path → content, sorted.
fn tree(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.push((rel, std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

// ---- the mock's configuration reads ----------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn configuration_reads_validate_against_api_yaml() {
    let m = Mock::start(Scenario::from_file(&scenario_path()).unwrap()).await;
    for (path, schema) in [
        ("/workspaces", "WorkspacesResponse"),
        ("/sources", "SourcesResponse"),
        ("/destinations", "DestinationsResponse"),
        ("/connections", "ConnectionsResponse"),
        ("/workspaces/{workspaceId}", "WorkspaceResponse"),
        ("/sources/{sourceId}", "SourceResponse"),
        ("/destinations/{destinationId}", "DestinationResponse"),
        ("/connections/{connectionId}", "ConnectionResponse"),
        ("/streams", "StreamPropertiesResponse"),
    ] {
        assert_eq!(declared_schema(Doc::Api, path, "get", "200"), schema);
    }
    let ws = "0a000000-0000-4000-8000-0000000000a1";
    for (path, schema, n) in [
        ("/api/public/v1/workspaces", "WorkspacesResponse", 2),
        ("/api/public/v1/sources", "SourcesResponse", 3),
        (
            "/v1/destinations?includeDeleted=false",
            "DestinationsResponse",
            2,
        ),
        (
            "/api/public/v1/connections?limit=100",
            "ConnectionsResponse",
            4,
        ),
    ] {
        let (s, body) = m.get(path).await;
        assert_eq!(s, StatusCode::OK, "{path}");
        check(Doc::Api, schema, &body);
        assert_eq!(body["data"].as_array().unwrap().len(), n, "{path}");
    }
    // filters and paging
    let (_, body) = m
        .get(&format!(
            "/api/public/v1/connections?workspaceIds={ws}&limit=1&offset=1"
        ))
        .await;
    check(Doc::Api, "ConnectionsResponse", &body);
    assert_eq!(body["data"][0]["name"], "Orders");
    assert!(body["next"].as_str().unwrap().contains("offset=2"));
    assert!(body["previous"].as_str().unwrap().contains("offset=0"));
    let (_, body) = m
        .get("/api/public/v1/sources?workspaceIds=0a000000-0000-4000-8000-0000000000a2")
        .await;
    assert_eq!(body["data"][0]["name"], "Stripe");
    let (s, _) = m.get("/api/public/v1/sources?limit=101").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "100 is the largest page");
    // gets
    for (path, schema) in [
        (
            format!("/api/public/v1/workspaces/{ws}"),
            "WorkspaceResponse",
        ),
        (
            "/api/public/v1/sources/5c000000-0000-4000-8000-000000000001".to_owned(),
            "SourceResponse",
        ),
        (
            "/api/public/v1/destinations/de000000-0000-4000-8000-000000000001".to_owned(),
            "DestinationResponse",
        ),
        (
            "/api/public/v1/connections/c1000000-0000-4000-8000-000000000001".to_owned(),
            "ConnectionResponse",
        ),
    ] {
        let (s, body) = m.get(&path).await;
        assert_eq!(s, StatusCode::OK, "{path}");
        check(Doc::Api, schema, &body);
    }
    let (_, pg) = m
        .get("/api/public/v1/sources/5c000000-0000-4000-8000-000000000001")
        .await;
    assert_eq!(pg["configuration"]["password"], "**********");
    assert_eq!(
        pg["configuration"]["tunnel_method"]["ssh_key"],
        "**********"
    );
    assert_eq!(pg["configuration"]["host"], "db.internal");
    let (_, c) = m
        .get("/api/public/v1/connections/c1000000-0000-4000-8000-000000000001")
        .await;
    assert_eq!(c["schedule"]["cronExpression"], "0 0 2 * * ?");
    assert_eq!(
        c["configurations"]["streams"][1]["syncMode"],
        "full_refresh_overwrite"
    );
    let (s, body) = m
        .get("/api/public/v1/streams?sourceId=5c000000-0000-4000-8000-000000000001")
        .await;
    assert_eq!(s, StatusCode::OK);
    check(Doc::Api, "StreamPropertiesResponse", &body);
    assert_eq!(
        body.as_array().unwrap().len(),
        2,
        "orders and public.order_items, once each"
    );
    let (s, p) = m.get("/api/public/v1/streams").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    check(Doc::Problems, "BadRequestProblemResponse", &p);
    let (s, p) = m
        .get("/api/public/v1/sources/99999999-9999-4999-8999-999999999999")
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    check(Doc::Problems, "ResourceNotFoundProblemResponse", &p);
}

#[tokio::test(start_paused = true)]
async fn a_forbidden_workspace_is_listed_but_answers_403() {
    let text = std::fs::read_to_string(scenario_path()).unwrap().replace(
        "    name: Marketing / EU\n",
        "    name: Marketing / EU\n    forbidden: true\n",
    );
    let m = Mock::start(Scenario::from_str("t", &text).unwrap()).await;
    let (_, ws) = m.get("/api/public/v1/workspaces").await;
    assert_eq!(ws["data"].as_array().unwrap().len(), 2);
    let (s, p) = m
        .get("/api/public/v1/sources?workspaceIds=0a000000-0000-4000-8000-0000000000a2")
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    check(Doc::Problems, "ForbiddenProblemResponse", &p);
    let (_, all) = m.get("/api/public/v1/sources").await;
    assert_eq!(
        all["data"].as_array().unwrap().len(),
        2,
        "unfiltered lists skip it"
    );
}

// ---- the export ---------------------------------------------------------------------------------

#[test]
fn export_is_golden_stable_and_checkable() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("airbyte");
    export(&scenario_path(), &out, &["--fail-on", "never"])
        .success()
        .stderr(predicate::str::contains(
            "exported 4 connections, 2 destinations, 3 sources, 2 workspaces; 7 list requests",
        ));
    let first = tree(&out);
    for (path, content) in &first {
        insta::assert_snapshot!(format!("export_{path}"), content);
    }
    // A second export of the same Airbyte: the same bytes.
    export(&scenario_path(), &out, &["--fail-on", "never"]).success();
    assert_eq!(tree(&out), first);
    export(&scenario_path(), &out, &["--check", "--fail-on", "never"])
        .code(0)
        .stderr(predicate::str::contains("is up to date"));
    // Drift: an edited file and a stray one.
    let orders = out.join("workspaces/analytics/connections/customers.yaml");
    let edited = std::fs::read_to_string(&orders)
        .unwrap()
        .replace("status: inactive", "status: active");
    std::fs::write(&orders, edited).unwrap();
    std::fs::write(out.join("workspaces/stray.yaml"), "x: 1\n").unwrap();
    export(&scenario_path(), &out, &["--check", "--fail-on", "never"])
        .code(1)
        .stdout(predicate::str::contains(
            "-status: active\n+status: inactive",
        ))
        .stdout(predicate::str::contains("extra: workspaces/stray.yaml"));
}

#[test]
fn export_refuses_a_directory_it_did_not_write() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "mine\n").unwrap();
    export(&scenario_path(), dir.path(), &[])
        .code(2)
        .stderr(predicate::str::contains("no generated index.yaml"));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn no_secret_reaches_a_file_a_log_or_the_terminal() {
    const SECRETS: &[&str] = &[
        "pg-S3cr3t-9f8e7d",
        "OPENSSH-PRIVATE-KEY-abc123",
        "sk_live_51HxREALLOOKING",
        "AKIAIOSFODNN7EXAMPLE",
        "MIIEv-REAL-PRIVATE",
        "gcp-PRIVATE-KEY-xyz",
    ];
    let scenario = std::fs::read_to_string(scenario_path()).unwrap();
    for s in SECRETS {
        assert!(scenario.contains(s), "the fixture seeds {s}");
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("airbyte");
    for format in ["human", "json", "sarif"] {
        let a = airguard()
            .args(["export", "--mock", "--scenario"])
            .arg(scenario_path())
            .arg("--spec")
            .arg(fixture("export/spec.yaml"))
            .arg("--out")
            .arg(&out)
            .args(["--format", format, "--force"])
            .env("AIRGUARD_LOG", "trace")
            .assert()
            .code(1);
        let o = a.get_output();
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            printed.contains("TRACE") || printed.contains("DEBUG"),
            "logs are on"
        );
        for s in SECRETS {
            assert!(!printed.contains(s), "{format}: {s} printed");
        }
    }
    let files = tree(&out);
    for (path, content) in &files {
        for s in SECRETS {
            assert!(!content.contains(s), "{s} written to {path}");
        }
    }
    let index = &files.iter().find(|(p, _)| p == "index.yaml").unwrap().1;
    for place in [
        "key: configuration.client_secret",
        "key: configuration.api_key",
        "key: configuration.credentials_json",
    ] {
        assert!(index.contains(place), "index notes {place}:\n{index}");
    }
    assert!(
        !index.contains("configuration.password"),
        "the server masked it: not airguard's note"
    );
}

#[test]
fn spec_findings_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("airbyte");
    let run = |format: &str, fail_on: &str| {
        airguard()
            .args(["export", "--mock", "--force", "--scenario"])
            .arg(scenario_path())
            .arg("--spec")
            .arg(fixture("export/spec.yaml"))
            .arg("--out")
            .arg(&out)
            .args(["--format", format, "--fail-on", fail_on])
            .env("NO_COLOR", "1")
            .assert()
    };
    let human = run("human", "error").code(1);
    let stderr =
        String::from_utf8_lossy(&human.get_output().stderr).replace(out.to_str().unwrap(), "<out>");
    insta::assert_snapshot!("export_findings_human", stderr);
    let json = run("json", "never").code(0);
    let v: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    let codes: Vec<&str> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    for c in [
        "export-connection-missing",
        "export-connection-inactive",
        "export-double-schedule",
        "export-unmanaged-connection",
        "export-needless-reset",
        "export-unmasked-secret",
        "export-duplicate-name",
    ] {
        assert!(codes.contains(&c), "{c} in {codes:?}");
    }
    let sarif = run("sarif", "never").code(0);
    let v: serde_json::Value = serde_json::from_slice(&sarif.get_output().stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert_eq!(
        v["runs"][0]["results"].as_array().unwrap().len(),
        codes.len()
    );
    assert_eq!(
        v["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
}

// ---- bad input: exit 2, nothing written -------------------------------------------------------

fn broken(extra: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scenario.yaml");
    let text = std::fs::read_to_string(scenario_path()).unwrap() + extra;
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

#[test]
fn a_list_that_never_ends_is_refused() {
    let (dir, scenario) =
        broken("faults:\n  - operation: list-connections\n    action: endless-page\n");
    let out = dir.path().join("airbyte");
    export(&scenario, &out, &[])
        .code(2)
        .stderr(predicate::str::contains("error[export-endless-list]"))
        .stderr(predicate::str::contains("never ends"));
    assert!(!out.exists(), "nothing written");
}

#[test]
fn a_forbidden_workspace_is_exit_2_and_keeps_the_old_export() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("airbyte");
    export(&scenario_path(), &out, &["--fail-on", "never"]).success();
    let before = tree(&out);
    let (_d, scenario) = broken("");
    let text = std::fs::read_to_string(&scenario).unwrap().replace(
        "    name: Marketing / EU\n",
        "    name: Marketing / EU\n    forbidden: true\n",
    );
    std::fs::write(&scenario, text).unwrap();
    export(&scenario, &out, &[])
        .code(2)
        .stderr(predicate::str::contains("error[export-api-error]"))
        .stderr(predicate::str::contains("HTTP 403"))
        .stderr(predicate::str::contains("lack access to this workspace"));
    assert_eq!(tree(&out), before);
}

#[test]
fn an_unreachable_api_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    airguard()
        .args([
            "export",
            "--api-url",
            &format!("http://127.0.0.1:{port}"),
            "--out",
        ])
        .arg(dir.path().join("airbyte"))
        .env_remove("AIRBYTE_API_CLIENT_ID")
        .env_remove("AIRBYTE_API_TOKEN")
        .env_remove("AIRBYTE_API_USERNAME")
        .env("NO_COLOR", "1")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("error[export-api-error]"));
    assert!(!dir.path().join("airbyte").exists());
}

#[test]
fn paging_over_5000_connections() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("bulk.yaml");
    std::fs::write(&scenario, "bulk: { connections: 5000, streams: 3 }\n").unwrap();
    let out = dir.path().join("airbyte");
    // 1 page of workspaces, 1 of sources, 1 of destinations, 50 of connections. Checked against
    // a missing directory, so the test reads and compares without syncing 5 000 files to disk.
    let a = export(&scenario, &out, &["--check"])
        .code(1)
        .stderr(predicate::str::contains(
            "5000 connections, 1 destinations, 1 sources, 1 workspaces; 53 list requests",
        ));
    let stdout = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    let files = stdout
        .lines()
        .filter(|l| l.starts_with("missing: workspaces/default-workspace/connections/bulk-"))
        .count();
    assert_eq!(files, 5000);
    assert!(stdout.contains("missing: workspaces/default-workspace/connections/bulk-04999.yaml"));
}

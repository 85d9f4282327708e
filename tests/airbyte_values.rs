//! Airbyte's chart values (`airbyte/values.yaml`) and the production layouts behind them: every
//! rendered key path exists in that chart line's own values or templates (vendored under
//! `schemas/upstream/airbyte-chart/`; no upstream schema exists), the ExternalSecret holds every
//! Secret key the values name, and the topology gives the external database and storage exactly
//! their chart clients and no in-cluster `db` / `minio`.

use crate::util::{fixture, upstream};
use airguard::render::Artifact;
use airguard::spec::model::{ChartProfile, Model};
use airguard::topology::{Target, Topology};
use serde_json::Value;
use std::collections::BTreeSet;

fn load(path: &std::path::Path) -> Model {
    let text = std::fs::read_to_string(path).unwrap();
    let mut files = airguard::diag::Files::new();
    let (model, diags) = airguard::spec::from_str(&mut files, "spec.yaml", &text);
    model.unwrap_or_else(|| panic!("{}", airguard::diag::render::human(&files, &diags, false)))
}

fn valid_specs() -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(fixture("specs/valid"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    v.sort();
    v
}

fn yaml(text: &str) -> Value {
    serde_saphyr::from_str(text).unwrap()
}

/// Every path of a mapping tree (inner nodes too), dotted.
fn paths(prefix: &str, v: &Value, out: &mut BTreeSet<String>) {
    if let Value::Object(m) = v {
        for (k, child) in m {
            let p = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            out.insert(p.clone());
            paths(&p, child, out);
        }
    }
}

/// `.Values.a.b.c` references in a Helm template, also in the `((.Values.a).b)` form.
fn template_paths(text: &str, out: &mut BTreeSet<String>) {
    let flat: String = text.chars().filter(|c| *c != '(' && *c != ')').collect();
    for (i, _) in flat.match_indices(".Values.") {
        let rest = &flat[i + ".Values.".len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(rest.len());
        let mut p = rest[..end].trim_end_matches('.').to_string();
        while !p.is_empty() {
            out.insert(p.clone());
            p = match p.rsplit_once('.') {
                Some((head, _)) => head.to_string(),
                None => String::new(),
            };
        }
    }
}

/// V2 `config.yaml`: each section's `keyBasePath` + `key`, and `<key>SecretKey` for every
/// `sensitive` value (the generated `_*.tpl` read `.Values.<base>.<key>SecretKey`).
fn config_paths(text: &str, out: &mut BTreeSet<String>) {
    let v = yaml(text);
    for section in v.as_object().unwrap().values() {
        let Some(base) = section.get("keyBasePath").and_then(Value::as_str) else {
            continue;
        };
        for entry in section
            .get("config")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(key) = entry.get("key").and_then(Value::as_str) else {
                continue;
            };
            let full = format!("{base}.{key}");
            let mut keys = vec![full.clone()];
            if entry.get("sensitive").and_then(Value::as_bool) == Some(true) {
                keys.push(format!("{full}SecretKey"));
            }
            for k in keys {
                let mut p = k;
                while !p.is_empty() {
                    out.insert(p.clone());
                    p = p
                        .rsplit_once('.')
                        .map(|(h, _)| h.to_string())
                        .unwrap_or_default();
                }
            }
        }
    }
}

/// The key paths a chart line knows: its values file, plus what its vendored templates read.
fn chart_keys(chart: ChartProfile) -> BTreeSet<String> {
    let read = |f: &str| std::fs::read_to_string(upstream(&format!("airbyte-chart/{f}"))).unwrap();
    let mut out = BTreeSet::new();
    match chart {
        ChartProfile::V1 => {
            paths("", &yaml(&read("values.v1.yaml")), &mut out);
            for t in [
                "_database.v1.tpl",
                "_storage.v1.tpl",
                "env-configmap.v1.yaml",
            ] {
                template_paths(&read(t), &mut out);
            }
        }
        ChartProfile::V2 => {
            paths("", &yaml(&read("values.v2.yaml")), &mut out);
            config_paths(&read("config.v2.yaml"), &mut out);
        }
    }
    out
}

/// Rendered leaf paths that the chart line does not know.
fn unknown_keys(values: &str, chart: ChartProfile) -> Vec<String> {
    let known = chart_keys(chart);
    airguard::render::airbyte_values::leaves(&yaml(values))
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| !known.contains(p))
        .collect()
}

fn values_of(artifacts: &[Artifact]) -> Option<&str> {
    artifacts
        .iter()
        .find(|a| a.path == airguard::render::airbyte_values::PATH)
        .map(|a| a.content.as_str())
}

#[test]
fn every_rendered_airbyte_value_exists_in_its_chart_line() {
    let mut rendered = 0;
    for spec in valid_specs() {
        let model = load(&spec);
        let artifacts = airguard::render::render(&model).unwrap();
        let Some(values) = values_of(&artifacts) else {
            assert!(
                model.airbyte.database.is_none() && model.airbyte.storage.is_none(),
                "{}: an external layout renders airbyte/values.yaml",
                spec.display()
            );
            continue;
        };
        rendered += 1;
        let unknown = unknown_keys(values, model.airbyte.chart);
        assert!(
            unknown.is_empty(),
            "{}: keys the {:?} chart does not know: {unknown:?}",
            spec.display(),
            model.airbyte.chart
        );
    }
    assert!(
        rendered >= 3,
        "only {rendered} fixtures render Airbyte values"
    );
}

#[test]
fn the_key_walk_rejects_invented_and_other_line_keys() {
    let invented = "global:\n  database:\n    hostname: db\n";
    assert_eq!(
        unknown_keys(invented, ChartProfile::V2),
        ["global.database.hostname"]
    );
    // V1 names the database `database`, V2 `name`; V1 has no audit-logging bucket.
    let v2_only =
        "global:\n  database:\n    name: x\n  storage:\n    bucket:\n      auditLogging: a\n";
    assert_eq!(
        unknown_keys(v2_only, ChartProfile::V1),
        ["global.database.name", "global.storage.bucket.auditLogging"]
    );
    assert!(unknown_keys(v2_only, ChartProfile::V2).is_empty());
    // Keys the values file leaves commented out but a template reads.
    let commented = "global:\n  database:\n    userSecretKey: U\n    passwordSecretKey: P\n";
    assert!(unknown_keys(commented, ChartProfile::V1).is_empty());
    assert!(unknown_keys(commented, ChartProfile::V2).is_empty());
}

/// The Secret keys the values name (`*SecretKey`) and the keys the chart reads under fixed names
/// must all be in the `airbyte-config-secrets` ExternalSecret.
#[test]
fn external_secret_holds_every_key_the_values_name() {
    use airguard::render::airbyte_secrets::{storage_key, AIRBYTE_CONFIG_SECRET_NAME};
    for spec in valid_specs() {
        let model = load(&spec);
        let artifacts = airguard::render::render(&model).unwrap();
        let Some(values) = values_of(&artifacts) else {
            continue;
        };
        let ns = &model.airbyte.namespace;
        let secrets = artifacts
            .iter()
            .find(|a| a.path == format!("secrets/{ns}.yaml"))
            .unwrap();
        let es = secrets
            .content
            .split("\n---\n")
            .map(yaml)
            .find(|d| {
                d["kind"] == "ExternalSecret" && d["metadata"]["name"] == AIRBYTE_CONFIG_SECRET_NAME
            })
            .unwrap_or_else(|| panic!("{}: no {AIRBYTE_CONFIG_SECRET_NAME}", spec.display()));
        let have: BTreeSet<String> = es["spec"]["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["secretKey"].as_str().unwrap().to_string())
            .collect();
        let mut named: Vec<String> = airguard::render::airbyte_values::leaves(&yaml(values))
            .into_iter()
            .filter(|(p, _)| p.ends_with("SecretKey"))
            .map(|(_, v)| v.as_str().unwrap().to_string())
            .collect();
        let gcs_v1 = model.airbyte.chart == ChartProfile::V1
            && model
                .airbyte
                .storage
                .as_ref()
                .is_some_and(|s| s.kind == airguard::spec::model::StorageKind::Gcs);
        if gcs_v1 {
            named.push(storage_key::GCS_CREDENTIALS_FILE.into());
        }
        assert!(!named.is_empty(), "{}", spec.display());
        for k in &named {
            assert!(have.contains(k), "{}: {k} not in {have:?}", spec.display());
        }
        // Secret names the values give are the ExternalSecret's target.
        for (p, v) in airguard::render::airbyte_values::leaves(&yaml(values)) {
            if p.ends_with("ecretName") && p != "global.auth.managedSecretName" {
                assert_eq!(v, AIRBYTE_CONFIG_SECRET_NAME, "{}: {p}", spec.display());
            }
        }
    }
}

/// Which components the topology sends to an external service, per fixture.
fn clients(t: &Topology, name: &str) -> Vec<String> {
    let mut v: Vec<String> = t
        .flows
        .iter()
        .filter(|f| matches!(&f.to, Target::External(e) if e.name == name))
        .map(|f| f.from.clone())
        .collect();
    v.sort();
    v
}

#[test]
fn external_services_get_exactly_their_chart_clients() {
    let db_clients = [
        "airbyte-bootloader",
        "airbyte-cron",
        "airbyte-server",
        "airbyte-temporal",
        "airbyte-worker",
        "airbyte-workload-api-server",
        "airbyte-workload-launcher",
    ];
    for (name, job_pod_db, storage) in [
        (
            "external-db-s3-v2.yaml",
            true,
            &[
                "airbyte-job-pod",
                "airbyte-server",
                "airbyte-worker",
                "airbyte-workload-api-server",
                "airbyte-workload-launcher",
            ][..],
        ),
        (
            "external-db-gcs-v1.yaml",
            true,
            &[
                "airbyte-job-pod",
                "airbyte-server",
                "airbyte-worker",
                "airbyte-workload-launcher",
            ][..],
        ),
    ] {
        let t = Topology::from_model(&load(&fixture(&format!("specs/valid/{name}"))));
        let mut want: Vec<&str> = db_clients.to_vec();
        if job_pod_db {
            want.push("airbyte-job-pod");
        }
        want.sort_unstable();
        assert_eq!(clients(&t, "database"), want, "{name}");
        assert_eq!(clients(&t, "storage"), storage, "{name}");
        assert!(t.endpoint("airbyte-db").is_none(), "{name}");
        assert!(t.endpoint("airbyte-minio").is_none(), "{name}");
        for f in &t.flows {
            if let Target::External(e) = &f.to {
                if e.name == "database" || e.name == "storage" {
                    assert!(
                        f.origin.starts_with(&format!("/airbyte/{}", e.name)),
                        "{}",
                        f.origin
                    );
                }
            }
        }
    }
    // Azure storage with the in-cluster database: the db stays, MinIO goes.
    let t = Topology::from_model(&load(&fixture("specs/valid/azure-storage-v2.yaml")));
    assert!(t.endpoint("airbyte-db").is_some());
    assert!(t.endpoint("airbyte-minio").is_none());
    assert!(clients(&t, "database").is_empty());
    assert_eq!(clients(&t, "storage").len(), 5);
}

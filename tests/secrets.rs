//! ESO objects and Airflow Helm values: rendered from every valid fixture spec, checked against
//! the real upstream schemas (ESO v2.9.0 CRDs, apache-airflow chart 1.21 `values.schema.json`),
//! snapshotted, and scanned for anything that is not a reference to a secret.

use crate::util::{root, upstream};
use airguard::render::{self, Artifact};
use airguard::spec::Model;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// Every spec this module renders: the valid fixtures (`example.yaml` is the starter spec).
fn specs() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let dir = root().join("fixtures/specs/valid");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    for p in paths {
        if p.extension().is_some_and(|e| e == "yaml") {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            out.push((name, std::fs::read_to_string(&p).unwrap()));
        }
    }
    out
}

/// Load and validate a spec into a model; every fixture must be valid.
fn model(name: &str, text: &str) -> Model {
    let mut files = airguard::diag::Files::new();
    let (model, diags) = airguard::spec::from_str(&mut files, &format!("{name}.yaml"), text);
    model.unwrap_or_else(|| {
        panic!(
            "{name}: {}",
            airguard::diag::render::human(&files, &diags, false)
        )
    })
}

/// The artifacts this module owns: `airflow/values.yaml` and `secrets/*`.
fn owned(model: &Model) -> Vec<Artifact> {
    render::render(model)
        .expect("renders")
        .into_iter()
        .filter(|a| a.path.starts_with("secrets/") || a.path.starts_with("airflow/"))
        .collect()
}

fn yaml_to_json(text: &str) -> Value {
    serde_saphyr::from_str(text).expect("YAML parses")
}

fn documents(text: &str) -> Vec<Value> {
    airguard::render::external_secret::check::documents(text)
        .iter()
        .map(|d| yaml_to_json(d))
        .collect()
}

// ---- ESO CRD schemas ------------------------------------------------------------------------------

/// Close every object schema that lists `properties` and does not preserve unknown fields: the
/// apiserver would prune unknown fields silently, so a typo would pass plain schema validation.
fn close(schema: &mut Value) {
    match schema {
        Value::Object(m) => {
            let preserve =
                m.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
            if m.contains_key("properties") && !preserve && !m.contains_key("additionalProperties")
            {
                m.insert("additionalProperties".into(), Value::Bool(false));
            }
            for v in m.values_mut() {
                close(v);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(close),
        _ => {}
    }
}

static CRDS: LazyLock<BTreeMap<String, jsonschema::Validator>> = LazyLock::new(|| {
    let mut out = BTreeMap::new();
    for file in ["externalsecrets", "secretstores", "clustersecretstores"] {
        let text = std::fs::read_to_string(upstream(&format!(
            "external-secrets/external-secrets.io_{file}.yaml"
        )))
        .unwrap();
        let crd = yaml_to_json(&text);
        let kind = crd["spec"]["names"]["kind"].as_str().unwrap().to_string();
        out.insert(kind, crd_validator(&crd, "v1"));
    }
    out
});

/// A validator for one served version of a CRD, with its object schemas closed ([`close`]).
pub(crate) fn crd_validator(crd: &Value, version: &str) -> jsonschema::Validator {
    let served = crd["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == version)
        .expect("version served");
    let mut schema = served["schema"]["openAPIV3Schema"].clone();
    close(&mut schema);
    jsonschema::validator_for(&schema).expect("CRD schema compiles")
}

#[test]
fn eso_objects_validate_against_their_crds() {
    for (name, text) in specs() {
        let m = model(&name, &text);
        let mut kinds = Vec::new();
        for a in owned(&m).iter().filter(|a| a.path.starts_with("secrets/")) {
            for doc in documents(&a.content) {
                let kind = doc["kind"].as_str().unwrap().to_string();
                let v = CRDS
                    .get(&kind)
                    .unwrap_or_else(|| panic!("{name} {}: unknown kind {kind}", a.path));
                let errors: Vec<String> = v
                    .iter_errors(&doc)
                    .map(|e| format!("{} at {}", e, e.instance_path()))
                    .collect();
                assert!(
                    errors.is_empty(),
                    "{name} {} {kind}:\n{}",
                    a.path,
                    errors.join("\n")
                );
                kinds.push(kind);
            }
        }
        assert!(
            kinds.iter().any(|k| k.ends_with("SecretStore")),
            "{name}: no store rendered"
        );
        assert!(
            kinds.iter().any(|k| k == "ExternalSecret"),
            "{name}: no ExternalSecret rendered"
        );
    }
}

/// The closed CRD schema is strict: an invented field fails it.
#[test]
fn closed_crd_schema_rejects_invented_fields() {
    let (name, text) = specs().into_iter().find(|s| s.0 == "aws-celery").unwrap();
    let m = model(&name, &text);
    let a = owned(&m)
        .into_iter()
        .find(|a| a.path == "secrets/airflow.yaml")
        .unwrap();
    let mut doc = documents(&a.content)
        .into_iter()
        .find(|d| d["kind"] == "ExternalSecret")
        .unwrap();
    doc["spec"]["target"]["creationPolicyy"] = Value::String("Owner".into());
    assert!(!CRDS["ExternalSecret"].is_valid(&doc));
}

#[test]
fn cluster_store_renders_once_with_conditions_and_namespaced_refs() {
    for (name, text) in specs() {
        let m = model(&name, &text);
        let arts: Vec<Artifact> = owned(&m)
            .into_iter()
            .filter(|a| a.path.starts_with("secrets/"))
            .collect();
        let stores: Vec<(String, Value)> = arts
            .iter()
            .flat_map(|a| {
                documents(&a.content)
                    .into_iter()
                    .map(move |d| (a.path.clone(), d))
            })
            .filter(|(_, d)| d["kind"].as_str().unwrap().ends_with("SecretStore"))
            .collect();
        let cluster = m.secrets.store.kind == airguard::spec::model::StoreKind::ClusterSecretStore;
        if cluster {
            assert_eq!(stores.len(), 1, "{name}");
            assert_eq!(stores[0].0, "secrets/cluster-secret-store.yaml");
            assert!(
                stores[0].1["spec"]["conditions"].is_array(),
                "{name}: conditions"
            );
            // every reference object (it has a `name`) inside the provider names its namespace
            fn refs(v: &Value, out: &mut Vec<Value>) {
                if let Value::Object(m) = v {
                    if m.contains_key("name") {
                        out.push(v.clone());
                    }
                    m.values().for_each(|c| refs(c, out));
                }
            }
            let mut found = Vec::new();
            refs(&stores[0].1["spec"]["provider"], &mut found);
            for r in found {
                assert!(
                    r.get("namespace").is_some(),
                    "{name}: ref without namespace: {r}"
                );
            }
        } else {
            let namespaces: Vec<&str> = stores
                .iter()
                .map(|s| s.1["metadata"]["namespace"].as_str().unwrap())
                .collect();
            assert!(namespaces.contains(&m.airbyte.namespace.as_str()), "{name}");
            assert!(namespaces.contains(&m.airflow.namespace.as_str()), "{name}");
            assert!(!arts
                .iter()
                .any(|a| a.path == "secrets/cluster-secret-store.yaml"));
        }
    }
}

#[test]
fn airflow_connection_is_assembled_by_eso_not_by_airguard() {
    let (name, text) = specs().into_iter().find(|s| s.0 == "example").unwrap();
    let m = model(&name, &text);
    let a = owned(&m)
        .into_iter()
        .find(|a| a.path == "secrets/airflow.yaml")
        .unwrap();
    let es = documents(&a.content)
        .into_iter()
        .find(|d| d["kind"] == "ExternalSecret")
        .unwrap();
    let tpl = &es["spec"]["target"]["template"];
    assert_eq!(tpl["engineVersion"], "v2");
    let conn = tpl["data"]["AIRFLOW_CONN_AIRBYTE_DEFAULT"]
        .as_str()
        .unwrap();
    assert_eq!(
        conn,
        r#"{"conn_type":"airbyte","host":"http://airbyte-airbyte-server-svc.airbyte.svc.cluster.local:8001/api/public/v1/","login":{{ .client_id | toJson }},"password":{{ .client_secret | toJson }},"schema":"http://airbyte-airbyte-server-svc.airbyte.svc.cluster.local:8001/api/public/v1/applications/token"}"#
    );
    assert_eq!(tpl["data"]["AIRBYTE_API_CLIENT_ID"], "{{ .client_id }}");
    assert_eq!(es["spec"]["refreshInterval"], "1h0m0s");
    // once ESO substitutes JSON strings for the actions, the value is the provider's JSON form
    let filled = conn
        .replace("{{ .client_id | toJson }}", r#""id""#)
        .replace("{{ .client_secret | toJson }}", r#""s""#);
    let v: Value = serde_json::from_str(&filled).unwrap();
    assert_eq!(v["conn_type"], "airbyte");
    assert!(v["host"].as_str().unwrap().ends_with('/'));
}

// ---- Airflow chart values -------------------------------------------------------------------------

static CHART_SCHEMA: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(
        &std::fs::read_to_string(upstream("airflow-chart/values.schema.json")).unwrap(),
    )
    .unwrap()
});
static CHART_VALIDATOR: LazyLock<jsonschema::Validator> =
    LazyLock::new(|| jsonschema::validator_for(&CHART_SCHEMA).expect("chart schema compiles"));
static CHART_VALUES: LazyLock<Value> = LazyLock::new(|| {
    yaml_to_json(&std::fs::read_to_string(upstream("airflow-chart/values.yaml")).unwrap())
});

/// Helm's merge of user values over chart defaults: maps merge recursively; lists and scalars
/// replace.
pub(crate) fn helm_merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(bv) if bv.is_object() && v.is_object() => helm_merge(bv, v),
                    _ => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

#[test]
fn airflow_values_validate_against_the_chart_schema() {
    assert!(
        CHART_VALIDATOR.is_valid(&CHART_VALUES),
        "chart defaults validate"
    );
    let known: &Map<String, Value> = CHART_SCHEMA["properties"].as_object().unwrap();
    for (name, text) in specs() {
        let m = model(&name, &text);
        let a = owned(&m)
            .into_iter()
            .find(|a| a.path == "airflow/values.yaml")
            .expect("values rendered");
        let ours = yaml_to_json(&a.content);
        for k in ours.as_object().unwrap().keys() {
            assert!(
                known.contains_key(k),
                "{name}: top-level key {k} is not in the chart schema"
            );
        }
        let mut merged = CHART_VALUES.clone();
        helm_merge(&mut merged, &ours);
        let errors: Vec<String> = CHART_VALIDATOR
            .iter_errors(&merged)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name}:\n{}", errors.join("\n"));
        assert_eq!(ours["networkPolicies"]["enabled"], false);
    }
}

/// Per-component env is closed in the chart schema, so an invented key there must fail.
#[test]
fn chart_schema_rejects_invented_env_fields() {
    let mut merged = CHART_VALUES.clone();
    helm_merge(
        &mut merged,
        &serde_json::json!({"triggerer": {"env": [{"name": "X", "valueFromm": {}}]}}),
    );
    assert!(!CHART_VALIDATOR.is_valid(&merged));
}

#[test]
fn connection_env_goes_only_to_callers() {
    for (name, text) in specs() {
        let m = model(&name, &text);
        let a = owned(&m)
            .into_iter()
            .find(|a| a.path == "airflow/values.yaml")
            .unwrap();
        let v = yaml_to_json(&a.content);
        let conn = m.airflow.conn_env_name();
        let mut holders = Vec::new();
        for (path, env) in [
            ("workers.celery", &v["workers"]["celery"]["env"]),
            ("workers.kubernetes", &v["workers"]["kubernetes"]["env"]),
            ("triggerer", &v["triggerer"]["env"]),
            ("scheduler", &v["scheduler"]["env"]),
            ("apiServer", &v["apiServer"]["env"]),
            ("dagProcessor", &v["dagProcessor"]["env"]),
            ("env", &v["env"]),
        ] {
            if env
                .as_array()
                .is_some_and(|l| l.iter().any(|e| e["name"] == conn.as_str()))
            {
                holders.push(path);
            }
        }
        if v["secret"]
            .as_array()
            .is_some_and(|l| l.iter().any(|e| e["envName"] == conn.as_str()))
        {
            holders.push("secret");
        }
        let want: Vec<&str> = if m.airflow.all_components {
            // no credentials (auth none): the connection is plain env for every container
            vec![if airguard::render::airflow_conn::airflow_has_secret(&m) {
                "secret"
            } else {
                "env"
            }]
        } else {
            let mut w: Vec<&str> = m
                .airflow
                .callers
                .iter()
                .map(|c| {
                    match airguard::render::helm_values::env_location(m.airflow.executor, *c) {
                        ("workers", Some("celery")) => "workers.celery",
                        ("workers", Some("kubernetes")) => "workers.kubernetes",
                        (k, _) => k,
                    }
                })
                .collect();
            let order = [
                "workers.celery",
                "workers.kubernetes",
                "triggerer",
                "scheduler",
                "apiServer",
                "dagProcessor",
            ];
            w.sort_by_key(|p| order.iter().position(|o| o == p));
            w.dedup();
            w
        };
        assert_eq!(holders, want, "{name}");
    }
}

// ---- secrets never leak ---------------------------------------------------------------------------

/// Each remote key appears only as a `key:` or `property:` reference, no Secret object with data
/// is ever rendered, and every JSON `password` is an ESO template action.
#[test]
fn output_holds_references_only() {
    // A spec whose remote keys are recognizable, and whose text otherwise never mentions them.
    let text =
        std::fs::read_to_string(root().join("fixtures/specs/valid/aws-celery.yaml")).unwrap();
    let seeded = text
        .replace("analytics/airbyte-api#client_id", "SEED-CID#SEED-P1")
        .replace(
            "analytics/airbyte-api#client_secret",
            "SEED-CSECRET#SEED-P2",
        )
        .replace("analytics/airbyte-db#password", "SEED-DB#SEED-P3")
        .replace("analytics/airbyte-db#username", "SEED-DBU#SEED-P6")
        .replace("analytics/airbyte-minio#root_user", "SEED-MU#SEED-P4")
        .replace("analytics/airbyte-minio#root_password", "SEED-MP#SEED-P5");
    let mut checked = 0;
    for (name, text) in specs().into_iter().chain([("seeded".to_string(), seeded)]) {
        let m = model(&name, &text);
        let s = &m.secrets;
        let remote: Vec<&airguard::spec::model::RemoteRef> = [
            &s.airbyte_client_id,
            &s.airbyte_client_secret,
            &s.airbyte_token,
            &s.postgres_password,
            &s.postgres_user,
            &s.minio_user,
            &s.minio_password,
            &s.airflow_fernet_key,
            &s.airflow_api_secret_key,
            &s.airflow_jwt_secret,
            &m.airflow.metadata_connection,
        ]
        .into_iter()
        .flatten()
        .chain(
            m.airflow
                .pgbouncer_config
                .iter()
                .flat_map(|c| [&c.ini, &c.users, &c.stats_connection]),
        )
        .collect();
        let out: String = render::render(&m)
            .unwrap()
            .iter()
            .map(|a| a.content.clone())
            .collect();
        let is_ref = |line: &str, field: &str, needle: &str| {
            let t = line.trim();
            t == format!("{field}: {needle}") || t == format!("{field}: \"{needle}\"")
        };
        for r in &remote {
            // Properties are often plain words (`password`) that also name template keys, so they
            // are checked by the seeded spec below, where every one is unique.
            {
                let (needle, field) = (r.key.as_str(), "key");
                let whole = |l: &str| {
                    l.split(|c: char| c.is_whitespace() || "\"',:{}[]".contains(c))
                        .any(|t| t == needle)
                };
                for line in out.lines().filter(|l| whole(l)) {
                    assert!(
                        is_ref(line, field, needle),
                        "{name}: remote {field} {needle:?} outside a reference: {line}"
                    );
                    checked += 1;
                }
            }
        }
        if name == "seeded" {
            for line in out.lines().filter(|l| l.contains("SEED-")) {
                let t = line.trim();
                assert!(
                    t.starts_with("key: SEED-") || t.starts_with("property: SEED-"),
                    "seeded: leaked {line}"
                );
            }
            for n in [
                "CID", "CSECRET", "DB", "DBU", "MU", "MP", "P1", "P2", "P3", "P4", "P5", "P6",
            ] {
                assert!(
                    out.contains(&format!("SEED-{n}\n")),
                    "seeded: SEED-{n} is referenced"
                );
            }
        }
        for doc in out.split("\n---\n") {
            assert!(
                !doc.lines().any(|l| l == "kind: Secret"),
                "{name}: a Secret object was rendered"
            );
            assert!(!doc.contains("stringData"), "{name}");
        }
        for (i, _) in out.match_indices("\"password\":") {
            assert!(
                out[i + 11..].starts_with("{{ ."),
                "{name}: password that is not an ESO template action"
            );
        }
    }
    assert!(checked >= 10, "the scan looked at references ({checked})");
}

// ---- golden snapshots -----------------------------------------------------------------------------

#[test]
fn golden_secrets_and_values() {
    for (name, text) in specs() {
        let m = model(&name, &text);
        let arts = owned(&m);
        let again = owned(&m);
        assert_eq!(arts, again, "{name}: rendering is deterministic");
        insta::assert_snapshot!(format!("secrets-{name}"), render::stream(&arts));
    }
}

/// Every Secret `airflow/values.yaml` names for Airflow's own keys is made by an ExternalSecret
/// in Airflow's namespace, holding the key the chart reads (chart 1.21 `values.yaml`: "the secret
/// must contain a 'connection' / 'fernet-key' / 'api-secret-key' / 'jwt-secret' key", PgBouncer's
/// `pgbouncer.ini` and `users.txt`, and `statsSecretKey`); the bundled PostgreSQL is off exactly
/// when the metadata connection comes from such a Secret.
#[test]
fn airflow_secret_names_in_values_are_made_by_external_secrets() {
    let mut checked = 0;
    for (name, text) in specs() {
        let m = model(&name, &text);
        let arts = render::render(&m).unwrap();
        let file = |p: &str| arts.iter().find(|a| a.path == p).map(|a| a.content.clone());
        let values = yaml_to_json(&file("airflow/values.yaml").unwrap());
        let made: Vec<(String, String)> = file(&format!("secrets/{}.yaml", m.airflow.namespace))
            .map(|t| documents(&t))
            .unwrap_or_default()
            .iter()
            .filter(|d| d["kind"] == "ExternalSecret")
            .flat_map(|d| {
                let target = d["spec"]["target"]["name"].as_str().unwrap().to_string();
                d["spec"]["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(move |e| (target.clone(), e["secretKey"].as_str().unwrap().to_string()))
                    .collect::<Vec<_>>()
            })
            .collect();
        let pgb = &values["pgbouncer"];
        let stats_key = pgb["metricsExporterSidecar"]["statsSecretKey"]
            .as_str()
            .unwrap_or("connection");
        let wanted = [
            (&values["data"]["metadataSecretName"], "connection"),
            (&values["fernetKeySecretName"], "fernet-key"),
            (&values["apiSecretKeySecretName"], "api-secret-key"),
            (&values["jwtSecretName"], "jwt-secret"),
            (&pgb["configSecretName"], "pgbouncer.ini"),
            (&pgb["configSecretName"], "users.txt"),
            (&pgb["metricsExporterSidecar"]["statsSecretName"], stats_key),
        ];
        for (secret, key) in wanted {
            if let Some(secret) = secret.as_str() {
                assert!(
                    made.contains(&(secret.to_string(), key.to_string())),
                    "{name}: values name Secret {secret} for key {key}, which no ExternalSecret makes"
                );
                checked += 1;
            }
        }
        assert_eq!(
            values["postgresql"]["enabled"] == false,
            values["data"]["metadataSecretName"].is_string(),
            "{name}: postgresql off exactly with data.metadataSecretName"
        );
        assert_eq!(
            values["postgresql"]["enabled"] == false,
            m.airflow.external_database.is_some(),
            "{name}"
        );
        assert!(
            values.get("webserverSecretKeySecretName").is_none(),
            "{name}: Airflow 3 reads apiSecretKeySecretName"
        );
    }
    assert!(checked >= 15, "only {checked} Secret keys checked");
}

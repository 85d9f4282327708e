//! Observability, end to end on `fixtures/specs/valid/observability.yaml`: the PrometheusRule
//! against the vendored CRD, the values against the vendored chart schema, the statsd → mapping
//! → series chain with statsd_exporter's matching rules, the cross-reference of every metric the
//! rules and dashboard query, and (with `AIRGUARD_PROMTOOL`, set by `.ci/setup-promtool.sh`)
//! `promtool check rules` and `promtool test rules` on the committed unit tests.
//!
//! Everything read here is in the repository (`schemas/upstream/`); nothing outside it.

use crate::statsd::{apply, chart_and_rendered, mappings, selectors, selects};
use crate::util::{fixture, root};
use airguard::metrics::{self, Kind};
use airguard::render::{self, observability, Artifact};
use airguard::spec::Model;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn vendored(rel: &str) -> PathBuf {
    root().join("schemas/upstream").join(rel)
}

fn model(name: &str) -> Model {
    let path = fixture(&format!("specs/valid/{name}"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut files = airguard::diag::Files::new();
    let (m, diags) = airguard::spec::from_str(&mut files, name, &text);
    m.unwrap_or_else(|| panic!("{}", airguard::diag::render::human(&files, &diags, false)))
}

pub fn artifact(artifacts: &[Artifact], path: &str) -> Value {
    let a = artifacts
        .iter()
        .find(|a| a.path == path)
        .unwrap_or_else(|| panic!("{path} rendered"));
    serde_saphyr::from_str(&a.content).expect("YAML parses")
}

fn rendered() -> (Model, Vec<Artifact>) {
    let m = model("observability.yaml");
    let a = render::render(&m).expect("renders");
    (m, a)
}

fn rule_exprs(rule: &Value) -> Vec<String> {
    rule["spec"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap().iter())
        .map(|r| r["expr"].as_str().unwrap().to_string())
        .collect()
}

/// Dashboard queries with Grafana's variables replaced by what they stand for at query time.
pub fn dashboard_exprs(m: &Model) -> Vec<String> {
    observability::dashboard_queries(m)
        .into_iter()
        .map(|e| {
            e.replace("$__rate_interval", "5m")
                .replace("$pipeline", ".*")
                .replace("$connection", ".*")
        })
        .collect()
}

// ---- schemas -------------------------------------------------------------------------------

#[test]
fn prometheus_rule_validates_against_the_vendored_crd() {
    let crd: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(vendored(
            "prometheus-operator/monitoring.coreos.com_prometheusrules.yaml",
        ))
        .unwrap(),
    )
    .unwrap();
    let validator = crate::secrets::crd_validator(&crd, "v1");
    let (_, artifacts) = rendered();
    let rule = artifact(&artifacts, observability::RULE_PATH);
    let errors: Vec<String> = validator
        .iter_errors(&rule)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // The closed schema does reject an invented field.
    let mut bad = rule.clone();
    bad["spec"]["groups"][0]["rules"][0]["severity"] = "critical".into();
    assert!(!validator.is_valid(&bad));
    assert_eq!(
        rule["metadata"]["labels"]["release"],
        "kube-prometheus-stack"
    );
}

#[test]
fn statsd_values_validate_against_the_vendored_chart_schema() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(vendored("airflow-chart/values.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("chart schema compiles");
    let mut merged: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(vendored("airflow-chart/values.yaml")).unwrap(),
    )
    .unwrap();
    let (_, artifacts) = rendered();
    let ours = artifact(&artifacts, "airflow/values.yaml");
    crate::secrets::helm_merge(&mut merged, &ours);
    let errors: Vec<String> = validator
        .iter_errors(&merged)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    assert_eq!(ours["statsd"]["enabled"], true);
    assert_eq!(
        ours["statsd"]["extraMappings"].as_array().unwrap().len(),
        metrics::METRICS.len()
    );
}

#[test]
fn without_observability_statsd_stays_off_and_nothing_is_added() {
    let m = model("aws-celery.yaml");
    let artifacts = render::render(&m).unwrap();
    assert!(artifacts
        .iter()
        .all(|a| !a.path.starts_with("observability/")));
    let values = artifact(&artifacts, "airflow/values.yaml");
    assert_eq!(values["statsd"], serde_json::json!({"enabled": false}));
}

// ---- statsd_exporter mapping semantics -------------------------------------------------------

/// Every statsd line the contract lets the runtime send for this model's connection steps.
fn contract_lines(m: &Model) -> Vec<(String, Kind, BTreeMap<String, String>)> {
    let mut out = Vec::new();
    for p in &m.pipelines {
        for s in &p.steps {
            let Some(c) = s.kind.connection() else {
                continue;
            };
            let step = format!("{:?}", s.kind)
                .split('(')
                .next()
                .unwrap()
                .to_ascii_lowercase();
            for metric in metrics::METRICS {
                let mut sets: Vec<Vec<(&str, String)>> = vec![vec![]];
                for l in metric.labels {
                    let values: Vec<String> = match *l {
                        "pipeline" => vec![p.name.clone()],
                        "connection" => vec![c.to_string()],
                        "step" => vec![step.clone()],
                        "outcome" => metrics::OUTCOMES.iter().map(|o| o.to_string()).collect(),
                        other => panic!("unknown label {other}"),
                    };
                    sets = sets
                        .into_iter()
                        .flat_map(|s| {
                            values.iter().map(move |v| {
                                let mut s = s.clone();
                                s.push((*l, v.clone()));
                                s
                            })
                        })
                        .collect();
                }
                for set in sets {
                    let vals: Vec<&str> = set.iter().map(|(_, v)| v.as_str()).collect();
                    let name = metric.statsd_name(&vals).expect("safe name parts");
                    let labels = set.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
                    out.push((name, metric.kind, labels));
                }
            }
        }
    }
    out
}

/// Series the exporter produces for the contract lines: name → label sets.
fn exported(m: &Model, values: &Value) -> BTreeMap<String, BTreeSet<BTreeMap<String, String>>> {
    let all = chart_and_rendered(values);
    let mut out: BTreeMap<String, BTreeSet<BTreeMap<String, String>>> = BTreeMap::new();
    for (line, kind, want) in contract_lines(m) {
        let (name, labels) = apply(&all, &line, kind.prometheus())
            .unwrap_or_else(|| panic!("{line} matches no mapping"));
        assert_eq!(labels, want, "{line} -> {name}");
        out.entry(name).or_default().insert(labels);
    }
    out
}

#[test]
fn statsd_lines_map_to_exactly_the_contract_series() {
    let (m, artifacts) = rendered();
    let values = artifact(&artifacts, "airflow/values.yaml");
    let series = exported(&m, &values);
    let names: BTreeSet<&str> = series.keys().map(String::as_str).collect();
    let contract: BTreeSet<&str> = metrics::METRICS.iter().map(|m| m.name).collect();
    assert_eq!(names, contract);
    for metric in metrics::METRICS {
        for labels in &series[metric.name] {
            let keys: Vec<&str> = labels.keys().map(String::as_str).collect();
            let mut want: Vec<&str> = metric.labels.to_vec();
            want.sort_unstable();
            assert_eq!(keys, want, "{}", metric.name);
        }
    }
    // A wrong statsd type does not reach the contract name.
    let chart_and_ours = mappings(&values["statsd"]["extraMappings"]);
    assert!(apply(
        &chart_and_ours,
        "airflow.airguard.sync.daily-orders.orders.sync.records",
        "counter"
    )
    .is_none());
}

/// Labels Prometheus adds to every scraped series (a ServiceMonitor or PodMonitor target).
const TARGET_LABELS: &[&str] = &["namespace", "pod", "job", "instance", "service"];

#[test]
fn every_rule_and_dashboard_query_uses_series_the_exporter_produces() {
    let (m, artifacts) = rendered();
    let values = artifact(&artifacts, "airflow/values.yaml");
    let series = exported(&m, &values);
    let chart_names: BTreeMap<&str, &str> = metrics::CHART_SERIES.iter().copied().collect();
    let rule = artifact(&artifacts, observability::RULE_PATH);
    let mut exprs = rule_exprs(&rule);
    exprs.extend(dashboard_exprs(&m));
    let mut used = BTreeSet::new();
    for e in &exprs {
        for s in selectors(e) {
            used.insert(s.name.clone());
            if chart_names.contains_key(s.name.as_str()) {
                for (k, _, _) in &s.matchers {
                    assert!(TARGET_LABELS.contains(&k.as_str()), "{e}: {k}");
                }
                continue;
            }
            let produced = series
                .get(&s.name)
                .unwrap_or_else(|| panic!("{e}: {} is neither contract nor chart", s.name));
            // Some produced series matches every matcher (the query can select something).
            let hit = produced.iter().any(|labels| selects(&s, labels));
            assert!(hit, "{e}: {s:?} selects no produced series");
        }
    }
    // Every contract metric is used somewhere, and the chart series exist in the chart.
    for metric in metrics::METRICS {
        assert!(used.contains(metric.name), "{} unused", metric.name);
    }
    let chart = std::fs::read_to_string(vendored("airflow-chart/statsd-mappings.yml")).unwrap();
    for (name, _) in metrics::CHART_SERIES {
        if name.starts_with("airflow_") {
            assert!(chart.contains(&format!("name: \"{name}\"")), "{name}");
        }
    }
}

#[test]
fn dashboard_has_the_variables_and_panels_and_a_stable_uid() {
    let (m, artifacts) = rendered();
    let cm = artifact(&artifacts, observability::DASHBOARD_PATH);
    assert_eq!(cm["metadata"]["labels"]["grafana_dashboard"], "1");
    let json: Value =
        serde_json::from_str(cm["data"]["airguard-data-platform.json"].as_str().unwrap()).unwrap();
    assert_eq!(json["uid"], "airguard-data-platform");
    let vars: Vec<&str> = json["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(vars, ["datasource", "pipeline", "connection"]);
    let titles: Vec<&str> = json["panels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    insta::assert_debug_snapshot!(titles);
    assert_eq!(m.platform, "data-platform");
}

#[test]
fn every_alert_has_severity_for_and_a_documented_runbook() {
    let (_, artifacts) = rendered();
    let rule = artifact(&artifacts, observability::RULE_PATH);
    let docs = std::fs::read_to_string(root().join("docs/observability.md")).unwrap();
    for g in rule["spec"]["groups"].as_array().unwrap() {
        for r in g["rules"].as_array().unwrap() {
            let alert = r["alert"].as_str().unwrap();
            assert!(r["for"].is_string(), "{alert}");
            assert!(r["labels"]["severity"].is_string(), "{alert}");
            let url = r["annotations"]["runbook_url"].as_str().unwrap();
            let anchor = url.rsplit_once('#').unwrap().1;
            assert_eq!(anchor, alert.to_ascii_lowercase());
            assert!(
                docs.contains(&format!("### {alert}\n")),
                "docs/observability.md has no section for {alert}"
            );
        }
    }
    for metric in metrics::METRICS {
        assert!(
            docs.contains(&format!("`{}`", metric.name)),
            "{}",
            metric.name
        );
    }
}

// ---- promtool ------------------------------------------------------------------------------

fn promtool() -> Option<String> {
    match std::env::var_os("AIRGUARD_PROMTOOL") {
        Some(p) => Some(p.to_string_lossy().into_owned()),
        None => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but AIRGUARD_PROMTOOL is not: run .ci/setup-promtool.sh"
            );
            eprintln!("AIRGUARD_PROMTOOL not set: promtool checks not run");
            None
        }
    }
}

fn run(cmd: &str, args: &[&str], dir: &std::path::Path) -> (bool, String) {
    let out = std::process::Command::new(cmd)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("promtool runs");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn promtool_checks_the_rules_and_passes_the_unit_tests() {
    let Some(promtool) = promtool() else { return };
    let (_, artifacts) = rendered();
    let rule = artifact(&artifacts, observability::RULE_PATH);
    let dir = tempfile::tempdir().unwrap();
    let spec = serde_json::to_string_pretty(&rule["spec"]).unwrap();
    std::fs::write(dir.path().join("checked.yaml"), &spec).unwrap();
    let (ok, out) = run(&promtool, &["check", "rules", "checked.yaml"], dir.path());
    assert!(ok, "promtool check rules:\n{out}");
    // Unit tests pin firing and labels; annotations are checked above, not compared here.
    let mut bare = rule["spec"].clone();
    for g in bare["groups"].as_array_mut().unwrap() {
        for r in g["rules"].as_array_mut().unwrap() {
            r.as_object_mut().unwrap().remove("annotations");
        }
    }
    std::fs::write(
        dir.path().join("rules.yaml"),
        serde_json::to_string_pretty(&bare).unwrap(),
    )
    .unwrap();
    std::fs::copy(
        root().join("tests/promtool/observability.yaml"),
        dir.path().join("observability.yaml"),
    )
    .unwrap();
    let (ok, out) = run(
        &promtool,
        &["test", "rules", "observability.yaml"],
        dir.path(),
    );
    assert!(ok, "promtool test rules:\n{out}");
}

#[test]
fn promtool_parses_every_dashboard_query() {
    let Some(promtool) = promtool() else { return };
    let (m, _) = rendered();
    let rules: Vec<Value> = dashboard_exprs(&m)
        .into_iter()
        .enumerate()
        .map(|(i, e)| serde_json::json!({"record": format!("airguard:dashboard_query_{i}"), "expr": e}))
        .collect();
    let doc = serde_json::json!({"groups": [{"name": "dashboard", "rules": rules}]});
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("dashboard.yaml"),
        serde_json::to_string_pretty(&doc).unwrap(),
    )
    .unwrap();
    let (ok, out) = run(&promtool, &["check", "rules", "dashboard.yaml"], dir.path());
    assert!(ok, "promtool check rules (dashboard queries):\n{out}");
}

// ---- policies ------------------------------------------------------------------------------

#[test]
fn observability_adds_exactly_the_statsd_flows() {
    use airguard::topology::{Target, Topology};
    let m = model("observability.yaml");
    let mut without = m.clone();
    without.observability = None;
    let before: BTreeSet<String> = Topology::from_model(&without)
        .flows
        .iter()
        .map(|f| f.id.clone())
        .collect();
    let topo = Topology::from_model(&m);
    let added: Vec<String> = topo
        .flows
        .iter()
        .filter(|f| !before.contains(&f.id))
        .map(|f| {
            let Target::Endpoint(to) = &f.to else {
                panic!("{} leaves the cluster", f.id)
            };
            let ports: Vec<String> = f
                .ports
                .iter()
                .map(|p| format!("{:?}/{}", p.protocol, p.range.unwrap().start))
                .collect();
            format!("{} -> {to} {} ({})", f.from, ports.join(","), f.origin)
        })
        .collect();
    assert_eq!(
        added,
        [
            "airflow-scheduler -> airflow-statsd Udp/9125 (/observability)",
            "airflow-dag-processor -> airflow-statsd Udp/9125 (/observability)",
            "airflow-triggerer -> airflow-statsd Udp/9125 (/observability)",
            "airflow-api-server -> airflow-statsd Udp/9125 (/observability)",
            "airflow-worker -> airflow-statsd Udp/9125 (/observability)",
            "monitoring-prometheus -> airflow-statsd Tcp/9102 (/observability/prometheus)",
        ]
    );
    // Every flow that existed is unchanged, and the exporter reaches nothing.
    assert_eq!(topo.flows.len(), before.len() + added.len());
    assert_eq!(topo.flows_from("airflow-statsd").count(), 0);
    let statsd = topo.endpoint("airflow-statsd").unwrap();
    assert_eq!(statsd.labels["component"], "statsd");
}

#[test]
fn bad_observability_exits_2_and_writes_nothing() {
    for bad in [
        "observability-without-pipelines.yaml",
        "unreachable-prometheus.yaml",
        "stale-bound-too-short.yaml",
        "invalid-observability.yaml",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out_dir = dir.path().join("out");
        let out = crate::util::airguard()
            .arg("render")
            .arg("--spec")
            .arg(fixture(&format!("specs/invalid/{bad}")))
            .arg("--out")
            .arg(&out_dir)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(!out_dir.exists(), "{bad}: something was written");
    }
}

/// Without `stale-after`, the staleness bound follows the pipelines' schedules: a pipeline that
/// runs on weekdays only is not stale over a weekend (72h gap → 74h bound), while an explicit
/// bound shorter than that gap is `stale-bound-too-short` (fixture
/// `invalid/stale-bound-shorter-than-schedule.yaml`).
#[test]
fn default_staleness_bound_follows_the_longest_schedule_gap() {
    let path = fixture("specs/invalid/stale-bound-shorter-than-schedule.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("  alerts:\n    stale-after: 26h\n", "");
    assert!(!text.contains("stale-after"));
    let mut files = airguard::diag::Files::new();
    let (m, diags) = airguard::spec::from_str(&mut files, "weekdays.yaml", &text);
    let m = m.unwrap_or_else(|| panic!("{}", airguard::diag::render::human(&files, &diags, false)));
    let alerts = &m.observability.expect("observability").alerts;
    assert_eq!(alerts.stale_after.as_secs(), 74 * 3600);
}

//! Observability artifacts, from the spec's `observability` section and the metrics contract
//! ([`crate::metrics`]): the statsd exporter mappings for `airflow/values.yaml`,
//! `observability/prometheusrule.yaml` (a `monitoring.coreos.com/v1` PrometheusRule) and
//! `observability/grafana-dashboard.yaml` (a ConfigMap the Grafana sidecar loads).
//!
//! Rust decides every rule, expression and panel; templates give the YAML its shape. Every
//! expression names only contract series or the chart's own ([`crate::metrics::CHART_SERIES`]),
//! and every file is parsed back before it is returned. Nothing is rendered without
//! `observability`, so specs without it render exactly as before.

use super::{env, header, Artifact, RenderError};
use crate::metrics::{self, Metric};
use crate::spec::model::{Model, Observability, StepKind};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// Path of the PrometheusRule.
pub const RULE_PATH: &str = "observability/prometheusrule.yaml";
/// Path of the dashboard ConfigMap.
pub const DASHBOARD_PATH: &str = "observability/grafana-dashboard.yaml";
/// Where each alert's runbook lives: `docs/observability.md`, one section per alert.
pub const RUNBOOK_BASE: &str = "https://airguard.dev/docs/observability.md";
/// How long a failure keeps its alert firing (the window of `increase`).
pub const FAILURE_WINDOW: &str = "1h";

/// One statsd_exporter mapping (the exporter's documented `mappings[]` item).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Mapping {
    /// Glob over the statsd name.
    #[serde(rename = "match")]
    pub glob: String,
    /// Only lines of this statsd type match.
    pub match_metric_type: &'static str,
    /// Prometheus series name.
    pub name: &'static str,
    /// Help text.
    pub help: &'static str,
    /// Labels from the glob's captures (`$1`…).
    pub labels: Vec<(String, String)>,
}

/// The `statsd.extraMappings` for a model: one per contract metric, or none without
/// `observability` (then the chart's statsd stays off).
pub fn mappings(model: &Model) -> Vec<Mapping> {
    if model.observability.is_none() {
        return Vec::new();
    }
    metrics::METRICS.iter().map(mapping).collect()
}

fn mapping(m: &Metric) -> Mapping {
    Mapping {
        glob: m.glob(),
        match_metric_type: m.kind.prometheus(),
        name: m.name,
        help: m.help,
        labels: m
            .labels
            .iter()
            .enumerate()
            .map(|(i, l)| ((*l).to_string(), format!("${}", i + 1)))
            .collect(),
    }
}

/// A duration in Prometheus' notation (`26h`, `1h30m`, `45s`).
pub fn prom_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        return "0s".into();
    }
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let mut out = String::new();
    for (v, u) in [(h, "h"), (m, "m"), (s, "s")] {
        if v > 0 {
            out.push_str(&format!("{v}{u}"));
        }
    }
    out
}

/// One alerting rule.
#[derive(Clone, Debug, Serialize)]
pub struct Rule {
    /// Alert name.
    pub alert: String,
    /// PromQL.
    pub expr: String,
    /// `for:` duration.
    #[serde(rename = "for")]
    pub for_: String,
    /// `severity` label.
    pub severity: String,
    /// Summary annotation.
    pub summary: String,
    /// Description annotation.
    pub description: String,
    /// Runbook URL annotation.
    pub runbook_url: String,
}

fn runbook(alert: &str) -> String {
    format!("{RUNBOOK_BASE}#{}", alert.to_ascii_lowercase())
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialize")
}

fn alternatives(names: &[&str]) -> String {
    quote(&names.join("|"))
}

/// Every alert the spec asks for, in a fixed order.
pub fn rules(model: &Model, o: &Observability) -> Vec<Rule> {
    let a = &o.alerts;
    let ns = quote(&model.airflow.namespace);
    let pipelines: Vec<&str> = model.pipelines.iter().map(|p| p.name.as_str()).collect();
    let psel = alternatives(&pipelines);
    let total = metrics::SYNC_TOTAL.name;
    let w = FAILURE_WINDOW;
    let counted = |sel: &str| {
        // A counter the exporter creates at its first event starts above zero, which `increase`
        // does not see; the `unless … offset` arm catches that first event.
        format!("(increase({total}{{{sel}}}[{w}]) > 0) or ({total}{{{sel}}} unless {total}{{{sel}}} offset {w})")
    };
    let mut out = vec![Rule {
        alert: "AirguardSyncFailed".into(),
        expr: counted(&format!("pipeline=~{psel},outcome=~\"failed|cancelled\"")),
        for_: "0s".into(),
        severity: a.sync_failed.clone(),
        summary: "Sync of {{ $labels.connection }} in pipeline {{ $labels.pipeline }} {{ $labels.outcome }}".into(),
        description: format!("The {{{{ $labels.step }}}} step of connection {{{{ $labels.connection }}}} in pipeline {{{{ $labels.pipeline }}}} ended {{{{ $labels.outcome }}}} within the last {w}. Open the job in the Airbyte UI and the task log in Airflow, fix the cause, then clear the task to re-run it."),
        runbook_url: runbook("AirguardSyncFailed"),
    }];
    // Validation: per connection step with a minimum, so the description names it.
    let mut seen = BTreeMap::new();
    for p in &model.pipelines {
        for s in &p.steps {
            let (Some(c), Some(min)) = (s.kind.connection(), s.min_records) else {
                continue;
            };
            if !matches!(s.kind, StepKind::Validate(_) | StepKind::Sync(_)) {
                continue;
            }
            seen.entry((p.name.clone(), c.to_string()))
                .and_modify(|m: &mut u64| *m = (*m).max(min))
                .or_insert(min);
        }
    }
    for ((p, c), min) in &seen {
        let sel = format!(
            "pipeline={},connection={},outcome=\"validation-failed\"",
            quote(p),
            quote(c)
        );
        out.push(Rule {
            alert: "AirguardValidationFailed".into(),
            expr: counted(&sel),
            for_: "0s".into(),
            severity: a.validation_failed.clone(),
            summary: format!("Connection {c} in pipeline {p} synced fewer than {min} records"),
            description: format!("The last sync of connection {c} (pipeline {p}) committed fewer records than its minimum of {min} (min-records). Check the source for missing data and the connection's stream selection; the dashboard's records panel shows the trend."),
            runbook_url: runbook("AirguardValidationFailed"),
        });
    }
    // Staleness and slowness: per synced connection.
    let stale = prom_duration(a.stale_after);
    let ls = metrics::LAST_SUCCESS.name;
    let dur = metrics::SYNC_DURATION.name;
    let mut synced = BTreeMap::new();
    let mut slow = BTreeMap::new();
    for p in &model.pipelines {
        for s in &p.steps {
            let (StepKind::Sync(c) | StepKind::Reset(c) | StepKind::Clear(c)) = &s.kind else {
                continue;
            };
            let step = match s.kind {
                StepKind::Sync(_) => "sync",
                StepKind::Reset(_) => "reset",
                _ => "clear",
            };
            if step == "sync" {
                synced.insert((p.name.clone(), c.clone()), ());
            }
            let limit = s.timeout.as_secs_f64() * a.slow_fraction;
            slow.entry((p.name.clone(), c.clone(), step))
                .and_modify(|(l, t): &mut (f64, Duration)| {
                    if limit < *l {
                        *l = limit;
                        *t = s.timeout;
                    }
                })
                .or_insert((limit, s.timeout));
        }
    }
    for (p, c) in synced.keys() {
        let sel = format!("pipeline={},connection={}", quote(p), quote(c));
        out.push(Rule {
            alert: "AirguardSyncStale".into(),
            expr: format!("time() - {ls}{{{sel}}} > {}", a.stale_after.as_secs()),
            for_: "5m".into(),
            severity: a.stale.clone(),
            summary: format!("No successful sync of {c} in pipeline {p} for over {stale}"),
            description: format!("Connection {c} (pipeline {p}) last synced successfully more than {stale} ago (observability.alerts.stale-after). Check that the DAG is unpaused and scheduled, and look for failed or skipped runs."),
            runbook_url: runbook("AirguardSyncStale"),
        });
        out.push(Rule {
            alert: "AirguardSyncNeverSucceeded".into(),
            expr: format!("absent({ls}{{{sel}}})"),
            for_: stale.clone(),
            severity: a.stale.clone(),
            summary: format!("No successful sync of {c} in pipeline {p} recorded for {stale}"),
            description: format!("For {stale} the exporter has held no success time for connection {c} (pipeline {p}): the pipeline never succeeded, or the exporter restarted and no sync has succeeded since. A silent pipeline is not a healthy one: check the DAG runs."),
            runbook_url: runbook("AirguardSyncNeverSucceeded"),
        });
    }
    for ((p, c, step), (limit, timeout)) in &slow {
        let sel = format!(
            "pipeline={},connection={},step={}",
            quote(p),
            quote(c),
            quote(step)
        );
        let pct = (a.slow_fraction * 100.0).round();
        out.push(Rule {
            alert: "AirguardSyncSlow".into(),
            expr: format!("{dur}{{{sel}}} > {}", trim_float(*limit)),
            for_: "0s".into(),
            severity: a.slow.clone(),
            summary: format!("The {step} of {c} in pipeline {p} used over {pct}% of its timeout"),
            description: format!("The last {step} job of connection {c} (pipeline {p}) ran longer than {pct}% of its {} timeout. The next one may hit the deadline and be cancelled: check the source's load and the sync mode, or raise the step's timeout.", prom_duration(*timeout)),
            runbook_url: runbook("AirguardSyncSlow"),
        });
    }
    out.push(Rule {
        alert: "AirguardStatsdExporterAbsent".into(),
        expr: format!("absent(statsd_exporter_build_info{{namespace={ns}}})"),
        for_: "10m".into(),
        severity: a.absent.clone(),
        summary: format!("The Airflow statsd exporter in {} is not scraped", model.airflow.namespace),
        description: format!("Prometheus has scraped no statsd exporter in namespace {} for 10 minutes, so no sync metric reaches it and the other alerts cannot fire. Check the {}-statsd pod and the scrape target.", model.airflow.namespace, model.airflow.release),
        runbook_url: runbook("AirguardStatsdExporterAbsent"),
    });
    out.push(Rule {
        alert: "AirguardSchedulerAbsent".into(),
        expr: format!("absent(airflow_scheduler_heartbeat{{namespace={ns}}}) or sum(rate(airflow_scheduler_heartbeat{{namespace={ns}}}[5m])) == 0"),
        for_: "10m".into(),
        severity: a.absent.clone(),
        summary: format!("The Airflow scheduler in {} sends no heartbeat", model.airflow.namespace),
        description: format!("No scheduler heartbeat from namespace {} for 10 minutes: no DAG is scheduled, so no sync runs. Check the scheduler pods and their logs.", model.airflow.namespace),
        runbook_url: runbook("AirguardSchedulerAbsent"),
    });
    out
}

fn trim_float(f: f64) -> String {
    let s = format!("{f:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[derive(Serialize)]
struct RuleCtx {
    header: String,
    name: String,
    namespace: String,
    labels: Vec<(String, String)>,
    group: String,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
struct DashboardCtx {
    header: String,
    name: String,
    namespace: String,
    labels: Vec<(String, String)>,
    file: String,
    json: String,
}

/// Render the observability artifacts (none without `observability`).
pub fn render(model: &Model) -> Result<Vec<Artifact>, RenderError> {
    let Some(o) = &model.observability else {
        return Ok(Vec::new());
    };
    let name = format!("airguard-{}", model.platform);
    let mut out = Vec::new();
    let content = env::render(
        "prometheusrule.yaml.j2",
        RuleCtx {
            header: header(),
            name: name.clone(),
            namespace: o.prometheus.namespace.clone(),
            labels: o
                .prometheus
                .rule_labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            group: format!("airguard.{}", model.platform),
            rules: rules(model, o),
        },
    )?;
    typed::check_rule(&content).map_err(|message| RenderError::SelfCheck {
        path: RULE_PATH.into(),
        message,
    })?;
    out.push(Artifact {
        path: RULE_PATH.into(),
        content,
    });
    if let Some(g) = &o.grafana {
        let json = serde_json::to_string_pretty(&dashboard(model)).expect("json serializes");
        let content = env::render(
            "grafana-dashboard.yaml.j2",
            DashboardCtx {
                header: header(),
                name: format!("{name}-dashboard"),
                namespace: g.namespace.clone(),
                labels: g
                    .dashboard_labels
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                file: format!("{name}.json"),
                json: json
                    .lines()
                    .map(|l| format!("    {l}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            },
        )?;
        typed::check_dashboard(&content).map_err(|message| RenderError::SelfCheck {
            path: DASHBOARD_PATH.into(),
            message,
        })?;
        out.push(Artifact {
            path: DASHBOARD_PATH.into(),
            content,
        });
    }
    Ok(out)
}

/// The dashboard uid: `airguard-<platform>`, or for long names a prefix and a stable hash, so it
/// fits Grafana's 40 characters and stays the same for the same platform.
pub fn dashboard_uid(platform: &str) -> String {
    let uid = format!("airguard-{platform}");
    if uid.len() <= 40 {
        return uid;
    }
    // FNV-1a, 32 bit: stable across builds and platforms.
    let mut h: u32 = 0x811c_9dc5;
    for b in platform.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("airguard-{}-{h:08x}", &platform[..22])
}

/// A dashboard panel's PromQL, with the dashboard variables in place.
pub fn dashboard_queries(model: &Model) -> Vec<String> {
    let d = dashboard(model);
    let mut out = Vec::new();
    if let Some(panels) = d["panels"].as_array() {
        for p in panels {
            if let Some(targets) = p["targets"].as_array() {
                for t in targets {
                    if let Some(e) = t["expr"].as_str() {
                        out.push(e.to_string());
                    }
                }
            }
        }
    }
    out
}

fn dashboard(model: &Model) -> serde_json::Value {
    use serde_json::json;
    let sel = "pipeline=~\"$pipeline\",connection=~\"$connection\"";
    let ds = json!({"type": "prometheus", "uid": "${datasource}"});
    let panel = |id: u32,
                 title: &str,
                 kind: &str,
                 unit: &str,
                 x: u32,
                 y: u32,
                 targets: Vec<(String, &str)>| {
        json!({
            "id": id,
            "title": title,
            "type": kind,
            "datasource": ds,
            "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "targets": targets.iter().enumerate().map(|(i, (e, legend))| json!({
                "refId": ((b'A' + i as u8) as char).to_string(),
                "datasource": ds,
                "expr": e,
                "legendFormat": legend,
            })).collect::<Vec<_>>(),
        })
    };
    let total = metrics::SYNC_TOTAL.name;
    let panels = vec![
        panel(1, "Syncs by outcome", "timeseries", "short", 0, 0, vec![(
            format!("sum by (pipeline, connection, outcome) (increase({total}{{{sel}}}[$__rate_interval]))"),
            "{{pipeline}}/{{connection}} {{outcome}}",
        )]),
        panel(2, "Records per sync against the minimum", "timeseries", "short", 12, 0, vec![
            (format!("{}{{{sel}}}", metrics::SYNC_RECORDS.name), "{{pipeline}}/{{connection}} {{step}} records"),
            (format!("{}{{{sel}}}", metrics::SYNC_MIN_RECORDS.name), "{{pipeline}}/{{connection}} minimum"),
        ]),
        panel(3, "Bytes per sync", "timeseries", "bytes", 0, 8, vec![(
            format!("{}{{{sel}}}", metrics::SYNC_BYTES.name),
            "{{pipeline}}/{{connection}} {{step}}",
        )]),
        panel(4, "Sync duration", "timeseries", "s", 12, 8, vec![(
            format!("{}{{{sel}}}", metrics::SYNC_DURATION.name),
            "{{pipeline}}/{{connection}} {{step}}",
        )]),
        panel(5, "Time since last success", "stat", "s", 0, 16, vec![(
            format!("time() - {}{{{sel}}}", metrics::LAST_SUCCESS.name),
            "{{pipeline}}/{{connection}}",
        )]),
        panel(6, "Failed Airflow tasks (chart metrics)", "timeseries", "short", 12, 16, vec![(
            "sum by (operator) (increase(airflow_operator_failures[$__rate_interval]))".to_string(),
            "{{operator}}",
        )]),
    ];
    let var = |name: &str, query: String| {
        json!({
            "name": name,
            "label": name,
            "type": "query",
            "datasource": ds,
            "query": {"query": query, "refId": format!("{name}-values")},
            "definition": query,
            "includeAll": true,
            "multi": true,
            "allValue": ".*",
            "current": {"selected": true, "text": ["All"], "value": ["$__all"]},
            "refresh": 2,
            "sort": 1,
        })
    };
    json!({
        "uid": dashboard_uid(&model.platform),
        "title": format!("airguard syncs: {}", model.platform),
        "tags": ["airguard", "airbyte", "airflow"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "editable": false,
        "time": {"from": "now-7d", "to": "now"},
        "templating": {"list": [
            {
                "name": "datasource",
                "label": "Prometheus",
                "type": "datasource",
                "query": "prometheus",
            },
            var("pipeline", format!("label_values({total}, pipeline)")),
            var("connection", format!("label_values({total}{{pipeline=~\"$pipeline\"}}, connection)")),
        ]},
        "panels": panels,
    })
}

/// Closed parse-back models of the rendered objects.
pub mod typed {
    use serde::Deserialize;
    use std::collections::BTreeMap;

    /// A PrometheusRule, as far as airguard writes it.
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct PrometheusRule {
        /// `monitoring.coreos.com/v1`.
        pub api_version: String,
        /// `PrometheusRule`.
        pub kind: String,
        /// Metadata.
        pub metadata: Metadata,
        /// Spec.
        pub spec: RuleSpec,
    }

    /// Object metadata.
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Metadata {
        /// Name.
        pub name: String,
        /// Namespace.
        pub namespace: String,
        /// Labels.
        #[serde(default)]
        pub labels: BTreeMap<String, String>,
    }

    /// `spec`.
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RuleSpec {
        /// Groups.
        pub groups: Vec<Group>,
    }

    /// A rule group.
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Group {
        /// Name.
        pub name: String,
        /// Rules.
        pub rules: Vec<AlertRule>,
    }

    /// An alerting rule.
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct AlertRule {
        /// Alert name.
        pub alert: String,
        /// PromQL.
        pub expr: String,
        /// `for`.
        #[serde(rename = "for")]
        pub for_: String,
        /// Labels.
        pub labels: BTreeMap<String, String>,
        /// Annotations.
        pub annotations: BTreeMap<String, String>,
    }

    /// Parse a rendered PrometheusRule back and check what the operator and Alertmanager need.
    pub fn check_rule(content: &str) -> Result<PrometheusRule, String> {
        let r: PrometheusRule = serde_saphyr::from_str(content).map_err(|e| e.to_string())?;
        if r.api_version != "monitoring.coreos.com/v1" || r.kind != "PrometheusRule" {
            return Err("not a monitoring.coreos.com/v1 PrometheusRule".into());
        }
        for g in &r.spec.groups {
            for rule in &g.rules {
                for key in ["summary", "description", "runbook_url"] {
                    if rule.annotations.get(key).is_none_or(|v| v.is_empty()) {
                        return Err(format!("alert {} has no {key}", rule.alert));
                    }
                }
                if !rule.labels.contains_key("severity") {
                    return Err(format!("alert {} has no severity", rule.alert));
                }
            }
        }
        Ok(r)
    }

    /// The dashboard ConfigMap.
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct ConfigMap {
        /// `v1`.
        pub api_version: String,
        /// `ConfigMap`.
        pub kind: String,
        /// Metadata.
        pub metadata: Metadata,
        /// One dashboard JSON.
        pub data: BTreeMap<String, String>,
    }

    /// Parse the dashboard ConfigMap back; its one data entry must be JSON with a uid.
    pub fn check_dashboard(content: &str) -> Result<ConfigMap, String> {
        let c: ConfigMap = serde_saphyr::from_str(content).map_err(|e| e.to_string())?;
        if c.api_version != "v1" || c.kind != "ConfigMap" || c.data.len() != 1 {
            return Err("not a v1 ConfigMap with one dashboard".into());
        }
        for json in c.data.values() {
            let v: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
            if !v["uid"].is_string() {
                return Err("dashboard has no uid".into());
            }
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_use_prometheus_notation() {
        assert_eq!(prom_duration(Duration::from_secs(26 * 3600)), "26h");
        assert_eq!(prom_duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(prom_duration(Duration::from_secs(45)), "45s");
        assert_eq!(prom_duration(Duration::ZERO), "0s");
    }

    #[test]
    fn dashboard_uid_is_stable_and_short() {
        assert_eq!(dashboard_uid("data-platform"), "airguard-data-platform");
        let long = "a".repeat(63);
        assert_eq!(dashboard_uid(&long), dashboard_uid(&long));
        assert!(dashboard_uid(&long).len() <= 40);
        assert_ne!(dashboard_uid(&long), dashboard_uid(&"b".repeat(63)));
    }
}

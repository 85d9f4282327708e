//! The `observability` section: Prometheus, Grafana and alert settings.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Sync metrics, alerts and dashboard.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Observability {
    /// The Prometheus that scrapes the statsd exporter and evaluates the rules.
    pub prometheus: PrometheusSettings,
    /// Where the Grafana dashboard ConfigMap goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grafana: Option<GrafanaSettings>,
    /// Alert thresholds and severities.
    #[serde(default)]
    pub alerts: AlertSettings,
}

/// The Prometheus (for example kube-prometheus-stack's) that scrapes the exporter.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PrometheusSettings {
    /// Namespace the Prometheus pods run in (not one airguard isolates).
    pub namespace: String,
    /// Labels of the Prometheus pods; only they may scrape the exporter.
    pub pod_labels: BTreeMap<String, String>,
    /// Labels of the PrometheusRule the operator selects rules by
    /// (`release: kube-prometheus-stack`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rule_labels: BTreeMap<String, String>,
}

/// Grafana's dashboard sidecar.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GrafanaSettings {
    /// Namespace of the dashboard ConfigMap (where the sidecar looks).
    pub namespace: String,
    /// Labels the sidecar selects dashboards by (default `grafana_dashboard: "1"`).
    #[serde(default = "GrafanaSettings::default_labels")]
    pub dashboard_labels: BTreeMap<String, String>,
}

impl GrafanaSettings {
    fn default_labels() -> BTreeMap<String, String> {
        BTreeMap::from([("grafana_dashboard".to_string(), "1".to_string())])
    }
}

/// Alert thresholds.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AlertSettings {
    /// Severity label of each alert.
    #[serde(default)]
    pub severity: AlertSeverities,
    /// Alert when a connection has had no successful sync for this long (Go duration; default
    /// `26h`, or the longest gap between two runs of a pipeline's `schedule` plus 2h when that is
    /// longer). Must be longer than any such gap and any `when.last-sync-older-than` or
    /// `timeout` of a step syncing it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale_after: Option<String>,
    /// Alert when a sync took longer than this fraction of its step's `timeout` (default `0.8`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow_fraction: Option<f64>,
}

/// The `severity` label of each alert.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AlertSeverities {
    /// A sync failed or was cancelled (default `critical`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_failed: Option<String>,
    /// A sync committed fewer records than its minimum (default `warning`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_failed: Option<String>,
    /// No successful sync for longer than `stale-after` (default `warning`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale: Option<String>,
    /// A sync ran longer than `slow-fraction` of its timeout (default `warning`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow: Option<String>,
    /// The statsd exporter or the scheduler reports nothing (default `critical`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absent: Option<String>,
}

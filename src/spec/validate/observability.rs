//! Semantic rules of the `observability` section: Prometheus and Grafana names and labels, alert
//! severities and thresholds, and how the staleness bound relates to the pipelines.
//!
//! A child of `validate` so it shares the located-diagnostic helpers; it only adds rules.

use super::{dotted, parse_go_duration, Cx};
use crate::diag::Code;
use crate::spec::model;
use crate::spec::raw::{self, RawSpec};
use std::time::Duration;

/// `stale-after` when the spec gives none: a daily sync plus two hours of slack.
pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(26 * 3600);
/// `slow-fraction` when the spec gives none.
pub const DEFAULT_SLOW_FRACTION: f64 = 0.8;

impl Cx<'_> {
    pub(super) fn observability(&mut self, raw: &RawSpec) -> Option<model::Observability> {
        let o = raw.observability.as_ref()?;
        if raw.pipelines.is_empty() {
            self.push(
                Code::ObservabilityWithoutPipelines,
                "/observability",
                "`observability` is set but the spec declares no pipeline".into(),
                "nothing to measure",
                "add `pipelines` whose syncs the rules and dashboard watch, or remove `observability`".into(),
            );
        }
        let prometheus = self.prometheus(raw, &o.prometheus);
        let grafana = o.grafana.as_ref().map(|g| {
            self.dns_label("/observability/grafana/namespace", &g.namespace);
            self.labels(
                "/observability/grafana/dashboard-labels",
                &g.dashboard_labels,
            );
            model::Grafana {
                namespace: g.namespace.clone(),
                dashboard_labels: g.dashboard_labels.clone(),
            }
        });
        let alerts = self.alerts(raw, &o.alerts);
        Some(model::Observability {
            prometheus,
            grafana,
            alerts,
        })
    }

    fn prometheus(&mut self, raw: &RawSpec, p: &raw::PrometheusSettings) -> model::Prometheus {
        const BASE: &str = "/observability/prometheus";
        self.dns_label(&format!("{BASE}/namespace"), &p.namespace);
        self.labels(&format!("{BASE}/pod-labels"), &p.pod_labels);
        self.labels(&format!("{BASE}/rule-labels"), &p.rule_labels);
        let mut owned = vec![("Airbyte", &raw.airbyte.namespace)];
        if let Some(j) = &raw.airbyte.jobs_namespace {
            owned.push(("Airbyte jobs", j));
        }
        owned.push(("Airflow", &raw.airflow.namespace));
        if let Some((what, _)) = owned.iter().find(|(_, ns)| **ns == p.namespace) {
            self.push(
                Code::UnreachablePrometheus,
                &format!("{BASE}/namespace"),
                format!(
                    "Prometheus namespace `{}` is the {what} namespace, which airguard default-denies",
                    p.namespace
                ),
                "isolated by airguard",
                "give the namespace the Prometheus pods run in (e.g. `monitoring`); airguard renders no egress for them inside its own namespaces".into(),
            );
        }
        if p.pod_labels.is_empty() {
            self.push(
                Code::UnreachablePrometheus,
                &format!("{BASE}/pod-labels"),
                "`pod-labels` is empty: a policy would admit every pod of the Prometheus namespace"
                    .into(),
                "no labels",
                "give the labels of the Prometheus pods, e.g. `app.kubernetes.io/name: prometheus`"
                    .into(),
            );
        }
        model::Prometheus {
            namespace: p.namespace.clone(),
            pod_labels: p.pod_labels.clone(),
            rule_labels: p.rule_labels.clone(),
            origin: BASE.into(),
        }
    }

    fn alerts(&mut self, raw: &RawSpec, a: &raw::AlertSettings) -> model::Alerts {
        const BASE: &str = "/observability/alerts";
        let s = &a.severity;
        let mut severity = |key: &str, v: &Option<String>, default: &str| -> String {
            let v = v.clone().unwrap_or_else(|| default.to_string());
            if v.is_empty() || !super::is_label_value(&v) {
                self.push(
                    Code::InvalidLabel,
                    &format!("{BASE}/severity/{key}"),
                    format!("`{v}` is not a valid value for the `severity` label"),
                    "invalid label value",
                    "use a word such as `critical`, `warning` or `info`".into(),
                );
            }
            v
        };
        let sync_failed = severity("sync-failed", &s.sync_failed, "critical");
        let validation_failed = severity("validation-failed", &s.validation_failed, "warning");
        let stale = severity("stale", &s.stale, "warning");
        let slow = severity("slow", &s.slow, "warning");
        let absent = severity("absent", &s.absent, "critical");
        let stale_pointer = format!("{BASE}/stale-after");
        let stale_after = match &a.stale_after {
            Some(t) => match self.duration(&stale_pointer, t) {
                Some(Duration::ZERO) => {
                    self.push(
                        Code::InvalidDuration,
                        &stale_pointer,
                        "`stale-after` is zero: every connection would be stale at once".into(),
                        "zero",
                        "use the longest normal gap between two successful syncs, e.g. `26h`"
                            .into(),
                    );
                    DEFAULT_STALE_AFTER
                }
                Some(d) => d,
                None => DEFAULT_STALE_AFTER,
            },
            None => default_stale_after(raw),
        };
        self.stale_bound(raw, stale_after, a.stale_after.is_some());
        let slow_fraction = match a.slow_fraction {
            Some(f) if f > 0.0 && f <= 1.0 => f,
            Some(f) => {
                self.push(
                    Code::InvalidValue,
                    &format!("{BASE}/slow-fraction"),
                    format!("`slow-fraction` {f} is outside (0, 1]"),
                    "a fraction of the step timeout",
                    "use a fraction such as `0.8`: alert when a sync has used 80% of its timeout"
                        .into(),
                );
                DEFAULT_SLOW_FRACTION
            }
            None => DEFAULT_SLOW_FRACTION,
        };
        model::Alerts {
            sync_failed,
            validation_failed,
            stale,
            slow,
            absent,
            stale_after,
            slow_fraction,
        }
    }

    /// The staleness bound must be longer than every interval a pipeline is meant to leave
    /// between two syncs of a connection: each sync step's `when.last-sync-older-than` and its
    /// `timeout`, and the longest gap between two runs of its pipeline's `schedule` (see
    /// [`sync_intervals`]).
    fn stale_bound(&mut self, raw: &RawSpec, bound: Duration, explicit: bool) {
        let pointer = if explicit {
            "/observability/alerts/stale-after"
        } else {
            "/observability"
        };
        for (what, interval) in sync_intervals(raw) {
            if interval >= bound {
                let b = super::format_go_duration(bound);
                let i = super::format_go_duration(interval);
                self.push(
                    Code::StaleBoundTooShort,
                    pointer,
                    format!("staleness bound {b} is not longer than {what} ({i})"),
                    "too short",
                    format!(
                        "set `observability.alerts.stale-after` above {i}, e.g. `{}h`",
                        interval.as_secs() / 3600 + 2
                    ),
                );
                // One diagnostic is enough to say what to raise.
                return;
            }
        }
    }
}

/// Without `stale-after`: 26h, or two hours more than the longest gap between two runs of any
/// pipeline's `schedule` when that is longer (a weekly pipeline is not stale after a day).
fn default_stale_after(raw: &RawSpec) -> Duration {
    raw.pipelines
        .iter()
        .filter_map(|p| p.schedule.as_deref().and_then(super::schedule_longest_gap))
        .map(|gap| gap + Duration::from_secs(2 * 3600))
        .fold(DEFAULT_STALE_AFTER, Duration::max)
}

/// Every interval a spec allows between two syncs of one connection, with what it comes from
/// (for the message): the longest gap between two runs of a pipeline's `schedule`, and each sync
/// step's `when.last-sync-older-than` and `timeout`.
fn sync_intervals(raw: &RawSpec) -> Vec<(String, Duration)> {
    let mut out = Vec::new();
    for (pi, p) in raw.pipelines.iter().enumerate() {
        if let Some((s, gap)) = p
            .schedule
            .as_deref()
            .and_then(|s| Some((s, super::schedule_longest_gap(s)?)))
        {
            out.push((
                format!(
                    "the longest gap between two runs of pipeline `{}` (`schedule: {s}`)",
                    p.name
                ),
                gap,
            ));
        }
        for (si, s) in p.steps.iter().enumerate() {
            let raw::Step::Action(a) = s else { continue };
            let Some(conn) = &a.sync else { continue };
            let at = dotted(&format!("/pipelines/{pi}/steps/{si}"));
            if let Some(d) = a
                .when
                .as_ref()
                .and_then(|w| w.last_sync_older_than.as_deref())
                .and_then(parse_go_duration)
            {
                out.push((
                    format!("`when.last-sync-older-than` of the sync of `{conn}` at `{at}`"),
                    d,
                ));
            }
            if let Some(d) = a.timeout.as_deref().and_then(parse_go_duration) {
                out.push((format!("the timeout of the sync of `{conn}` at `{at}`"), d));
            }
        }
    }
    out
}

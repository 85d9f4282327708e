//! The sync metrics contract: every metric the rendered DAG runtime sends through Airflow's
//! statsd, the Prometheus series the rendered `statsd.extraMappings` turn it into, and what the
//! alert rules and dashboard may query.
//!
//! One table ([`METRICS`]) is the single source: `render::observability` writes the mappings,
//! rules and dashboard from it, `render::dags` the DAG runtime's table of names it sends, `conform --report prometheus` uses its names for the numbers it
//! shares, and `docs/observability.md` documents each entry. Pipeline and connection names are
//! DNS-1123 labels (checked by `spec::validate`), so they are safe statsd name parts: no `.`,
//! `:`, `|`, `@` or `#` can split or end a statsd line. Pure data, no IO.

/// Airflow's `[metrics] statsd_prefix`, which the chart sets to `airflow`.
pub const STATSD_PREFIX: &str = "airflow";

/// How a metric is sent and exposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `Stats.incr` (statsd `c`), exposed as a Prometheus counter.
    Counter,
    /// `Stats.gauge` (statsd `g`), exposed as a Prometheus gauge.
    Gauge,
}

impl Kind {
    /// The Prometheus `# TYPE` word.
    pub fn prometheus(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        }
    }

    /// The statsd type suffix.
    pub fn statsd(self) -> &'static str {
        match self {
            Kind::Counter => "c",
            Kind::Gauge => "g",
        }
    }
}

/// One metric of the contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metric {
    /// The statsd name after the prefix, with `<label>` placeholders for the name parts that
    /// become labels, in order: `airguard.sync.<pipeline>.<connection>.<step>.records`.
    pub statsd: &'static str,
    /// The Prometheus series name.
    pub name: &'static str,
    /// Statsd and Prometheus type.
    pub kind: Kind,
    /// Label names, in the order their placeholders appear in [`Metric::statsd`].
    pub labels: &'static [&'static str],
    /// Unit of the value sent.
    pub unit: &'static str,
    /// Prometheus `# HELP` text.
    pub help: &'static str,
}

/// The step actions that run an Airbyte job and so report records, bytes and duration.
pub const JOB_STEPS: &[&str] = &["sync", "reset", "clear"];

/// Values of the `outcome` label of [`SYNC_TOTAL`].
pub const OUTCOMES: &[&str] = &["succeeded", "failed", "cancelled", "validation-failed"];

/// Records the job committed.
pub const SYNC_RECORDS: Metric = Metric {
    statsd: "airguard.sync.<pipeline>.<connection>.<step>.records",
    name: "airguard_sync_records",
    kind: Kind::Gauge,
    labels: &["pipeline", "connection", "step"],
    unit: "records",
    help: "Records committed by the last job of the step.",
};

/// Bytes the job committed.
pub const SYNC_BYTES: Metric = Metric {
    statsd: "airguard.sync.<pipeline>.<connection>.<step>.bytes",
    name: "airguard_sync_bytes",
    kind: Kind::Gauge,
    labels: &["pipeline", "connection", "step"],
    unit: "bytes",
    help: "Bytes committed by the last job of the step.",
};

/// How long the job ran, in seconds (sent as a gauge, not a statsd timer, so the exporter keeps
/// the last value instead of a summary).
pub const SYNC_DURATION: Metric = Metric {
    statsd: "airguard.sync.<pipeline>.<connection>.<step>.duration",
    name: "airguard_sync_duration_seconds",
    kind: Kind::Gauge,
    labels: &["pipeline", "connection", "step"],
    unit: "seconds",
    help: "Duration of the last job of the step, from trigger to terminal state.",
};

/// The fewest records the step must commit (the spec's `min-records`; sent only when set).
pub const SYNC_MIN_RECORDS: Metric = Metric {
    statsd: "airguard.sync.<pipeline>.<connection>.<step>.min_records",
    name: "airguard_sync_min_records",
    kind: Kind::Gauge,
    labels: &["pipeline", "connection", "step"],
    unit: "records",
    help: "The spec's min-records for the step.",
};

/// One per finished step, by outcome.
pub const SYNC_TOTAL: Metric = Metric {
    statsd: "airguard.sync.<pipeline>.<connection>.<step>.outcome.<outcome>",
    name: "airguard_sync_total",
    kind: Kind::Counter,
    labels: &["pipeline", "connection", "step", "outcome"],
    unit: "steps",
    help:
        "Finished connection steps, by outcome (succeeded, failed, cancelled, validation-failed).",
};

/// When the connection last synced successfully, as Unix time.
pub const LAST_SUCCESS: Metric = Metric {
    statsd: "airguard.last_success.<pipeline>.<connection>",
    name: "airguard_last_success_timestamp_seconds",
    kind: Kind::Gauge,
    labels: &["pipeline", "connection"],
    unit: "seconds since the Unix epoch",
    help: "Unix time of the last successful sync of the connection.",
};

/// Every metric of the contract.
pub const METRICS: &[Metric] = &[
    SYNC_RECORDS,
    SYNC_BYTES,
    SYNC_DURATION,
    SYNC_MIN_RECORDS,
    SYNC_TOTAL,
    LAST_SUCCESS,
];

/// Series the rules and dashboard use that the contract does not define: the Airflow chart's own
/// statsd mappings (`statsd-mappings.yml` of chart 1.21) and the exporter's own metrics.
pub const CHART_SERIES: &[(&str, &str)] = &[
    (
        "airflow_scheduler_heartbeat",
        "chart mapping of `airflow.scheduler_heartbeat`",
    ),
    (
        "airflow_operator_failures",
        "chart mapping of `airflow.operator_failures_<operator>`",
    ),
    (
        "statsd_exporter_build_info",
        "statsd_exporter's own build information",
    ),
];

impl Metric {
    /// The `match` glob of the statsd_exporter mapping: the prefix, then `*` for each label.
    pub fn glob(&self) -> String {
        let parts: Vec<&str> = self
            .statsd
            .split('.')
            .map(|p| if p.starts_with('<') { "*" } else { p })
            .collect();
        format!("{STATSD_PREFIX}.{}", parts.join("."))
    }

    /// The full statsd name for label values given in [`Metric::labels`] order, or `None` when a
    /// value is not a safe name part or the count is wrong.
    pub fn statsd_name(&self, values: &[&str]) -> Option<String> {
        if values.len() != self.labels.len() || !values.iter().all(|v| is_safe_part(v)) {
            return None;
        }
        let mut it = values.iter();
        let parts: Vec<&str> = self
            .statsd
            .split('.')
            .map(|p| {
                if p.starts_with('<') {
                    it.next().copied()
                } else {
                    Some(p)
                }
            })
            .collect::<Option<_>>()?;
        Some(format!("{STATSD_PREFIX}.{}", parts.join(".")))
    }
}

/// Whether a value can be one part of a statsd name that a mapping glob `*` captures whole: not
/// empty, and only ASCII letters, digits, `-` and `_` (Airflow's statsd validator allows these and
/// `.`; a `.` would shift the captures).
pub fn is_safe_part(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_prometheus_conventions() {
        for m in METRICS {
            assert!(m.name.starts_with("airguard_"), "{}", m.name);
            assert!(
                m.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit()),
                "{}",
                m.name
            );
            assert_eq!(
                m.kind == Kind::Counter,
                m.name.ends_with("_total"),
                "{}",
                m.name
            );
            if m.unit.starts_with("seconds") {
                assert!(m.name.ends_with("_seconds"), "{}", m.name);
            }
            if m.unit == "bytes" {
                assert!(m.name.ends_with("_bytes"), "{}", m.name);
            }
            let placeholders: Vec<&str> = m
                .statsd
                .split('.')
                .filter_map(|p| p.strip_prefix('<').and_then(|p| p.strip_suffix('>')))
                .collect();
            assert_eq!(placeholders, m.labels, "{}", m.statsd);
        }
    }

    #[test]
    fn globs_do_not_overlap() {
        for a in METRICS {
            for b in METRICS.iter().filter(|b| b.name != a.name) {
                let sample: Vec<&str> = b.labels.iter().map(|_| "x").collect();
                let name = b.statsd_name(&sample).unwrap();
                let glob = a.glob();
                let matches = glob.split('.').count() == name.split('.').count()
                    && glob
                        .split('.')
                        .zip(name.split('.'))
                        .all(|(g, n)| g == "*" || g == n);
                assert!(!matches, "{glob} matches {name}");
            }
        }
    }

    #[test]
    fn dns_labels_are_safe_statsd_parts() {
        for ok in ["orders", "a", "daily-orders", "x1-2"] {
            assert!(crate::spec::validate::check_dns_label(ok).is_ok());
            assert!(is_safe_part(ok), "{ok}");
        }
        for bad in ["", "a.b", "a:b", "a|b", "a@b", "a#b", "a b"] {
            assert!(!is_safe_part(bad), "{bad}");
        }
        assert_eq!(
            SYNC_RECORDS
                .statsd_name(&["daily", "orders", "sync"])
                .unwrap(),
            "airflow.airguard.sync.daily.orders.sync.records"
        );
        assert_eq!(SYNC_RECORDS.statsd_name(&["a.b", "orders", "sync"]), None);
    }
}

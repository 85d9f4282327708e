//! Conformance results as data, and their renderers: a human summary table, JSON (with a
//! `schema_version`), JUnit XML (one testsuite per pipeline, one testcase per step) and the
//! Prometheus text exposition format.
//!
//! [`Report`] is an output contract: fields are only ever added, and `schema_version` changes
//! when a field changes meaning. Renderers are pure functions of the report, so the same report
//! gives the same bytes: pipelines in spec order, cases in run order, no wall-clock timestamps,
//! no hash-map iteration. Nothing here does IO or holds a credential. The human and Prometheus
//! renderers escape control characters and JUnit keeps to what XML 1.0 allows
//! ([`crate::text`]), so no server-sent string reaches a terminal raw or breaks a document.

use crate::metrics;
use crate::text::{escape_control, xml_escape};
use serde::Serialize;
use std::fmt::Write as _;

/// Version of the JSON report's shape.
pub const SCHEMA_VERSION: u32 = 1;

/// How a case, pipeline or run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, strum::Display, strum::IntoStaticStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Outcome {
    /// Passed.
    Passed,
    /// Failed.
    Failed,
    /// Did not run (a condition or dependency was not met, or `on-running: skip`).
    Skipped,
}

/// A whole conformance run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// Shape version of this document.
    pub schema_version: u32,
    /// `passed` when no case failed.
    pub verdict: Outcome,
    /// API flavour used (`public` or `config`).
    pub flavour: String,
    /// Counts.
    pub summary: Summary,
    /// Pipelines, in spec order.
    pub pipelines: Vec<PipelineReport>,
}

/// Counts over all cases.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Pipelines run.
    pub pipelines: usize,
    /// Cases.
    pub cases: usize,
    /// Passed cases.
    pub passed: usize,
    /// Failed cases.
    pub failed: usize,
    /// Skipped cases.
    pub skipped: usize,
}

/// One pipeline's results.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PipelineReport {
    /// Pipeline name.
    pub name: String,
    /// `failed` if any case failed, else `passed`.
    pub outcome: Outcome,
    /// Time spent, milliseconds.
    pub duration_ms: u64,
    /// Cases in run order.
    pub cases: Vec<Case>,
}

/// One reported check.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Case {
    /// 1-based index of the spec step this case belongs to.
    pub step: usize,
    /// What was checked: `health`, `connection`, `sync`, `wait`, `stats`, `validate`, `reset`,
    /// `clear`.
    pub name: String,
    /// Connection name, for steps on a connection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<String>,
    /// Outcome.
    pub outcome: Outcome,
    /// Time spent, milliseconds.
    pub duration_ms: u64,
    /// What happened (the failure reason for failed cases).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The stable diagnostic code of the failure, when it has one (`redirect-refused`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The job involved, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<JobStats>,
}

impl Case {
    /// `sync orders`, `health`.
    pub fn label(&self) -> String {
        match &self.connection {
            Some(c) => format!("{} {c}", self.name),
            None => self.name.clone(),
        }
    }
}

/// What the API reported about a job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JobStats {
    /// Job id.
    pub id: i64,
    /// Job type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Last status seen.
    pub status: String,
    /// Records committed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records: Option<u64>,
    /// Bytes committed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// Start, RFC 3339.
    pub start: String,
    /// End, RFC 3339 (terminal jobs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// Duration, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<u64>,
    /// Attempts (Config API only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
}

impl From<&crate::conform::client::Job> for JobStats {
    fn from(j: &crate::conform::client::Job) -> Self {
        use crate::conform::client::iso::format_epoch;
        Self {
            id: j.id,
            kind: j.kind.to_string(),
            status: j.status.to_string(),
            records: j.records,
            bytes: j.bytes,
            start: format_epoch(j.start),
            end: j.end.map(format_epoch),
            duration_secs: j.duration_secs,
            attempts: j.attempts,
        }
    }
}

impl Report {
    /// Build a report from pipeline results (kept in the given order).
    pub fn new(flavour: &str, pipelines: Vec<PipelineReport>) -> Self {
        let mut summary = Summary {
            pipelines: pipelines.len(),
            ..Summary::default()
        };
        for c in pipelines.iter().flat_map(|p| &p.cases) {
            summary.cases += 1;
            match c.outcome {
                Outcome::Passed => summary.passed += 1,
                Outcome::Failed => summary.failed += 1,
                Outcome::Skipped => summary.skipped += 1,
            }
        }
        let verdict = if summary.failed == 0 {
            Outcome::Passed
        } else {
            Outcome::Failed
        };
        Self {
            schema_version: SCHEMA_VERSION,
            verdict,
            flavour: flavour.to_string(),
            summary,
            pipelines,
        }
    }

    /// Whether every case passed or was skipped.
    pub fn passed(&self) -> bool {
        self.verdict == Outcome::Passed
    }
}

/// Report formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::EnumString, strum::Display, strum::EnumIter)]
#[strum(serialize_all = "kebab-case")]
pub enum Format {
    /// The human summary table.
    Human,
    /// JSON.
    Json,
    /// JUnit XML.
    Junit,
    /// Prometheus text exposition.
    Prometheus,
}

/// Render `report` in `format`.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Human => human(report),
        Format::Json => json(report),
        Format::Junit => junit(report),
        Format::Prometheus => prometheus(report),
    }
}

fn secs(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// The human summary: one row per case, then a verdict line.
pub fn human(report: &Report) -> String {
    let mut rows: Vec<[String; 6]> = Vec::new();
    for p in &report.pipelines {
        for c in &p.cases {
            let job = c.job.as_ref();
            rows.push([
                escape_control(&p.name).into_owned(),
                escape_control(&format!("{}. {}", c.step, c.label())).into_owned(),
                c.outcome.to_string(),
                format!("{}s", secs(c.duration_ms)),
                job.map(|j| j.id.to_string()).unwrap_or_default(),
                job.and_then(|j| j.records)
                    .map(|r| r.to_string())
                    .unwrap_or_default(),
            ]);
        }
    }
    let header = ["PIPELINE", "STEP", "RESULT", "TIME", "JOB", "RECORDS"];
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[&str]| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                let _ = write!(s, "{cell:<w$}  ");
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(&mut out, &header);
    for r in &rows {
        line(&mut out, &r.iter().map(String::as_str).collect::<Vec<_>>());
    }
    let failures: Vec<String> = report
        .pipelines
        .iter()
        .flat_map(|p| p.cases.iter().map(move |c| (p, c)))
        .filter(|(_, c)| c.outcome == Outcome::Failed)
        .map(|(p, c)| {
            let code = c
                .code
                .as_deref()
                .map(|k| format!(" [{k}]"))
                .unwrap_or_default();
            let line = format!(
                "{} / {}. {}: {}{code}",
                p.name,
                c.step,
                c.label(),
                c.message.as_deref().unwrap_or("failed")
            );
            format!("  {}\n", escape_control(&line))
        })
        .collect();
    if !failures.is_empty() {
        out.push_str("\nfailures:\n");
        failures.iter().for_each(|f| out.push_str(f));
    }
    let s = &report.summary;
    let _ = writeln!(
        out,
        "\nconform {}: {} pipeline(s), {} case(s): {} passed, {} failed, {} skipped",
        report.verdict, s.pipelines, s.cases, s.passed, s.failed, s.skipped
    );
    out
}

/// Pretty JSON with a trailing newline.
pub fn json(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("report serializes");
    s.push('\n');
    s
}

/// JUnit XML: one `<testsuite>` per pipeline, one `<testcase>` per case, with job id, records
/// and bytes as properties.
pub fn junit(report: &Report) -> String {
    let s = &report.summary;
    let total_ms: u64 = report.pipelines.iter().map(|p| p.duration_ms).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"airguard conform\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{}\">",
        s.cases,
        s.failed,
        s.skipped,
        secs(total_ms)
    );
    for p in &report.pipelines {
        let count = |o: Outcome| p.cases.iter().filter(|c| c.outcome == o).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{}\">",
            xml_escape(&p.name),
            p.cases.len(),
            count(Outcome::Failed),
            count(Outcome::Skipped),
            secs(p.duration_ms)
        );
        for c in &p.cases {
            let _ = write!(
                out,
                "    <testcase name=\"{}. {}\" classname=\"airguard.conform.{}\" time=\"{}\"",
                c.step,
                xml_escape(&c.label()),
                xml_escape(&p.name),
                secs(c.duration_ms)
            );
            let mut props: Vec<(&str, String)> = Vec::new();
            if let Some(k) = &c.code {
                props.push(("code", k.clone()));
            }
            if let Some(j) = &c.job {
                props.push(("job_id", j.id.to_string()));
                props.push(("job_type", j.kind.clone()));
                props.push(("job_status", j.status.clone()));
                if let Some(r) = j.records {
                    props.push(("records", r.to_string()));
                }
                if let Some(b) = j.bytes {
                    props.push(("bytes", b.to_string()));
                }
                if let Some(a) = j.attempts {
                    props.push(("attempts", a.to_string()));
                }
            }
            let body = props.is_empty() && c.outcome == Outcome::Passed;
            if body {
                out.push_str("/>\n");
                continue;
            }
            out.push_str(">\n");
            if !props.is_empty() {
                out.push_str("      <properties>\n");
                for (k, v) in props {
                    let _ = writeln!(
                        out,
                        "        <property name=\"{k}\" value=\"{}\"/>",
                        xml_escape(&v)
                    );
                }
                out.push_str("      </properties>\n");
            }
            let msg = xml_escape(c.message.as_deref().unwrap_or(""));
            match c.outcome {
                Outcome::Failed => {
                    let _ = writeln!(
                        out,
                        "      <failure message=\"{msg}\" type=\"{}\">{msg}</failure>",
                        c.name
                    );
                }
                Outcome::Skipped => {
                    let _ = writeln!(out, "      <skipped message=\"{msg}\"/>");
                }
                Outcome::Passed => {
                    if !msg.is_empty() {
                        let _ = writeln!(out, "      <system-out>{msg}</system-out>");
                    }
                }
            }
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn label_escape(s: &str) -> String {
    escape_control(
        &s.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n"),
    )
    .into_owned()
}

/// Prometheus text exposition (format 0.0.4): per-job records, bytes and duration, per-case
/// outcome, and the overall verdict. Families are grouped; series keep report order.
pub fn prometheus(report: &Report) -> String {
    let mut out = String::new();
    let family = |out: &mut String, name: &str, help: &str, samples: &[(String, String)]| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} gauge");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    };
    let case_labels = |p: &PipelineReport, c: &Case| {
        let mut l = format!(
            "pipeline=\"{}\",step=\"{}\",check=\"{}\"",
            label_escape(&p.name),
            c.step,
            label_escape(&c.name)
        );
        // Always present (empty for `health`): one family, one label set.
        let conn = c.connection.as_deref().unwrap_or("");
        let _ = write!(l, ",connection=\"{}\"", label_escape(conn));
        l
    };
    // Job metrics come from the `stats` case (sync) or the `wait` case (reset/clear).
    let jobs: Vec<(String, &JobStats)> = report
        .pipelines
        .iter()
        .flat_map(|p| p.cases.iter().map(move |c| (p, c)))
        .filter(|(_, c)| {
            c.name == "stats"
                || (c.name == "wait" && c.job.as_ref().is_some_and(|j| j.kind != "sync"))
        })
        .filter_map(|(p, c)| {
            let j = c.job.as_ref()?;
            // The labels of the metrics contract (`crate::metrics`), where `step` is the job's
            // action, plus `step_index`, the step's number in the pipeline.
            let mut l = format!("pipeline=\"{}\"", label_escape(&p.name));
            if let Some(conn) = &c.connection {
                let _ = write!(l, ",connection=\"{}\"", label_escape(conn));
            }
            let _ = write!(l, ",step=\"{}\",step_index=\"{}\"", j.kind, c.step);
            Some((l, j))
        })
        .collect();
    let pick = |f: &dyn Fn(&JobStats) -> Option<u64>| -> Vec<(String, String)> {
        jobs.iter()
            .filter_map(|(l, j)| f(j).map(|v| (l.clone(), v.to_string())))
            .collect()
    };
    // The job's numbers under the contract's names, as the DAG runtime reports them.
    for (m, f) in [
        (
            &metrics::SYNC_RECORDS,
            &(|j: &JobStats| j.records) as &dyn Fn(&JobStats) -> Option<u64>,
        ),
        (&metrics::SYNC_BYTES, &|j: &JobStats| j.bytes),
        (&metrics::SYNC_DURATION, &|j: &JobStats| j.duration_secs),
    ] {
        family(&mut out, m.name, m.help, &pick(f));
    }
    let mut outcomes = Vec::new();
    let mut durations = Vec::new();
    for p in &report.pipelines {
        for c in &p.cases {
            let l = case_labels(p, c);
            for o in [Outcome::Passed, Outcome::Failed, Outcome::Skipped] {
                outcomes.push((
                    format!("{l},outcome=\"{o}\""),
                    u8::from(c.outcome == o).to_string(),
                ));
            }
            durations.push((l, secs(c.duration_ms)));
        }
    }
    family(
        &mut out,
        "airguard_conform_step_outcome",
        "1 for the outcome a conformance check had, else 0.",
        &outcomes,
    );
    family(
        &mut out,
        "airguard_conform_step_duration_seconds",
        "Time a conformance check took.",
        &durations,
    );
    let verdict = vec![(String::new(), u8::from(report.passed()).to_string())];
    let mut v = String::new();
    family(
        &mut v,
        "airguard_conform_passed",
        "1 when every conformance check passed or was skipped.",
        &verdict,
    );
    out.push_str(&v.replace("airguard_conform_passed{}", "airguard_conform_passed"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(name: &str, message: &str) -> Report {
        Report::new(
            "public",
            vec![PipelineReport {
                name: name.into(),
                outcome: Outcome::Failed,
                duration_ms: 1500,
                cases: vec![Case {
                    step: 1,
                    name: "sync".into(),
                    connection: Some("orders".into()),
                    outcome: Outcome::Failed,
                    duration_ms: 1500,
                    message: Some(message.into()),
                    code: None,
                    job: None,
                }],
            }],
        )
    }

    #[test]
    fn junit_and_prometheus_escape_what_they_must() {
        let r = report("a\"b", "x < y & \"z\"\nnext");
        let xml = junit(&r);
        assert!(xml.contains(r#"<testsuite name="a&quot;b""#), "{xml}");
        assert!(
            xml.contains(r#"message="x &lt; y &amp; &quot;z&quot;&#10;next""#),
            "{xml}"
        );
        let prom = prometheus(&r);
        assert!(prom.contains(r#"pipeline="a\"b""#), "{prom}");
        assert!(prom.ends_with("airguard_conform_passed 0\n"), "{prom}");
    }

    #[test]
    fn verdict_and_summary() {
        let r = report("p", "boom");
        assert_eq!(
            (r.verdict, r.summary.failed, r.summary.cases),
            (Outcome::Failed, 1, 1)
        );
        assert!(human(&r).contains("p / 1. sync orders: boom"));
        assert_eq!(Report::new("public", vec![]).verdict, Outcome::Passed);
    }
}

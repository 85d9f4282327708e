//! `airguard conform`: run the spec's pipelines against an Airbyte API and write the reports.
//!
//! Turns arguments into a [`crate::conform::Target`] and runner settings, calls
//! [`crate::conform::target::run`], prints the human summary on stdout, and writes each
//! `--report FORMAT:PATH` atomically (a temporary file renamed into place). Exit 0 when
//! every case passed or was skipped, 1 when any failed, 2 for usage or input errors.

use super::{Color, DiagFormat, Reporter, Status};
use crate::conform::report::{self, Format, Report};
use crate::conform::runner::{self, RunnerConfig};
use crate::conform::Target;
use crate::diag::Files;
use anyhow::Context;
use camino::Utf8PathBuf;
use std::str::FromStr;

/// Arguments of `airguard conform`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["mock", "api_url"])))]
pub struct Args {
    /// The spec file.
    #[arg(long, default_value = "airguard.yaml")]
    pub spec: Utf8PathBuf,
    /// Run against the built-in mock Airbyte server, started in process and seeded with the
    /// spec's connections (its own default credentials are used; no environment needed).
    #[arg(long)]
    pub mock: bool,
    /// Airbyte server root URL (`http://localhost:8000`); the spec's base path is appended unless
    /// the URL already has a path (`http://localhost:8000/api/public/v1`).
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Run only this pipeline (repeatable; default: all).
    #[arg(long = "pipeline", value_name = "NAME")]
    pub pipelines: Vec<String>,
    /// Pipelines run at the same time.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    pub parallel: u16,
    /// Write a report: `human`, `json`, `junit` or `prometheus`, then `:` and a path
    /// (`-` for stdout). Repeatable.
    #[arg(long = "report", value_name = "FORMAT:PATH", value_parser = parse_report_target)]
    pub reports: Vec<ReportTarget>,
    /// Wait before the first poll of a job; the interval then grows ×1.5 up to 30 s.
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = humantime::parse_duration)]
    pub first_poll: std::time::Duration,
    /// Timeout of one HTTP request (retried like a network error).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = humantime::parse_duration)]
    pub request_timeout: std::time::Duration,
    /// Log format on stderr (level from `AIRGUARD_LOG`, default `warn`).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Format of spec diagnostics.
    #[arg(long, value_enum, default_value_t = DiagFormat::Human)]
    pub format: DiagFormat,
}

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Where to write one report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportTarget {
    /// Format.
    pub format: Format,
    /// Path, or `None` for stdout.
    pub path: Option<Utf8PathBuf>,
}

/// Parse `FORMAT:PATH`.
pub fn parse_report_target(s: &str) -> Result<ReportTarget, String> {
    let (f, p) = s
        .split_once(':')
        .ok_or_else(|| format!("expected FORMAT:PATH, got `{s}`"))?;
    let format = Format::from_str(f)
        .map_err(|_| format!("unknown report format `{f}` (human, json, junit, prometheus)"))?;
    if p.is_empty() {
        return Err(format!("missing path after `{f}:`"));
    }
    Ok(ReportTarget {
        format,
        path: (p != "-").then(|| Utf8PathBuf::from(p)),
    })
}

/// Run `airguard conform`.
pub fn run(args: Args, color: Color) -> anyhow::Result<Status> {
    init_logging(args.log_format, color.enabled());
    let mut files = Files::new();
    let (spec, diags) = crate::spec::load(&mut files, &args.spec);
    Reporter::new(args.format, color).report(&files, &diags);
    let Some(model) = spec.map(|s| s.model) else {
        return Ok(Status::InputError);
    };
    let pipelines = runner::select(&model.pipelines, &args.pipelines)?;
    let cfg = RunnerConfig {
        parallel: usize::from(args.parallel),
        first_poll: args.first_poll,
        ..RunnerConfig::default()
    };
    // clap makes `--mock` and `--api-url` exclusive and one of them required.
    let target = args
        .api_url
        .map_or(Target::Mock, |api_url| Target::Live { api_url });
    let report = super::runtime()?.block_on(crate::conform::target::run(
        &model,
        &pipelines,
        &target,
        &cfg,
        Some(args.request_timeout),
    ))?;
    finish(&report, &args.reports)
}

/// Print the human summary, write the reports, and turn the verdict into a status.
pub fn finish(report: &Report, targets: &[ReportTarget]) -> anyhow::Result<Status> {
    if !targets
        .iter()
        .any(|t| t.path.is_none() && t.format == Format::Human)
    {
        crate::output::print(&report::human(report));
    }
    for t in targets {
        let text = report::render(report, t.format);
        match &t.path {
            None => crate::output::print(&text),
            Some(p) => crate::output::write_file_atomic(p, &text)
                .with_context(|| format!("cannot write the {} report to `{p}`", t.format))?,
        }
    }
    Ok(if report.passed() {
        Status::Ok
    } else {
        Status::Failed
    })
}

/// Logs to stderr; `ansi` (the resolved `--color`) decides colour codes in text logs.
pub(super) fn init_logging(format: LogFormat, ansi: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("AIRGUARD_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi && format == LogFormat::Text)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_targets_parse() {
        assert_eq!(
            parse_report_target("junit:out/conform.xml"),
            Ok(ReportTarget {
                format: Format::Junit,
                path: Some("out/conform.xml".into())
            })
        );
        assert_eq!(
            parse_report_target("json:-"),
            Ok(ReportTarget {
                format: Format::Json,
                path: None
            })
        );
        assert!(parse_report_target("xml:a")
            .unwrap_err()
            .contains("unknown report format"));
        assert!(parse_report_target("json").is_err());
        assert!(parse_report_target("json:").is_err());
    }
}

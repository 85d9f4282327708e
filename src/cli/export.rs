//! `airguard export`: write Airbyte's configuration as files (or check them for drift) and, with
//! `--spec`, report what the export says about the spec. Arguments in, one library call
//! ([`crate::export::source::run`]), files and findings out. Exit 0, 1 (drift, or a finding at or
//! above `--fail-on`), 2 (bad input, an API that cannot be read; nothing written).

use super::audit::FailOn;
use super::{Color, DiagFormat, Reporter, Status};
use crate::diag::{self, Code, Files};
use crate::export::source::{RunError, Source};
use camino::{Utf8Path, Utf8PathBuf};

/// Format of the findings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// Human text with a summary, on stderr.
    #[default]
    Human,
    /// The versioned JSON diagnostics document.
    Json,
    /// SARIF 2.1.0 for code scanning.
    Sarif,
}

/// Arguments of `airguard export`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["mock", "api_url"])))]
pub struct Args {
    /// Airbyte server root URL (`http://localhost:8000`); the public API's base path is appended
    /// unless the URL has a path. Credentials come from the environment as for `conform`.
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Export from the built-in mock, started in process (seeded from --scenario, else from the
    /// spec's connections, else the built-in scenario).
    #[arg(long)]
    pub mock: bool,
    /// A mock scenario file (with --mock): the mock's whole world.
    #[arg(long, requires = "mock", value_name = "PATH")]
    pub scenario: Option<Utf8PathBuf>,
    /// A spec: its API settings and credentials kind, and findings against it.
    #[arg(long, value_name = "PATH")]
    pub spec: Option<Utf8PathBuf>,
    /// Output directory; airguard owns it (new, empty, or an earlier export).
    #[arg(long, value_name = "DIR")]
    pub out: Utf8PathBuf,
    /// Compare with --out instead of writing; exit 1 and print a diff on any drift.
    #[arg(long)]
    pub check: bool,
    /// Replace --out even if airguard did not write it.
    #[arg(long, conflicts_with = "check")]
    pub force: bool,
    /// Format of the findings.
    #[arg(long, value_enum, default_value_t = ExportFormat::Human)]
    pub format: ExportFormat,
    /// Exit 1 when a finding at or above this severity exists.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Timeout of one HTTP request (retried like a network error).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = humantime::parse_duration)]
    pub request_timeout: std::time::Duration,
}

/// The codes `export` findings carry (the SARIF rules).
const CODES: &[Code] = &[
    Code::ExportUnmaskedSecret,
    Code::ExportDuplicateName,
    Code::ExportConnectionMissing,
    Code::ExportConnectionInactive,
    Code::ExportDoubleSchedule,
    Code::ExportUnmanagedConnection,
    Code::ExportNeedlessReset,
];

/// Run `airguard export`.
pub fn run(args: Args, color: Color) -> anyhow::Result<Status> {
    super::conform::init_logging(super::conform::LogFormat::Text, color.enabled());
    let reporter = Reporter::new(DiagFormat::Human, color);
    let mut files = Files::new();
    let mut spec = None;
    if let Some(path) = &args.spec {
        let (s, diags) = crate::spec::load(&mut files, path);
        match s {
            Some(s) if !diag::has_errors(&diags) => spec = Some(s),
            _ => {
                reporter.report(&files, &diags);
                return Ok(Status::InputError);
            }
        }
    }
    let model = spec.as_ref().map(|s| &s.model);
    let source = match (&args.api_url, &args.scenario, model) {
        (Some(url), _, _) => Source::Live {
            api_url: url.clone(),
        },
        (None, Some(p), _) => match crate::mock::Scenario::load_file(&mut files, p) {
            Ok(s) => Source::Mock(Box::new(s)),
            Err(diags) => {
                reporter.report(&files, &diags);
                return Ok(Status::InputError);
            }
        },
        (None, None, Some(m)) => {
            Source::Mock(Box::new(crate::mock::MockConfig::for_model(m).scenario))
        }
        (None, None, None) => Source::Mock(Box::new(crate::mock::Scenario::default_scenario())),
    };
    let result = super::runtime()?.block_on(crate::export::source::run(
        source,
        model,
        Some(args.request_timeout),
    ));
    let export = match result {
        Ok(e) => e,
        Err(RunError::Export(e)) => {
            reporter.report(&files, &[e.diagnostic()]);
            return Ok(Status::InputError);
        }
        Err(e) => return Err(e.into()),
    };
    let drift = write_or_check(&args, &export)?;
    let text = match args.format {
        ExportFormat::Human => {
            reporter.report(&files, &export.findings);
            None
        }
        ExportFormat::Json => Some(diag::render::json(&files, &export.findings)),
        ExportFormat::Sarif => Some(crate::audit::format::sarif::diagnostics(
            &files,
            CODES,
            &export.findings,
        )),
    };
    match text {
        Some(t) if args.check => crate::output::eprint(&t),
        Some(t) => crate::output::print(&t),
        None => {}
    }
    let fails = args
        .fail_on
        .severity()
        .is_some_and(|s| export.findings.iter().any(|d| d.severity >= s));
    Ok(if drift || fails {
        Status::Failed
    } else {
        Status::Ok
    })
}

/// Check for drift (true when there is some) or write the export.
fn write_or_check(args: &Args, export: &crate::export::Export) -> anyhow::Result<bool> {
    let out = &args.out;
    let counts = export
        .counts
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect::<Vec<_>>()
        .join(", ");
    let counts = format!("{counts}; {} list requests", export.pages);
    if args.check {
        let drift = crate::output::check(out, &export.artifacts)?;
        if drift.is_empty() {
            crate::output::eprint(&format!("{out} is up to date ({counts})\n"));
            return Ok(false);
        }
        crate::output::print(&crate::output::drift_report(&drift));
        crate::output::eprint(&format!(
            "{out} has drifted from Airbyte ({counts}): {} file(s) differ; run `airguard export` without --check to update it\n",
            drift.len()
        ));
        return Ok(true);
    }
    let protect: Vec<&Utf8Path> = args
        .spec
        .iter()
        .chain(args.scenario.iter())
        .map(|p| p.as_path())
        .collect();
    crate::output::check_target_marked(out, "index.yaml", &protect, args.force)?;
    crate::output::write_atomic(out, &export.artifacts)?;
    crate::output::eprint(&format!("exported {counts} to {out}\n"));
    Ok(false)
}

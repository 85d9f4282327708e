//! `airguard render`: write every artifact atomically, print them, or check them for drift.

use super::{Color, DiagFormat, Reporter, Status};
use crate::diag::{self, Files};
use camino::Utf8PathBuf;

/// Arguments of `airguard render`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The spec file.
    #[arg(long, default_value = "airguard.yaml")]
    pub spec: Utf8PathBuf,
    /// Output directory. airguard owns it: on each render its content is replaced, so it must be
    /// new, empty, or written by airguard before (see --force).
    #[arg(long, required_unless_present = "stdout")]
    pub out: Option<Utf8PathBuf>,
    /// Compare with --out instead of writing; exit 1 and print a diff on any drift.
    #[arg(long, requires = "out", conflicts_with = "stdout")]
    pub check: bool,
    /// Print a multi-document YAML stream instead of writing files.
    #[arg(long)]
    pub stdout: bool,
    /// Replace --out even if it holds files airguard did not write.
    #[arg(long, conflicts_with_all = ["check", "stdout"])]
    pub force: bool,
    /// Diagnostic format.
    #[arg(long, value_enum, default_value_t = DiagFormat::Human)]
    pub format: DiagFormat,
}

/// Render.
pub fn run(args: Args, color: Color) -> anyhow::Result<Status> {
    let mut files = Files::new();
    let (spec, mut diags) = crate::spec::load(&mut files, &args.spec);
    // stdout carries the YAML stream (--stdout) or the diff (--check): JSON diagnostics then go
    // to stderr so the stream stays parseable. JSON is one document, printed once at the end (a
    // render or output error joins the spec's diagnostics); human diagnostics are printed as they
    // come.
    let mut reporter = Reporter::new(args.format, color);
    if args.stdout || args.check {
        reporter = reporter.json_on_stderr();
    }
    let json = reporter.is_json();
    if !json || diag::has_errors(&diags) {
        reporter.report(&files, &diags);
    }
    let Some(spec) = spec else {
        return Ok(Status::InputError);
    };
    // Render and output errors are diagnostics too (`render-self-check`, `output-error`).
    let status = match crate::render::render(&spec.model) {
        Ok(artifacts) => write_or_check(&args, &artifacts).map_err(|e| e.diagnostic()),
        Err(e) => Err(e.into()),
    };
    let status = status.unwrap_or_else(|d| {
        diags.push(d);
        if !json {
            reporter.report(&files, &diags[diags.len() - 1..]);
        }
        Status::InputError
    });
    if json {
        reporter.report(&files, &diags);
    }
    Ok(status)
}

/// Print the stream, check for drift, or write the output directory.
fn write_or_check(
    args: &Args,
    artifacts: &[crate::render::Artifact],
) -> Result<Status, crate::output::OutputError> {
    if args.stdout {
        crate::output::print(&crate::render::stream(artifacts));
        return Ok(Status::Ok);
    }
    let out = args
        .out
        .as_ref()
        .expect("clap requires --out without --stdout");
    if args.check {
        let drift = crate::output::check(out, artifacts)?;
        if drift.is_empty() {
            crate::output::eprint(&format!(
                "{out} is up to date ({} files)\n",
                artifacts.len()
            ));
            return Ok(Status::Ok);
        }
        crate::output::print(&crate::output::drift_report(&drift));
        crate::output::eprint(&format!(
            "{out} has drifted from {}: {} file(s) differ; run `airguard render --spec {} --out {}`\n",
            args.spec,
            drift.len(),
            crate::output::shell_quote(args.spec.as_str()),
            crate::output::shell_quote(out.as_str()),
        ));
        return Ok(Status::Failed);
    }
    crate::output::check_target(out, &[args.spec.as_path()], args.force)?;
    crate::output::write_atomic(out, artifacts)?;
    let mut s = format!("wrote {} files to {out}:\n", artifacts.len());
    for a in artifacts {
        s.push_str(&format!("  {}\n", a.path));
    }
    crate::output::eprint(&s);
    Ok(Status::Ok)
}

//! `airguard render`: write every artifact atomically, print them, or check them for drift.

use super::{Color, DiagFormat, Status};
use crate::diag::{self, Files};
use anyhow::Context;
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
    let (model, mut diags) = crate::spec::from_file(&mut files, &args.spec);
    // stdout carries the YAML stream (--stdout) or the diff (--check): JSON diagnostics then go
    // to stderr so the stream stays parseable. JSON is one document, printed once at the end (an
    // output error joins the spec's diagnostics); human diagnostics are printed as they come.
    let json = args.format == DiagFormat::Json;
    let report = |diags: &[diag::Diagnostic]| {
        if json && (args.stdout || args.check) {
            crate::output::eprint(&diag::render::json(&files, diags));
        } else {
            super::validate::report(&files, diags, args.format, color);
        }
    };
    if !json || diag::has_errors(&diags) {
        report(&diags);
    }
    let Some(model) = model.filter(|_| !diag::has_errors(&diags)) else {
        return Ok(Status::InputError);
    };
    let artifacts = crate::render::render(&model).context("rendering failed")?;
    let status = match write_or_check(&args, &artifacts) {
        Ok(status) => status,
        Err(e) => {
            // Output errors are diagnostics too (code `output-error`), in the chosen format.
            diags.push(e.diagnostic());
            if !json {
                report(&diags[diags.len() - 1..]);
            }
            Status::InputError
        }
    };
    if json {
        report(&diags);
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

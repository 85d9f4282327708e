//! `airguard validate`: check a spec and everything it renders, without writing anything.

use super::{Color, DiagFormat, Status};
use crate::diag::{self, Files};
use camino::Utf8PathBuf;

/// Arguments of `airguard validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The spec file.
    #[arg(long, default_value = "airguard.yaml")]
    pub spec: Utf8PathBuf,
    /// Diagnostic format.
    #[arg(long, value_enum, default_value_t = DiagFormat::Human)]
    pub format: DiagFormat,
}

/// Validate the spec and render in memory.
pub fn run(args: Args, color: Color) -> anyhow::Result<Status> {
    let mut files = Files::new();
    let (model, mut diags) = crate::spec::from_file(&mut files, &args.spec);
    if let Some(model) = &model {
        if let Err(e) = crate::render::render(model) {
            diags.push(diag::Diagnostic::new(
                diag::Code::RenderSelfCheck,
                format!("{e:#}"),
            ));
        }
    }
    report(&files, &diags, args.format, color);
    if diag::has_errors(&diags) {
        return Ok(Status::InputError);
    }
    if args.format == DiagFormat::Human {
        crate::output::eprint(&format!(
            "{} is valid ({})\n",
            args.spec,
            diag::render::summary(&diags)
        ));
    }
    Ok(Status::Ok)
}

/// Print diagnostics in the chosen format (human on stderr, JSON on stdout).
pub fn report(files: &Files, diags: &[diag::Diagnostic], format: DiagFormat, color: Color) {
    match format {
        DiagFormat::Human => {
            if !diags.is_empty() {
                let mut s = diag::render::human(files, diags, color.enabled());
                s.push_str(&format!("{}\n", diag::render::summary(diags)));
                crate::output::eprint(&s);
            }
        }
        DiagFormat::Json => crate::output::print(&diag::render::json(files, diags)),
    }
}

//! `airguard validate`: check a spec and everything it renders, without writing anything.

use super::{Color, DiagFormat, Reporter, Status};
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
    let (spec, mut diags) = crate::spec::load(&mut files, &args.spec);
    if let Some(spec) = &spec {
        if let Err(e) = crate::render::render(&spec.model) {
            diags.push(e.into());
        }
    }
    Reporter::new(args.format, color).report(&files, &diags);
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

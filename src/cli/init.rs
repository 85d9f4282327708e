//! `airguard init`: write the documented starter spec that ships inside the binary.

use super::Status;
use anyhow::{bail, Context};
use camino::Utf8PathBuf;

/// The starter spec, embedded at build time.
pub const STARTER_SPEC: &str = include_str!("../../templates/airguard.yaml");

/// Arguments of `airguard init`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write the spec.
    #[arg(long, default_value = "airguard.yaml")]
    pub out: Utf8PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

/// Write the starter spec.
pub fn run(args: Args) -> anyhow::Result<Status> {
    if args.out.is_dir() {
        bail!("`{}` is a directory; pass a file path with --out", args.out);
    }
    if args.out.exists() && !args.force {
        bail!(
            "`{}` already exists; pass --force to overwrite it",
            args.out
        );
    }
    let dir = args
        .out
        .parent()
        .filter(|p| !p.as_str().is_empty())
        .unwrap_or(".".into());
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write into `{dir}`"))?;
    std::io::Write::write_all(&mut tmp, STARTER_SPEC.as_bytes())
        .context("cannot write the starter spec")?;
    tmp.persist(&args.out)
        .with_context(|| format!("cannot write `{}`", args.out))?;
    crate::output::eprint(&format!(
        "wrote {}: edit it, then run `airguard render --spec {} --out manifests`\n",
        args.out, args.out
    ));
    Ok(Status::Ok)
}

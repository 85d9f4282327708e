//! `airguard init`: write the documented starter spec that ships inside the binary, and the
//! spec's JSON Schema beside it (the spec's `yaml-language-server` comment points at it, so
//! editors complete and check keys offline).

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
    let schema = dir.join("airguard.schema.json");
    write_file(dir, &schema, &crate::spec::schema::json_schema_text())?;
    write_file(dir, &args.out, STARTER_SPEC)?;
    crate::output::eprint(&format!(
        "wrote {} and {schema}: edit the spec, then run `airguard render --spec {} --out manifests`\n",
        args.out, args.out
    ));
    Ok(Status::Ok)
}

/// Write a whole file atomically (temporary file in the same directory, then rename).
fn write_file(
    dir: &camino::Utf8Path,
    path: &camino::Utf8Path,
    content: &str,
) -> anyhow::Result<()> {
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write into `{dir}`"))?;
    std::io::Write::write_all(&mut tmp, content.as_bytes())
        .with_context(|| format!("cannot write `{path}`"))?;
    tmp.persist(path)
        .with_context(|| format!("cannot write `{path}`"))?;
    Ok(())
}

//! `airguard init`: write the documented starter spec that ships inside the binary, and the
//! spec's JSON Schema beside it (the spec's `yaml-language-server` comment points at it, so
//! editors complete and check keys offline).

use super::Status;
use anyhow::bail;
use camino::Utf8PathBuf;

/// The starter spec, embedded at build time.
pub const STARTER_SPEC: &str = include_str!("../../templates/airguard.yaml");

/// Arguments of `airguard init`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write the spec.
    #[arg(long, default_value = "airguard.yaml")]
    pub out: Utf8PathBuf,
    /// Overwrite an existing spec and `airguard.schema.json`.
    #[arg(long)]
    pub force: bool,
}

/// Write the starter spec.
pub fn run(args: Args) -> anyhow::Result<Status> {
    if args.out.is_dir() {
        bail!("`{}` is a directory; pass a file path with --out", args.out);
    }
    let dir = args
        .out
        .parent()
        .filter(|p| !p.as_str().is_empty())
        .unwrap_or(".".into());
    let schema = dir.join("airguard.schema.json");
    // Refuse before writing anything: neither file is replaced without --force. A symbolic link
    // (even a dangling one) counts as existing.
    if !args.force {
        for path in [&args.out, &schema] {
            if path.symlink_metadata().is_ok() {
                bail!("`{path}` already exists; pass --force to overwrite it");
            }
        }
    }
    crate::output::write_file_atomic(&schema, &crate::spec::schema::json_schema_text())?;
    crate::output::write_file_atomic(&args.out, STARTER_SPEC)?;
    let q = crate::output::shell_quote(args.out.as_str());
    crate::output::eprint(&format!(
        "wrote {} and {schema}: edit the spec, then run `airguard render --spec {q} --out manifests`\n",
        args.out
    ));
    Ok(Status::Ok)
}

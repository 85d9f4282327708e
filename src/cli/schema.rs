//! `airguard schema`: print the spec's JSON Schema.

use super::Status;

/// Arguments of `airguard schema`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Print the schema.
pub fn run(_args: Args) -> anyhow::Result<Status> {
    crate::output::print(&crate::spec::schema::json_schema_text());
    Ok(Status::Ok)
}

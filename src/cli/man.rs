//! `airguard man [COMMAND]`: print a man page (roff) generated from the clap definitions:
//! `airguard(1)`, or `airguard-<command>(1)` for one subcommand.

use super::Status;
use anyhow::Context;
use clap::CommandFactory;

/// Arguments of `airguard man`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The subcommand whose page to print (`airguard-<command>(1)`); without it, `airguard(1)`.
    /// Install: `airguard man > ~/.local/share/man/man1/airguard.1`.
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}

/// Print the page on stdout; an unknown subcommand is a usage error.
pub fn run(args: Args) -> anyhow::Result<Status> {
    crate::output::print(&page(args.command.as_deref())?);
    Ok(Status::Ok)
}

/// The roff source of `airguard(1)` or of one subcommand's page.
pub fn page(command: Option<&str>) -> anyhow::Result<String> {
    let mut root = super::Cli::command();
    root.build();
    let cmd = match command {
        None => root,
        Some(name) => {
            let names: Vec<String> = root
                .get_subcommands()
                .map(|c| c.get_name().to_string())
                .collect();
            // Built subcommands carry their page name (`airguard-<command>`) and usage.
            root.find_subcommand(name)
                .with_context(|| format!("no subcommand `{name}`; one of: {}", names.join(", ")))?
                .clone()
        }
    };
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd)
        .source(format!("airguard {}", super::VERSION))
        .manual("airguard manual")
        .render(&mut buf)?;
    Ok(String::from_utf8(buf)?)
}

//! `airguard completions <shell>`: print a shell completion script generated from the clap
//! definitions, so it always matches the commands and flags of this binary.

use super::Status;
use clap::CommandFactory;

/// Arguments of `airguard completions`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to complete for. Install, e.g. for bash:
    /// `airguard completions bash > ~/.local/share/bash-completion/completions/airguard`.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Print the completion script on stdout.
pub fn run(args: Args) -> anyhow::Result<Status> {
    crate::output::print(&script(args.shell)?);
    Ok(Status::Ok)
}

/// The completion script for `shell`.
pub fn script(shell: clap_complete::Shell) -> anyhow::Result<String> {
    let mut cmd = super::Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "airguard", &mut buf);
    Ok(String::from_utf8(buf)?)
}

//! The `airguard` binary: parse arguments, run, exit. All logic lives in the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    airguard::cli::run(airguard::cli::Cli::parse())
}

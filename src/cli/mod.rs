//! Command-line interface: clap types, one file per subcommand, and exit codes.
//!
//! `main` parses [`Cli`] and calls [`run`]. Each subcommand module turns its raw arguments into
//! one call of a library use case (`spec::load`, `render::render`, `audit::Input`,
//! `conform::target::run`, `mock::start`) and prints the result. What the commands share lives
//! here, once: the [`Reporter`] that prints diagnostics and the async [`runtime`]. Exit codes
//! are fixed for every command: 0 ok, 1 findings / failures / drift, 2 usage, input or IO error.

pub mod audit;
pub mod completions;
pub mod conform;
pub mod demo;
pub mod explain;
pub mod export;
pub mod init;
pub mod man;
pub mod mock;
pub mod render;
pub mod schema;
pub mod validate;

use crate::diag::{self, Diagnostic, Files};
use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use std::process::ExitCode;

/// The version `--version` prints: the package version and the commit it was built from
/// (`unknown` when the build had neither git nor a packaging record; see `build.rs`).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("AIRGUARD_COMMIT"),
    ")"
);

/// airguard: render, audit and conformance-test Airbyte + Airflow on Kubernetes.
#[derive(Debug, Parser)]
#[command(name = "airguard", version = VERSION, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Colour in diagnostics.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render the built-in example spec and explain the result: the one-minute tour.
    Demo(demo::Args),
    /// Write a documented starter spec.
    Init(init::Args),
    /// Render Airflow values, NetworkPolicies and ExternalSecrets from a spec.
    Render(render::Args),
    /// Check a spec and what it renders, printing every problem.
    Validate(validate::Args),
    /// Print the spec's JSON Schema.
    Schema(schema::Args),
    /// Compute NetworkPolicy connectivity and least-privilege findings from manifests.
    Audit(audit::Args),
    /// Run the conformance lifecycle against an Airbyte API and report.
    Conform(conform::Args),
    /// Run the mock Airbyte server.
    Mock(mock::Args),
    /// Back up Airbyte's configuration as files, check them for drift, compare with a spec.
    Export(export::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(completions::Args),
    /// Print the man page, airguard(1), or one subcommand's.
    Man(man::Args),
    /// Print the documentation of a diagnostic code (the one in brackets, `error[CODE]`).
    Explain(explain::Args),
}

/// When to colour output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Color {
    /// Colour when stderr is a terminal.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

impl Color {
    /// Whether to colour output written to stderr.
    pub fn enabled(self) -> bool {
        use std::io::IsTerminal;
        match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        }
    }
}

/// Diagnostic output format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum DiagFormat {
    /// Human-readable text with source snippets.
    #[default]
    Human,
    /// A versioned JSON document on stdout.
    Json,
}

/// How a command ended, when it did not fail with an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Everything passed.
    Ok,
    /// Findings, failed checks or drift (exit 1).
    Failed,
    /// Bad input (exit 2) already reported as diagnostics.
    InputError,
}

/// How diagnostics are printed; every command prints its diagnostics through one.
#[derive(Clone, Copy, Debug)]
pub struct Reporter {
    format: DiagFormat,
    color: Color,
    json_on_stderr: bool,
}

impl Reporter {
    /// Human text on stderr, or the JSON document on stdout.
    pub fn new(format: DiagFormat, color: Color) -> Self {
        Self {
            format,
            color,
            json_on_stderr: false,
        }
    }

    /// Send the JSON document to stderr too: stdout carries the command's data (a YAML stream,
    /// a drift report), which must stay parseable.
    pub fn json_on_stderr(mut self) -> Self {
        self.json_on_stderr = true;
        self
    }

    /// Whether diagnostics are printed as one JSON document.
    pub fn is_json(&self) -> bool {
        self.format == DiagFormat::Json
    }

    /// Print diagnostics: human text with a summary line (nothing when there are none), or one
    /// JSON document (always, so a consumer always gets a document).
    pub fn report(&self, files: &Files, diags: &[Diagnostic]) {
        match self.format {
            DiagFormat::Human => {
                if !diags.is_empty() {
                    let mut s = diag::render::human(files, diags, self.color.enabled());
                    s.push_str(&format!("{}\n", diag::render::summary(diags)));
                    crate::output::eprint(&s);
                }
            }
            DiagFormat::Json if self.json_on_stderr => {
                crate::output::eprint(&diag::render::json(files, diags))
            }
            DiagFormat::Json => crate::output::print(&diag::render::json(files, diags)),
        }
    }
}

/// The async runtime of the commands that need one (conform, demo, mock).
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Exit code for a usage, input or IO error.
pub const EXIT_ERROR: u8 = 2;

/// Run a parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    let color = cli.color;
    let result = match cli.command {
        Command::Demo(a) => demo::run(a, color),
        Command::Init(a) => init::run(a),
        Command::Render(a) => render::run(a, color),
        Command::Validate(a) => validate::run(a, color),
        Command::Schema(a) => schema::run(a),
        Command::Audit(a) => audit::run(a, color),
        Command::Conform(a) => conform::run(a, color),
        Command::Mock(a) => mock::run(a, color),
        Command::Export(a) => export::run(a, color),
        Command::Completions(a) => completions::run(a),
        Command::Man(a) => man::run(a),
        Command::Explain(a) => explain::run(a),
    };
    match result {
        Ok(Status::Ok) => ExitCode::SUCCESS,
        Ok(Status::Failed) => ExitCode::from(1),
        Ok(Status::InputError) => ExitCode::from(EXIT_ERROR),
        Err(e) => {
            if e.downcast_ref::<crate::output::OutputError>().is_some() {
                // Writing failed: report it under its stable code, with the whole cause chain.
                let d =
                    crate::diag::Diagnostic::new(crate::diag::Code::OutputError, format!("{e:#}"));
                let files = crate::diag::Files::new();
                crate::output::eprint(&crate::diag::render::human(&files, &[d], color.enabled()));
            } else {
                crate::output::eprint(&format!("error: {e:#}\n"));
            }
            ExitCode::from(EXIT_ERROR)
        }
    }
}

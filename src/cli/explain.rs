//! `airguard explain <code>`: print a diagnostic code's documentation (the doc comment on its
//! `Code` variant, the text of `docs/diagnostics.md`). Every human diagnostic ends with the
//! `help: airguard explain <code>` line that leads here. An unknown code is a usage error (exit 2)
//! with the closest code as a suggestion.

use super::Status;
use crate::diag::Code;
use strum::IntoEnumIterator;

/// Arguments of `airguard explain`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The diagnostic code, as printed in brackets (`error[unknown-key]` → `unknown-key`).
    #[arg(value_name = "CODE")]
    pub code: String,
}

/// Print the code's documentation, or say which code was probably meant.
pub fn run(args: Args) -> anyhow::Result<Status> {
    let wanted = args.code.trim().to_ascii_lowercase();
    match wanted.parse::<Code>() {
        Ok(code) => {
            crate::output::print(&crate::diag::docs::explain(code));
            Ok(Status::Ok)
        }
        Err(_) => {
            let all: Vec<String> = Code::iter().map(|c| c.as_str().to_string()).collect();
            let guess = crate::spec::schema::closest(&wanted, &all)
                .map(|g| format!("; did you mean `{g}`?"))
                .unwrap_or_default();
            crate::output::eprint(&format!(
                "error: `{}` is not a diagnostic code{guess}\n  = help: every code is listed in docs/diagnostics.md\n",
                crate::text::escape_control(&args.code)
            ));
            Ok(Status::InputError)
        }
    }
}

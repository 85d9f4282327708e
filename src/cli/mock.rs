//! `airguard mock serve`: run the mock Airbyte server until Ctrl-C.
//!
//! Resolves the scenario (file or embedded default; a bad file is reported as located
//! diagnostics, exit 2), seeds it from `--spec`, picks the accepted credentials and the limits,
//! prints the base URLs and credentials, and serves. A user-supplied secret is never
//! echoed; only the built-in default one is shown, since it guards nothing.

use super::{Color, DiagFormat, Reporter, Status};
use crate::mock::{self, MockAuth, MockConfig, Scenario};
use anyhow::Context;
use camino::Utf8PathBuf;
use std::net::SocketAddr;
use std::time::Duration;

/// Arguments of `airguard mock`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: MockCommand,
}

/// Subcommands of `airguard mock`.
#[derive(Debug, clap::Subcommand)]
pub enum MockCommand {
    /// Serve the mock Airbyte API (public and Config) until Ctrl-C.
    Serve(ServeArgs),
}

/// Which credentials the mock accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthArg {
    /// No credentials needed.
    None,
    /// HTTP Basic: user = client id, password = client secret.
    Basic,
    /// A fixed bearer token: the client secret.
    Bearer,
    /// OAuth2 client credentials through `/applications/token`.
    ClientCredentials,
}

/// Arguments of `airguard mock serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8000")]
    pub listen: SocketAddr,
    /// Scenario file (connections, job behaviour, faults); default: the built-in scenario.
    #[arg(long)]
    pub scenario: Option<Utf8PathBuf>,
    /// An airguard spec: every connection it names exists, active.
    #[arg(long)]
    pub spec: Option<Utf8PathBuf>,
    /// Accepted client id (or Basic user).
    #[arg(long, default_value = mock::DEFAULT_CLIENT_ID)]
    pub client_id: String,
    /// Accepted client secret (or Basic password, or bearer token).
    #[arg(long)]
    pub client_secret: Option<String>,
    /// Which credentials the API accepts.
    #[arg(long, value_enum, default_value_t = AuthArg::ClientCredentials)]
    pub auth: AuthArg,
    /// Largest request body in bytes; a larger one gets 413 without being read.
    #[arg(long, value_name = "BYTES", default_value_t = mock::Limits::default().max_body_bytes, value_parser = positive)]
    pub max_body_size: usize,
    /// Time allowed from the first byte of a request to the end of its headers.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = duration)]
    pub header_read_timeout: Duration,
    /// Time a connection may stay open with no request in progress and nothing received.
    #[arg(long, value_name = "DURATION", default_value = "75s", value_parser = duration)]
    pub idle_timeout: Duration,
    /// Time allowed from the end of a request's headers to the end of its body (then 408).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = duration)]
    pub body_read_timeout: Duration,
    /// Most connections open at once; at the cap the longest-idle one is closed to make room.
    #[arg(long, value_name = "N", default_value_t = mock::Limits::default().max_connections, value_parser = positive)]
    pub max_connections: usize,
}

impl ServeArgs {
    /// The limits these options ask for.
    pub fn limits(&self) -> mock::Limits {
        mock::Limits {
            max_body_bytes: self.max_body_size,
            header_read_timeout: self.header_read_timeout,
            idle_timeout: self.idle_timeout,
            body_read_timeout: self.body_read_timeout,
            max_connections: self.max_connections,
        }
    }
}

fn positive(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

fn duration(s: &str) -> Result<Duration, String> {
    match humantime::parse_duration(s) {
        Ok(d) if d.is_zero() => Err("must be longer than zero".to_owned()),
        Ok(d) => Ok(d),
        Err(e) => Err(format!("{e} (write e.g. 500ms, 30s, 2m)")),
    }
}

/// Run `airguard mock`.
pub fn run(args: Args, color: Color) -> anyhow::Result<Status> {
    match args.command {
        MockCommand::Serve(a) => serve(a, color),
    }
}

fn serve(args: ServeArgs, color: Color) -> anyhow::Result<Status> {
    let mut scenario = match &args.scenario {
        Some(p) => {
            let mut files = crate::diag::Files::new();
            match Scenario::load_file(&mut files, p) {
                Ok(s) => s,
                Err(diags) => {
                    Reporter::new(DiagFormat::Human, color).report(&files, &diags);
                    return Ok(Status::InputError);
                }
            }
        }
        None => Scenario::default_scenario(),
    };
    let limits = args.limits();
    if let Some(spec) = &args.spec {
        let mut files = crate::diag::Files::new();
        let (spec, diags) = crate::spec::load(&mut files, spec);
        let Some(spec) = spec else {
            Reporter::new(DiagFormat::Human, color).report(&files, &diags);
            return Ok(Status::InputError);
        };
        scenario.seed(
            spec.model
                .connections
                .iter()
                .map(|c| (c.id.as_str(), c.name.as_str())),
        );
    }
    let secret_given = args.client_secret.is_some();
    let secret = args
        .client_secret
        .unwrap_or_else(|| mock::DEFAULT_CLIENT_SECRET.to_owned());
    let auth = match args.auth {
        AuthArg::None => MockAuth::None,
        AuthArg::Basic => MockAuth::Basic {
            user: args.client_id.clone(),
            password: secret,
        },
        AuthArg::Bearer => MockAuth::Bearer { token: secret },
        AuthArg::ClientCredentials => MockAuth::ClientCredentials {
            client_id: args.client_id.clone(),
            client_secret: secret,
        },
    };
    super::runtime()?.block_on(async move {
        let banner_auth = auth.clone();
        let server = mock::start_with_limits(
            args.listen,
            MockConfig {
                scenario: scenario.clone(),
                auth,
            },
            limits,
        )
        .await?;
        crate::output::print(&banner(
            &server.base_url(),
            &banner_auth,
            secret_given,
            &scenario,
        ));
        tokio::signal::ctrl_c()
            .await
            .context("cannot wait for Ctrl-C")?;
        server.shutdown().await;
        crate::output::eprint("mock stopped\n");
        Ok(Status::Ok)
    })
}

fn banner(base: &str, auth: &MockAuth, secret_given: bool, scenario: &Scenario) -> String {
    let shown = |s: &str| {
        if secret_given {
            "(as given by --client-secret)".to_owned()
        } else {
            s.to_owned()
        }
    };
    let mut out = String::new();
    out.push_str(&format!("airguard mock Airbyte server on {base}\n"));
    out.push_str(&format!(
        "  public API:               {base}/api/public/v1\n"
    ));
    out.push_str(&format!("  public API (Cloud-style): {base}/v1\n"));
    out.push_str(&format!("  Config API:               {base}/api/v1\n"));
    match auth {
        MockAuth::None => {
            out.push_str("  auth:                     none (any or no credentials)\n")
        }
        MockAuth::Basic { user, password } => {
            out.push_str("  auth:                     basic\n");
            out.push_str(&format!("  user:                     {user}\n"));
            out.push_str(&format!(
                "  password:                 {}\n",
                shown(password)
            ));
        }
        MockAuth::Bearer { token } => {
            out.push_str("  auth:                     bearer\n");
            out.push_str(&format!("  token:                    {}\n", shown(token)));
        }
        MockAuth::ClientCredentials {
            client_id,
            client_secret,
        } => {
            out.push_str("  auth:                     client-credentials\n");
            out.push_str(&format!(
                "  token URL:                {base}/api/public/v1/applications/token\n"
            ));
            out.push_str(&format!("  client id:                {client_id}\n"));
            out.push_str(&format!(
                "  client secret:            {}\n",
                shown(client_secret)
            ));
        }
    }
    out.push_str(&format!(
        "  connections:              {}\n",
        scenario.connections.len()
    ));
    const SHOWN: usize = 20;
    for c in scenario.connections.iter().take(SHOWN) {
        let status: &str = c.status.into();
        out.push_str(&format!("    {}  {} ({status})\n", c.id, c.name));
    }
    if scenario.connections.len() > SHOWN {
        out.push_str(&format!(
            "    … and {} more\n",
            scenario.connections.len() - SHOWN
        ));
    }
    out.push_str("Press Ctrl-C to stop.\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(clap::Parser)]
    struct Wrapper {
        #[command(flatten)]
        serve: ServeArgs,
    }

    #[test]
    fn option_defaults_are_the_library_defaults() {
        let w = Wrapper::try_parse_from(["serve"]).unwrap();
        assert_eq!(w.serve.limits(), mock::Limits::default());
    }
}

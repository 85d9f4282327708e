//! `airguard conform`: run the spec's pipelines against an Airbyte API and write the reports.
//!
//! Resolves arguments into a client configuration (base URL, flavour, credentials from the
//! environment), runs [`crate::conform::runner`], prints the human summary on stdout, and writes
//! each `--report FORMAT:PATH` atomically (a temporary file renamed into place). Exit 0 when
//! every case passed or was skipped, 1 when any failed, 2 for usage or input errors.

use super::{Color, DiagFormat, Status};
use crate::conform::client::{resolve_token_url, Client, ClientConfig, Credentials};
use crate::conform::report::{self, Format, Report};
use crate::conform::runner::{self, RunnerConfig};
use crate::diag::{self, Files};
use crate::spec::model::AuthKind;
use anyhow::Context;
use camino::Utf8PathBuf;
use std::str::FromStr;
use std::sync::Arc;

/// Arguments of `airguard conform`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["mock", "api_url"])))]
pub struct Args {
    /// The spec file.
    #[arg(long, default_value = "airguard.yaml")]
    pub spec: Utf8PathBuf,
    /// Run against the built-in mock Airbyte server, started in process and seeded with the
    /// spec's connections (its own default credentials are used; no environment needed).
    #[arg(long)]
    pub mock: bool,
    /// Airbyte server root URL (`http://localhost:8000`); the spec's base path is appended unless
    /// the URL already has a path (`http://localhost:8000/api/public/v1`).
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Run only this pipeline (repeatable; default: all).
    #[arg(long = "pipeline", value_name = "NAME")]
    pub pipelines: Vec<String>,
    /// Pipelines run at the same time.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    pub parallel: u16,
    /// Write a report: `human`, `json`, `junit` or `prometheus`, then `:` and a path
    /// (`-` for stdout). Repeatable.
    #[arg(long = "report", value_name = "FORMAT:PATH", value_parser = parse_report_target)]
    pub reports: Vec<ReportTarget>,
    /// Wait before the first poll of a job; the interval then grows ×1.5 up to 30 s.
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = humantime::parse_duration)]
    pub first_poll: std::time::Duration,
    /// Timeout of one HTTP request (retried like a network error).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = humantime::parse_duration)]
    pub request_timeout: std::time::Duration,
    /// Log format on stderr (level from `AIRGUARD_LOG`, default `warn`).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Format of spec diagnostics.
    #[arg(long, value_enum, default_value_t = DiagFormat::Human)]
    pub format: DiagFormat,
}

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Where to write one report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportTarget {
    /// Format.
    pub format: Format,
    /// Path, or `None` for stdout.
    pub path: Option<Utf8PathBuf>,
}

/// Parse `FORMAT:PATH`.
pub fn parse_report_target(s: &str) -> Result<ReportTarget, String> {
    let (f, p) = s
        .split_once(':')
        .ok_or_else(|| format!("expected FORMAT:PATH, got `{s}`"))?;
    let format = Format::from_str(f)
        .map_err(|_| format!("unknown report format `{f}` (human, json, junit, prometheus)"))?;
    if p.is_empty() {
        return Err(format!("missing path after `{f}:`"));
    }
    Ok(ReportTarget {
        format,
        path: (p != "-").then(|| Utf8PathBuf::from(p)),
    })
}

/// Run `airguard conform`.
pub fn run(args: Args, color: Color) -> anyhow::Result<Status> {
    init_logging(args.log_format, color.enabled());
    let mut files = Files::new();
    let (model, diags) = crate::spec::from_file(&mut files, &args.spec);
    super::validate::report(&files, &diags, args.format, color);
    let Some(model) = model.filter(|_| !diag::has_errors(&diags)) else {
        return Ok(Status::InputError);
    };
    let pipelines = runner::select(&model.pipelines, &args.pipelines)?;
    let cfg = RunnerConfig {
        parallel: usize::from(args.parallel),
        first_poll: args.first_poll,
        ..RunnerConfig::default()
    };
    let api = &model.airbyte.api;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = rt.block_on(async {
        if args.mock {
            conform_mock(&model, &pipelines, &cfg, Some(args.request_timeout)).await
        } else {
            let api_url = args.api_url.as_deref().expect("clap requires a target");
            let base_url = base_url(api_url, &api.base_path);
            let token_url = resolve_token_url(&base_url, &api.token_url);
            let credentials =
                Credentials::from_env(api.auth, &token_url, |v| std::env::var(v).ok())?;
            let mut client = ClientConfig::new(&base_url, api.flavour, credentials);
            client.request_timeout = Some(args.request_timeout);
            conform(&model.connections, &pipelines, client, &cfg).await
        }
    })?;
    finish(&report, &args.reports)
}

/// Run `pipelines` of `model` against the built-in mock, started in process on a free loopback
/// port, seeded with the model's connections and accepting the mock's default credentials for
/// the model's auth kind. `airguard demo` can call this too.
pub async fn conform_mock(
    model: &crate::spec::Model,
    pipelines: &[crate::spec::model::Pipeline],
    cfg: &RunnerConfig,
    request_timeout: Option<std::time::Duration>,
) -> anyhow::Result<Report> {
    let api = &model.airbyte.api;
    let (mock_auth, credentials) = mock_credentials(api.auth);
    let config = crate::mock::MockConfig {
        auth: mock_auth,
        ..crate::mock::MockConfig::for_model(model)
    };
    let listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let server = crate::mock::start(listen, config)
        .await
        .context("cannot start the built-in mock")?;
    let base_url = format!("{}{}", server.base_url(), api.base_path);
    crate::output::eprint(&format!(
        "conform: running against the built-in mock at {base_url}\n"
    ));
    let credentials = credentials.with_token_url(&resolve_token_url(&base_url, &api.token_url));
    let mut client = ClientConfig::new(&base_url, api.flavour, credentials);
    client.request_timeout = request_timeout;
    let report = conform(&model.connections, pipelines, client, cfg).await;
    server.shutdown().await;
    report
}

/// What the in-process mock accepts for the spec's auth kind, and the matching client
/// credentials: the mock's own defaults, so `--mock` needs no environment.
fn mock_credentials(kind: AuthKind) -> (crate::mock::MockAuth, Credentials) {
    use crate::mock::{MockAuth, DEFAULT_CLIENT_ID as ID, DEFAULT_CLIENT_SECRET as SECRET};
    match kind {
        AuthKind::None => (MockAuth::None, Credentials::None),
        AuthKind::Basic => (
            MockAuth::Basic {
                user: ID.into(),
                password: SECRET.into(),
            },
            Credentials::Basic {
                user: ID.to_string().into(),
                password: SECRET.to_string().into(),
            },
        ),
        AuthKind::Bearer => (
            MockAuth::Bearer {
                token: SECRET.into(),
            },
            Credentials::Bearer(SECRET.to_string().into()),
        ),
        AuthKind::ClientCredentials => (
            MockAuth::default_client_credentials(),
            Credentials::ClientCredentials {
                client_id: ID.to_string().into(),
                client_secret: SECRET.to_string().into(),
                token_url: String::new(),
                body: Default::default(),
            },
        ),
    }
}

/// Run `pipelines` (whose steps name `connections`) with a client built from `client`.
pub async fn conform(
    connections: &[crate::spec::model::Connection],
    pipelines: &[crate::spec::model::Pipeline],
    client: ClientConfig,
    cfg: &RunnerConfig,
) -> anyhow::Result<Report> {
    let client = Arc::new(Client::new(client)?);
    let shown = client.sanitize(&crate::conform::client::display_url(client.base_url()));
    tracing::info!(base_url = %shown, pipelines = pipelines.len(), "conform starting");
    Ok(runner::run(client, connections, pipelines, cfg).await)
}

/// Print the human summary, write the reports, and turn the verdict into a status.
pub fn finish(report: &Report, targets: &[ReportTarget]) -> anyhow::Result<Status> {
    if !targets
        .iter()
        .any(|t| t.path.is_none() && t.format == Format::Human)
    {
        crate::output::print(&report::human(report));
    }
    for t in targets {
        let text = report::render(report, t.format);
        match &t.path {
            None => crate::output::print(&text),
            Some(p) => crate::output::write_file_atomic(p, &text)
                .with_context(|| format!("cannot write the {} report to `{p}`", t.format))?,
        }
    }
    Ok(if report.passed() {
        Status::Ok
    } else {
        Status::Failed
    })
}

/// `url` + `base_path`, unless `url` already carries a path.
pub fn base_url(url: &str, base_path: &str) -> String {
    let url = url.trim_end_matches('/');
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    if url[after_scheme..].contains('/') {
        url.to_string()
    } else {
        format!("{url}{base_path}")
    }
}

/// Logs to stderr; `ansi` (the resolved `--color`) decides colour codes in text logs.
pub(super) fn init_logging(format: LogFormat, ansi: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("AIRGUARD_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi && format == LogFormat::Text)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_targets_parse() {
        assert_eq!(
            parse_report_target("junit:out/conform.xml"),
            Ok(ReportTarget {
                format: Format::Junit,
                path: Some("out/conform.xml".into())
            })
        );
        assert_eq!(
            parse_report_target("json:-"),
            Ok(ReportTarget {
                format: Format::Json,
                path: None
            })
        );
        assert!(parse_report_target("xml:a")
            .unwrap_err()
            .contains("unknown report format"));
        assert!(parse_report_target("json").is_err());
        assert!(parse_report_target("json:").is_err());
    }

    #[test]
    fn base_urls() {
        assert_eq!(
            base_url("http://h:8000", "/api/public/v1"),
            "http://h:8000/api/public/v1"
        );
        assert_eq!(
            base_url("http://h:8000/", "/api/public/v1"),
            "http://h:8000/api/public/v1"
        );
        assert_eq!(
            base_url("https://api.airbyte.com/v1", "/api/public/v1"),
            "https://api.airbyte.com/v1"
        );
    }
}

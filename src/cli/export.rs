//! `airguard export`: write Airbyte's configuration as files (or check them for drift) and, with
//! `--spec`, report what the export says about the spec. Arguments in, one library call
//! ([`crate::export::export`]), files and findings out. Exit 0, 1 (drift, or a finding at or
//! above `--fail-on`), 2 (bad input, an API that cannot be read; nothing written).

use super::audit::FailOn;
use super::{Color, DiagFormat, Status};
use crate::conform::client::{resolve_token_url, Client, ClientConfig, Credentials};
use crate::diag::{self, Code, Files};
use crate::spec::model::{env, AuthKind};
use anyhow::Context;
use camino::{Utf8Path, Utf8PathBuf};

/// Format of the findings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// Human text with a summary, on stderr.
    #[default]
    Human,
    /// The versioned JSON diagnostics document.
    Json,
    /// SARIF 2.1.0 for code scanning.
    Sarif,
}

/// Arguments of `airguard export`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["mock", "api_url"])))]
pub struct Args {
    /// Airbyte server root URL (`http://localhost:8000`); the public API's base path is appended
    /// unless the URL has a path. Credentials come from the environment as for `conform`.
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Export from the built-in mock, started in process (seeded from --scenario, else from the
    /// spec's connections, else the built-in scenario).
    #[arg(long)]
    pub mock: bool,
    /// A mock scenario file (with --mock): the mock's whole world.
    #[arg(long, requires = "mock", value_name = "PATH")]
    pub scenario: Option<Utf8PathBuf>,
    /// A spec: its API settings and credentials kind, and findings against it.
    #[arg(long, value_name = "PATH")]
    pub spec: Option<Utf8PathBuf>,
    /// Output directory; airguard owns it (new, empty, or an earlier export).
    #[arg(long, value_name = "DIR")]
    pub out: Utf8PathBuf,
    /// Compare with --out instead of writing; exit 1 and print a diff on any drift.
    #[arg(long)]
    pub check: bool,
    /// Replace --out even if airguard did not write it.
    #[arg(long, conflicts_with = "check")]
    pub force: bool,
    /// Format of the findings.
    #[arg(long, value_enum, default_value_t = ExportFormat::Human)]
    pub format: ExportFormat,
    /// Exit 1 when a finding at or above this severity exists.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Timeout of one HTTP request (retried like a network error).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = humantime::parse_duration)]
    pub request_timeout: std::time::Duration,
}

/// The codes `export` findings carry (the SARIF rules).
const CODES: &[Code] = &[
    Code::ExportUnmaskedSecret,
    Code::ExportDuplicateName,
    Code::ExportConnectionMissing,
    Code::ExportConnectionInactive,
    Code::ExportDoubleSchedule,
    Code::ExportUnmanagedConnection,
    Code::ExportNeedlessReset,
];

/// Run `airguard export`.
pub fn run(args: Args, color: Color) -> anyhow::Result<Status> {
    super::conform::init_logging(super::conform::LogFormat::Text, color.enabled());
    let mut files = Files::new();
    let mut model = None;
    if let Some(spec) = &args.spec {
        let (m, diags) = crate::spec::from_file(&mut files, spec);
        if diag::has_errors(&diags) || m.is_none() {
            super::validate::report(&files, &diags, DiagFormat::Human, color);
            return Ok(Status::InputError);
        }
        model = m;
    }
    let scenario = match (&args.scenario, &model) {
        (Some(p), _) => match crate::mock::Scenario::load_file(&mut files, p) {
            Ok(s) => Some(s),
            Err(diags) => {
                super::validate::report(&files, &diags, DiagFormat::Human, color);
                return Ok(Status::InputError);
            }
        },
        (None, Some(m)) => Some(crate::mock::MockConfig::for_model(m).scenario),
        (None, None) => Some(crate::mock::Scenario::default_scenario()),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = rt.block_on(async {
        let mut server = None;
        let mut client = if args.mock {
            let config = crate::mock::MockConfig {
                scenario: scenario.unwrap_or_default(),
                auth: crate::mock::MockAuth::default_client_credentials(),
            };
            let s = crate::mock::start(([127, 0, 0, 1], 0).into(), config)
                .await
                .context("cannot start the built-in mock")?;
            let base = format!("{}/api/public/v1", s.base_url());
            server = Some(s);
            let credentials = Credentials::ClientCredentials {
                client_id: crate::mock::DEFAULT_CLIENT_ID.to_string().into(),
                client_secret: crate::mock::DEFAULT_CLIENT_SECRET.to_string().into(),
                token_url: resolve_token_url(&base, "applications/token"),
                body: Default::default(),
            };
            ClientConfig::new(&base, crate::spec::model::ApiFlavour::Public, credentials)
        } else {
            let url = args.api_url.as_deref().expect("clap requires a target");
            api_client(url, model.as_ref())?
        };
        client.request_timeout = Some(args.request_timeout);
        let client = Client::new(client)?;
        let result = crate::export::export(&client, model.as_ref()).await;
        if let Some(s) = server {
            s.shutdown().await;
        }
        anyhow::Ok(result)
    })?;
    let export = match result {
        Ok(e) => e,
        Err(e) => {
            super::validate::report(&files, &[e.diagnostic()], DiagFormat::Human, color);
            return Ok(Status::InputError);
        }
    };
    let drift = write_or_check(&args, &export)?;
    let to_stderr = args.check;
    let text = match args.format {
        ExportFormat::Human => {
            super::validate::report(&files, &export.findings, DiagFormat::Human, color);
            None
        }
        ExportFormat::Json => Some(diag::render::json(&files, &export.findings)),
        ExportFormat::Sarif => Some(crate::audit::format::sarif::diagnostics(
            &files,
            CODES,
            &export.findings,
        )),
    };
    match text {
        Some(t) if to_stderr => crate::output::eprint(&t),
        Some(t) => crate::output::print(&t),
        None => {}
    }
    let fails = args
        .fail_on
        .severity()
        .is_some_and(|s| export.findings.iter().any(|d| d.severity >= s));
    Ok(if drift || fails {
        Status::Failed
    } else {
        Status::Ok
    })
}

/// The client for `--api-url`: the spec's public API settings and auth kind, or (without a spec)
/// the public API's defaults and the auth kind whose variables are set.
fn api_client(url: &str, model: Option<&crate::spec::Model>) -> anyhow::Result<ClientConfig> {
    let public = crate::spec::model::ApiFlavour::Public;
    let (base_path, token_url, kind) = match model.map(|m| &m.airbyte.api) {
        Some(api) if api.flavour == public => {
            (api.base_path.clone(), api.token_url.clone(), api.auth)
        }
        Some(api) => (
            "/api/public/v1".to_owned(),
            "applications/token".to_owned(),
            api.auth,
        ),
        None => {
            let set = |v: &str| std::env::var(v).is_ok_and(|v| !v.is_empty());
            let kind = if set(env::CLIENT_ID) {
                AuthKind::ClientCredentials
            } else if set(env::TOKEN) {
                AuthKind::Bearer
            } else if set(env::USERNAME) {
                AuthKind::Basic
            } else {
                AuthKind::None
            };
            (
                "/api/public/v1".to_owned(),
                "applications/token".to_owned(),
                kind,
            )
        }
    };
    let base = super::conform::base_url(url, &base_path);
    let token = resolve_token_url(&base, &token_url);
    let credentials = Credentials::from_env(kind, &token, |v| std::env::var(v).ok())?;
    Ok(ClientConfig::new(&base, public, credentials))
}

/// Check for drift (true when there is some) or write the export.
fn write_or_check(args: &Args, export: &crate::export::Export) -> anyhow::Result<bool> {
    let out = &args.out;
    let counts = export
        .counts
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect::<Vec<_>>()
        .join(", ");
    let counts = format!("{counts}; {} list requests", export.pages);
    if args.check {
        let drift = crate::output::check(out, &export.artifacts)?;
        if drift.is_empty() {
            crate::output::eprint(&format!("{out} is up to date ({counts})\n"));
            return Ok(false);
        }
        crate::output::print(&crate::output::drift_report(&drift));
        crate::output::eprint(&format!(
            "{out} has drifted from Airbyte ({counts}): {} file(s) differ; run `airguard export` without --check to update it\n",
            drift.len()
        ));
        return Ok(true);
    }
    let protect: Vec<&Utf8Path> = args
        .spec
        .iter()
        .chain(args.scenario.iter())
        .map(|p| p.as_path())
        .collect();
    crate::output::check_target_marked(out, "index.yaml", &protect, args.force)?;
    crate::output::write_atomic(out, &export.artifacts)?;
    crate::output::eprint(&format!("exported {counts} to {out}\n"));
    Ok(false)
}

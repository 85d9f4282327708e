//! Where a conformance run goes: a live Airbyte API or the built-in mock.
//!
//! [`run`] turns a [`Target`] into a client configuration — for a live API the spec's base path
//! and token URL resolved against `--api-url` and credentials read from the environment; for the
//! mock a server started in process on a free loopback port, seeded with the spec's connections
//! and accepting its own default credentials — then runs the pipelines and returns the report.
//! `airguard conform` and `airguard demo` both call it; neither builds a client itself.

use super::client::{
    display_url, resolve_token_url, Client, ClientConfig, ClientError, Credentials,
};
use super::report::Report;
use super::runner::{self, RunnerConfig};
use crate::spec::model::{ApiFlavour, AuthKind, Connection, Pipeline};
use crate::spec::Model;
use std::sync::Arc;
use std::time::Duration;

/// The Airbyte API a run talks to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The built-in mock, started in process for the run.
    Mock,
    /// A live server at this root URL (`http://localhost:8000`); the spec's base path is appended
    /// unless the URL already has a path. Credentials come from the environment.
    Live {
        /// The root URL.
        api_url: String,
    },
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// Credentials missing from the environment, or a client that cannot be built.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The built-in mock did not start.
    #[error("cannot start the built-in mock")]
    Mock(#[source] crate::mock::MockError),
}

/// Run `pipelines` of `model` against `target` and return the report. `request_timeout` bounds
/// each HTTP request (`None`: the client's default).
pub async fn run(
    model: &Model,
    pipelines: &[Pipeline],
    target: &Target,
    cfg: &RunnerConfig,
    request_timeout: Option<Duration>,
) -> Result<Report, TargetError> {
    let api = &model.airbyte.api;
    match target {
        Target::Live { api_url } => {
            let mut client = live_config(
                api_url,
                &api.base_path,
                &api.token_url,
                api.flavour,
                api.auth,
            )?;
            client.request_timeout = request_timeout;
            conform(&model.connections, pipelines, client, cfg).await
        }
        Target::Mock => {
            let (mock_auth, credentials) = mock_credentials(api.auth);
            let config = crate::mock::MockConfig {
                auth: mock_auth,
                ..crate::mock::MockConfig::for_model(model)
            };
            let listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
            let server = crate::mock::start(listen, config)
                .await
                .map_err(TargetError::Mock)?;
            let base_url = format!("{}{}", server.base_url(), api.base_path);
            crate::output::eprint(&format!(
                "conform: running against the built-in mock at {base_url}\n"
            ));
            let credentials =
                credentials.with_token_url(&resolve_token_url(&base_url, &api.token_url));
            let mut client = ClientConfig::new(&base_url, api.flavour, credentials);
            client.request_timeout = request_timeout;
            let report = conform(&model.connections, pipelines, client, cfg).await;
            server.shutdown().await;
            report
        }
    }
}

/// Run `pipelines` (whose steps name `connections`) with a client built from `client`.
async fn conform(
    connections: &[Connection],
    pipelines: &[Pipeline],
    client: ClientConfig,
    cfg: &RunnerConfig,
) -> Result<Report, TargetError> {
    let client = Arc::new(Client::new(client)?);
    let shown = client.sanitize(&display_url(client.base_url()));
    tracing::info!(base_url = %shown, pipelines = pipelines.len(), "conform starting");
    Ok(runner::run(client, connections, pipelines, cfg).await)
}

/// The client for a live API at `api_url`: `base_path` appended unless the URL has a path, the
/// token URL resolved against it, credentials of kind `auth` read from the environment.
pub(crate) fn live_config(
    api_url: &str,
    base_path: &str,
    token_url: &str,
    flavour: ApiFlavour,
    auth: AuthKind,
) -> Result<ClientConfig, ClientError> {
    let base_url = base_url(api_url, base_path);
    let token_url = resolve_token_url(&base_url, token_url);
    let credentials = Credentials::from_env(auth, &token_url, |v| std::env::var(v).ok())?;
    Ok(ClientConfig::new(&base_url, flavour, credentials))
}

/// What the in-process mock accepts for the spec's auth kind, and the matching client
/// credentials: the mock's own defaults, so `--mock` needs no environment.
pub(crate) fn mock_credentials(kind: AuthKind) -> (crate::mock::MockAuth, Credentials) {
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

#[cfg(test)]
mod tests {
    use super::*;

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

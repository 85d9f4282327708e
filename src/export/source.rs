//! Where an export reads from: a live Airbyte public API or the built-in mock.
//!
//! [`run`] turns a [`Source`] into a client — for a live API the spec's public base path and
//! token URL (or the public API's defaults without a spec) resolved against `--api-url`, with
//! credentials read from the environment exactly as `conform` reads them; for the mock a server
//! started in process on a free loopback port, seeded with the given scenario and accepting its
//! own default credentials — then exports and stops the mock. `airguard export` builds no client
//! itself.

use super::{Export, ExportError};
use crate::conform::client::{resolve_token_url, Client, ClientConfig, ClientError};
use crate::conform::target::{self, mock_credentials};
use crate::spec::model::{env, ApiFlavour, AuthKind};
use crate::spec::Model;
use std::time::Duration;

/// The public API's base path and token endpoint when no spec names them.
const PUBLIC_BASE_PATH: &str = "/api/public/v1";
const PUBLIC_TOKEN_URL: &str = "applications/token";

/// The Airbyte API an export reads.
#[derive(Debug)]
pub enum Source {
    /// The built-in mock, started in process with this world.
    Mock(Box<crate::mock::Scenario>),
    /// A live server at this root URL; the public API's base path is appended unless the URL
    /// already has a path.
    Live {
        /// The root URL.
        api_url: String,
    },
}

/// Why an export could not run (exit 2; nothing is written).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Credentials missing from the environment, or a client that cannot be built.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The built-in mock did not start.
    #[error("cannot start the built-in mock")]
    Mock(#[source] crate::mock::MockError),
    /// The API could not be read to the end.
    #[error(transparent)]
    Export(#[from] ExportError),
}

/// Export everything `source` holds; `model` (a spec) picks the API settings and auth kind and
/// is compared with the export. `request_timeout` bounds each HTTP request.
pub async fn run(
    source: Source,
    model: Option<&Model>,
    request_timeout: Option<Duration>,
) -> Result<Export, RunError> {
    match source {
        Source::Live { api_url } => {
            let mut config = public_config(&api_url, model)?;
            config.request_timeout = request_timeout;
            let client = Client::new(config)?;
            Ok(super::export(&client, model).await?)
        }
        Source::Mock(scenario) => {
            let (auth, credentials) = mock_credentials(AuthKind::ClientCredentials);
            let config = crate::mock::MockConfig {
                scenario: *scenario,
                auth,
            };
            let server = crate::mock::start(([127, 0, 0, 1], 0).into(), config)
                .await
                .map_err(RunError::Mock)?;
            let base = format!("{}{PUBLIC_BASE_PATH}", server.base_url());
            let credentials =
                credentials.with_token_url(&resolve_token_url(&base, PUBLIC_TOKEN_URL));
            let mut config = ClientConfig::new(&base, ApiFlavour::Public, credentials);
            config.request_timeout = request_timeout;
            let result = match Client::new(config) {
                Ok(client) => super::export(&client, model).await.map_err(RunError::from),
                Err(e) => Err(e.into()),
            };
            server.shutdown().await;
            result
        }
    }
}

/// The client for a live API: the spec's public API settings and auth kind, or (without a spec,
/// or with a spec on the Config API) the public API's defaults; without a spec, the auth kind
/// whose variables are set.
fn public_config(url: &str, model: Option<&Model>) -> Result<ClientConfig, ClientError> {
    let (base_path, token_url, kind) = match model.map(|m| &m.airbyte.api) {
        Some(api) if api.flavour == ApiFlavour::Public => {
            (api.base_path.as_str(), api.token_url.as_str(), api.auth)
        }
        Some(api) => (PUBLIC_BASE_PATH, PUBLIC_TOKEN_URL, api.auth),
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
            (PUBLIC_BASE_PATH, PUBLIC_TOKEN_URL, kind)
        }
    };
    target::live_config(url, base_path, token_url, ApiFlavour::Public, kind)
}

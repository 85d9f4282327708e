//! A mock Airbyte server faithful enough that the official clients (the airbyte-api SDK, the
//! Airflow provider's hook) and `airguard conform` run their lifecycle against it.
//!
//! It serves the public API under `/api/public/v1` and `/v1` and the Config API under `/api/v1`
//! with the real status codes and bodies (`body`), a clock-driven job state machine (`state`)
//! and faults injected per [`Scenario`] (`scenario`). `airguard mock serve` runs it as a
//! process; `airguard conform --mock` runs it in process through [`start`].
//!
//! It never prints (the CLI prints its banner), never logs request bodies or credentials, and
//! [`MockServer::requests`] records only method, path and query. [`Limits`] keep it bounded under
//! load: request body size, header, idle and body timeouts, and a connection cap.

pub mod body;
pub mod catalog;
pub mod scenario;
pub mod state;

mod http;

pub use scenario::{
    ConnectionSpec, ConnectionStatus, Fault, FaultAction, JobBehaviour, Operation, Outcome,
    ResetCreates, Scenario, ScenarioError, DEFAULT_SCENARIO,
};

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Client id the mock accepts unless told otherwise.
pub const DEFAULT_CLIENT_ID: &str = "airguard-mock";
/// Client secret the mock accepts unless told otherwise. It guards nothing: the mock is a test
/// double, and printing it on start is how users learn it.
pub const DEFAULT_CLIENT_SECRET: &str = "airguard-mock-secret";

/// How many requests [`MockServer::requests`] keeps (the oldest are dropped beyond this).
pub const RECORDED_REQUESTS_CAP: usize = 100_000;

/// Which credentials the mock accepts on API calls (health and token endpoints are open).
/// Its `Debug` output redacts passwords, tokens and secrets.
#[derive(Clone, PartialEq, Eq)]
pub enum MockAuth {
    /// Any request, with or without credentials.
    None,
    /// HTTP Basic with this user and password (tokens issued for them work too).
    Basic {
        /// User.
        user: String,
        /// Password.
        password: String,
    },
    /// A fixed bearer token.
    Bearer {
        /// The token.
        token: String,
    },
    /// OAuth2 client credentials: `POST …/applications/token` issues bearer tokens that expire
    /// after the scenario's `token-ttl`.
    ClientCredentials {
        /// Client id.
        client_id: String,
        /// Client secret.
        client_secret: String,
    },
}

impl std::fmt::Debug for MockAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const REDACTED: &str = "<redacted>";
        match self {
            MockAuth::None => f.write_str("None"),
            MockAuth::Basic { user, .. } => f
                .debug_struct("Basic")
                .field("user", user)
                .field("password", &REDACTED)
                .finish(),
            MockAuth::Bearer { .. } => f.debug_struct("Bearer").field("token", &REDACTED).finish(),
            MockAuth::ClientCredentials { client_id, .. } => f
                .debug_struct("ClientCredentials")
                .field("client_id", client_id)
                .field("client_secret", &REDACTED)
                .finish(),
        }
    }
}

impl MockAuth {
    /// Client credentials with [`DEFAULT_CLIENT_ID`] and [`DEFAULT_CLIENT_SECRET`].
    pub fn default_client_credentials() -> Self {
        MockAuth::ClientCredentials {
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            client_secret: DEFAULT_CLIENT_SECRET.to_owned(),
        }
    }
}

/// Everything needed to start a mock.
#[derive(Clone, Debug)]
pub struct MockConfig {
    /// Connections, job behaviour and faults.
    pub scenario: Scenario,
    /// Accepted credentials.
    pub auth: MockAuth,
}

impl MockConfig {
    /// A mock seeded with every connection the spec declares (active, default job behaviour,
    /// no faults), accepting client credentials with the default id and secret.
    pub fn for_model(model: &crate::spec::Model) -> Self {
        let mut scenario = Scenario::default();
        scenario.seed(
            model
                .connections
                .iter()
                .map(|c| (c.id.as_str(), c.name.as_str())),
        );
        Self {
            scenario,
            auth: MockAuth::default_client_credentials(),
        }
    }
}

/// What keeps the mock bounded whatever its clients do (see `docs/mock.md`, "Limits").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body read; a larger one gets 413 without being read.
    pub max_body_bytes: usize,
    /// Time from the first byte of a request to the end of its head; then the connection closes.
    pub header_read_timeout: Duration,
    /// Time a connection may stay without a request in progress and without receiving a byte.
    pub idle_timeout: Duration,
    /// Time from the end of a request's head to the end of its body; then 408 and close.
    pub body_read_timeout: Duration,
    /// Most connections open at once (at least 1); at the cap the longest-idle one makes room.
    pub max_connections: usize,
}

impl Default for Limits {
    /// 1 MiB bodies, 30 s for a head, 75 s idle, 30 s for a body, 512 connections.
    fn default() -> Self {
        Self {
            max_body_bytes: 1 << 20,
            header_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(75),
            body_read_timeout: Duration::from_secs(30),
            max_connections: 512,
        }
    }
}

/// Errors starting the mock.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// One request the mock received: no headers, no body, so no secrets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// HTTP method (`GET`).
    pub method: String,
    /// Path (`/api/public/v1/jobs/1`).
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
}

/// A running mock. Stop it with [`MockServer::shutdown`]; dropping it stops it too.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    requests: Arc<Mutex<VecDeque<RecordedRequest>>>,
    panics: Arc<AtomicU64>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl MockServer {
    /// `http://127.0.0.1:PORT` (no path; append `/api/public/v1`, `/v1` or `/api/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Requests received so far, oldest first (at most [`RECORDED_REQUESTS_CAP`]).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests
            .lock()
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// How many connections ended in a panic so far. Always 0 unless airguard has a bug: the
    /// server keeps serving other connections, and tests assert this count.
    pub fn panics(&self) -> u64 {
        self.panics.load(Ordering::Relaxed)
    }

    /// Stop accepting, close every connection and wait for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Bind `listen` (port 0 picks a free port) and serve `config` until shut down, with the
/// default [`Limits`].
pub async fn start(listen: SocketAddr, config: MockConfig) -> Result<MockServer, MockError> {
    start_with_limits(listen, config, Limits::default()).await
}

/// [`start`] with explicit [`Limits`].
pub async fn start_with_limits(
    listen: SocketAddr,
    config: MockConfig,
    limits: Limits,
) -> Result<MockServer, MockError> {
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|source| MockError::Bind {
            addr: listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| MockError::Bind {
        addr: listen,
        source,
    })?;
    let requests = Arc::new(Mutex::new(VecDeque::new()));
    let panics = Arc::new(AtomicU64::new(0));
    let inner = Arc::new(http::Inner::new(config, addr, requests.clone(), limits));
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(http::serve(listener, inner, panics.clone(), stopped));
    Ok(MockServer {
        addr,
        requests,
        panics,
        stop: Some(stop),
        task: Some(task),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_redacts_secrets() {
        let auth = MockAuth::ClientCredentials {
            client_id: "id".into(),
            client_secret: "s3cret".into(),
        };
        let config = MockConfig {
            scenario: Scenario::default(),
            auth,
        };
        let text = format!(
            "{config:?} {:?} {:?}",
            MockAuth::Bearer {
                token: "t0ken".into()
            },
            MockAuth::Basic {
                user: "u".into(),
                password: "pa55".into()
            }
        );
        for secret in ["s3cret", "t0ken", "pa55"] {
            assert!(!text.contains(secret), "{text}");
        }
        assert!(text.contains("\"id\""));
    }
}

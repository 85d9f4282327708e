//! An Airbyte API client for both flavours: the public API (`/api/public/v1`, what the official
//! clients use) and the internal Config API (`/api/v1`, POST + JSON).
//!
//! One request path ([`Client::execute`]) owns authentication (basic, bearer, client credentials
//! with refresh before expiry and one refresh on 401), per-request timeouts, and retries of
//! network errors, 5xx and 429 (honouring `Retry-After`) with exponential backoff and full
//! jitter, bounded by attempts and elapsed time. Other 4xx are never retried. Non-idempotent
//! requests (triggering a job) are never re-sent blindly: when their outcome is unknown the
//! client lists the connection's jobs and attaches to a running one, or one created since the
//! trigger was sent, first.
//!
//! Every response is validated into the types of [`model`]; a contract violation is a
//! [`ClientError::InvalidResponse`] naming the field. Against a hostile server: redirects are
//! never followed (a 3xx is [`ClientError::Redirect`]), bodies are read up to
//! [`MAX_RESPONSE_BYTES`] while streaming, JSON objects with a repeated key are refused
//! ([`strict`]), and no server value can cause a panic. This module never prints, and never logs
//! or formats a credential or token: `tracing` events carry method, URL (without userinfo),
//! status and attempt, and everything else that leaves the client goes through
//! [`Client::sanitize`] ([`redact`]).

pub mod auth;
pub mod error;
pub mod model;
pub mod redact;
pub mod retry;
pub mod strict;

pub use auth::{Credentials, TokenBody};
pub use error::{ClientError, FieldProblem};
pub use model::{Connection, ConnectionStatus, Job, JobKind, JobStatus};
pub use redact::{display_url, Redactor};
pub use retry::RetryPolicy;

/// The largest response body read (8 MiB). A larger one, announced by `Content-Length` or found
/// while streaming, is [`ClientError::TooLarge`]; nothing beyond the limit is buffered.
pub const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

use crate::spec::model::ApiFlavour;
use auth::Token;
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// Settings of a [`Client`].
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Base URL including the API path (`http://host:8001/api/public/v1`), no trailing `/`.
    pub base_url: String,
    /// Which API the base URL serves.
    pub flavour: ApiFlavour,
    /// Credentials.
    pub credentials: Credentials,
    /// Timeout of one HTTP request (connect to last body byte); `None` for none.
    pub request_timeout: Option<Duration>,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// Wall clock, for when a trigger was sent (a parameter so tests can fix it).
    pub clock: fn() -> SystemTime,
}

impl ClientConfig {
    /// Defaults: 30 s per request, [`RetryPolicy::default`].
    pub fn new(base_url: &str, flavour: ApiFlavour, credentials: Credentials) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_string(),
            flavour,
            credentials,
            request_timeout: Some(Duration::from_secs(30)),
            retry: RetryPolicy::default(),
            clock: SystemTime::now,
        }
    }
}

/// Resolve a token URL: absolute URLs are used as given, `/path` is taken from the server root,
/// and anything else is relative to the base URL (`applications/token` under
/// `http://h/api/public/v1` is `http://h/api/public/v1/applications/token`). Unlike `urljoin`,
/// this never drops the base's last path segment (the Python SDK's pitfall).
pub fn resolve_token_url(base_url: &str, token_url: &str) -> String {
    if token_url.starts_with("http://") || token_url.starts_with("https://") {
        return token_url.to_string();
    }
    let base = base_url.trim_end_matches('/');
    if let Some(abs) = token_url.strip_prefix('/') {
        let after_scheme = base.find("://").map_or(0, |i| i + 3);
        let root_end = base[after_scheme..]
            .find('/')
            .map_or(base.len(), |i| after_scheme + i);
        return format!("{}/{abs}", &base[..root_end]);
    }
    format!("{base}/{token_url}")
}

/// The result of asking for a sync, reset or clear.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Triggered {
    /// The server started this job.
    Started(Job),
    /// The trigger's response was lost; this job of the connection was found instead: one that
    /// is still running, or one created since the trigger was sent (it may have ended already).
    Recovered(Job),
    /// The server refused because a sync already runs (HTTP 409).
    AlreadyRunning {
        /// The server's message.
        message: String,
    },
}

/// Filter for [`Client::jobs`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JobFilter {
    /// Only jobs answering this kind.
    pub kind: Option<JobKind>,
    /// Only jobs in this status.
    pub status: Option<JobStatus>,
    /// Page size (1–100).
    pub limit: u32,
}

enum Body {
    None,
    Json(Value),
    Form(Vec<(&'static str, String)>),
}

struct Request {
    op: String,
    method: Method,
    url: String,
    body: Body,
    /// Safe to send twice.
    idempotent: bool,
    /// Send credentials.
    auth: bool,
}

struct Response {
    body: Vec<u8>,
    /// The body parsed strictly, when JSON was asked for.
    json: Option<Value>,
}

/// How one HTTP exchange failed before a status could be judged.
enum Fetch {
    Net(reqwest::Error),
    TooLarge,
}

enum AuthHeader {
    None,
    Basic(SecretString, SecretString),
    Bearer(SecretString, u64),
}

/// An Airbyte API client. Cheap to share behind an `Arc`; every method takes `&self`.
pub struct Client {
    http: reqwest::Client,
    base_url: String,
    flavour: ApiFlavour,
    credentials: Credentials,
    request_timeout: Option<Duration>,
    retry: RetryPolicy,
    clock: fn() -> SystemTime,
    token: tokio::sync::Mutex<Option<Token>>,
    generation: AtomicU64,
    sent: AtomicU64,
    redactor: std::sync::RwLock<Redactor>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &display_url(&self.base_url))
            .field("flavour", &self.flavour)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Build a client.
    pub fn new(cfg: ClientConfig) -> Result<Self, ClientError> {
        if !(cfg.base_url.starts_with("http://") || cfg.base_url.starts_with("https://")) {
            return Err(ClientError::InvalidUrl {
                url: display_url(&cfg.base_url).into_owned(),
            });
        }
        let mut redactor = Redactor::new();
        match &cfg.credentials {
            Credentials::None => {}
            Credentials::Basic { user, password } => {
                redactor.add_basic(user.expose_secret(), password.expose_secret())
            }
            Credentials::Bearer(t) => redactor.add(t.expose_secret()),
            Credentials::ClientCredentials {
                client_secret,
                token_url,
                ..
            } => {
                redactor.add(client_secret.expose_secret());
                if let Some((u, p)) = redact::userinfo(token_url) {
                    redactor.add_basic(&u, &p);
                }
            }
        }
        if let Some((u, p)) = redact::userinfo(&cfg.base_url) {
            redactor.add_basic(&u, &p);
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("airguard/", env!("CARGO_PKG_VERSION")))
            // Never follow a redirect: it could carry credentials, a client secret or a job
            // trigger to another host, or turn a POST into a GET. A 3xx is an error.
            .redirect(reqwest::redirect::Policy::none())
            // A CLI run is short; no idle-connection timer (it would also disturb paused-time tests).
            .pool_idle_timeout(None)
            .build()
            .map_err(ClientError::Build)?;
        Ok(Self {
            http,
            base_url: cfg.base_url,
            flavour: cfg.flavour,
            credentials: cfg.credentials,
            request_timeout: cfg.request_timeout,
            retry: cfg.retry,
            clock: cfg.clock,
            token: tokio::sync::Mutex::new(None),
            generation: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            redactor: std::sync::RwLock::new(redactor),
        })
    }

    /// The API flavour.
    pub fn flavour(&self) -> ApiFlavour {
        self.flavour
    }

    /// The base URL as configured (it may carry userinfo: show [`display_url`] of it).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `s` with every secret this client knows (credentials, URL passwords, access tokens
    /// received so far) redacted and every control character escaped: what may leave the
    /// client in a message, report or log line.
    pub fn sanitize(&self, s: &str) -> String {
        let redacted = match self.redactor.read() {
            Ok(r) => r.redact(s).into_owned(),
            // A poisoned lock still holds the secrets.
            Err(p) => p.into_inner().redact(s).into_owned(),
        };
        crate::text::escape_control(&redacted).into_owned()
    }

    /// [`Self::sanitize`] of an error's full chain.
    pub fn describe(&self, e: &ClientError) -> String {
        self.sanitize(&e.chain())
    }

    fn log_url(&self, url: &str) -> String {
        self.sanitize(&display_url(url))
    }

    /// Timeout of one HTTP request; `None` when requests are unbounded.
    pub fn request_timeout(&self) -> Option<Duration> {
        self.request_timeout
    }

    /// HTTP requests sent so far (token requests and retries included).
    pub fn requests_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    fn req(&self, method: Method, path: &str, body: Body, idempotent: bool, auth: bool) -> Request {
        let op_path = path.split('?').next().unwrap_or(path);
        Request {
            op: format!("{method} {op_path}"),
            method,
            url: format!("{}{path}", self.base_url),
            body,
            idempotent,
            auth,
        }
    }

    /// `GET {base}{path}?{query}` through the one request path (auth, timeout, retries, size
    /// cap), the body parsed strictly as JSON.
    pub(crate) async fn get_json(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Value, ClientError> {
        let mut p = path.to_owned();
        if !query.is_empty() {
            p.push('?');
            p.push_str(&serde_urlencoded::to_string(query).unwrap_or_default());
        }
        let req = self.req(Method::GET, &p, Body::None, true, true);
        let resp = self.execute(&req, true).await?;
        parse_json(&req, &resp)
    }

    /// Check the API is up: public `GET /health` (200, any body) or Config `GET /health`
    /// (`{"available": true}`). Sends no credentials, as the real clients do.
    pub async fn health(&self) -> Result<(), ClientError> {
        let config = self.flavour == ApiFlavour::Config;
        let req = self.req(Method::GET, "/health", Body::None, true, false);
        let resp = self.execute(&req, config).await?;
        if config {
            let v = parse_json(&req, &resp)?;
            model::config_health(&v).map_err(|(f, p)| invalid(&req, &f, p))?;
        }
        Ok(())
    }

    /// Read a connection.
    pub async fn connection(&self, id: &str) -> Result<Connection, ClientError> {
        let req = match self.flavour {
            ApiFlavour::Public => self.req(
                Method::GET,
                &format!("/connections/{id}"),
                Body::None,
                true,
                true,
            ),
            ApiFlavour::Config => self.req(
                Method::POST,
                "/connections/get",
                Body::Json(json!({ "connectionId": id })),
                true,
                true,
            ),
        };
        let resp = self.execute(&req, true).await?;
        let v = parse_json(&req, &resp)?;
        let parsed = match self.flavour {
            ApiFlavour::Public => model::public_connection(&v),
            ApiFlavour::Config => model::config_connection(&v),
        };
        let conn = parsed.map_err(|(f, p)| invalid(&req, &f, p))?;
        if conn.id != id {
            return Err(invalid(
                &req,
                "connectionId",
                FieldProblem::Mismatch {
                    expected: id.into(),
                    got: conn.id,
                },
            ));
        }
        Ok(conn)
    }

    /// Read a job (Config API: `jobs/get_without_logs`, which carries live stats).
    pub async fn job(&self, id: i64) -> Result<Job, ClientError> {
        let req = match self.flavour {
            ApiFlavour::Public => {
                self.req(Method::GET, &format!("/jobs/{id}"), Body::None, true, true)
            }
            ApiFlavour::Config => self.req(
                Method::POST,
                "/jobs/get_without_logs",
                Body::Json(json!({ "id": id })),
                true,
                true,
            ),
        };
        self.job_response(&req, id).await
    }

    /// Cancel a job; returns the job as the server reports it after cancelling.
    pub async fn cancel(&self, id: i64) -> Result<Job, ClientError> {
        let req = match self.flavour {
            ApiFlavour::Public => self.req(
                Method::DELETE,
                &format!("/jobs/{id}"),
                Body::None,
                true,
                true,
            ),
            ApiFlavour::Config => self.req(
                Method::POST,
                "/jobs/cancel",
                Body::Json(json!({ "id": id })),
                true,
                true,
            ),
        };
        self.job_response(&req, id).await
    }

    async fn job_response(&self, req: &Request, id: i64) -> Result<Job, ClientError> {
        let resp = self.execute(req, true).await?;
        let v = parse_json(req, &resp)?;
        let job = self.parse_job(req, &v)?;
        if job.id != id {
            let field = self.field("jobId", "job.id");
            return Err(invalid(
                req,
                field,
                FieldProblem::Mismatch {
                    expected: id.to_string(),
                    got: job.id.to_string(),
                },
            ));
        }
        Ok(job)
    }

    fn parse_job(&self, req: &Request, v: &Value) -> Result<Job, ClientError> {
        match self.flavour {
            ApiFlavour::Public => model::public_job(v),
            ApiFlavour::Config => model::config_job_info(v),
        }
        .map_err(|(f, p)| invalid(req, &f, p))
    }

    fn field(&self, public: &'static str, config: &'static str) -> &'static str {
        match self.flavour {
            ApiFlavour::Public => public,
            ApiFlavour::Config => config,
        }
    }

    /// List a connection's recent jobs, newest first.
    pub async fn jobs(
        &self,
        connection_id: &str,
        filter: JobFilter,
    ) -> Result<Vec<Job>, ClientError> {
        let limit = filter.limit.clamp(1, 100);
        let req = match self.flavour {
            ApiFlavour::Public => {
                let mut q = format!("/jobs?connectionId={connection_id}&limit={limit}");
                // Reset and clear requests both create `reset` jobs (and older servers call some
                // `clear`), so those are filtered here rather than by the server.
                if let Some(k @ (JobKind::Sync | JobKind::Refresh)) = filter.kind {
                    q.push_str(&format!("&jobType={k}"));
                }
                if let Some(s) = filter.status {
                    q.push_str(&format!("&status={s}"));
                }
                q.push_str("&orderBy=createdAt%7CDESC");
                self.req(Method::GET, &q, Body::None, true, true)
            }
            ApiFlavour::Config => {
                let types: Vec<&str> = match filter.kind {
                    Some(JobKind::Sync) => vec!["sync"],
                    Some(JobKind::Reset | JobKind::Clear) => vec!["reset_connection", "clear"],
                    Some(JobKind::Refresh) => vec!["refresh"],
                    _ => vec!["sync", "reset_connection", "clear", "refresh"],
                };
                let mut body = json!({
                    "configTypes": types,
                    "configId": connection_id,
                    "pagination": { "pageSize": limit, "rowOffset": 0 },
                });
                if let Some(s) = filter.status {
                    body["statuses"] = json!([s.to_string()]);
                }
                self.req(Method::POST, "/jobs/list", Body::Json(body), true, true)
            }
        };
        let resp = self.execute(&req, true).await?;
        let v = parse_json(&req, &resp)?;
        let mut jobs = match self.flavour {
            ApiFlavour::Public => model::public_jobs(&v),
            ApiFlavour::Config => model::config_job_list(&v),
        }
        .map_err(|(f, p)| invalid(&req, &f, p))?;
        jobs.retain(|j| {
            j.connection_id == connection_id
                && filter.kind.is_none_or(|k| j.kind.answers(k))
                && filter.status.is_none_or(|s| j.status == s)
        });
        jobs.sort_by(|a, b| b.start.cmp(&a.start).then(b.id.cmp(&a.id)));
        Ok(jobs)
    }

    /// The newest job of `connection_id` answering `kind` that has not ended.
    pub async fn running_job(
        &self,
        connection_id: &str,
        kind: JobKind,
    ) -> Result<Option<Job>, ClientError> {
        let jobs = self
            .jobs(
                connection_id,
                JobFilter {
                    kind: Some(kind),
                    status: None,
                    limit: 20,
                },
            )
            .await?;
        Ok(jobs.into_iter().find(|j| !j.status.is_terminal()))
    }

    /// The newest successful sync of `connection_id`.
    pub async fn last_successful_sync(
        &self,
        connection_id: &str,
    ) -> Result<Option<Job>, ClientError> {
        let filter = JobFilter {
            kind: Some(JobKind::Sync),
            status: Some(JobStatus::Succeeded),
            limit: 1,
        };
        Ok(self.jobs(connection_id, filter).await?.into_iter().next())
    }

    /// Start a sync, reset or clear. A 409 is [`Triggered::AlreadyRunning`]. When the response is
    /// lost (network error after sending, 5xx, truncated body), the connection's jobs are listed
    /// first and a job of the asked kind that is running, or was created at or after one second
    /// before the trigger was first sent (whatever its status), is returned as
    /// [`Triggered::Recovered`]. When none is found and the answer was a 500 whose body carries
    /// the server's own `message` (the Config API's exception text: a deterministic failure such
    /// as "Can only sync an active connection"), that status and message are the error;
    /// otherwise the trigger is sent again, within the retry budget.
    pub async fn trigger(
        &self,
        connection_id: &str,
        kind: JobKind,
    ) -> Result<Triggered, ClientError> {
        let req = match self.flavour {
            ApiFlavour::Public => {
                let job_type = if kind == JobKind::Clear {
                    "clear"
                } else {
                    kind.into()
                };
                let body = json!({ "connectionId": connection_id, "jobType": job_type });
                self.req(Method::POST, "/jobs", Body::Json(body), false, true)
            }
            ApiFlavour::Config => {
                let verb = match kind {
                    JobKind::Reset => "reset",
                    JobKind::Clear => "clear",
                    _ => "sync",
                };
                let body = json!({ "connectionId": connection_id });
                self.req(
                    Method::POST,
                    &format!("/connections/{verb}"),
                    Body::Json(body),
                    false,
                    true,
                )
            }
        };
        let start = Instant::now();
        // Epoch seconds when the trigger was first sent; a job created since is ours.
        let sent_at = (self.clock)()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let mut failures = 0u32;
        loop {
            let err = match self.execute(&req, true).await {
                Ok(resp) => {
                    // `execute` already turned a non-JSON body into `Ambiguous`.
                    let job = self.parse_job(&req, &parse_json(&req, &resp)?)?;
                    self.check_job(&req, &job, connection_id, kind)?;
                    return Ok(Triggered::Started(job));
                }
                Err(e) if e.status() == Some(409) && !matches!(e, ClientError::GaveUp { .. }) => {
                    let message = match &e {
                        ClientError::Status {
                            detail: Some(d), ..
                        } => d.clone(),
                        _ => String::new(),
                    };
                    if message.is_empty()
                        || message.to_ascii_lowercase().contains("already running")
                    {
                        return Ok(Triggered::AlreadyRunning { message });
                    }
                    return Err(e);
                }
                Err(e @ ClientError::Ambiguous { .. }) => e,
                Err(e) => return Err(e),
            };
            tracing::warn!(op = %req.op, connection = connection_id, error = %self.describe(&err), "trigger outcome unknown; looking for its job before re-sending");
            let filter = JobFilter {
                kind: Some(kind),
                status: None,
                limit: 20,
            };
            let since = sent_at.saturating_sub(1);
            let jobs = self.jobs(connection_id, filter).await?;
            if let Some(job) = jobs
                .into_iter()
                .find(|j| !j.status.is_terminal() || j.start >= since)
            {
                tracing::info!(op = %req.op, job = job.id, status = %job.status, "found the job the lost trigger started");
                return Ok(Triggered::Recovered(job));
            }
            let err = match err {
                ClientError::Ambiguous { source, .. }
                    if matches!(
                        *source,
                        ClientError::Status {
                            status: 500,
                            server_message: true,
                            ..
                        }
                    ) =>
                {
                    // The server said why it failed, and no job appeared: not worth re-sending.
                    return Err(*source);
                }
                e => e,
            };
            failures += 1;
            match self.retry.next_delay(failures, start.elapsed(), None) {
                Some(d) => tokio::time::sleep(d).await,
                None => {
                    return Err(ClientError::GaveUp {
                        operation: req.op.clone(),
                        attempts: failures,
                        elapsed: start.elapsed(),
                        last: Box::new(err),
                    })
                }
            }
        }
    }

    /// Check a job returned for a request about `connection_id` and `kind`.
    fn check_job(
        &self,
        req: &Request,
        job: &Job,
        connection_id: &str,
        kind: JobKind,
    ) -> Result<(), ClientError> {
        if job.connection_id != connection_id {
            let field = self.field("connectionId", "job.configId");
            let p = FieldProblem::Mismatch {
                expected: connection_id.into(),
                got: job.connection_id.clone(),
            };
            return Err(invalid(req, field, p));
        }
        if !job.kind.answers(kind) {
            let field = self.field("jobType", "job.configType");
            let p = FieldProblem::Mismatch {
                expected: kind.to_string(),
                got: job.kind.to_string(),
            };
            return Err(invalid(req, field, p));
        }
        Ok(())
    }

    async fn authorization(&self) -> Result<AuthHeader, ClientError> {
        Ok(match &self.credentials {
            Credentials::None => AuthHeader::None,
            Credentials::Basic { user, password } => {
                AuthHeader::Basic(user.clone(), password.clone())
            }
            Credentials::Bearer(t) => AuthHeader::Bearer(t.clone(), 0),
            Credentials::ClientCredentials { .. } => {
                let mut slot = self.token.lock().await;
                let now = Instant::now();
                if let Some(t) = slot.as_ref().filter(|t| t.fresh(now)) {
                    return Ok(AuthHeader::Bearer(t.value.clone(), t.generation));
                }
                let t = Box::pin(self.fetch_token()).await?;
                let header = AuthHeader::Bearer(t.value.clone(), t.generation);
                *slot = Some(t);
                header
            }
        })
    }

    async fn invalidate(&self, generation: u64) {
        let mut slot = self.token.lock().await;
        if slot.as_ref().is_some_and(|t| t.generation == generation) {
            *slot = None;
        }
    }

    async fn fetch_token(&self) -> Result<Token, ClientError> {
        let Credentials::ClientCredentials {
            client_id,
            client_secret,
            token_url,
            body,
        } = &self.credentials
        else {
            unreachable!("fetch_token is only called for client credentials");
        };
        let token_err = |reason: String| ClientError::Token {
            url: display_url(token_url).into_owned(),
            reason,
        };
        let body = match body {
            TokenBody::Json => Body::Json(json!({
                "client_id": client_id.expose_secret(),
                "client_secret": client_secret.expose_secret(),
                "grant-type": "client_credentials",
            })),
            TokenBody::Form => Body::Form(vec![
                ("grant_type", "client_credentials".into()),
                ("client_id", client_id.expose_secret().to_string()),
                ("client_secret", client_secret.expose_secret().to_string()),
            ]),
        };
        let req = Request {
            op: "POST token".into(),
            method: Method::POST,
            url: token_url.clone(),
            body,
            idempotent: true,
            auth: false,
        };
        let requested = Instant::now();
        let resp = self.execute(&req, true).await.map_err(|e| {
            // Hostile answers keep their own error (and code); others name the token URL.
            if e.code().is_some() {
                e
            } else {
                token_err(e.chain())
            }
        })?;
        let v = parse_json(&req, &resp).map_err(|e| token_err(e.chain()))?;
        let (access, expires_in) = auth::parse_token(&v).map_err(token_err)?;
        if let Ok(mut r) = self.redactor.write() {
            r.add(access.expose_secret());
        }
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::debug!(url = %self.log_url(token_url), expires_in_s = expires_in.map(|d| d.as_secs()), "obtained an access token");
        Ok(Token {
            value: access,
            refresh_at: expires_in
                .and_then(|e| requested.checked_add(e.saturating_sub(auth::refresh_margin(e)))),
            generation,
        })
    }

    /// Send `req`, with authentication, timeout and retries. Returns the body of a 2xx answer.
    /// When `json` is set, a body that is not JSON counts as a (retryable) transport failure.
    async fn execute(&self, req: &Request, json: bool) -> Result<Response, ClientError> {
        let start = Instant::now();
        let mut failures = 0u32;
        let mut refreshed = false;
        loop {
            let auth = if req.auth {
                self.authorization().await?
            } else {
                AuthHeader::None
            };
            let mut rb = self
                .http
                .request(req.method.clone(), &req.url)
                .header("accept", "application/json");
            rb = match &req.body {
                Body::None => rb,
                Body::Json(v) => rb.json(v),
                Body::Form(f) => rb.form(f),
            };
            let generation = match &auth {
                AuthHeader::None => None,
                AuthHeader::Basic(u, p) => {
                    rb = rb.basic_auth(u.expose_secret(), Some(p.expose_secret()));
                    None
                }
                AuthHeader::Bearer(t, g) => {
                    rb = rb.bearer_auth(t.expose_secret());
                    Some(*g)
                }
            };
            if let Some(t) = self.request_timeout {
                rb = rb.timeout(t);
            }
            self.sent.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(op = %req.op, url = %self.log_url(&req.url), attempt = failures + 1, "request");
            let outcome = match rb.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let retry_after = resp
                        .headers()
                        .get("retry-after")
                        .and_then(|h| h.to_str().ok())
                        .and_then(|h| retry::parse_retry_after(h, SystemTime::now()));
                    if (300..400).contains(&status) {
                        return Err(self.redirect_error(req, status, &resp));
                    }
                    read_body(resp).await.map(|b| (status, retry_after, b))
                }
                Err(e) => Err(Fetch::Net(e)),
            };
            let (failure, retry_after) = match outcome {
                Ok((status, _, body)) if (200..300).contains(&status) => {
                    tracing::debug!(op = %req.op, status, "response");
                    if !json {
                        return Ok(Response { body, json: None });
                    }
                    match strict::parse(&body) {
                        Ok(v) => {
                            return Ok(Response {
                                body,
                                json: Some(v),
                            })
                        }
                        Err(strict::StrictError::DuplicateKey(key)) => {
                            return Err(ClientError::DuplicateKey {
                                operation: req.op.clone(),
                                key,
                            })
                        }
                        Err(strict::StrictError::Syntax(e)) => {
                            let err = ClientError::Malformed {
                                operation: req.op.clone(),
                                source: e,
                            };
                            if !req.idempotent {
                                return Err(ClientError::Ambiguous {
                                    operation: req.op.clone(),
                                    source: Box::new(err),
                                });
                            }
                            (err, None)
                        }
                    }
                }
                Ok((401, _, _))
                    if matches!(self.credentials, Credentials::ClientCredentials { .. })
                        && req.auth =>
                {
                    if refreshed {
                        return Err(ClientError::Unauthorized {
                            operation: req.op.clone(),
                        });
                    }
                    tracing::info!(op = %req.op, "HTTP 401: refreshing the access token once");
                    refreshed = true;
                    if let Some(g) = generation {
                        self.invalidate(g).await;
                    }
                    continue;
                }
                Ok((status, retry_after, body)) if status == 429 || status >= 500 => {
                    let err = status_error(req, status, &body);
                    // A 5xx may come after the server acted; 429 and 503 mean it did not.
                    if !req.idempotent && status != 429 && status != 503 {
                        return Err(ClientError::Ambiguous {
                            operation: req.op.clone(),
                            source: Box::new(err),
                        });
                    }
                    (err, retry_after)
                }
                Ok((status, _, body)) => return Err(status_error(req, status, &body)),
                Err(Fetch::TooLarge) => {
                    return Err(ClientError::TooLarge {
                        operation: req.op.clone(),
                        limit: MAX_RESPONSE_BYTES,
                    })
                }
                Err(Fetch::Net(e)) => {
                    let connect = e.is_connect();
                    let err = ClientError::Network {
                        operation: req.op.clone(),
                        source: e,
                    };
                    if !req.idempotent && !connect {
                        return Err(ClientError::Ambiguous {
                            operation: req.op.clone(),
                            source: Box::new(err),
                        });
                    }
                    (err, None)
                }
            };
            failures += 1;
            match self
                .retry
                .next_delay(failures, start.elapsed(), retry_after)
            {
                Some(delay) => {
                    tracing::warn!(op = %req.op, attempt = failures, delay_ms = delay.as_millis() as u64, error = %self.describe(&failure), "retrying");
                    tokio::time::sleep(delay).await;
                }
                None => {
                    return Err(ClientError::GaveUp {
                        operation: req.op.clone(),
                        attempts: failures,
                        elapsed: start.elapsed(),
                        last: Box::new(failure),
                    })
                }
            }
        }
    }
}

impl Client {
    /// The error for a 3xx answer: both URLs, without userinfo.
    fn redirect_error(&self, req: &Request, status: u16, resp: &reqwest::Response) -> ClientError {
        let location = resp
            .headers()
            .get("location")
            .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned());
        let to = match location {
            None => "(no Location header)".to_string(),
            Some(l) => url::Url::parse(&req.url)
                .and_then(|base| base.join(&l))
                .map_or(l, |u| u.to_string()),
        };
        ClientError::Redirect {
            operation: req.op.clone(),
            status,
            from: display_url(&req.url).into_owned(),
            to: display_url(&to).into_owned(),
        }
    }
}

/// Read a body, at most [`MAX_RESPONSE_BYTES`] of it.
async fn read_body(mut resp: reqwest::Response) -> Result<Vec<u8>, Fetch> {
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
    {
        return Err(Fetch::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(Fetch::Net)? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(Fetch::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn parse_json(req: &Request, resp: &Response) -> Result<Value, ClientError> {
    if let Some(v) = &resp.json {
        return Ok(v.clone());
    }
    strict::parse(&resp.body).map_err(|e| match e {
        strict::StrictError::Syntax(source) => ClientError::Malformed {
            operation: req.op.clone(),
            source,
        },
        strict::StrictError::DuplicateKey(key) => ClientError::DuplicateKey {
            operation: req.op.clone(),
            key,
        },
    })
}

fn invalid(req: &Request, field: &str, problem: FieldProblem) -> ClientError {
    ClientError::InvalidResponse {
        operation: req.op.clone(),
        field: field.to_string(),
        problem,
    }
}

/// The most useful message of an error body: public problem `data.message` or `detail`,
/// Config API `message`.
fn status_error(req: &Request, status: u16, body: &[u8]) -> ClientError {
    let parsed = serde_json::from_slice::<Value>(body).ok();
    let server_message = parsed
        .as_ref()
        .and_then(|v| v.get("message"))
        .is_some_and(|m| m.as_str().is_some_and(|m| !m.is_empty()));
    let detail = parsed.and_then(|v| {
        [
            v.pointer("/data/message"),
            v.get("message"),
            v.get("detail"),
            v.get("title"),
        ]
        .into_iter()
        .flatten()
        .find_map(|m| m.as_str().map(str::to_string))
    });
    let detail = detail.map(|d| {
        if d.chars().count() > 300 {
            format!("{}…", d.chars().take(300).collect::<String>())
        } else {
            d
        }
    });
    ClientError::Status {
        operation: req.op.clone(),
        status,
        detail,
        server_message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_urls_resolve_without_dropping_the_base() {
        let base = "http://h:8001/api/public/v1";
        assert_eq!(
            resolve_token_url(base, "applications/token"),
            "http://h:8001/api/public/v1/applications/token"
        );
        assert_eq!(
            resolve_token_url(base, "/api/v1/applications/token"),
            "http://h:8001/api/v1/applications/token"
        );
        assert_eq!(resolve_token_url(base, "https://auth/x"), "https://auth/x");
        assert_eq!(resolve_token_url("http://h", "/t"), "http://h/t");
    }
}

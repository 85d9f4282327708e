//! The client's one request path: `Client::execute` sends a request with authentication,
//! a per-request timeout and retries (network errors, 5xx and 429 honouring `Retry-After`, with
//! the backoff of [`super::retry`]; one token refresh on a 401), refuses redirects, reads at most
//! [`MAX_RESPONSE_BYTES`] of a body while streaming and decodes JSON strictly
//! ([`super::strict`]). Non-idempotent requests whose outcome is unknown come back as
//! [`ClientError::Ambiguous`], never re-sent here. [`Client::get_json`] exposes this path to
//! other modules (`export` lists resources with it) for plain reads.

use super::auth::AuthHeader;
use super::error::{ClientError, FieldProblem};
use super::redact::display_url;
use super::{retry, strict, Client, Credentials};
use reqwest::Method;
use secrecy::ExposeSecret;
use serde_json::Value;
use std::sync::atomic::Ordering;
use tokio::time::Instant;

/// The largest response body read (8 MiB). A larger one, announced by `Content-Length` or found
/// while streaming, is [`ClientError::TooLarge`]; nothing beyond the limit is buffered.
pub const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// A request body.
pub(super) enum Body {
    None,
    Json(Value),
    Form(Vec<(&'static str, String)>),
}

/// One logical request (sent once or more by [`Client::execute`]).
pub(super) struct Request {
    /// `METHOD /path` for errors and logs (no query, no base URL).
    pub(super) op: String,
    /// Method.
    pub(super) method: Method,
    /// Absolute URL (it may carry userinfo: log [`display_url`] of it).
    pub(super) url: String,
    /// Body.
    pub(super) body: Body,
    /// Safe to send twice.
    pub(super) idempotent: bool,
    /// Send credentials.
    pub(super) auth: bool,
}

/// The answer to a request: its raw body, and the body parsed strictly when JSON was asked for.
pub(super) struct Response {
    body: Vec<u8>,
    /// The body parsed strictly, when JSON was asked for.
    json: Option<Value>,
}

/// How one HTTP exchange failed before a status could be judged.
enum Fetch {
    Net(reqwest::Error),
    TooLarge,
}

impl Client {
    /// `GET {base}{path}?{query}` with the client's credentials, timeout, retries, body cap,
    /// redirect refusal and strict JSON decoding; returns the decoded body of the 2xx answer.
    /// `path` is relative to the base URL (`/workspaces`) and holds no query; `query` pairs are
    /// form-encoded in the order given. Errors are those of every other call (sanitize them with
    /// [`Client::describe`] before showing them).
    pub async fn get_json(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, ClientError> {
        let mut target = String::with_capacity(path.len() + 1);
        if !path.starts_with('/') {
            target.push('/');
        }
        target.push_str(path);
        if !query.is_empty() {
            let encoded = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(query)
                .finish();
            target.push('?');
            target.push_str(&encoded);
        }
        let req = self.req(Method::GET, &target, Body::None, true, true);
        let resp = self.execute(&req, true).await?;
        match resp.json {
            Some(v) => Ok(v),
            None => parse_json(&req, &resp),
        }
    }

    /// A request to `path` (with its query) under the base URL; its operation name is the method
    /// and the path without the query.
    pub(super) fn req(
        &self,
        method: Method,
        path: &str,
        body: Body,
        idempotent: bool,
        auth: bool,
    ) -> Request {
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

    /// Send `req`, with authentication, timeout and retries. Returns the body of a 2xx answer.
    /// When `json` is set, a body that is not JSON counts as a (retryable) transport failure.
    pub(super) async fn execute(&self, req: &Request, json: bool) -> Result<Response, ClientError> {
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
                        .and_then(|h| retry::parse_retry_after(h, (self.clock)()));
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

pub(super) fn parse_json(req: &Request, resp: &Response) -> Result<Value, ClientError> {
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

pub(super) fn invalid(req: &Request, field: &str, problem: FieldProblem) -> ClientError {
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

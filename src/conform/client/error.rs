//! Typed errors of the Airbyte client. Every variant names the operation (and, for invalid
//! responses, the field) so a failed conformance step says exactly what went wrong.
//! Messages never contain credentials or tokens.

use std::time::Duration;

/// What was wrong with one field of a response.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FieldProblem {
    /// A required field is absent (or null).
    #[error("is missing")]
    Missing,
    /// The field has the wrong JSON type.
    #[error("has the wrong type (expected {expected})")]
    WrongType {
        /// The expected type.
        expected: &'static str,
    },
    /// An enum field holds a value this client does not know.
    #[error("has unknown value `{value}`")]
    UnknownValue {
        /// The value received.
        value: String,
    },
    /// A string field does not have the expected format.
    #[error("`{value}` is not {expected}")]
    BadFormat {
        /// The value received.
        value: String,
        /// The expected format.
        expected: &'static str,
    },
    /// The field holds a valid value that is not the one asked for.
    #[error("is `{got}`, expected `{expected}`")]
    Mismatch {
        /// What was expected.
        expected: String,
        /// What arrived.
        got: String,
    },
}

/// Errors from the Airbyte client.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The configured URL does not parse.
    #[error("invalid URL `{url}`")]
    InvalidUrl {
        /// The URL as given.
        url: String,
    },
    /// An environment variable that carries a credential is not set or is empty.
    #[error("environment variable {var} is not set (needed for {auth} auth)")]
    MissingCredential {
        /// The variable's name.
        var: &'static str,
        /// The auth kind that needs it.
        auth: &'static str,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client")]
    Build(#[source] reqwest::Error),
    /// A transport error (connect, reset, timeout, truncated body) that was not retried.
    #[error("{operation}: network error")]
    Network {
        /// The operation.
        operation: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with an error status that is not retried.
    #[error("{operation}: HTTP {status}{}", detail_suffix(.detail))]
    Status {
        /// The operation.
        operation: String,
        /// The HTTP status.
        status: u16,
        /// The problem's detail or message from the body, if any.
        detail: Option<String>,
        /// The body had a top-level `message` (the Config API's exception text): the server's
        /// own account of the failure rather than a generic problem title.
        server_message: bool,
    },
    /// The server rejected the credentials, even after one token refresh.
    #[error("{operation}: unauthorized (HTTP 401) after refreshing the token")]
    Unauthorized {
        /// The operation.
        operation: String,
    },
    /// The token endpoint failed or answered something unusable.
    #[error("token request to {url} failed: {reason}")]
    Token {
        /// The token URL (never the credentials).
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// A response body is not JSON (or is truncated).
    #[error("{operation}: response is not valid JSON")]
    Malformed {
        /// The operation.
        operation: String,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// A response is JSON but violates the API contract.
    #[error("{operation}: field `{field}` {problem}")]
    InvalidResponse {
        /// The operation.
        operation: String,
        /// JSON path of the field (`job.status`).
        field: String,
        /// What is wrong with it (already part of the message, so not a `source`).
        problem: FieldProblem,
    },
    /// A retryable failure of a non-idempotent request whose effect is unknown (the request may
    /// have reached the server). The caller must look before re-sending.
    #[error("{operation}: outcome unknown (the response was lost)")]
    Ambiguous {
        /// The operation.
        operation: String,
        /// The failure.
        #[source]
        source: Box<ClientError>,
    },
    /// The server answered with a redirect, which is never followed.
    #[error("{operation}: HTTP {status} redirect from {from} to {to} refused (airguard never follows redirects)")]
    Redirect {
        /// The operation.
        operation: String,
        /// The HTTP status.
        status: u16,
        /// The request URL (without userinfo).
        from: String,
        /// The `Location`, resolved against the request URL (without userinfo).
        to: String,
    },
    /// A response body is larger than [`super::MAX_RESPONSE_BYTES`].
    #[error("{operation}: response body larger than {limit} bytes; stopped reading")]
    TooLarge {
        /// The operation.
        operation: String,
        /// The limit, bytes.
        limit: usize,
    },
    /// A JSON object in the response repeats a key.
    #[error("{operation}: response repeats the JSON key `{key}`")]
    DuplicateKey {
        /// The operation.
        operation: String,
        /// The repeated key.
        key: String,
    },
    /// Retries were exhausted (by attempts, elapsed time, or a Retry-After beyond the budget).
    #[error("{operation}: gave up after {attempts} attempt(s) in {}", humantime::format_duration(Duration::from_millis(.elapsed.as_millis() as u64)))]
    GaveUp {
        /// The operation.
        operation: String,
        /// Attempts made.
        attempts: u32,
        /// Time spent.
        elapsed: Duration,
        /// The last failure.
        #[source]
        last: Box<ClientError>,
    },
}

fn detail_suffix(detail: &Option<String>) -> String {
    match detail {
        Some(d) if !d.is_empty() => format!(": {d}"),
        _ => String::new(),
    }
}

impl ClientError {
    /// The HTTP status, if the server answered with an error status.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Status { status, .. } => Some(*status),
            ClientError::GaveUp { last, .. } | ClientError::Ambiguous { source: last, .. } => {
                last.status()
            }
            _ => None,
        }
    }

    /// Whether this error is transient (network, 5xx, 429, truncated body) and retries ran out.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ClientError::GaveUp { .. } | ClientError::Ambiguous { .. }
        )
    }

    /// The stable code of this failure, for the kinds of hostile or broken answers that have one.
    pub fn code(&self) -> Option<crate::diag::Code> {
        use crate::diag::Code;
        match self {
            ClientError::Redirect { .. } => Some(Code::RedirectRefused),
            ClientError::TooLarge { .. } => Some(Code::ResponseTooLarge),
            ClientError::DuplicateKey { .. } => Some(Code::DuplicateJsonKey),
            ClientError::GaveUp { last: e, .. } | ClientError::Ambiguous { source: e, .. } => {
                e.code()
            }
            _ => None,
        }
    }

    /// The full chain of messages, `a: b: c`, for reports.
    pub fn chain(&self) -> String {
        let mut s = self.to_string();
        let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(self);
        while let Some(e) = cur {
            s.push_str(": ");
            s.push_str(&e.to_string());
            cur = e.source();
        }
        s
    }
}

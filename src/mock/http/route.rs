//! Routing and fault injection: a request's method and path name one [`Operation`] of one API
//! (public or Config, under each of their prefixes); the scenario's faults for that operation
//! delay, fail, rate-limit, drop, corrupt or truncate its answer; everything else passes the auth
//! gate and the body limits (413 unread, 408 on a slow body) before its API's handler answers.

use super::auth::{authorized, invalid_api_key};
use super::config_api::config;
use super::public_api::public;
use super::{closing, Api, Inner, Reply};
use crate::mock::body;
use crate::mock::scenario::{FaultAction, Operation};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::json;
use std::sync::atomic::Ordering;
use tokio::sync::Notify;
use tokio::time::Instant;

/// 413 in each API's error shape; the connection closes (the body stays unread).
fn too_large(api: Api, max: usize) -> Reply {
    let reply = match api {
        Api::Public => Reply::json(
            413,
            &body::problem(
                413,
                "payload-too-large",
                "The request body is larger than the server accepts.",
                Some(json!({ "message": format!("the request body exceeds {max} bytes") })),
            ),
        ),
        Api::Config => Reply::json(
            413,
            &json!({
                "message": format!("Request Entity Too Large: the content length exceeds the maximum allowed content length [{max}]"),
                "exceptionClassName": "io.micronaut.http.exceptions.ContentLengthExceededException",
            }),
        ),
    };
    closing(reply)
}

fn classify<'a>(method: &Method, path: &'a str) -> Option<(Api, Operation, Option<&'a str>)> {
    let (api, rest) = if let Some(r) = path.strip_prefix("/api/public/v1") {
        (Api::Public, r)
    } else if let Some(r) = path.strip_prefix("/api/v1") {
        (Api::Config, r)
    } else if let Some(r) = path.strip_prefix("/v1") {
        (Api::Public, r)
    } else {
        return None;
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let m = method.as_str();
    let op = match api {
        Api::Public => match (m, rest) {
            ("GET", "/health") => (Operation::Health, None),
            ("POST", "/applications/token") => (Operation::Token, None),
            ("POST", "/jobs") => (Operation::CreateJob, None),
            ("GET", "/jobs") => (Operation::ListJobs, None),
            ("GET", "/connections") => (Operation::ListConnections, None),
            ("GET", "/workspaces") => (Operation::ListWorkspaces, None),
            ("GET", "/sources") => (Operation::ListSources, None),
            ("GET", "/destinations") => (Operation::ListDestinations, None),
            ("GET", "/streams") => (Operation::ListStreams, None),
            _ => {
                if let Some(id) = rest.strip_prefix("/jobs/").filter(|s| !s.contains('/')) {
                    match m {
                        "GET" => (Operation::GetJob, Some(id)),
                        "DELETE" => (Operation::CancelJob, Some(id)),
                        _ => return None,
                    }
                } else if m == "GET" {
                    let (kind, id) = rest.get(1..)?.split_once('/')?;
                    if id.is_empty() || id.contains('/') {
                        return None;
                    }
                    let op = match kind {
                        "connections" => Operation::GetConnection,
                        "workspaces" => Operation::GetWorkspace,
                        "sources" => Operation::GetSource,
                        "destinations" => Operation::GetDestination,
                        _ => return None,
                    };
                    (op, Some(id))
                } else {
                    return None;
                }
            }
        },
        Api::Config => match (m, rest) {
            ("GET", "/health") => (Operation::ConfigHealth, None),
            ("POST", "/applications/token") => (Operation::ConfigToken, None),
            ("POST", "/connections/get") => (Operation::ConnectionsGet, None),
            ("POST", "/connections/sync") => (Operation::ConnectionsSync, None),
            ("POST", "/connections/reset") => (Operation::ConnectionsReset, None),
            ("POST", "/connections/clear") => (Operation::ConnectionsClear, None),
            ("POST", "/jobs/get") => (Operation::JobsGet, None),
            ("POST", "/jobs/get_without_logs") => (Operation::JobsGetWithoutLogs, None),
            ("POST", "/jobs/cancel") => (Operation::JobsCancel, None),
            ("POST", "/jobs/list") => (Operation::JobsList, None),
            _ => return None,
        },
    };
    Some((api, op.0, op.1))
}

pub(super) async fn handle(
    inner: &Inner,
    kill: &Notify,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    inner.record(&method, &path, req.uri().query());
    let Some((api, op, param)) = classify(&method, &path) else {
        return Reply::json(404, &json!({ "message": "Not Found" })).into_response();
    };

    let mut after: Option<&FaultAction> = None;
    for (fault, seen) in &inner.faults {
        if fault.operation.is_some_and(|o| o != op) {
            continue;
        }
        let n = seen.fetch_add(1, Ordering::Relaxed);
        let skip = u64::from(fault.skip);
        if n < skip || fault.times.is_some_and(|t| n >= skip + u64::from(t)) {
            continue;
        }
        match &fault.action {
            FaultAction::Latency(d) => tokio::time::sleep(*d).await,
            FaultAction::Error(code) => return fault_error(api, *code).into_response(),
            FaultAction::RateLimit { retry_after } => {
                let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                let mut r = match api {
                    Api::Public => Reply::json(
                        429,
                        &body::problem(
                            429,
                            "rate-limited",
                            "Too many requests; retry later.",
                            None,
                        ),
                    ),
                    Api::Config => Reply::json(429, &json!({ "message": "Too Many Requests" })),
                };
                r.retry_after = Some(secs);
                return r.into_response();
            }
            a @ (FaultAction::Drop
            | FaultAction::Malformed
            | FaultAction::Truncated
            | FaultAction::EndlessPage) => {
                after.get_or_insert(a);
            }
        }
    }

    let here = format!(
        "http://{}{}",
        req.headers()
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .map_or_else(|| inner.addr.to_string(), str::to_owned),
        req.uri()
    );
    let reply = dispatch(inner, api, op, param, req).await;
    match after {
        None => reply.into_response(),
        Some(FaultAction::Drop) => {
            kill.notify_one();
            std::future::pending().await
        }
        Some(FaultAction::Malformed) => Reply {
            status: StatusCode::OK,
            content_type: Some("application/json"),
            body: Bytes::from_static(b"{\"jobId\": <html>502 Bad Gateway</html>,"),
            retry_after: None,
            close: false,
        }
        .into_response(),
        Some(FaultAction::EndlessPage) => endless(reply, &here).into_response(),
        Some(_) => {
            let half = reply.body.len() / 2;
            Reply {
                body: reply.body.slice(..half),
                ..reply
            }
            .into_response()
        }
    }
}

/// A list answer with a `next` link to the page itself (`here`, the request's own URL).
fn endless(reply: Reply, here: &str) -> Reply {
    match serde_json::from_slice::<serde_json::Value>(&reply.body) {
        Ok(serde_json::Value::Object(mut o)) if o.contains_key("data") => {
            o.insert("next".into(), json!(here));
            Reply::json(reply.status.as_u16(), &serde_json::Value::Object(o))
        }
        _ => reply,
    }
}

fn fault_error(api: Api, code: u16) -> Reply {
    match api {
        Api::Public if code == 503 => Reply::json(
            503,
            &body::problem(
                503,
                "service-unavailable",
                "The server is currently unable to handle the request.",
                None,
            ),
        ),
        Api::Public => Reply::json(
            code,
            &body::problem(
                code,
                "unexpected-problem",
                "An unexpected problem has occurred.",
                Some(json!({ "message": "injected fault" })),
            ),
        ),
        Api::Config => Reply::json(
            code,
            &json!({ "message": "Internal Server Error: injected fault", "exceptionClassName": "java.lang.RuntimeException" }),
        ),
    }
}

async fn dispatch(
    inner: &Inner,
    api: Api,
    op: Operation,
    param: Option<&str>,
    req: Request<Incoming>,
) -> Reply {
    match op {
        Operation::Health => return Reply::text(200, "Successful operation"),
        Operation::ConfigHealth => return Reply::ok(&json!({ "available": true })),
        _ => {}
    }
    let host = req
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| inner.addr.to_string());
    let query = req.uri().query().map(str::to_owned);
    let prefix = {
        let p = req.uri().path();
        if p.starts_with("/api/public/v1") {
            "/api/public/v1"
        } else if p.starts_with("/api/v1") {
            "/api/v1"
        } else {
            "/v1"
        }
    };
    let form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|c| c.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if !matches!(op, Operation::Token | Operation::ConfigToken) && !authorized(inner, req.headers())
    {
        return match api {
            Api::Public => invalid_api_key(),
            Api::Config => Reply::empty(401),
        };
    }
    let limits = &inner.limits;
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_body_bytes as u64) {
        return too_large(api, limits.max_body_bytes);
    }
    let body = Limited::new(req.into_body(), limits.max_body_bytes).collect();
    let bytes = match tokio::time::timeout(limits.body_read_timeout, body).await {
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(e)) if e.is::<LengthLimitError>() => return too_large(api, limits.max_body_bytes),
        // The client went away mid-body: nobody reads the answer.
        Ok(Err(_)) => Bytes::new(),
        Err(_) => return closing(Reply::empty(408)),
    };
    let now = Instant::now();
    match api {
        Api::Public => public(
            inner,
            op,
            param,
            &bytes,
            form,
            query.as_deref(),
            &host,
            prefix,
            now,
        ),
        Api::Config => config(inner, op, &bytes, now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_knows_both_flavours_and_prefixes() {
        let get = Method::GET;
        assert_eq!(
            classify(&get, "/api/public/v1/jobs/7"),
            Some((Api::Public, Operation::GetJob, Some("7")))
        );
        assert_eq!(
            classify(&get, "/v1/jobs/7"),
            Some((Api::Public, Operation::GetJob, Some("7")))
        );
        assert_eq!(
            classify(&get, "/api/v1/health"),
            Some((Api::Config, Operation::ConfigHealth, None))
        );
        assert_eq!(
            classify(&Method::POST, "/api/v1/jobs/get_without_logs").map(|c| c.1),
            Some(Operation::JobsGetWithoutLogs)
        );
        assert_eq!(classify(&Method::POST, "/api/v1/jobs/7"), None);
        assert_eq!(classify(&get, "/health"), None);
    }
}

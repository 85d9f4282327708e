//! The public API (`/api/public/v1`, and `/v1` as Airbyte Cloud spells it): token, jobs
//! (create, get, cancel, list with its filters and ordering) and connections, with paging links
//! built from the request's host and prefix and errors as problem bodies.

use super::auth::{invalid_api_key, issue_token, token_fields};
use super::{Inner, Reply};
use crate::mock::body;
use crate::mock::scenario::Operation;
use crate::mock::state::{JobKind, Refusal, World};
use serde_json::{json, Value};
use tokio::time::Instant;

fn unprocessable(message: &str) -> Reply {
    Reply::json(
        422,
        &body::problem(
            422,
            "unprocessable-entity",
            "The body of the request was not understood",
            Some(json!({ "message": message })),
        ),
    )
}

pub(super) fn bad_request(message: &str) -> Reply {
    Reply::json(
        400,
        &body::problem(
            400,
            "bad-request",
            "The request could not be understood by the server due to malformed syntax.",
            Some(json!({ "message": message })),
        ),
    )
}

pub(super) fn not_found(kind: &str, id: &str) -> Reply {
    Reply::json(
        404,
        &body::problem(
            404,
            "resource-not-found",
            "The requested resource could not be found.",
            Some(json!({ "resourceType": kind, "resourceId": id })),
        ),
    )
}

fn state_conflict(message: &str) -> Reply {
    Reply::json(
        409,
        &body::problem(
            409,
            "state-conflict",
            "State conflict",
            Some(json!({ "message": message })),
        ),
    )
}

fn refusal_public(r: Refusal, connection: &str) -> Reply {
    match r {
        Refusal::UnknownConnection => not_found("connection", connection),
        Refusal::SyncRunning(_) => Reply::json(
            409,
            &body::problem(
                409,
                "try-again-later",
                "Please try again later.",
                Some(json!({ "message": format!("A sync is already running for: {connection}") })),
            ),
        ),
        Refusal::Inactive => state_conflict("Could not fulfill request"),
        Refusal::UnknownJob | Refusal::NotRunning => state_conflict("Job is not currently running"),
    }
}

#[allow(
    clippy::too_many_arguments,
    reason = "one request's parts, as the router split them; a struct would only rename them"
)]
pub(super) fn public(
    inner: &Inner,
    op: Operation,
    param: Option<&str>,
    bytes: &[u8],
    form: bool,
    query: Option<&str>,
    host: &str,
    prefix: &str,
    now: Instant,
) -> Reply {
    match op {
        Operation::Token => {
            let Some(fields) = token_fields(bytes, form) else {
                return unprocessable("expected client_id and client_secret");
            };
            if !fields.contains_key("client_id") || !fields.contains_key("client_secret") {
                return unprocessable("client_id and client_secret are required");
            }
            match issue_token(inner, &fields) {
                Some(token) => Reply::ok(&json!({
                    "access_token": token,
                    "token_type": "Bearer",
                    "expires_in": inner.token_ttl.as_secs(),
                })),
                None => invalid_api_key(),
            }
        }
        Operation::CreateJob => {
            let Ok(v) = serde_json::from_slice::<Value>(bytes) else {
                return unprocessable("The request body is not valid JSON");
            };
            let Some(connection) = v.get("connectionId").and_then(Value::as_str) else {
                return unprocessable("connectionId is required");
            };
            let kind = match v.get("jobType").and_then(Value::as_str) {
                Some("sync") => JobKind::Sync,
                Some("reset" | "clear") => JobKind::Reset,
                Some("refresh") => {
                    return unprocessable("Refreshes are not supported in the public API")
                }
                _ => return unprocessable("jobType must be one of sync, reset, refresh, clear"),
            };
            let mut w = inner.world();
            let r = if kind == JobKind::Sync {
                w.sync(connection, now)
            } else {
                w.reset(connection, now)
            };
            match r {
                Ok(id) => job_reply(&w, id, now),
                Err(e) => refusal_public(e, connection),
            }
        }
        Operation::GetJob | Operation::CancelJob => {
            let Some(id) = param.and_then(|p| p.parse::<i64>().ok()) else {
                return bad_request("jobId must be an integer");
            };
            let mut w = inner.world();
            if op == Operation::CancelJob {
                if let Err(e) = w.cancel(id, now) {
                    return refusal_public(e, "");
                }
            }
            if w.job(id).is_none() {
                return refusal_public(Refusal::UnknownJob, "");
            }
            job_reply(&w, id, now)
        }
        Operation::ListJobs => list_jobs(inner, query, host, prefix, now),
        Operation::GetConnection => {
            let id = param.unwrap_or("");
            let w = inner.world();
            match w.connection(id) {
                Some(c) => Reply::ok(&body::public_connection(c, w.connections_created_at)),
                None => not_found("connection", id),
            }
        }
        Operation::ListConnections
        | Operation::ListWorkspaces
        | Operation::ListSources
        | Operation::ListDestinations => {
            super::catalog_api::list(inner, op, &Query::parse(query), host, prefix)
        }
        Operation::GetWorkspace | Operation::GetSource | Operation::GetDestination => {
            super::catalog_api::get(inner, op, param.unwrap_or(""))
        }
        Operation::ListStreams => super::catalog_api::streams(inner, &Query::parse(query)),
        _ => Reply::json(404, &json!({ "message": "Not Found" })),
    }
}

fn job_reply(w: &World, id: i64, now: Instant) -> Reply {
    let job = w.job(id).expect("job exists");
    Reply::ok(&body::public_job(&w.clock, job, &job.view(now)))
}

/// Parsed query parameters (repeated keys kept).
pub(super) struct Query(pub(super) Vec<(String, String)>);

impl Query {
    pub(super) fn parse(q: Option<&str>) -> Self {
        Query(
            q.and_then(|q| serde_urlencoded::from_str(q).ok())
                .unwrap_or_default(),
        )
    }
    pub(super) fn get(&self, k: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    }
    pub(super) fn page(&self) -> Result<(usize, usize), Reply> {
        let limit = match self.get("limit") {
            None => 20,
            Some(s) => match s.parse::<usize>() {
                Ok(n) if (1..=100).contains(&n) => n,
                _ => return Err(bad_request("limit must be between 1 and 100")),
            },
        };
        let offset = match self.get("offset") {
            None => 0,
            Some(s) => s
                .parse::<usize>()
                .map_err(|_| bad_request("offset must be a non-negative integer"))?,
        };
        Ok((limit, offset))
    }
}

fn page_url(
    host: &str,
    prefix: &str,
    resource: &str,
    q: &Query,
    limit: usize,
    offset: usize,
) -> String {
    let mut params: Vec<(String, String)> =
        q.0.iter()
            .filter(|(k, _)| k != "limit" && k != "offset")
            .cloned()
            .collect();
    params.push(("limit".into(), limit.to_string()));
    params.push(("offset".into(), offset.to_string()));
    let qs = serde_urlencoded::to_string(&params).unwrap_or_default();
    format!("http://{host}{prefix}{resource}?{qs}")
}

pub(super) fn page(
    all: Vec<Value>,
    limit: usize,
    offset: usize,
    host: &str,
    prefix: &str,
    resource: &str,
    q: &Query,
) -> Value {
    let total = all.len();
    let data: Vec<Value> = all.into_iter().skip(offset).take(limit).collect();
    page_of(total, data, limit, offset, host, prefix, resource, q)
}

/// A list body holding `data`, the page at `offset` of `total` items, with its paging links.
#[allow(
    clippy::too_many_arguments,
    reason = "the page and where its links point; a struct would only rename them"
)]
pub(super) fn page_of(
    total: usize,
    data: Vec<Value>,
    limit: usize,
    offset: usize,
    host: &str,
    prefix: &str,
    resource: &str,
    q: &Query,
) -> Value {
    let mut o = serde_json::Map::new();
    if offset.saturating_add(limit) < total {
        o.insert(
            "next".into(),
            json!(page_url(host, prefix, resource, q, limit, offset + limit)),
        );
    }
    if offset > 0 {
        o.insert(
            "previous".into(),
            json!(page_url(
                host,
                prefix,
                resource,
                q,
                limit,
                offset.saturating_sub(limit)
            )),
        );
    }
    o.insert("data".into(), Value::Array(data));
    Value::Object(o)
}

fn list_jobs(inner: &Inner, query: Option<&str>, host: &str, prefix: &str, now: Instant) -> Reply {
    let q = Query::parse(query);
    let (limit, offset) = match q.page() {
        Ok(p) => p,
        Err(r) => return r,
    };
    let kind = match q.get("jobType") {
        None => None,
        Some("sync") => Some(Some(JobKind::Sync)),
        Some("reset") => Some(Some(JobKind::Reset)),
        // Clear and refresh jobs never exist here: clear creates reset jobs.
        Some("clear" | "refresh") => Some(None),
        Some(other) => return bad_request(&format!("unknown jobType `{other}`")),
    };
    let status = q.get("status");
    let (by_updated, desc) = match q.get("orderBy") {
        None => (false, false),
        Some(s) => match s.split_once('|') {
            Some((f @ ("createdAt" | "updatedAt"), m @ ("ASC" | "DESC"))) => {
                (f == "updatedAt", m == "DESC")
            }
            _ => return bad_request(&format!("Invalid order by clause provided: {s}")),
        },
    };
    let connection = q.get("connectionId").map(str::to_ascii_lowercase);
    let mut bounds = [None; 4];
    for (slot, key) in bounds.iter_mut().zip([
        "createdAtStart",
        "createdAtEnd",
        "updatedAtStart",
        "updatedAtEnd",
    ]) {
        if let Some(v) = q.get(key) {
            match body::parse_iso_datetime(v) {
                Some(t) => *slot = Some(t),
                None => return bad_request(&format!("{key} is not an ISO-8601 date-time: {v}")),
            }
        }
    }
    let within = |t: i64, start: Option<i64>, end: Option<i64>| {
        start.is_none_or(|s| t >= s) && end.is_none_or(|e| t <= e)
    };
    // Every mock connection lives in one workspace: naming only others matches nothing.
    let workspaces: Vec<&str> =
        q.0.iter()
            .filter(|(k, _)| k == "workspaceIds")
            .map(|(_, v)| v.as_str())
            .collect();
    let in_workspace = workspaces.is_empty()
        || workspaces
            .iter()
            .any(|w| w.eq_ignore_ascii_case(body::WORKSPACE_ID));
    let w = inner.world();
    let mut rows: Vec<(Instant, i64, Value)> = w
        .jobs
        .iter()
        .filter(|_| in_workspace)
        .filter(|j| connection.as_deref().is_none_or(|c| &*j.connection == c))
        .filter(|j| kind.is_none_or(|k| k == Some(j.kind)))
        .filter_map(|j| {
            let v = j.view(now);
            if status.is_some_and(|s| s != <&str>::from(v.status)) {
                return None;
            }
            if !within(w.clock.epoch(v.created), bounds[0], bounds[1])
                || !within(w.clock.epoch(v.updated), bounds[2], bounds[3])
            {
                return None;
            }
            let key = if by_updated { v.updated } else { v.created };
            Some((key, j.id, body::public_job(&w.clock, j, &v)))
        })
        .collect();
    rows.sort_by_key(|(t, id, _)| (*t, *id));
    if desc {
        rows.reverse();
    }
    let all = rows.into_iter().map(|(_, _, v)| v).collect();
    Reply::ok(&page(all, limit, offset, host, prefix, "/jobs", &q))
}

//! The Config API (`/api/v1`), as the Airflow provider and older clients call it: token,
//! connections (get, sync, reset, clear) and jobs (get, cancel, list), with its Micronaut-shaped
//! errors (`message`, `exceptionClassName`, validation errors) and epoch-second times.

use super::auth::{issue_token, token_fields};
use super::{Inner, Reply};
use crate::mock::body::{self, Stats};
use crate::mock::scenario::Operation;
use crate::mock::state::{JobKind, Refusal};
use serde_json::{json, Value};
use tokio::time::Instant;

fn invalid_input(path: &str, message: &str) -> Reply {
    Reply::json(
        422,
        &json!({
            "message": "Some properties contained invalid input.",
            "exceptionClassName": "io.airbyte.commons.server.errors.BadObjectSchemaKnownException",
            "validationErrors": [{ "propertyPath": path, "message": message }],
        }),
    )
}

fn internal(message: &str, class: &str) -> Reply {
    Reply::json(
        500,
        &json!({ "message": format!("Internal Server Error: {message}"), "exceptionClassName": class }),
    )
}

fn refusal_config(r: Refusal, connection: &str, job: i64) -> Reply {
    match r {
        Refusal::UnknownConnection => Reply::json(
            404,
            &json!({
                "id": connection,
                "message": format!("Could not find configuration for STANDARD_SYNC: {connection}."),
                "exceptionClassName": "io.airbyte.commons.server.errors.IdNotFoundKnownException",
            }),
        ),
        Refusal::SyncRunning(_) => Reply::json(
            409,
            &json!({
                "message": format!("A sync is already running for: {connection}"),
                "exceptionClassName": "io.airbyte.commons.server.errors.ValueConflictKnownException",
            }),
        ),
        Refusal::Inactive => internal(
            "Can only sync an active connection",
            "java.lang.IllegalStateException",
        ),
        Refusal::UnknownJob => internal(
            &format!("Could not find job with id: {job}"),
            "java.lang.RuntimeException",
        ),
        Refusal::NotRunning => internal(
            &format!("Failed to cancel job {job}"),
            "java.lang.IllegalStateException",
        ),
    }
}

pub(super) fn config(inner: &Inner, op: Operation, bytes: &[u8], now: Instant) -> Reply {
    let Ok(v) = serde_json::from_slice::<Value>(if bytes.is_empty() { b"{}" } else { bytes })
    else {
        return invalid_input("", "the request body is not valid JSON");
    };
    let connection_id = || v.get("connectionId").and_then(Value::as_str);
    let job_id = || v.get("id").and_then(Value::as_i64);
    match op {
        Operation::ConfigToken => {
            let fields = token_fields(bytes, false).unwrap_or_default();
            if !fields.contains_key("client_id") || !fields.contains_key("client_secret") {
                return invalid_input("client_id", "client_id and client_secret are required");
            }
            match issue_token(inner, &fields) {
                Some(token) => Reply::ok(&json!({ "access_token": token })),
                None => Reply::empty(401),
            }
        }
        Operation::ConnectionsGet => {
            let Some(id) = connection_id() else {
                return invalid_input("connectionId", "must not be null");
            };
            let w = inner.world();
            match w.connection(id) {
                Some(c) => Reply::ok(&body::config_connection(c, w.connections_created_at)),
                None => refusal_config(Refusal::UnknownConnection, id, 0),
            }
        }
        Operation::ConnectionsSync | Operation::ConnectionsReset | Operation::ConnectionsClear => {
            let Some(id) = connection_id() else {
                return invalid_input("connectionId", "must not be null");
            };
            let mut w = inner.world();
            let r = if op == Operation::ConnectionsSync {
                w.sync(id, now)
            } else {
                w.reset(id, now)
            };
            match r {
                Ok(job) => {
                    let j = w.job(job).expect("job exists");
                    Reply::ok(&body::config_job_info(
                        &w.clock,
                        j,
                        &j.view(now),
                        Stats::Ended,
                    ))
                }
                Err(e) => refusal_config(e, id, 0),
            }
        }
        Operation::JobsGet | Operation::JobsGetWithoutLogs | Operation::JobsCancel => {
            let Some(id) = job_id() else {
                return invalid_input("id", "must not be null");
            };
            let mut w = inner.world();
            if op == Operation::JobsCancel {
                if let Err(e) = w.cancel(id, now) {
                    return refusal_config(e, "", id);
                }
            }
            let Some(j) = w.job(id) else {
                return refusal_config(Refusal::UnknownJob, "", id);
            };
            let stats = if op == Operation::JobsGet {
                Stats::Ended
            } else {
                Stats::Live
            };
            Reply::ok(&body::config_job_info(&w.clock, j, &j.view(now), stats))
        }
        Operation::JobsList => {
            let Some(types) = v.get("configTypes").and_then(Value::as_array) else {
                return invalid_input("configTypes", "must not be null");
            };
            let mut kinds = Vec::new();
            for t in types {
                match t.as_str() {
                    Some("sync") => kinds.push(JobKind::Sync),
                    Some("reset_connection" | "clear") => kinds.push(JobKind::Reset),
                    Some(
                        "check_connection_source"
                        | "check_connection_destination"
                        | "discover_schema"
                        | "get_spec"
                        | "refresh",
                    ) => {}
                    _ => return invalid_input("configTypes", "unknown job config type"),
                }
            }
            let config_id = v
                .get("configId")
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase);
            let statuses: Option<Vec<&str>> = v
                .get("statuses")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect());
            let page_size = v
                .pointer("/pagination/pageSize")
                .and_then(Value::as_u64)
                .unwrap_or(200) as usize;
            let offset = v
                .pointer("/pagination/rowOffset")
                .and_then(Value::as_u64)
                .unwrap_or(0) as usize;
            let asc = v.get("orderByMethod").and_then(Value::as_str) == Some("ASC");
            let by_updated = v.get("orderByField").and_then(Value::as_str) == Some("updatedAt");
            let w = inner.world();
            let mut rows: Vec<(Instant, i64, Value)> = w
                .jobs
                .iter()
                .filter(|j| kinds.contains(&j.kind))
                .filter(|j| config_id.as_deref().is_none_or(|c| &*j.connection == c))
                .filter_map(|j| {
                    let view = j.view(now);
                    let s: &str = view.status.into();
                    if statuses.as_ref().is_some_and(|st| !st.contains(&s)) {
                        return None;
                    }
                    let key = if by_updated {
                        view.updated
                    } else {
                        view.created
                    };
                    Some((
                        key,
                        j.id,
                        body::config_job_with_attempts(&w.clock, j, &view),
                    ))
                })
                .collect();
            rows.sort_by_key(|(t, id, _)| (*t, *id));
            if !asc {
                rows.reverse();
            }
            let total = rows.len();
            let jobs: Vec<Value> = rows
                .into_iter()
                .skip(offset)
                .take(page_size)
                .map(|(_, _, v)| v)
                .collect();
            Reply::ok(&json!({ "jobs": jobs, "totalJobCount": total }))
        }
        _ => Reply::json(404, &json!({ "message": "Not Found" })),
    }
}

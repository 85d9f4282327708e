//! Validated API objects (jobs, connections) and the parsers that build them from raw JSON of
//! either API flavour. Parsing never defaults silently: a missing required field, a wrong type or
//! an unknown enum value is a [`FieldProblem`] naming the field.

use super::error::FieldProblem;
use super::iso::{parse_iso_duration, parse_iso_time};
use serde::Serialize;
use serde_json::Value;

/// What a job does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, strum::Display, strum::IntoStaticStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum JobKind {
    /// A sync.
    Sync,
    /// A reset (Config API `reset_connection`).
    Reset,
    /// A clear (public API; on the server the same job as reset).
    Clear,
    /// A refresh.
    Refresh,
    /// A Config API job that is not about a connection (check, discover, spec).
    Other,
}

impl JobKind {
    /// Whether a job of this kind answers a request for `asked`: a reset or clear request may
    /// produce either (Airbyte creates `reset_connection` jobs for both), a sync only a sync.
    pub fn answers(self, asked: JobKind) -> bool {
        match asked {
            JobKind::Reset | JobKind::Clear => matches!(self, JobKind::Reset | JobKind::Clear),
            other => self == other,
        }
    }
}

/// A job's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, strum::Display, strum::IntoStaticStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum JobStatus {
    /// Created, not started.
    Pending,
    /// Waiting for a worker (Airbyte ≥ 2.0 only).
    Queued,
    /// Running.
    Running,
    /// An attempt failed; another will run.
    Incomplete,
    /// Ended in failure.
    Failed,
    /// Ended successfully.
    Succeeded,
    /// Cancelled.
    Cancelled,
}

impl JobStatus {
    /// Whether the job has ended.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobStatus::Failed | JobStatus::Succeeded | JobStatus::Cancelled
        )
    }
}

/// A job, from either flavour.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Job {
    /// Job id.
    pub id: i64,
    /// Job type.
    pub kind: JobKind,
    /// Status.
    pub status: JobStatus,
    /// Connection the job belongs to.
    pub connection_id: String,
    /// Creation/start time, epoch seconds.
    pub start: i64,
    /// Last update, epoch seconds (public API: only once terminal).
    pub end: Option<i64>,
    /// Records committed, if reported.
    pub records: Option<u64>,
    /// Bytes committed, if reported.
    pub bytes: Option<u64>,
    /// Attempts (Config API only).
    pub attempts: Option<u32>,
    /// Duration as reported (public API) or computed (`end - start`).
    pub duration_secs: Option<u64>,
}

/// A connection's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, strum::Display)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum ConnectionStatus {
    /// Active: can sync.
    Active,
    /// Inactive (disabled).
    Inactive,
    /// Deprecated.
    Deprecated,
    /// Locked.
    Locked,
}

/// A connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Connection {
    /// Connection id.
    pub id: String,
    /// Name in Airbyte.
    pub name: String,
    /// Status.
    pub status: ConnectionStatus,
}

/// A field-level failure: JSON path plus problem.
pub type FieldError = (String, FieldProblem);

struct Obj<'a> {
    v: &'a Value,
    path: String,
}

impl<'a> Obj<'a> {
    fn root(v: &'a Value) -> Result<Self, FieldError> {
        if !v.is_object() {
            return Err(("$".into(), FieldProblem::WrongType { expected: "object" }));
        }
        Ok(Self {
            v,
            path: String::new(),
        })
    }

    fn name(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn opt(&self, key: &str) -> Option<&'a Value> {
        self.v.get(key).filter(|v| !v.is_null())
    }

    fn req(&self, key: &str) -> Result<&'a Value, FieldError> {
        self.opt(key)
            .ok_or_else(|| (self.name(key), FieldProblem::Missing))
    }

    fn obj(&self, key: &str) -> Result<Obj<'a>, FieldError> {
        let v = self.req(key)?;
        if !v.is_object() {
            return Err((
                self.name(key),
                FieldProblem::WrongType { expected: "object" },
            ));
        }
        Ok(Obj {
            v,
            path: self.name(key),
        })
    }

    fn opt_obj(&self, key: &str) -> Result<Option<Obj<'a>>, FieldError> {
        match self.opt(key) {
            None => Ok(None),
            Some(_) => self.obj(key).map(Some),
        }
    }

    fn str(&self, key: &str) -> Result<&'a str, FieldError> {
        self.req(key)?.as_str().ok_or_else(|| {
            (
                self.name(key),
                FieldProblem::WrongType { expected: "string" },
            )
        })
    }

    fn opt_str(&self, key: &str) -> Result<Option<&'a str>, FieldError> {
        match self.opt(key) {
            None => Ok(None),
            Some(_) => self.str(key).map(Some),
        }
    }

    fn int(&self, key: &str) -> Result<i64, FieldError> {
        self.req(key)?.as_i64().ok_or_else(|| {
            (
                self.name(key),
                FieldProblem::WrongType {
                    expected: "integer",
                },
            )
        })
    }

    fn opt_uint(&self, key: &str) -> Result<Option<u64>, FieldError> {
        match self.opt(key) {
            None => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| {
                (
                    self.name(key),
                    FieldProblem::WrongType {
                        expected: "non-negative integer",
                    },
                )
            }),
        }
    }

    fn arr(&self, key: &str) -> Result<&'a Vec<Value>, FieldError> {
        self.req(key)?.as_array().ok_or_else(|| {
            (
                self.name(key),
                FieldProblem::WrongType { expected: "array" },
            )
        })
    }

    fn enumerated<T: Copy>(&self, key: &str, table: &[(&str, T)]) -> Result<T, FieldError> {
        let s = self.str(key)?;
        table
            .iter()
            // Exact: the API sends lowercase; `SUCCEEDED` is not a state it knows.
            .find(|(name, _)| *name == s)
            .map(|(_, t)| *t)
            .ok_or_else(|| {
                (
                    self.name(key),
                    FieldProblem::UnknownValue {
                        value: s.to_string(),
                    },
                )
            })
    }
}

const STATUSES: &[(&str, JobStatus)] = &[
    ("pending", JobStatus::Pending),
    ("queued", JobStatus::Queued),
    ("running", JobStatus::Running),
    ("incomplete", JobStatus::Incomplete),
    ("failed", JobStatus::Failed),
    ("succeeded", JobStatus::Succeeded),
    ("cancelled", JobStatus::Cancelled),
];

const PUBLIC_TYPES: &[(&str, JobKind)] = &[
    ("sync", JobKind::Sync),
    ("reset", JobKind::Reset),
    ("clear", JobKind::Clear),
    ("refresh", JobKind::Refresh),
];

const CONFIG_TYPES: &[(&str, JobKind)] = &[
    ("sync", JobKind::Sync),
    ("reset_connection", JobKind::Reset),
    ("clear", JobKind::Clear),
    ("refresh", JobKind::Refresh),
    ("check_connection_source", JobKind::Other),
    ("check_connection_destination", JobKind::Other),
    ("discover_schema", JobKind::Other),
    ("get_spec", JobKind::Other),
];

const CONNECTION_STATUSES: &[(&str, ConnectionStatus)] = &[
    ("active", ConnectionStatus::Active),
    ("inactive", ConnectionStatus::Inactive),
    ("deprecated", ConnectionStatus::Deprecated),
    ("locked", ConnectionStatus::Locked),
];

/// Check a Config API `HealthCheckRead`: `{"available": true}`.
pub fn config_health(v: &Value) -> Result<(), FieldError> {
    let o = Obj::root(v)?;
    match o.req("available")? {
        Value::Bool(true) => Ok(()),
        Value::Bool(false) => Err((
            o.name("available"),
            FieldProblem::Mismatch {
                expected: "true".into(),
                got: "false".into(),
            },
        )),
        _ => Err((
            o.name("available"),
            FieldProblem::WrongType {
                expected: "boolean",
            },
        )),
    }
}

/// Parse a public-API `JobResponse`.
pub fn public_job(v: &Value) -> Result<Job, FieldError> {
    let o = Obj::root(v)?;
    let id = o.int("jobId")?;
    let status = o.enumerated("status", STATUSES)?;
    let kind = o.enumerated("jobType", PUBLIC_TYPES)?;
    let connection_id = o.str("connectionId")?.to_string();
    let start =
        time_field(&o, "startTime")?.ok_or_else(|| (o.name("startTime"), FieldProblem::Missing))?;
    let end = time_field(&o, "lastUpdatedAt")?;
    let duration_secs = match o.opt_str("duration")? {
        None => end.map(|e| e.saturating_sub(start).max(0) as u64),
        Some(d) => Some(parse_iso_duration(d).ok_or_else(|| {
            (
                o.name("duration"),
                FieldProblem::BadFormat {
                    value: d.into(),
                    expected: "an ISO-8601 duration",
                },
            )
        })?),
    };
    Ok(Job {
        id,
        kind,
        status,
        connection_id,
        start,
        end,
        records: o.opt_uint("rowsSynced")?,
        bytes: o.opt_uint("bytesSynced")?,
        attempts: None,
        duration_secs,
    })
}

fn time_field(o: &Obj<'_>, key: &str) -> Result<Option<i64>, FieldError> {
    match o.opt_str(key)? {
        None => Ok(None),
        Some(s) => parse_iso_time(s).map(Some).ok_or_else(|| {
            (
                o.name(key),
                FieldProblem::BadFormat {
                    value: s.into(),
                    expected: "an ISO-8601 UTC time",
                },
            )
        }),
    }
}

/// Parse a public-API `JobsResponse` (`{data: [JobResponse]}`).
pub fn public_jobs(v: &Value) -> Result<Vec<Job>, FieldError> {
    let o = Obj::root(v)?;
    o.arr("data")?
        .iter()
        .enumerate()
        .map(|(i, j)| public_job(j).map_err(|(f, p)| (format!("data[{i}].{f}"), p)))
        .collect()
}

/// Parse a public-API `ConnectionResponse`.
pub fn public_connection(v: &Value) -> Result<Connection, FieldError> {
    let o = Obj::root(v)?;
    let id = o.str("connectionId")?.to_string();
    let name = o.str("name")?.to_string();
    let status = o.enumerated("status", CONNECTION_STATUSES)?;
    o.str("sourceId")?;
    o.str("destinationId")?;
    Ok(Connection { id, name, status })
}

/// Parse a Config API `ConnectionRead`.
pub fn config_connection(v: &Value) -> Result<Connection, FieldError> {
    let o = Obj::root(v)?;
    let id = o.str("connectionId")?.to_string();
    let name = o.str("name")?.to_string();
    let status = o.enumerated("status", CONNECTION_STATUSES)?;
    o.str("sourceId")?;
    o.str("destinationId")?;
    Ok(Connection { id, name, status })
}

/// Parse a Config API `JobInfoRead` (`{job, attempts}`).
pub fn config_job_info(v: &Value) -> Result<Job, FieldError> {
    let o = Obj::root(v)?;
    let attempts = o.arr("attempts")?;
    let attempt_objs: Vec<(String, &Value)> = attempts
        .iter()
        .enumerate()
        .map(|(i, a)| match a.get("attempt") {
            Some(inner) => (format!("attempts[{i}].attempt"), inner),
            None => (format!("attempts[{i}]"), a),
        })
        .collect();
    config_job(&o.obj("job")?, &attempt_objs)
}

/// Parse a Config API `JobReadList` (`{jobs: [{job, attempts: [AttemptRead]}]}`).
pub fn config_job_list(v: &Value) -> Result<Vec<Job>, FieldError> {
    let o = Obj::root(v)?;
    let mut out = Vec::new();
    for (i, item) in o.arr("jobs")?.iter().enumerate() {
        let item = Obj {
            v: item,
            path: format!("jobs[{i}]"),
        };
        if !item.v.is_object() {
            return Err((item.path, FieldProblem::WrongType { expected: "object" }));
        }
        let attempts: Vec<(String, &Value)> = match item.opt("attempts") {
            None => Vec::new(),
            Some(_) => item
                .arr("attempts")?
                .iter()
                .enumerate()
                .map(|(k, a)| (format!("jobs[{i}].attempts[{k}]"), a))
                .collect(),
        };
        out.push(config_job(&item.obj("job")?, &attempts)?);
    }
    Ok(out)
}

fn config_job(job: &Obj<'_>, attempts: &[(String, &Value)]) -> Result<Job, FieldError> {
    let id = job.int("id")?;
    let kind = job.enumerated("configType", CONFIG_TYPES)?;
    let status = job.enumerated("status", STATUSES)?;
    let connection_id = job.str("configId")?.to_string();
    let created = job.int("createdAt")?;
    let updated = job.int("updatedAt")?;
    let start = job
        .opt("startedAt")
        .and_then(Value::as_i64)
        .unwrap_or(created);
    let mut records = None;
    let mut bytes = None;
    if let Some(agg) = job.opt_obj("aggregatedStats")? {
        records = agg.opt_uint("recordsCommitted")?;
        bytes = agg.opt_uint("bytesCommitted")?;
    }
    // Without aggregated stats, sum what the attempts committed.
    if records.is_none() {
        let mut r = None::<u64>;
        let mut b = None::<u64>;
        for (path, a) in attempts {
            let a = Obj {
                v: a,
                path: path.clone(),
            };
            if !a.v.is_object() {
                return Err((a.path, FieldProblem::WrongType { expected: "object" }));
            }
            let (ar, ab) = match a.opt_obj("totalStats")? {
                Some(t) => (
                    t.opt_uint("recordsCommitted")?,
                    t.opt_uint("bytesCommitted")?,
                ),
                None => (a.opt_uint("recordsSynced")?, a.opt_uint("bytesSynced")?),
            };
            if let Some(ar) = ar {
                r = Some(r.unwrap_or(0).saturating_add(ar));
            }
            if let Some(ab) = ab {
                b = Some(b.unwrap_or(0).saturating_add(ab));
            }
        }
        records = r;
        bytes = bytes.or(b);
    }
    let end = status.is_terminal().then_some(updated);
    Ok(Job {
        id,
        kind,
        status,
        connection_id,
        start,
        end,
        records,
        bytes,
        attempts: Some(u32::try_from(attempts.len()).unwrap_or(u32::MAX)),
        duration_secs: end.map(|e| e.saturating_sub(start).max(0) as u64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn public_job_fields_are_checked() {
        let ok = json!({"jobId": 7, "status": "running", "jobType": "sync",
            "startTime": "2024-05-01T12:34Z", "connectionId": "c"});
        let job = public_job(&ok).unwrap();
        assert_eq!(
            (job.id, job.status, job.kind, job.end),
            (7, JobStatus::Running, JobKind::Sync, None)
        );
        let mut bad = ok.clone();
        bad["status"] = json!("exploded");
        assert_eq!(
            public_job(&bad).unwrap_err(),
            (
                "status".into(),
                FieldProblem::UnknownValue {
                    value: "exploded".into()
                }
            )
        );
        let mut bad = ok.clone();
        bad.as_object_mut().unwrap().remove("startTime");
        assert_eq!(
            public_job(&bad).unwrap_err(),
            ("startTime".into(), FieldProblem::Missing)
        );
        let mut bad = ok;
        bad["jobId"] = json!("7");
        assert_eq!(public_job(&bad).unwrap_err().0, "jobId");
    }

    #[test]
    fn config_job_stats_come_from_aggregates_or_attempts() {
        let v = json!({"job": {"id": 3, "configType": "sync", "configId": "c", "createdAt": 100,
            "updatedAt": 160, "status": "succeeded"},
            "attempts": [{"attempt": {"id": 0, "status": "failed", "createdAt": 100, "updatedAt": 120,
                "totalStats": {"recordsCommitted": 5, "bytesCommitted": 50}}},
                {"attempt": {"id": 1, "status": "succeeded", "createdAt": 120, "updatedAt": 160,
                "totalStats": {"recordsCommitted": 7, "bytesCommitted": 70}}}]});
        let job = config_job_info(&v).unwrap();
        assert_eq!(
            (job.records, job.bytes, job.attempts, job.duration_secs),
            (Some(12), Some(120), Some(2), Some(60))
        );
        let bad = json!({"job": {"id": 3, "configType": "sync", "configId": "c", "createdAt": 100,
            "updatedAt": 160, "status": "succeeded"}, "attempts": [{"attempt": {"totalStats": {"recordsCommitted": -1}}}]});
        assert_eq!(
            config_job_info(&bad).unwrap_err().0,
            "attempts[0].attempt.totalStats.recordsCommitted"
        );
    }
}

//! JSON bodies of the mock's answers, shaped exactly as the real Airbyte server shapes them.
//!
//! Field names, required fields, enums and formats follow `api.yaml`, `config.yaml` and
//! `api-problems.yaml` and the server's mappers (see `research/airbyte-facts.md`): the public
//! API says `jobId`, ISO-8601 `startTime` (seconds dropped when zero, as Java prints it) and
//! `duration`; the Config API uses epoch seconds. Null fields are omitted, as the server's
//! `NON_ABSENT` serialization does. This module builds values only; it never does IO.

use super::scenario::ConnectionStatus;
use super::state::{Clock, Connection, Job, JobKind, JobStatus, JobView};
use serde_json::{json, Map, Value};

/// Workspace all mock connections belong to.
pub const WORKSPACE_ID: &str = "00000000-0000-4000-8000-00000000a1b0";
/// Source all mock connections read from.
pub const SOURCE_ID: &str = "00000000-0000-4000-8000-00000000a1b1";
/// Destination all mock connections write to.
pub const DESTINATION_ID: &str = "00000000-0000-4000-8000-00000000a1b2";

/// `OffsetDateTime.toString()` for a UTC instant given in epoch seconds: `2024-05-01T12:34:56Z`,
/// or `2024-05-01T12:34Z` when the seconds are zero.
pub fn iso_datetime(epoch: i64) -> String {
    let days = epoch.div_euclid(86_400);
    let secs = epoch.rem_euclid(86_400);
    let (y, m, d) = crate::calendar::civil_from_days(days);
    let (hh, mm, ss) = (secs / 3600, secs % 3600 / 60, secs % 60);
    if ss == 0 {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
    }
}

/// Epoch seconds of an ISO-8601 date-time (`2024-05-01T12:34:56Z`, optional seconds and
/// fraction, `Z` or `±HH:MM`), as query filters such as `createdAtStart` carry them.
pub fn parse_iso_datetime(s: &str) -> Option<i64> {
    let (date, time) = s.split_once(['T', 't', ' '])?;
    let mut d = date.splitn(3, '-');
    let (y, m, day): (i64, i64, i64) = (
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    let (clock, offset) = if let Some(c) = time.strip_suffix(['Z', 'z']) {
        (c, 0)
    } else {
        let i = time.rfind(['+', '-'])?;
        let (h, mi) = time[i + 1..].split_once(':')?;
        let (h, mi) = (h.parse::<i64>().ok()?, mi.parse::<i64>().ok()?);
        if !(0..=23).contains(&h) || !(0..=59).contains(&mi) {
            return None;
        }
        let off = h * 3600 + mi * 60;
        (&time[..i], if &time[i..=i] == "-" { -off } else { off })
    };
    let clock = clock.split('.').next()?;
    let mut c = clock.split(':');
    let hh: i64 = c.next()?.parse().ok()?;
    let mm: i64 = c.next()?.parse().ok()?;
    let ss: i64 = match c.next() {
        Some(v) => v.parse().ok()?,
        None => 0,
    };
    if c.next().is_some() || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Month and day are in 1–31 (checked above).
    let days = crate::calendar::days_from_civil(y, m as u32, day as u32)?;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss - offset)
}

/// `java.time.Duration.ofSeconds(s).toString()`: `PT8M12S`, `PT1H`, `PT0S`.
pub fn iso_duration(secs: i64) -> String {
    if secs == 0 {
        return "PT0S".to_owned();
    }
    let neg = if secs < 0 { "-" } else { "" };
    let s = secs.abs();
    let (h, m, sec) = (s / 3600, s % 3600 / 60, s % 60);
    let mut out = String::from("PT");
    if h != 0 {
        out.push_str(&format!("{neg}{h}H"));
    }
    if m != 0 {
        out.push_str(&format!("{neg}{m}M"));
    }
    if sec != 0 {
        out.push_str(&format!("{neg}{sec}S"));
    }
    out
}

fn status_str(s: JobStatus) -> &'static str {
    s.into()
}

/// Public `JobResponse`.
pub fn public_job(clock: &Clock, job: &Job, v: &JobView) -> Value {
    let mut o = Map::new();
    o.insert("jobId".into(), json!(job.id));
    o.insert("status".into(), json!(status_str(v.status)));
    o.insert(
        "jobType".into(),
        json!(if job.kind == JobKind::Sync {
            "sync"
        } else {
            "reset"
        }),
    );
    let created = clock.epoch(v.created);
    let updated = clock.epoch(v.updated);
    o.insert("startTime".into(), json!(iso_datetime(created)));
    o.insert("connectionId".into(), json!(&*job.connection));
    if v.status.is_terminal() {
        o.insert("lastUpdatedAt".into(), json!(iso_datetime(updated)));
    }
    if v.status != JobStatus::Pending {
        o.insert("duration".into(), json!(iso_duration(updated - created)));
    }
    if !v.attempts.is_empty() {
        o.insert("bytesSynced".into(), json!(v.bytes_committed()));
        o.insert("rowsSynced".into(), json!(v.records_committed()));
    }
    Value::Object(o)
}

/// Public `ConnectionResponse`.
pub fn public_connection(c: &Connection, created_at: i64) -> Value {
    let streams: Vec<Value> = c
        .streams
        .iter()
        .map(super::catalog::public_stream)
        .collect();
    json!({
        "connectionId": &*c.id,
        "name": c.name,
        "sourceId": &*c.source,
        "destinationId": &*c.destination,
        "workspaceId": &*c.workspace,
        "status": connection_status(c.status),
        "schedule": super::catalog::public_schedule(&c.schedule),
        "namespaceDefinition": "destination",
        "nonBreakingSchemaUpdatesBehavior": "ignore",
        "configurations": { "streams": streams },
        "createdAt": created_at,
        "tags": [],
    })
}

fn connection_status(s: ConnectionStatus) -> &'static str {
    s.into()
}

/// Config API `ConnectionRead`.
pub fn config_connection(c: &Connection, created_at: i64) -> Value {
    json!({
        "connectionId": &*c.id,
        "name": c.name,
        "namespaceDefinition": "destination",
        "sourceId": &*c.source,
        "destinationId": &*c.destination,
        "operationIds": [],
        "syncCatalog": { "streams": [] },
        "scheduleType": "manual",
        "status": connection_status(c.status),
        "breakingChange": false,
        "nonBreakingChangesPreference": "ignore",
        "created_at": created_at,
        "workspaceId": &*c.workspace,
        "tags": [],
    })
}

/// How much of the stats to show: `/jobs/get` shows an attempt's stats once it ended; the
/// stats-hydrating reads (`get_without_logs`, `list`) show live stats and `aggregatedStats`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stats {
    /// Only ended attempts carry stats; no `aggregatedStats`.
    Ended,
    /// Live stats and `aggregatedStats`.
    Live,
}

/// Config API `JobRead`.
pub fn config_job(clock: &Clock, job: &Job, v: &JobView, stats: Stats) -> Value {
    let mut o = Map::new();
    o.insert("id".into(), json!(job.id));
    o.insert(
        "configType".into(),
        json!(if job.kind == JobKind::Sync {
            "sync"
        } else {
            "reset_connection"
        }),
    );
    o.insert("configId".into(), json!(&*job.connection));
    o.insert("createdAt".into(), json!(clock.epoch(v.created)));
    o.insert("updatedAt".into(), json!(clock.epoch(v.updated)));
    if let Some(s) = v.started {
        o.insert("startedAt".into(), json!(clock.epoch(s)));
    }
    o.insert("status".into(), json!(status_str(v.status)));
    if job.kind == JobKind::Reset {
        o.insert("resetConfig".into(), json!({ "streamsToReset": [] }));
    }
    if stats == Stats::Live && !v.attempts.is_empty() {
        o.insert(
            "aggregatedStats".into(),
            json!({
                "recordsEmitted": v.records_emitted(),
                "bytesEmitted": v.bytes_emitted(),
                "recordsCommitted": v.records_committed(),
                "bytesCommitted": v.bytes_committed(),
                "recordsRejected": 0,
            }),
        );
    }
    Value::Object(o)
}

/// Config API `AttemptRead`s.
pub fn config_attempts(clock: &Clock, v: &JobView, stats: Stats) -> Vec<Value> {
    v.attempts
        .iter()
        .map(|a| {
            let mut o = Map::new();
            o.insert("id".into(), json!(a.number));
            o.insert("status".into(), json!(<&str>::from(a.status)));
            o.insert("createdAt".into(), json!(clock.epoch(a.created)));
            o.insert("updatedAt".into(), json!(clock.epoch(a.updated)));
            if let Some(e) = a.ended {
                o.insert("endedAt".into(), json!(clock.epoch(e)));
            }
            if a.ended.is_some() || stats == Stats::Live {
                o.insert("bytesSynced".into(), json!(a.bytes_committed));
                o.insert("recordsSynced".into(), json!(a.records_committed));
                let mut t = json!({
                    "recordsEmitted": a.records_emitted,
                    "bytesEmitted": a.bytes_emitted,
                    "stateMessagesEmitted": if a.ended.is_some() { 1 } else { 0 },
                    "recordsCommitted": a.records_committed,
                    "bytesCommitted": a.bytes_committed,
                });
                if stats == Stats::Live {
                    t["recordsRejected"] = json!(0);
                }
                o.insert("totalStats".into(), t);
            }
            if a.status == super::state::AttemptStatus::Failed {
                o.insert(
                    "failureSummary".into(),
                    json!({
                        "failures": [{
                            "failureOrigin": "source",
                            "externalMessage": "mock attempt failure",
                            "timestamp": clock.epoch(a.updated) * 1000,
                        }],
                        "partialSuccess": false,
                    }),
                );
            }
            Value::Object(o)
        })
        .collect()
}

/// Config API `JobInfoRead`.
pub fn config_job_info(clock: &Clock, job: &Job, v: &JobView, stats: Stats) -> Value {
    let attempts: Vec<Value> = config_attempts(clock, v, stats)
        .into_iter()
        .map(|a| json!({ "attempt": a }))
        .collect();
    json!({ "job": config_job(clock, job, v, stats), "attempts": attempts })
}

/// Config API `JobWithAttemptsRead` (in `jobs/list`).
pub fn config_job_with_attempts(clock: &Clock, job: &Job, v: &JobView) -> Value {
    json!({ "job": config_job(clock, job, v, Stats::Live), "attempts": config_attempts(clock, v, Stats::Live) })
}

/// A public API problem body (`api-problems.yaml`).
pub fn problem(status: u16, kind: &str, detail: &str, data: Option<Value>) -> Value {
    let mut o = Map::new();
    o.insert("status".into(), json!(status));
    let type_url = if kind == "unexpected-problem" || kind == "service-unavailable" {
        "https://reference.airbyte.com/reference/errors".to_owned()
    } else if kind == "state-conflict" {
        "https://reference.airbyte.com/reference/errors#409-state-conflict".to_owned()
    } else {
        format!("https://reference.airbyte.com/reference/errors#{kind}")
    };
    o.insert("type".into(), json!(type_url));
    o.insert("title".into(), json!(kind));
    o.insert("detail".into(), json!(detail));
    if let Some(d) = data {
        o.insert("data".into(), d);
    }
    Value::Object(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_datetime_drops_zero_seconds_like_java() {
        assert_eq!(iso_datetime(0), "1970-01-01T00:00Z");
        assert_eq!(iso_datetime(1_714_566_896), "2024-05-01T12:34:56Z");
        assert_eq!(iso_datetime(1_714_566_840), "2024-05-01T12:34Z");
        assert_eq!(iso_datetime(951_782_400), "2000-02-29T00:00Z");
    }

    #[test]
    fn iso_datetime_round_trips_and_accepts_offsets() {
        for epoch in [0, 951_782_400, 1_714_566_840, 1_714_566_896, 4_102_444_799] {
            assert_eq!(parse_iso_datetime(&iso_datetime(epoch)), Some(epoch));
        }
        assert_eq!(
            parse_iso_datetime("2024-05-01T14:34:56.789+02:00"),
            Some(1_714_566_896)
        );
        assert_eq!(
            parse_iso_datetime("2024-05-01T12:34:56-00:30"),
            Some(1_714_566_896 + 1800)
        );
        for bad in [
            "",
            "2024-05-01",
            "2024-13-01T00:00Z",
            "2024-05-01T25:00Z",
            "yesterday",
        ] {
            assert_eq!(parse_iso_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn regression_huge_years_and_offsets_are_refused_without_overflow() {
        // Both overflowed i64 arithmetic (a panic in debug builds) before the shared calendar.
        for bad in [
            "99999999999999999-01-01T00:00Z",
            "-99999999999999999-01-01T00:00Z",
            "2024-05-01T00:00+99999999999999999:00",
            "2024-05-01T00:00-00:99999999999999999",
        ] {
            assert_eq!(parse_iso_datetime(bad), None, "{bad}");
        }
        assert_eq!(
            parse_iso_datetime("999999999-12-31T23:59:59Z"),
            Some(31_556_889_832_780_799)
        );
    }

    #[test]
    fn iso_duration_like_java() {
        assert_eq!(iso_duration(0), "PT0S");
        assert_eq!(iso_duration(492), "PT8M12S");
        assert_eq!(iso_duration(3600), "PT1H");
        assert_eq!(iso_duration(90_061), "PT25H1M1S");
    }
}

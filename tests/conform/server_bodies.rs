//! No panic on any server body: proptest feeds random JSON (and plausible-looking times,
//! durations and enums) to every parser of server input.

use airguard::conform::client::{auth, iso, model, retry, strict};
use airguard::conform::report::JobStats;
use proptest::prelude::*;
use serde_json::{Map, Value};

const KEYS: &[&str] = &[
    "jobId",
    "status",
    "jobType",
    "connectionId",
    "startTime",
    "lastUpdatedAt",
    "duration",
    "rowsSynced",
    "bytesSynced",
    "data",
    "job",
    "attempts",
    "attempt",
    "id",
    "configType",
    "configId",
    "createdAt",
    "updatedAt",
    "startedAt",
    "aggregatedStats",
    "recordsCommitted",
    "bytesCommitted",
    "totalStats",
    "recordsSynced",
    "name",
    "sourceId",
    "destinationId",
    "available",
    "access_token",
    "token_type",
    "expires_in",
    "message",
    "detail",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,12}",
        // ISO-8601 times, plausible and not.
        "-?[0-9]{1,20}-[0-9]{1,3}-[0-9]{1,3}[Tt][0-9]{1,3}:[0-9]{1,3}(:[0-9]{1,3}(\\.[0-9]{1,4})?)?([Zz]|[+-][0-9]{1,20}:[0-9]{1,20}|[+-])?",
        // ISO-8601 durations.
        "P[0-9.\\-]{0,25}(D|T([0-9.\\-]{0,25}[HMSX])*)",
        prop::sample::select(vec![
            "pending", "queued", "running", "incomplete", "failed", "succeeded", "cancelled",
            "SUCCEEDED", "sync", "reset", "clear", "refresh", "reset_connection", "active",
            "inactive", "Bearer", "MAC", "",
        ])
        .prop_map(str::to_string),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop::num::f64::NORMAL.prop_map(Value::from),
        prop::sample::select(vec![1e30, -1e30, 1e308, 0.5, 0.0, -0.0, 86_400.0])
            .prop_map(Value::from),
        text().prop_map(Value::String),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(KEYS).prop_map(str::to_string),
        1 => "[a-z]{1,6}",
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 64, 10, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..12)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Objects shaped like the API's, with every field arbitrary.
fn shaped() -> impl Strategy<Value = Value> {
    let obj = || {
        prop::collection::vec((key(), leaf()), 0..16)
            .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>()))
    };
    prop_oneof![
        obj(),
        prop::collection::vec(obj(), 0..3).prop_map(|d| serde_json::json!({ "data": d })),
        (obj(), prop::collection::vec(obj(), 0..3), obj()).prop_map(|(job, attempts, stats)| {
            let attempts: Vec<Value> = attempts
                .into_iter()
                .map(|mut a| {
                    a["totalStats"] = stats.clone();
                    serde_json::json!({ "attempt": a })
                })
                .collect();
            serde_json::json!({ "job": job, "attempts": attempts })
        }),
        (obj(), obj()).prop_map(|(job, agg)| {
            let mut job = job;
            job["aggregatedStats"] = agg;
            serde_json::json!({ "jobs": [{ "job": job, "attempts": [] }] })
        }),
        value(),
    ]
}

fn every_parser(v: &Value) {
    for job in [model::public_job(v), model::config_job_info(v)]
        .into_iter()
        .flatten()
        .chain(model::public_jobs(v).into_iter().flatten())
        .chain(model::config_job_list(v).into_iter().flatten())
    {
        let stats = JobStats::from(&job);
        let _ = serde_json::to_string(&stats).unwrap();
        if let Some(d) = job.duration_secs {
            let _ = humantime::format_duration(std::time::Duration::from_secs(d)).to_string();
        }
    }
    let _ = model::public_connection(v);
    let _ = model::config_connection(v);
    let _ = model::config_health(v);
    let _ = auth::parse_token(v);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_json_never_panics_the_parsers(v in shaped()) {
        every_parser(&v);
        // The same body through the strict parser, and with a key repeated.
        let text = v.to_string();
        let parsed = strict::parse(text.as_bytes());
        prop_assert!(parsed.is_ok(), "{text}");
        if let Some(rest) = text.strip_prefix("{\"") {
            let doubled = format!("{{\"status\":1,\"status\":2,\"{rest}");
            prop_assert!(matches!(strict::parse(doubled.as_bytes()), Err(strict::StrictError::DuplicateKey(_))));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_parsers(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(v) = strict::parse(&bytes) {
            every_parser(&v);
        }
        let s = String::from_utf8_lossy(&bytes);
        let _ = iso::parse_iso_time(&s);
        let _ = iso::parse_iso_duration(&s);
        let _ = retry::parse_retry_after(&s, std::time::SystemTime::now());
    }

    #[test]
    fn arbitrary_strings_never_panic_the_field_parsers(s in text(), n in any::<i64>()) {
        let _ = iso::parse_iso_time(&s);
        let _ = iso::parse_iso_duration(&s);
        let _ = retry::parse_retry_after(&s, std::time::SystemTime::UNIX_EPOCH);
        let _ = retry::parse_http_date(&format!("Sun, 06 Nov {n} 08:49:37 GMT"));
        let _ = iso::format_epoch(n);
    }
}

#[test]
fn regression_huge_years_and_offsets_do_not_overflow() {
    assert_eq!(iso::parse_iso_time("99999999999999-01-01T00:00Z"), None);
    assert_eq!(
        iso::parse_iso_time("2024-05-01T12:00+99999999999999999:00"),
        None
    );
    assert_eq!(
        retry::parse_http_date("Sun, 06 Nov 9223372036854775807 08:49:37 GMT"),
        None
    );
    assert_eq!(iso::format_epoch(i64::MAX), i64::MAX.to_string());
    let v = serde_json::json!({"job": {"id": 1, "configType": "sync", "configId": "c",
        "createdAt": 0, "updatedAt": i64::MAX, "status": "succeeded"},
        "attempts": [{"attempt": {"totalStats": {"recordsCommitted": u64::MAX}}},
                     {"attempt": {"totalStats": {"recordsCommitted": u64::MAX}}}]});
    let job = model::config_job_info(&v).unwrap();
    assert_eq!(job.records, Some(u64::MAX));
    let _ = JobStats::from(&job);
}

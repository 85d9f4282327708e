//! Scenario files for the mock Airbyte server: which connections exist, how their jobs behave,
//! and which faults to inject.
//!
//! Types here are closed (`deny_unknown_fields`, kebab-case) so a typo in a scenario file is an
//! error, never a silently ignored setting. [`Scenario::load`] reports every problem as a located
//! [`Diagnostic`] (`invalid-scenario`, `yaml-syntax`, `io-error`) with file, line, column and a
//! hint: the YAML is parsed once with the spec's span-keeping machinery (so semantic checks point
//! at the offending value) and once into the types (serde-saphyr locates type errors). This
//! module only parses and describes; it never touches the network or the clock.

use crate::diag::{Code, Diagnostic, FileId, Files};
use crate::input::InputError;
use crate::spec::{Document, Node};
use serde::Deserialize;
use std::ops::Range;
use std::time::Duration;

/// The scenario the embedded default (`fixtures/mock/default.yaml`) describes; `airguard demo`
/// and `airguard mock serve` without `--scenario` use it.
pub const DEFAULT_SCENARIO: &str = include_str!("../../fixtures/mock/default.yaml");

/// Errors reading a scenario.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The scenario file could not be read.
    #[error("cannot read scenario `{path}`")]
    Read {
        /// The path.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The scenario is not valid YAML, does not match the scenario format, or is inconsistent.
    #[error("invalid scenario `{name}`: {message}")]
    Invalid {
        /// File name (or `<default>`).
        name: String,
        /// Every problem, `line:column: message`, separated by `; `.
        message: String,
    },
}

/// A complete mock scenario. `Scenario::default()` has no connections, the default job
/// behaviour, no faults and Airbyte's 15-minute tokens.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Scenario {
    /// Connections that exist (in this order in listings).
    #[serde(default)]
    pub connections: Vec<ConnectionSpec>,
    /// Job behaviour for connections that do not set their own.
    #[serde(default)]
    pub jobs: JobBehaviour,
    /// Faults to inject, checked in order for every request.
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// Lifetime of issued access tokens (`expires_in`); default 15 minutes, as Airbyte.
    #[serde(default = "default_token_ttl", with = "duration")]
    pub token_ttl: Duration,
    /// The id of the first job created (default 1).
    #[serde(default = "default_first_job_id")]
    pub first_job_id: i64,
    /// Workspaces (absent: one, `Default Workspace`, that every object belongs to).
    #[serde(default)]
    pub workspaces: Vec<WorkspaceSpec>,
    /// Sources (absent: the one every connection reads from by default).
    #[serde(default)]
    pub sources: Vec<ActorSpec>,
    /// Destinations (absent: the one every connection writes to by default).
    #[serde(default)]
    pub destinations: Vec<ActorSpec>,
    /// Many generated connections, after the listed ones (for benchmarks).
    #[serde(default)]
    pub bulk: Option<Bulk>,
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            connections: Vec::new(),
            jobs: JobBehaviour::default(),
            faults: Vec::new(),
            token_ttl: default_token_ttl(),
            first_job_id: default_first_job_id(),
            workspaces: Vec::new(),
            sources: Vec::new(),
            destinations: Vec::new(),
            bulk: None,
        }
    }
}

fn default_token_ttl() -> Duration {
    Duration::from_secs(900)
}

fn default_first_job_id() -> i64 {
    1
}

/// A connection the mock knows.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConnectionSpec {
    /// Connection UUID.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Status (default active).
    #[serde(default)]
    pub status: ConnectionStatus,
    /// Job behaviour for this connection (replaces the scenario's `jobs` as a whole).
    #[serde(default)]
    pub jobs: Option<JobBehaviour>,
    /// Workspace id (default: the default workspace).
    #[serde(default)]
    pub workspace: Option<String>,
    /// Source id (default: the default source).
    #[serde(default)]
    pub source: Option<String>,
    /// Destination id (default: the default destination).
    #[serde(default)]
    pub destination: Option<String>,
    /// How Airbyte itself schedules the connection (default `manual`).
    #[serde(default)]
    pub schedule: Schedule,
    /// Configured streams.
    #[serde(default)]
    pub streams: Vec<StreamSpec>,
}

pub use super::catalog::{ActorSpec, Bulk, Schedule, StreamSpec, SyncMode, WorkspaceSpec};

impl ConnectionSpec {
    /// An active connection with the scenario's job behaviour, in the default workspace,
    /// reading from the default source into the default destination, scheduled manually.
    pub fn new(id: String, name: String) -> Self {
        Self {
            id,
            name,
            status: ConnectionStatus::Active,
            jobs: None,
            workspace: None,
            source: None,
            destination: None,
            schedule: Schedule::default(),
            streams: Vec::new(),
        }
    }
}

/// Connection status, as the Airbyte APIs spell it.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq, strum::IntoStaticStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum ConnectionStatus {
    /// Syncs may run.
    #[default]
    Active,
    /// Paused; a sync request fails.
    Inactive,
    /// Off for good.
    Deprecated,
    /// Temporarily disabled.
    Locked,
}

/// How the last attempt of a job ends.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The job succeeds.
    #[default]
    Succeeded,
    /// The job fails.
    Failed,
    /// The job ends cancelled (as if an operator cancelled it).
    Cancelled,
}

/// What a reset or clear request creates.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ResetCreates {
    /// A `reset_connection` job, as Airbyte does.
    #[default]
    Reset,
    /// Fault: a `sync` job (a client must notice the wrong job type).
    Sync,
}

/// How the jobs of a connection run. Timeline of a job: `pending` for `pending`, then `queued`
/// for `queued` (only if non-zero), then `attempts` attempts of `duration` each, separated by
/// `incomplete` for `retry-delay`; every attempt but the last fails, the last ends as `outcome`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct JobBehaviour {
    /// Time in `pending` before the first attempt.
    #[serde(default = "d_pending", with = "duration")]
    pub pending: Duration,
    /// Time in `queued` after `pending` (0: never answer `queued`, which the Airflow hook rejects).
    #[serde(default, with = "duration")]
    pub queued: Duration,
    /// Running time of each attempt.
    #[serde(default = "d_duration", with = "duration")]
    pub duration: Duration,
    /// Time in `incomplete` between a failed attempt and the next.
    #[serde(default = "d_retry_delay", with = "duration")]
    pub retry_delay: Duration,
    /// Number of attempts (at least 1); all but the last fail.
    #[serde(default = "d_attempts")]
    pub attempts: u32,
    /// How the last attempt ends.
    #[serde(default)]
    pub outcome: Outcome,
    /// Records committed by a successful attempt (0: "success with 0 records").
    #[serde(default = "d_records")]
    pub records: u64,
    /// Bytes committed by a successful attempt.
    #[serde(default = "d_bytes")]
    pub bytes: u64,
    /// Fault: the job never leaves `running` (until cancelled).
    #[serde(default)]
    pub stuck: bool,
    /// What reset and clear create.
    #[serde(default)]
    pub reset_creates: ResetCreates,
    /// Fault: cancelling a job starts a new sync job of the same connection.
    #[serde(default)]
    pub cancel_spawns_job: bool,
}

fn d_pending() -> Duration {
    Duration::from_millis(500)
}
fn d_duration() -> Duration {
    Duration::from_secs(2)
}
fn d_retry_delay() -> Duration {
    Duration::from_secs(1)
}
fn d_attempts() -> u32 {
    1
}
fn d_records() -> u64 {
    1000
}
fn d_bytes() -> u64 {
    256_000
}

impl Default for JobBehaviour {
    fn default() -> Self {
        Self {
            pending: d_pending(),
            queued: Duration::ZERO,
            duration: d_duration(),
            retry_delay: d_retry_delay(),
            attempts: d_attempts(),
            outcome: Outcome::Succeeded,
            records: d_records(),
            bytes: d_bytes(),
            stuck: false,
            reset_creates: ResetCreates::Reset,
            cancel_spawns_job: false,
        }
    }
}

/// A fault rule: for requests to `operation` (any if absent), let `skip` matching requests
/// through, then apply `action` to the next `times` of them (all of them if absent).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Fault {
    /// Which operation the rule applies to.
    #[serde(default)]
    pub operation: Option<Operation>,
    /// Matching requests to let through first.
    #[serde(default)]
    pub skip: u32,
    /// How many matching requests get the fault (absent: every one after `skip`).
    #[serde(default)]
    pub times: Option<u32>,
    /// What happens.
    pub action: FaultAction,
}

/// What a fault does to a request.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case"
)]
pub enum FaultAction {
    /// Delay the response by this long (other rules still apply).
    Latency(#[serde(with = "duration")] Duration),
    /// Answer with this HTTP status (5xx) and an error body, without processing the request.
    Error(u16),
    /// Answer 429 with `Retry-After` (whole seconds, rounded up), without processing the request.
    RateLimit {
        /// The `Retry-After` value.
        #[serde(with = "duration")]
        retry_after: Duration,
    },
    /// Process the request, then close the connection without sending a response.
    Drop,
    /// Process the request, then answer 200 with a body that is not JSON.
    Malformed,
    /// Process the request, then answer with the first half of the real JSON body.
    Truncated,
    /// Process a list request, then add a `next` link to the very page asked for: a list that
    /// never ends.
    EndlessPage,
}

/// An API operation the mock serves (for fault matching and request classification).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Hash, strum::IntoStaticStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Operation {
    /// Public `GET /health`.
    Health,
    /// Public `POST /applications/token`.
    Token,
    /// Public `POST /jobs`.
    CreateJob,
    /// Public `GET /jobs/{id}`.
    GetJob,
    /// Public `DELETE /jobs/{id}`.
    CancelJob,
    /// Public `GET /jobs`.
    ListJobs,
    /// Public `GET /connections/{id}`.
    GetConnection,
    /// Public `GET /connections`.
    ListConnections,
    /// Public `GET /workspaces`.
    ListWorkspaces,
    /// Public `GET /workspaces/{id}`.
    GetWorkspace,
    /// Public `GET /sources`.
    ListSources,
    /// Public `GET /sources/{id}`.
    GetSource,
    /// Public `GET /destinations`.
    ListDestinations,
    /// Public `GET /destinations/{id}`.
    GetDestination,
    /// Public `GET /streams`.
    ListStreams,
    /// Config `GET /api/v1/health`.
    ConfigHealth,
    /// Config `POST /api/v1/applications/token`.
    ConfigToken,
    /// Config `POST /api/v1/connections/get`.
    ConnectionsGet,
    /// Config `POST /api/v1/connections/sync`.
    ConnectionsSync,
    /// Config `POST /api/v1/connections/reset`.
    ConnectionsReset,
    /// Config `POST /api/v1/connections/clear`.
    ConnectionsClear,
    /// Config `POST /api/v1/jobs/get`.
    JobsGet,
    /// Config `POST /api/v1/jobs/get_without_logs`.
    JobsGetWithoutLogs,
    /// Config `POST /api/v1/jobs/cancel`.
    JobsCancel,
    /// Config `POST /api/v1/jobs/list`.
    JobsList,
}

impl Scenario {
    /// The embedded default scenario.
    pub fn default_scenario() -> Self {
        Self::from_str("<default>", DEFAULT_SCENARIO)
            .expect("the embedded default scenario is valid")
    }

    /// Parse and check a scenario; every problem is in the error's message with its line and
    /// column ([`Scenario::load`] gives them as diagnostics).
    pub fn from_str(name: &str, text: &str) -> Result<Self, ScenarioError> {
        let mut files = Files::new();
        Self::load(&mut files, name, text).map_err(|diags| invalid(&files, name, &diags))
    }

    /// Read, parse and check a scenario file.
    pub fn from_file(path: &std::path::Path) -> Result<Self, ScenarioError> {
        let name = path.display().to_string();
        let text = read(path).map_err(|e| ScenarioError::Read {
            path: name.clone(),
            source: e.into(),
        })?;
        Self::from_str(&name, &text)
    }

    /// Read, parse and check a scenario file, registering it in `files`; a file that cannot be
    /// read is an `io-error` diagnostic.
    pub fn load_file(files: &mut Files, path: &camino::Utf8Path) -> Result<Self, Vec<Diagnostic>> {
        let text = match read(path.as_std_path()) {
            Ok(text) => text,
            Err(e @ (InputError::NotARegularFile { .. } | InputError::TooLarge { .. })) => {
                return Err(vec![e.diagnostic().with_help(
                    "pass a regular UTF-8 YAML file with --scenario PATH (at most 16 MiB)",
                )])
            }
            Err(e) => {
                return Err(vec![Diagnostic::new(
                    Code::IoError,
                    format!("cannot read scenario file `{path}`: {e}"),
                )
                .with_help("pass a readable UTF-8 YAML file with --scenario PATH")])
            }
        };
        Self::load(files, path.as_str(), &text)
    }

    /// Parse and check a scenario registered in `files` as `name`. Every problem is a diagnostic
    /// pointing at its line and column: semantic problems all at once, a type or unknown-key
    /// problem one at a time (the first one found).
    pub fn load(files: &mut Files, name: &str, text: &str) -> Result<Self, Vec<Diagnostic>> {
        let file = files.add(name, text);
        let root = serde_saphyr::from_str::<serde_saphyr::Spanned<Node>>(text)
            .map_err(|e| vec![syntax_error(files, file, &e)])?;
        let doc = Document::new(files, file, &root);
        if !matches!(
            doc.json,
            serde_json::Value::Object(_) | serde_json::Value::Null
        ) {
            return Err(vec![Diagnostic::new(
                Code::InvalidScenario,
                "a scenario must be a mapping at the top level",
            )
            .with_label(file, doc.locate(""), "expected keys such as `connections:`")
            .with_help(
                "start from the built-in scenario, fixtures/mock/default.yaml (see docs/mock.md)",
            )]);
        }
        let scenario: Scenario = if doc.json.is_null() {
            Scenario::default()
        } else {
            serde_saphyr::from_str(text).map_err(|e| vec![type_error(files, file, &e)])?
        };
        let diags = scenario.check(file, &doc);
        if diags.is_empty() {
            Ok(scenario)
        } else {
            Err(diags)
        }
    }

    fn check(&self, file: FileId, doc: &Document) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let at = |pointer: String, message: String, label: &str, help: &str| {
            Diagnostic::new(Code::InvalidScenario, message)
                .with_label(file, doc.locate(&pointer), label)
                .with_path(pointer)
                .with_help(help)
        };
        let mut seen = std::collections::BTreeSet::new();
        for (i, c) in self.connections.iter().enumerate() {
            let pointer = format!("/connections/{i}/id");
            if !is_uuid(&c.id) {
                out.push(at(
                    pointer,
                    format!("connection id `{}` is not a UUID", c.id),
                    "not a UUID",
                    "write the id as 8-4-4-4-12 hex digits, e.g. 7c2b1e4a-5d3f-4e8a-9b6c-1f2e3d4c5b6a",
                ));
            } else if !seen.insert(c.id.to_ascii_lowercase()) {
                out.push(at(
                    pointer,
                    format!("connection id `{}` is listed twice", c.id),
                    "listed before (ids compare case-insensitively)",
                    "list each connection once",
                ));
            }
        }
        super::catalog::check_ids(self, &mut |pointer, message| {
            out.push(at(
                pointer,
                message,
                "not a UUID, or listed twice",
                "write each id once, as 8-4-4-4-12 hex digits",
            ))
        });
        let jobs = std::iter::once((String::new(), &self.jobs)).chain(
            self.connections
                .iter()
                .enumerate()
                .filter_map(|(i, c)| c.jobs.as_ref().map(|j| (format!("/connections/{i}"), j))),
        );
        for (prefix, jobs) in jobs {
            if jobs.attempts == 0 {
                out.push(at(
                    format!("{prefix}/jobs/attempts"),
                    "`attempts` must be at least 1".to_owned(),
                    "a job runs at least one attempt",
                    "set `attempts: 1` for a job that runs once; all attempts but the last fail",
                ));
            }
        }
        for (i, f) in self.faults.iter().enumerate() {
            if let FaultAction::Error(code) = f.action {
                if !(400..=599).contains(&code) {
                    out.push(at(
                        format!("/faults/{i}/action/error"),
                        format!("fault error status {code} is not a 4xx or 5xx status"),
                        "not an error status",
                        "use an error status between 400 and 599, e.g. `{ error: 503 }`",
                    ));
                }
            }
        }
        out
    }

    /// Add every connection of `ids` (id, name) that the scenario does not list yet, active and
    /// with the scenario's default job behaviour.
    pub fn seed<'a>(&mut self, ids: impl IntoIterator<Item = (&'a str, &'a str)>) {
        for (id, name) in ids {
            let id = id.to_ascii_lowercase();
            if !self
                .connections
                .iter()
                .any(|c| c.id.eq_ignore_ascii_case(&id))
            {
                self.connections
                    .push(ConnectionSpec::new(id, name.to_owned()));
            }
        }
    }
}

/// The one place a scenario file is read: regular files only, at most 16 MiB.
fn read(path: &std::path::Path) -> Result<String, InputError> {
    crate::input::read_to_string(path, crate::input::SCENARIO_LIMIT)
}

/// Turn diagnostics into [`ScenarioError::Invalid`], each with its line and column.
fn invalid(files: &Files, name: &str, diags: &[Diagnostic]) -> ScenarioError {
    let message = diags
        .iter()
        .map(|d| match &d.label {
            Some(l) => {
                let at = files.line_col(l.file, l.range.start);
                format!("{}:{}: {}", at.line, at.column, d.message)
            }
            None => d.message.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ");
    ScenarioError::Invalid {
        name: name.to_owned(),
        message,
    }
}

/// Byte offset of a serde-saphyr location in `file` (0 when unknown).
fn offset(files: &Files, file: FileId, loc: Option<serde_saphyr::Location>) -> usize {
    let Some(loc) = loc.filter(|l| *l != serde_saphyr::Location::UNKNOWN) else {
        return 0;
    };
    let start = match loc.span().byte_offset() {
        Some(b) => b as usize,
        None => files.offset_of(file, loc.line() as usize, loc.column() as usize),
    };
    start.min(files.source(file).len())
}

/// The scalar token starting at `start` (up to the next `:`, `,`, bracket, comment or line end).
fn token_at(text: &str, start: usize) -> Range<usize> {
    let rest = text.get(start..).unwrap_or("");
    let len = rest
        .find([':', ',', '{', '}', '[', ']', '#', '\n', '\r'])
        .unwrap_or(rest.len());
    start..start + rest[..len].trim_end().len()
}

/// The first line of a serde-saphyr message, without the location it appends.
fn first_line(e: &serde_saphyr::Error) -> String {
    let full = e.to_string();
    let line = full.lines().next().unwrap_or("invalid YAML").trim();
    let line = line.strip_prefix("error: ").unwrap_or(line);
    let line = match line.find(" at line ") {
        Some(i) => &line[..i],
        None => line,
    };
    match line.strip_prefix("line ").and_then(|l| l.split_once(": ")) {
        Some((_, rest)) => rest.to_owned(),
        None => line.to_owned(),
    }
}

fn syntax_error(files: &Files, file: FileId, e: &serde_saphyr::Error) -> Diagnostic {
    let start = offset(files, file, e.location());
    let (message, help) = match e.without_snippet() {
        serde_saphyr::Error::DuplicateMappingKey { key, .. } => (
            format!(
                "invalid YAML: key `{}` appears twice in the same mapping",
                key.as_deref().unwrap_or("?")
            ),
            "keep one of them: YAML mappings cannot repeat a key",
        ),
        _ => (
            format!("invalid YAML: {}", first_line(e)),
            "fix the YAML syntax at the marked place (indentation, brackets, quotes, `:` after keys)",
        ),
    };
    Diagnostic::new(Code::YamlSyntax, message)
        .with_label(file, token_at(files.source(file), start), "here")
        .with_help(help)
}

/// What a Rust type is, in the words of a scenario file.
fn kind_of(ty: &str) -> &str {
    match ty {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number, 0 or more",
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number",
        "f32" | "f64" => "a number",
        "bool" => "`true` or `false`",
        "sequence start" => "a list",
        "mapping start" => "a mapping",
        other => other,
    }
}

fn type_error(files: &Files, file: FileId, e: &serde_saphyr::Error) -> Diagnostic {
    use serde_saphyr::Error as E;
    let start = offset(files, file, e.location());
    let range = token_at(files.source(file), start);
    let list = |v: &[&str]| {
        v.iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (message, label, help) = match e.without_snippet() {
        E::SerdeUnknownField {
            field, expected, ..
        } => {
            let allowed: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
            let guess = crate::spec::schema::closest(field, &allowed)
                .map(|g| format!("did you mean `{g}`? "))
                .unwrap_or_default();
            (
                format!("unknown key `{field}`"),
                "not a scenario setting here".to_owned(),
                format!("{guess}the keys allowed here are {}", list(expected)),
            )
        }
        E::SerdeUnknownVariant {
            variant, expected, ..
        } => (
            format!("unknown value `{variant}`"),
            "not one of the allowed values".to_owned(),
            format!("use one of {}", list(expected)),
        ),
        E::SerdeMissingField { field, .. } => (
            format!("missing key `{field}`"),
            format!("`{field}` is required here"),
            format!("add `{field}:` (see docs/mock.md for the scenario format)"),
        ),
        E::SerdeInvalidType {
            unexpected,
            expected,
            ..
        }
        | E::SerdeInvalidValue {
            unexpected,
            expected,
            ..
        } => (
            format!("expected {expected}, found {unexpected}"),
            format!("expected {expected}"),
            "see docs/mock.md for the scenario format".to_owned(),
        ),
        E::InvalidScalar { ty: expected, .. } | E::Unexpected { expected, .. } => (
            format!("expected {}", kind_of(expected)),
            format!("not {}", kind_of(expected)),
            "see docs/mock.md for the scenario format".to_owned(),
        ),
        _ => {
            let message = first_line(e);
            let help = if message.contains("duration") {
                "write durations as `500ms`, `2s` or `1m30s`"
            } else {
                "see docs/mock.md for the scenario format"
            };
            (message, "here".to_owned(), help.to_owned())
        }
    };
    Diagnostic::new(Code::InvalidScenario, message)
        .with_label(file, range, label)
        .with_help(help)
}

/// Whether `s` is a UUID in the 8-4-4-4-12 hex form.
pub fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// serde helper: durations written as humantime strings (`500ms`, `2s`, `1m30s`).
mod duration {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(&s)
            .map_err(|_| serde::de::Error::custom(format!("invalid duration `{s}`")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_scenario_parses() {
        let s = Scenario::default_scenario();
        assert!(!s.connections.is_empty());
        assert_eq!(s.jobs.queued, Duration::ZERO);
    }

    #[test]
    fn default_matches_an_empty_file() {
        assert_eq!(Scenario::default(), Scenario::from_str("t", "{}").unwrap());
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_line_and_column() {
        let e = Scenario::from_str("t", "jobs:\n  duraton: 2s\n").unwrap_err();
        assert!(
            matches!(&e, ScenarioError::Invalid { message, .. } if message.starts_with("2:3: unknown key `duraton`")),
            "{e}"
        );
    }

    #[test]
    fn an_empty_file_is_the_default_scenario() {
        assert_eq!(Scenario::from_str("t", "").unwrap(), Scenario::default());
    }

    #[test]
    fn fault_actions_parse() {
        let s = Scenario::from_str(
            "t",
            "faults:\n  - action: drop\n  - operation: get-job\n    skip: 1\n    times: 2\n    action: { error: 503 }\n  - action: { rate-limit: { retry-after: 2s } }\n  - action: { latency: 150ms }\n",
        )
        .unwrap();
        assert_eq!(s.faults[0].action, FaultAction::Drop);
        assert_eq!(s.faults[1].action, FaultAction::Error(503));
        assert_eq!(s.faults[1].operation, Some(Operation::GetJob));
        assert_eq!(
            s.faults[2].action,
            FaultAction::RateLimit {
                retry_after: Duration::from_secs(2)
            }
        );
        assert_eq!(
            s.faults[3].action,
            FaultAction::Latency(Duration::from_millis(150))
        );
    }

    #[test]
    fn bad_ids_and_zero_attempts_are_rejected() {
        assert!(Scenario::from_str("t", "connections:\n  - { id: nope, name: x }\n").is_err());
        assert!(Scenario::from_str("t", "jobs: { attempts: 0 }\n").is_err());
    }

    #[test]
    fn seed_adds_missing_connections_only() {
        let mut s = Scenario::default();
        s.seed([("7C2B0000-0000-4000-8000-000000000001", "a")]);
        s.seed([("7c2b0000-0000-4000-8000-000000000001", "b")]);
        assert_eq!(s.connections.len(), 1);
        assert_eq!(s.connections[0].id, "7c2b0000-0000-4000-8000-000000000001");
    }
}

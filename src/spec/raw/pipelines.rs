//! Connections and pipelines: the Airbyte connections the spec names and the steps, checks and
//! notifications of each pipeline.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An Airbyte connection.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Connection {
    /// Name used in pipelines (DNS-1123 label).
    pub name: String,
    /// Airbyte connection UUID.
    pub id: String,
    /// Fewest records a sync must commit to pass validation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_records: Option<u64>,
}

/// A pipeline: steps run in order (with `after` dependencies).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Pipeline {
    /// Pipeline name (DNS-1123 label); also the Airflow `dag_id` and `dags/<name>.py`.
    pub name: String,
    /// Steps.
    pub steps: Vec<Step>,
    /// When Airflow runs the DAG: a 5-field cron expression (`0 3 * * *`), a preset (`@daily`,
    /// `@hourly`, `@weekly`, `@monthly`, `@quarterly`, `@yearly`, `@once`) or `none` (default:
    /// only when triggered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// First logical date of the DAG, `YYYY-MM-DD` (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    /// Airflow tags of the DAG.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Owner shown in Airflow (default `airguard`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Airflow retries of each task for transient API failures (5xx, 429, network; default 2).
    /// Validation failures and other 4xx answers are never retried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
}

/// Notifications sent by the rendered DAGs.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Notify {
    /// Post to Slack through an Airflow Slack webhook connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack: Option<SlackNotify>,
    /// Send mail through an Airflow SMTP connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailNotify>,
    /// Also notify when a DAG run succeeds (default: failures only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub on_success: bool,
}

/// A Slack notification target.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SlackNotify {
    /// Airflow connection id of a Slack incoming webhook (`slackwebhook` connection type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
}

/// An e-mail notification target.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct EmailNotify {
    /// Airflow connection id of the SMTP server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    /// Recipients.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
}

/// Data checks run after a sync: SQL checks on a table the connection writes, and/or a Python
/// callable.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Checks {
    /// Airflow connection id of the destination database (any `common.sql` connection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    /// The table to check (`schema.table`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// Fewest rows the table must hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_rows: Option<u64>,
    /// Column checks, by column name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub columns: BTreeMap<String, ColumnCheck>,
    /// A callable `module.function` importable by the workers, called with the sync's stats
    /// (for Great Expectations or any check airguard does not model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python: Option<String>,
}

/// Checks on one column.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ColumnCheck {
    /// Most NULL values allowed (`0`: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_nulls: Option<u64>,
    /// Smallest value allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Largest value allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

/// A pipeline step.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(untagged)]
pub enum Step {
    /// A bare step keyword: `health`.
    Keyword(StepKeyword),
    /// A step on a connection.
    Action(Box<StepAction>),
}

/// Steps without arguments.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum StepKeyword {
    /// Check the Airbyte API is healthy.
    Health,
}

/// What to do when a sync is already running.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum OnRunning {
    /// Wait for the running job instead.
    #[default]
    Attach,
    /// Skip the step (reported as skipped).
    Skip,
    /// Fail the step.
    Fail,
}

/// A step acting on one connection: exactly one of `sync`, `reset`, `clear`, `validate`, `check`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct StepAction {
    /// Trigger a sync of this connection and wait for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<String>,
    /// Reset this connection and wait for the reset job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset: Option<String>,
    /// Clear this connection (same job as reset, newer endpoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clear: Option<String>,
    /// Check the last sync of this connection committed at least `min-records`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate: Option<String>,
    /// Check the connection exists and is active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    /// Run only after the step on this connection succeeded (chained syncs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// Run only when this condition holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
    /// Policy when a sync of the connection already runs (default `attach`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_running: Option<OnRunning>,
    /// Override the connection's `min-records` for this step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_records: Option<u64>,
    /// Deadline for the job (Go duration, default `1h`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// How often the rendered DAG polls the job (Go duration, default `30s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_interval: Option<String>,
    /// How often the rendered DAG logs the job's progress (Go duration, default `2m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress_interval: Option<String>,
    /// Data checks after a sync (sync steps only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks: Option<Checks>,
}

/// A condition on a step.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Condition {
    /// The last successful sync of the step's connection is older than this duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_older_than: Option<String>,
    /// The previous step ended this way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<PreviousOutcome>,
}

/// Outcome of the previous step, for `when.previous`.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum PreviousOutcome {
    /// The previous step passed.
    Succeeded,
    /// The previous step failed.
    Failed,
}

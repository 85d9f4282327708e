//! The `airflow` section: executor, components, the connection Airflow uses to reach Airbyte, and
//! the metadata database (in-cluster or external, with PgBouncer's settings).

use super::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Airflow executor.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Executor {
    /// CeleryExecutor: Celery workers and Redis.
    #[default]
    Celery,
    /// KubernetesExecutor: one pod per task.
    Kubernetes,
    /// LocalExecutor: tasks run in the scheduler.
    Local,
}

/// An Airflow component that may call the Airbyte API.
#[derive(
    Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash, PartialOrd, Ord,
)]
#[serde(rename_all = "kebab-case")]
pub enum AirflowComponent {
    /// Whatever runs tasks: Celery workers, KubernetesExecutor task pods, or the scheduler with
    /// LocalExecutor (which runs tasks in the scheduler).
    Worker,
    /// The triggerer (deferrable operators and sensors).
    Triggerer,
    /// The scheduler (LocalExecutor tasks run here).
    Scheduler,
    /// The API server.
    ApiServer,
    /// The DAG processor.
    DagProcessor,
}

/// The Airflow installation (official apache-airflow chart, Airflow 3).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Airflow {
    /// Namespace Airflow runs in.
    pub namespace: String,
    /// Helm release name of Airflow.
    pub release: String,
    /// Executor: `celery` (default), `kubernetes` or `local`.
    #[serde(default)]
    pub executor: Executor,
    /// Airflow connection id for Airbyte (becomes `AIRFLOW_CONN_<ID>`).
    #[serde(default = "Airflow::default_connection_id")]
    pub connection_id: String,
    /// Components that call the Airbyte API and so get the connection and the network path.
    /// `worker` means whatever runs tasks, so the default suits every executor (with
    /// LocalExecutor it is the scheduler).
    #[serde(default = "Airflow::default_callers")]
    pub callers: Vec<AirflowComponent>,
    /// Per-request timeout of the Airflow connection's Airbyte API calls (Go duration, e.g.
    /// `30s`): the Airbyte provider's `timeout` extra (default: the provider's, 5 s per call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_timeout: Option<String>,
    /// Give the connection to every Airflow container (`secret[]`) instead of only the callers.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all_components: bool,
    /// Whether the chart's PgBouncer is enabled (components then reach the DB through it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pgbouncer: bool,
    /// Where the metadata database runs: `in-cluster` (default, the chart's bundled PostgreSQL)
    /// or `external` (its connection by secret reference, egress to its addresses).
    #[serde(default, skip_serializing_if = "AirflowDatabase::is_in_cluster")]
    pub database: AirflowDatabase,
}

/// Airflow's metadata database.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub enum AirflowDatabase {
    /// The chart's bundled PostgreSQL (`postgresql.enabled: true`).
    #[default]
    InCluster,
    /// A database outside the cluster (RDS, Cloud SQL, Azure Database): the chart reads its
    /// connection from the Secret External Secrets makes (`data.metadataSecretName`, key
    /// `connection`), and the components that use it get egress to `cidrs` on `port`.
    External(ExternalAirflowDatabase),
}

impl AirflowDatabase {
    fn is_in_cluster(&self) -> bool {
        *self == AirflowDatabase::InCluster
    }
}

/// An external Airflow metadata database.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ExternalAirflowDatabase {
    /// Host name of the database, for the reader (the connection carries the address Airflow
    /// uses; policies match addresses, so `cidrs` must contain it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Database port (default 5432).
    #[serde(default = "ExternalAirflowDatabase::default_port")]
    pub port: i64,
    /// Addresses of the database as CIDRs (`10.90.1.0/24`); the only ones the components that
    /// use it may reach.
    pub cidrs: Vec<String>,
    /// Remote key of the SQLAlchemy connection URL
    /// (`postgresql+psycopg2://user:password@host:5432/airflow`; `path#property` for one field of
    /// a JSON secret). With `airflow.pgbouncer`, the URL must name PgBouncer
    /// (`<release>-pgbouncer.<namespace>:6543/<release>-metadata`) and `pgbouncer-config` the
    /// PgBouncer settings that reach this database.
    pub connection: RemoteKey,
    /// With `airflow.pgbouncer`: remote keys of PgBouncer's `pgbouncer.ini` and `users.txt` (the
    /// chart's `pgbouncer.configSecretName`) and of the stats connection its metrics exporter
    /// reads (`pgbouncer.metricsExporterSidecar.statsSecretName`). The chart builds them from
    /// `data.metadataConnection` otherwise, which holds a password in values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pgbouncer_config: Option<PgbouncerConfig>,
    /// Must be `true` to allow a CIDR that spans the internet (as for every egress rule).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_internet: bool,
    /// Why this egress is needed; required with `allow-internet`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl ExternalAirflowDatabase {
    fn default_port() -> i64 {
        5432
    }
}

/// PgBouncer's own Secrets for an external metadata database, by remote key.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PgbouncerConfig {
    /// Remote key of the whole `pgbouncer.ini` (its `[databases]` section names the database).
    pub ini: RemoteKey,
    /// Remote key of `users.txt` (PgBouncer's auth file).
    pub users: RemoteKey,
    /// Remote key of the metrics exporter's connection URI
    /// (`postgresql://<stats user>:<password>@127.0.0.1:6543/pgbouncer?sslmode=disable`).
    pub stats_connection: RemoteKey,
}

impl Airflow {
    fn default_connection_id() -> String {
        "airbyte_default".into()
    }
    fn default_callers() -> Vec<AirflowComponent> {
        vec![AirflowComponent::Worker, AirflowComponent::Triggerer]
    }
}

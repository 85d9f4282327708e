//! The validated spec: what every other module consumes.
//!
//! A [`Model`] is built only by `spec::validate`, so holding one means every semantic rule held:
//! names are DNS-1123 labels, CIDRs are canonical, ports are in range, pipeline references
//! resolve. Types here are resolved (parsed CIDRs, durations, port ranges), not strings.
//! `origin` fields keep the JSON pointer of the spec entry a value came from, so rendered objects
//! can say which line of the spec they implement.

use ipnet::IpNet;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

pub use super::raw::{
    AirflowComponent, ApiFlavour, AuthKind, ChartProfile, CreationPolicy, DeletionPolicy, Executor,
    OnRunning, PreviousOutcome, Protocol, Provider, RefreshPolicy, SecretPersistence,
    StoreCondition, StoreKind,
};
// The secret store's provider settings are used as the spec states them (validation only checks
// them); other modules name them from here, never from `spec::raw`.
pub use super::raw::StorageKind;
pub use super::raw::{
    AwsAuth, AwsProvider, AwsService, AzureAuthType, AzureEnvironment, AzureProvider,
    CaProviderKind, GcpAuth, GcpAwsCredentials, GcpProvider, SecretKeyRef, SecretRef,
    ServiceAccountRef, VaultAuth, VaultCaProvider, VaultKvVersion, VaultProvider,
};

/// A validated airguard spec.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// Platform name.
    pub platform: String,
    /// Airbyte installation.
    pub airbyte: Airbyte,
    /// Airflow installation.
    pub airflow: Airflow,
    /// Ingress controller, if any.
    pub ingress: Option<Ingress>,
    /// Cluster DNS.
    pub dns: Dns,
    /// ESO settings.
    pub secrets: Secrets,
    /// Declared connections, in spec order.
    pub connections: Vec<Connection>,
    /// Declared pipelines, in spec order.
    pub pipelines: Vec<Pipeline>,
    /// How the pipelines run as Airflow DAGs (`render` writes `dags/`).
    pub dags: Dags,
    /// Metrics, alerts and dashboard, when the spec asks for them.
    pub observability: Option<Observability>,
}

/// Which Airbyte component serves the UI behind the ingress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UiComponent {
    /// The server serves the UI (chart v2, and v1 ≥ 1.7).
    Server,
    /// The separate nginx webapp (chart v1 < 1.7).
    Webapp,
}

/// The Airbyte installation.
#[derive(Clone, Debug, PartialEq)]
pub struct Airbyte {
    /// Namespace.
    pub namespace: String,
    /// Helm release name.
    pub release: String,
    /// Chart line.
    pub chart: ChartProfile,
    /// Chart version, if given.
    pub chart_version: Option<String>,
    /// Which component serves the UI.
    pub ui: UiComponent,
    /// Namespace of connector job pods.
    pub jobs_namespace: String,
    /// API endpoint.
    pub api: Api,
    /// Secret persistence.
    pub secret_persistence: SecretPersistence,
    /// Connector job egress.
    pub egress: Vec<Egress>,
    /// Connector registry egress.
    pub registry_egress: Vec<Egress>,
    /// Kubernetes API endpoint.
    pub kubernetes_api: Egress,
    /// The external database; `None` is the chart's in-cluster `airbyte-db`.
    pub database: Option<ExternalDatabase>,
    /// The external object storage; `None` is the chart's in-cluster MinIO.
    pub storage: Option<ExternalStorage>,
}

/// Airbyte's external PostgreSQL (`airbyte.database`).
#[derive(Clone, Debug, PartialEq)]
pub struct ExternalDatabase {
    /// Host name.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Database name.
    pub name: String,
    /// Remote key of the user.
    pub user: RemoteRef,
    /// Remote key of the password.
    pub password: RemoteRef,
    /// The networks and port the database's clients may reach (`origin` `/airbyte/database`).
    pub egress: Egress,
}

/// Airbyte's external object storage (`airbyte.storage` with `s3`, `gcs` or `azure`).
#[derive(Clone, Debug, PartialEq)]
pub struct ExternalStorage {
    /// `S3`, `Gcs` or `Azure` (never `Minio`).
    pub kind: StorageKind,
    /// Log bucket.
    pub log_bucket: String,
    /// State bucket.
    pub state_bucket: String,
    /// Workload output bucket.
    pub workload_output_bucket: String,
    /// Activity payload bucket (defaults to the log bucket).
    pub activity_payload_bucket: String,
    /// Audit logging bucket (chart V2; defaults to the log bucket).
    pub audit_logging_bucket: String,
    /// AWS region (S3).
    pub region: Option<String>,
    /// How the pods authenticate.
    pub auth: StorageAuth,
    /// The networks and ports storage clients may reach (`origin` `/airbyte/storage`).
    pub egress: Egress,
}

/// How Airbyte's pods authenticate to external object storage.
#[derive(Clone, Debug, PartialEq)]
pub enum StorageAuth {
    /// S3 access keys by reference.
    S3Keys {
        /// Access key id.
        access_key_id: RemoteRef,
        /// Secret access key.
        secret_access_key: RemoteRef,
    },
    /// S3 through the pods' workload identity (IRSA) or instance profile.
    WorkloadIdentity,
    /// A GCS service account key (JSON) by reference.
    GcsJson(RemoteRef),
    /// An Azure Storage connection string by reference.
    AzureConnectionString(RemoteRef),
}

/// Base path of the public Airbyte API on the server, the only API the Airflow provider speaks.
pub const PUBLIC_BASE_PATH: &str = "/api/public/v1";

/// The Airbyte API endpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct Api {
    /// Root URL without a trailing slash (`http://host:8001`).
    pub url: String,
    /// API flavour.
    pub flavour: ApiFlavour,
    /// Base path, starting with `/`, without a trailing slash (`/api/public/v1`).
    pub base_path: String,
    /// Authentication kind.
    pub auth: AuthKind,
    /// Token URL as given (relative to the base or absolute).
    pub token_url: String,
    /// Host part of `url`.
    pub host: String,
    /// Port of `url` (explicit or the scheme's default).
    pub port: u16,
}

impl Api {
    /// `url` + `base_path`, e.g. `http://host:8001/api/public/v1`.
    pub fn base_url(&self) -> String {
        format!("{}{}", self.url, self.base_path)
    }
}

/// An inclusive port range; `start == end` for a single port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortRange {
    /// First port.
    pub start: u16,
    /// Last port (inclusive).
    pub end: u16,
}

impl PortRange {
    /// A single port.
    pub const fn single(p: u16) -> Self {
        Self { start: p, end: p }
    }
}

/// An allowed egress destination.
#[derive(Clone, Debug, PartialEq)]
pub struct Egress {
    /// Name of the rule.
    pub name: String,
    /// Destination networks (one for connector rules; several for the Kubernetes API).
    pub cidrs: Vec<IpNet>,
    /// Blocked sub-networks (for single-CIDR rules).
    pub except: Vec<IpNet>,
    /// Ports; empty means all ports.
    pub ports: Vec<PortRange>,
    /// Protocol.
    pub protocol: Protocol,
    /// Written reason, if any.
    pub reason: Option<String>,
    /// JSON pointer of the spec entry.
    pub origin: String,
}

/// The Airflow installation.
#[derive(Clone, Debug, PartialEq)]
pub struct Airflow {
    /// Namespace.
    pub namespace: String,
    /// Helm release name.
    pub release: String,
    /// Executor.
    pub executor: Executor,
    /// Airflow connection id (`airbyte_default`).
    pub connection_id: String,
    /// Components that call Airbyte (deduplicated, ordered).
    pub callers: BTreeSet<AirflowComponent>,
    /// Per-request timeout of the connection (`timeout` extra).
    pub connection_timeout: Option<Duration>,
    /// Give the connection to every component.
    pub all_components: bool,
    /// PgBouncer enabled.
    pub pgbouncer: bool,
    /// External metadata database: the egress to it (`None`: the bundled PostgreSQL).
    pub external_database: Option<Egress>,
    /// Host of the external metadata database, as the spec names it.
    pub database_host: Option<String>,
    /// Remote key of the external metadata database's connection URL.
    pub metadata_connection: Option<RemoteRef>,
    /// PgBouncer's Secrets for an external database (with `pgbouncer`).
    pub pgbouncer_config: Option<PgbouncerConfig>,
}

/// PgBouncer's own Secrets for an external metadata database, by remote key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PgbouncerConfig {
    /// `pgbouncer.ini`.
    pub ini: RemoteRef,
    /// `users.txt`.
    pub users: RemoteRef,
    /// The metrics exporter's connection URI.
    pub stats_connection: RemoteRef,
}

impl Airflow {
    /// `AIRFLOW_CONN_<ID>`.
    pub fn conn_env_name(&self) -> String {
        format!("AIRFLOW_CONN_{}", self.connection_id.to_ascii_uppercase())
    }
}

/// Ingress controller.
#[derive(Clone, Debug, PartialEq)]
pub struct Ingress {
    /// Namespace.
    pub namespace: String,
    /// Pod labels.
    pub pod_labels: BTreeMap<String, String>,
    /// Also reach the Airflow UI.
    pub airflow_ui: bool,
}

/// Cluster DNS.
#[derive(Clone, Debug, PartialEq)]
pub struct Dns {
    /// Namespace of the DNS pods (unused when `cidrs` is set).
    pub namespace: String,
    /// Pod labels of the DNS pods (unused when `cidrs` is set).
    pub pod_labels: BTreeMap<String, String>,
    /// DNS by address (`dns.cidrs`, sorted, deduplicated): when not empty, DNS is these
    /// networks, not pods.
    pub cidrs: Vec<IpNet>,
    /// Port.
    pub port: u16,
}

/// A remote secret reference (`key#property`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteRef {
    /// Remote key (path).
    pub key: String,
    /// Property within the remote secret.
    pub property: Option<String>,
}

/// ESO store.
#[derive(Clone, Debug, PartialEq)]
pub struct Store {
    /// Kind.
    pub kind: StoreKind,
    /// Name.
    pub name: String,
    /// Conditions (ClusterSecretStore).
    pub conditions: Vec<StoreCondition>,
    /// Provider, as written (already checked for completeness).
    pub provider: Provider,
}

/// ESO settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Secrets {
    /// Store.
    pub store: Store,
    /// Refresh interval.
    pub refresh_interval: Duration,
    /// Refresh policy.
    pub refresh_policy: RefreshPolicy,
    /// Creation policy.
    pub creation_policy: CreationPolicy,
    /// Deletion policy.
    pub deletion_policy: DeletionPolicy,
    /// Airbyte client id / user.
    pub airbyte_client_id: Option<RemoteRef>,
    /// Airbyte client secret / password.
    pub airbyte_client_secret: Option<RemoteRef>,
    /// Airbyte bearer token.
    pub airbyte_token: Option<RemoteRef>,
    /// PostgreSQL password.
    pub postgres_password: Option<RemoteRef>,
    /// PostgreSQL user.
    pub postgres_user: Option<RemoteRef>,
    /// MinIO user.
    pub minio_user: Option<RemoteRef>,
    /// MinIO password.
    pub minio_password: Option<RemoteRef>,
    /// Airflow's fernet key.
    pub airflow_fernet_key: Option<RemoteRef>,
    /// Airflow's API secret key.
    pub airflow_api_secret_key: Option<RemoteRef>,
    /// Airflow's JWT secret.
    pub airflow_jwt_secret: Option<RemoteRef>,
}

/// An Airbyte connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    /// Name.
    pub name: String,
    /// UUID, lowercase.
    pub id: String,
    /// Minimum records.
    pub min_records: Option<u64>,
}

/// A pipeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Pipeline {
    /// Name.
    pub name: String,
    /// Steps, in spec order.
    pub steps: Vec<Step>,
}

/// What a step does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// API health.
    Health,
    /// Connection exists and is active.
    Check(String),
    /// Sync a connection.
    Sync(String),
    /// Reset a connection.
    Reset(String),
    /// Clear a connection.
    Clear(String),
    /// Validate the last sync's record count.
    Validate(String),
}

impl StepKind {
    /// The step's action as reports and task ids name it (`check` is `connection`).
    pub fn action(&self) -> &'static str {
        match self {
            StepKind::Health => "health",
            StepKind::Check(_) => "connection",
            StepKind::Sync(_) => "sync",
            StepKind::Reset(_) => "reset",
            StepKind::Clear(_) => "clear",
            StepKind::Validate(_) => "validate",
        }
    }

    /// The connection the step acts on, if any.
    pub fn connection(&self) -> Option<&str> {
        match self {
            StepKind::Health => None,
            StepKind::Check(c)
            | StepKind::Sync(c)
            | StepKind::Reset(c)
            | StepKind::Clear(c)
            | StepKind::Validate(c) => Some(c),
        }
    }
}

/// A step's condition.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Condition {
    /// Run only if the last successful sync is older than this.
    pub last_sync_older_than: Option<Duration>,
    /// Run only if the previous step ended this way.
    pub previous: Option<PreviousOutcome>,
}

/// A pipeline step.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// What it does.
    pub kind: StepKind,
    /// Connection whose step must succeed first.
    pub after: Option<String>,
    /// Condition.
    pub when: Option<Condition>,
    /// Policy when a sync already runs.
    pub on_running: OnRunning,
    /// Minimum records (step override, else the connection's).
    pub min_records: Option<u64>,
    /// Deadline for the job.
    pub timeout: Duration,
}

/// The Airflow side of the pipelines: what `render` needs for `dags/` beyond the steps.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dags {
    /// Notification targets.
    pub notify: Notify,
    /// One entry per pipeline, in the order (and with the names) of `Model::pipelines`.
    pub pipelines: Vec<PipelineDag>,
    /// The chart's git-sync, when the spec asks for it.
    pub git_sync: Option<GitSync>,
}

/// The chart's `dags.gitSync`, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct GitSync {
    /// Clone URL.
    pub repo: String,
    /// Branch.
    pub branch: String,
    /// Revision.
    pub rev: Option<String>,
    /// Sub-path of the rendered `dags/` in the repository.
    pub sub_path: Option<String>,
    /// Secret with `GIT_SYNC_USERNAME` / `GIT_SYNC_PASSWORD`.
    pub credentials_secret: Option<String>,
    /// Secret with `gitSshKey`.
    pub ssh_key_secret: Option<String>,
    /// Egress to the git host.
    pub egress: Egress,
}

/// Notification targets of the rendered DAGs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Notify {
    /// Airflow connection id of a Slack webhook.
    pub slack: Option<String>,
    /// SMTP connection id and recipients.
    pub email: Option<(String, Vec<String>)>,
    /// Also notify on success.
    pub on_success: bool,
}

/// A calendar date (UTC), checked to exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    /// Year.
    pub year: u16,
    /// Month, 1–12.
    pub month: u8,
    /// Day, 1–31.
    pub day: u8,
}

/// DAG-level settings of one pipeline.
#[derive(Clone, Debug, PartialEq)]
pub struct PipelineDag {
    /// Pipeline name (= `dag_id`).
    pub name: String,
    /// Cron expression or `@preset`; `None` for manual runs only.
    pub schedule: Option<String>,
    /// First logical date.
    pub start_date: Option<Date>,
    /// Tags.
    pub tags: Vec<String>,
    /// Owner.
    pub owner: String,
    /// Retries per task for transient failures.
    pub retries: u32,
    /// Per step, aligned with `Pipeline::steps`.
    pub steps: Vec<StepDag>,
}

/// Airflow-only settings of one step.
#[derive(Clone, Debug, PartialEq)]
pub struct StepDag {
    /// Poll interval of the wait.
    pub poll_interval: Duration,
    /// Progress log interval of the wait.
    pub progress_interval: Duration,
    /// Data checks after a sync.
    pub checks: Option<Checks>,
}

impl Default for StepDag {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(30),
            progress_interval: Duration::from_secs(120),
            checks: None,
        }
    }
}

/// Data checks after a sync.
#[derive(Clone, Debug, PartialEq)]
pub struct Checks {
    /// SQL checks on one table.
    pub sql: Option<SqlChecks>,
    /// `(module, function)` of a Python callable.
    pub python: Option<(String, String)>,
}

/// SQL checks on one table through `common.sql`.
#[derive(Clone, Debug, PartialEq)]
pub struct SqlChecks {
    /// Airflow connection id of the database.
    pub connection_id: String,
    /// Table.
    pub table: String,
    /// Fewest rows.
    pub min_rows: Option<u64>,
    /// Column checks, by column (sorted).
    pub columns: BTreeMap<String, ColumnCheck>,
}

pub use super::raw::ColumnCheck;

/// Metrics, alert rules and dashboard (`observability`).
#[derive(Clone, Debug, PartialEq)]
pub struct Observability {
    /// The Prometheus that scrapes the exporter.
    pub prometheus: Prometheus,
    /// The Grafana dashboard sidecar, if any.
    pub grafana: Option<Grafana>,
    /// Alert settings, defaults resolved.
    pub alerts: Alerts,
}

/// The Prometheus pods and the labels its operator selects rules by.
#[derive(Clone, Debug, PartialEq)]
pub struct Prometheus {
    /// Namespace of the Prometheus pods.
    pub namespace: String,
    /// Labels of the Prometheus pods.
    pub pod_labels: BTreeMap<String, String>,
    /// Labels put on the PrometheusRule.
    pub rule_labels: BTreeMap<String, String>,
    /// JSON pointer of the spec entry (`/observability/prometheus`).
    pub origin: String,
}

/// Grafana's dashboard sidecar.
#[derive(Clone, Debug, PartialEq)]
pub struct Grafana {
    /// Namespace of the dashboard ConfigMap.
    pub namespace: String,
    /// Labels the sidecar selects dashboards by.
    pub dashboard_labels: BTreeMap<String, String>,
}

/// Alert settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Alerts {
    /// Severity of a failed or cancelled sync.
    pub sync_failed: String,
    /// Severity of a sync with too few records.
    pub validation_failed: String,
    /// Severity of a connection without a recent success.
    pub stale: String,
    /// Severity of a slow sync.
    pub slow: String,
    /// Severity of a silent exporter or scheduler.
    pub absent: String,
    /// No successful sync for longer than this is stale.
    pub stale_after: Duration,
    /// A sync longer than this fraction of its step timeout is slow, in (0, 1].
    pub slow_fraction: f64,
}

/// Environment variable names that carry Airbyte API credentials. The rendered ExternalSecrets
/// produce exactly these keys, and `airguard conform` reads exactly these variables, so a pod
/// that mounts the Secret can run conformance checks with no extra wiring.
pub mod env {
    /// Airbyte API root URL (non-secret).
    pub const API_URL: &str = "AIRBYTE_API_URL";
    /// OAuth2 client id (client-credentials auth).
    pub const CLIENT_ID: &str = "AIRBYTE_API_CLIENT_ID";
    /// OAuth2 client secret (client-credentials auth).
    pub const CLIENT_SECRET: &str = "AIRBYTE_API_CLIENT_SECRET";
    /// User (basic auth).
    pub const USERNAME: &str = "AIRBYTE_API_USERNAME";
    /// Password (basic auth).
    pub const PASSWORD: &str = "AIRBYTE_API_PASSWORD";
    /// Bearer token (bearer auth).
    pub const TOKEN: &str = "AIRBYTE_API_TOKEN";
}

//! The spec as written: serde types for `airguard.yaml`, version 1.
//!
//! These types are closed (`deny_unknown_fields`) and kebab-case; the JSON Schema in
//! `schemas/airguard.schema.json` is generated from them (`cargo xtask codegen`) and a test fails
//! when it is stale. Values here are unchecked beyond their types: `spec::validate` turns them
//! into a [`crate::spec::Model`], collecting every semantic problem. No logic lives here.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An airguard spec: one file that declares how Airbyte and Airflow run side by side.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "airguard spec", extend("$id" = "https://airguard.dev/schemas/airguard.schema.json"))]
pub struct RawSpec {
    /// Spec format version. Only `1` exists.
    pub version: u32,
    /// The platform this spec describes.
    pub platform: Platform,
    /// The Airbyte installation.
    pub airbyte: Airbyte,
    /// The Airflow installation that calls Airbyte.
    pub airflow: Airflow,
    /// The ingress controller that fronts the Airbyte (and optionally Airflow) UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<Ingress>,
    /// Where cluster DNS runs. Every namespace airguard isolates gets egress to these pods only.
    #[serde(default = "Dns::default_value")]
    pub dns: Dns,
    /// External Secrets Operator store and the remote keys of every credential.
    pub secrets: Secrets,
    /// Airbyte connections the pipelines refer to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub connections: Vec<Connection>,
    /// Lifecycles `airguard conform` runs, step by step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pipelines: Vec<Pipeline>,
    /// Who the rendered Airflow DAGs tell when a run fails (see `docs/dags.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<Notify>,
    /// How the rendered DAGs reach Airflow (see `docs/dags.md`). Without it, deliver `dags/`
    /// yourself (a persistence volume or a baked image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dags: Option<DagsDelivery>,
    /// Sync metrics, alert rules and a Grafana dashboard (see `docs/observability.md`). When set,
    /// the Airflow chart's statsd exporter is turned on and Prometheus may scrape it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observability: Option<Observability>,
}

/// How the rendered `dags/` reach Airflow.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DagsDelivery {
    /// The chart's git-sync sidecar pulls the DAGs from a repository holding the rendered
    /// `dags/` (rendered into `dags.gitSync`, with the NetworkPolicy egress it needs).
    pub git_sync: GitSync,
}

/// The chart's `dags.gitSync`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GitSync {
    /// Clone URL: `https://host/org/repo.git`, `ssh://git@host/org/repo.git` or
    /// `git@host:org/repo.git`.
    pub repo: String,
    /// Branch to follow (default `main`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Revision to check out (default `HEAD` of the branch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rev: Option<String>,
    /// Directory of the repository that holds the rendered `dags/` files (becomes the DAG
    /// bundle root, so the DAG files find `airguard_airbyte.py`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_path: Option<String>,
    /// Secret (in the Airflow namespace) with `GITSYNC_USERNAME` and `GITSYNC_PASSWORD` (git-sync
    /// v4; `GIT_SYNC_*` for v3), for an HTTPS repository. The spec names it; airguard never reads
    /// it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret: Option<String>,
    /// Secret (in the Airflow namespace) with the SSH key `gitSshKey`, for an SSH repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh_key_secret: Option<String>,
    /// The git host's address and port: every pod that runs the git-sync sidecar gets egress to
    /// it.
    pub egress: EgressRule,
}

/// Platform-wide settings.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Platform {
    /// Name of the platform (DNS-1123 label); used in labels and object names.
    pub name: String,
}

/// Which Airbyte Helm chart line is deployed; decides pod labels, ports and flows.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum ChartProfile {
    /// The V1 chart (`airbytehq.github.io/helm-charts`): subcharts, `app.kubernetes.io/name` labels.
    V1,
    /// The V2 chart (`airbytehq.github.io/charts`): flat chart, `airbyte: <component>` labels.
    V2,
}

/// The Airbyte installation.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Airbyte {
    /// Namespace Airbyte runs in.
    pub namespace: String,
    /// Helm release name of Airbyte.
    pub release: String,
    /// Chart line: `v1` or `v2`.
    pub chart: ChartProfile,
    /// Chart version (`1.8.5`, `2.0.19`). For `v1` below 1.7 the UI is the separate webapp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart_version: Option<String>,
    /// Namespace connector job pods run in (default: the Airbyte namespace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jobs_namespace: Option<String>,
    /// How clients reach the Airbyte API.
    pub api: AirbyteApi,
    /// Where Airbyte keeps connector secrets. `config-db` (the OSS default) means job pods read
    /// the database, so they get egress to it.
    #[serde(default)]
    pub secret_persistence: SecretPersistence,
    /// The only destinations connector job pods may reach.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub egress: Vec<EgressRule>,
    /// Egress for the connector registry (server, worker, cron, bootloader fetch connector
    /// definitions). Leave empty on air-gapped installs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub registry_egress: Vec<EgressRule>,
    /// The Kubernetes API endpoint the workload-launcher creates job pods through.
    pub kubernetes_api: KubernetesApi,
    /// Airbyte's database. Absent: the chart's in-cluster `airbyte-db`. Given: an external
    /// PostgreSQL (RDS, Cloud SQL, Azure Database), reached at `cidrs` on `port`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<AirbyteDatabase>,
    /// Where Airbyte keeps logs, state and workload output. Absent: the chart's in-cluster MinIO.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<AirbyteStorage>,
}

/// An external PostgreSQL database for Airbyte (and its Temporal).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AirbyteDatabase {
    /// Host name of the database (what Airbyte connects to).
    pub host: String,
    /// Port (default 5432).
    #[serde(default = "AirbyteDatabase::default_port")]
    pub port: i64,
    /// Database name (chart V1 `global.database.database`, V2 `global.database.name`).
    pub name: String,
    /// Addresses the database answers on, as CIDRs: the only destinations the database's
    /// clients may reach for it.
    #[serde(default)]
    pub cidrs: Vec<String>,
    /// Remote key of the database user (`path#property`).
    pub user: RemoteKey,
    /// Remote key of the database password (`path#property`).
    pub password: RemoteKey,
}

impl AirbyteDatabase {
    fn default_port() -> i64 {
        5432
    }
}

/// Object storage kind.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum StorageKind {
    /// The chart's in-cluster MinIO (the default).
    Minio,
    /// Amazon S3.
    S3,
    /// Google Cloud Storage.
    Gcs,
    /// Azure Blob Storage.
    Azure,
}

/// Airbyte's object storage: logs, state and workload output.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AirbyteStorage {
    /// `minio` (in-cluster, the default), `s3`, `gcs` or `azure`.
    #[serde(rename = "type")]
    pub kind: StorageKind,
    /// Bucket (Azure: container) names, as the chart names them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buckets: Option<StorageBuckets>,
    /// AWS region of the S3 buckets (`s3` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Credentials by remote secret reference: `access-key-id` and `secret-access-key` (s3),
    /// `credentials-json` (gcs), `connection-string` (azure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<StorageCredentials>,
    /// Use the pods' workload identity instead of credentials (S3 through IRSA or the node's
    /// instance profile; the charts support no workload identity for GCS or Azure).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub workload_identity: bool,
    /// Addresses of the storage service, as CIDRs: the only destinations storage clients reach.
    #[serde(default)]
    pub cidrs: Vec<String>,
    /// Ports of the storage service (default 443).
    #[serde(default = "AirbyteStorage::default_ports")]
    pub ports: Vec<PortSpec>,
    /// Must be `true` to allow `0.0.0.0/0` or `::/0` (object stores rarely have fixed addresses).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_internet: bool,
    /// Why this egress is needed; required with `allow-internet`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl AirbyteStorage {
    fn default_ports() -> Vec<PortSpec> {
        vec![PortSpec::Single(443)]
    }
}

/// Bucket names (the chart's `global.storage.bucket.*`).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct StorageBuckets {
    /// Job logs (`bucket.log`).
    pub log: String,
    /// Connection state (`bucket.state`).
    pub state: String,
    /// Workload output (`bucket.workloadOutput`).
    pub workload_output: String,
    /// Activity payloads (`bucket.activityPayload`; default: the log bucket).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_payload: Option<String>,
    /// Audit logs (`bucket.auditLogging`, chart V2 only; default: the log bucket).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_logging: Option<String>,
}

/// Object storage credentials in the secret provider.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct StorageCredentials {
    /// Remote key of the S3 access key id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<RemoteKey>,
    /// Remote key of the S3 secret access key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_access_key: Option<RemoteKey>,
    /// Remote key of the GCS service account key (JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_json: Option<RemoteKey>,
    /// Remote key of the Azure Storage connection string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_string: Option<RemoteKey>,
}

/// Which API flavour airguard and Airflow talk to.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ApiFlavour {
    /// The public Airbyte API (`/api/public/v1`), the one the official clients use.
    #[default]
    Public,
    /// The internal Config API (`/api/v1`).
    Config,
}

/// How the Airbyte API authenticates.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum AuthKind {
    /// No authentication (auth disabled in the chart).
    None,
    /// HTTP Basic with a user and password.
    Basic,
    /// A fixed bearer token.
    Bearer,
    /// OAuth2 client credentials exchanged at the token endpoint.
    #[default]
    ClientCredentials,
}

/// The Airbyte API endpoint.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AirbyteApi {
    /// Root URL of the Airbyte server, without the API path
    /// (`http://airbyte-airbyte-server-svc.airbyte:8001`).
    pub url: String,
    /// API flavour: `public` (default) or `config`.
    #[serde(default)]
    pub flavour: ApiFlavour,
    /// API base path; defaults to `/api/public/v1` (public) or `/api/v1` (config).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_path: Option<String>,
    /// Authentication kind.
    #[serde(default)]
    pub auth: AuthKind,
    /// Token endpoint for client credentials, relative to the base path or absolute
    /// (default `applications/token` under the public base path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_url: Option<String>,
}

/// Where Airbyte stores connector secrets.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum SecretPersistence {
    /// In the Airbyte database (`TESTING_CONFIG_DB_TABLE`, the OSS default).
    #[default]
    ConfigDb,
    /// In an external secret manager configured in Airbyte itself.
    External,
}

/// Transport protocol of a rule.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    Deserialize,
    Serialize,
    JsonSchema,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Protocol {
    /// TCP.
    #[default]
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

impl Protocol {
    /// All protocols, in output order.
    pub const ALL: [Protocol; 3] = [Protocol::Tcp, Protocol::Udp, Protocol::Sctp];

    /// Parse `TCP`, `UDP` or `SCTP` (case-insensitive).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            "SCTP" => Some(Protocol::Sctp),
            _ => None,
        }
    }

    /// The protocol's name as Kubernetes writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

/// A port (`5432`) or an inclusive port range (`{from: 8000, to: 8010}`).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(untagged)]
pub enum PortSpec {
    /// One port.
    Single(i64),
    /// An inclusive range.
    Range(PortRange),
}

/// An inclusive port range.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PortRange {
    /// First port.
    pub from: i64,
    /// Last port (inclusive, at least `from`).
    pub to: i64,
}

/// One allowed external destination.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct EgressRule {
    /// Name of the destination (DNS-1123 label), unique in its list.
    pub name: String,
    /// Destination network in canonical CIDR form.
    pub cidr: String,
    /// Sub-networks of `cidr` that stay blocked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub except: Vec<String>,
    /// Destination ports; empty means every port (discouraged).
    pub ports: Vec<PortSpec>,
    /// Protocol of the ports (default TCP).
    #[serde(default)]
    pub protocol: Protocol,
    /// Must be `true` to allow `0.0.0.0/0` or `::/0`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_internet: bool,
    /// Why this egress is needed; required with `allow-internet`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The Kubernetes API endpoint, as seen from pods (after DNAT: the API servers' addresses).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct KubernetesApi {
    /// Addresses of the API servers, as CIDRs (`10.0.0.1/32`).
    pub cidrs: Vec<String>,
    /// API server ports (default 443 and 6443).
    #[serde(default = "KubernetesApi::default_ports")]
    pub ports: Vec<PortSpec>,
    /// Must be `true` to allow `0.0.0.0/0` or `::/0` (as for every egress rule).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_internet: bool,
    /// Why this egress is needed; required with `allow-internet`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl KubernetesApi {
    fn default_ports() -> Vec<PortSpec> {
        vec![PortSpec::Single(443), PortSpec::Single(6443)]
    }
}

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

/// The ingress controller.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Ingress {
    /// Namespace of the ingress controller.
    pub namespace: String,
    /// Labels of the controller pods.
    pub pod_labels: BTreeMap<String, String>,
    /// Also let the controller reach the Airflow UI (api-server).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub airflow_ui: bool,
}

/// Cluster DNS: the DNS pods by namespace and labels (the default, CoreDNS in `kube-system`),
/// or the addresses DNS is reached at (`cidrs`) — exactly one of the two.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Dns {
    /// Namespace of the DNS pods (default `kube-system`; `openshift-dns` on OpenShift). Not
    /// with `cidrs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Labels of the DNS pods (default `k8s-app: kube-dns`). Not with `cidrs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_labels: Option<BTreeMap<String, String>>,
    /// Addresses DNS is reached at instead of pods, as CIDRs: NodeLocal DNSCache's link-local
    /// `169.254.20.10/32`, or DNS servers outside the pod network. Not with `namespace` or
    /// `pod-labels`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidrs: Option<Vec<String>>,
    /// DNS port (53; 5353 on OpenShift's DNS pods).
    #[serde(default = "Dns::default_port")]
    pub port: i64,
}

impl Dns {
    /// The namespace of the DNS pods when `namespace` is not given.
    pub fn default_namespace() -> String {
        "kube-system".into()
    }
    /// The labels of the DNS pods when `pod-labels` is not given.
    pub fn default_labels() -> BTreeMap<String, String> {
        BTreeMap::from([("k8s-app".to_string(), "kube-dns".to_string())])
    }
    fn default_port() -> i64 {
        53
    }
    /// The upstream CoreDNS defaults.
    pub fn default_value() -> Self {
        Self {
            namespace: None,
            pod_labels: None,
            cidrs: None,
            port: 53,
        }
    }
}

/// External Secrets Operator settings.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Secrets {
    /// The store ExternalSecrets read from.
    pub store: Store,
    /// How often ESO re-reads the remote secrets (Go duration, e.g. `1h`).
    #[serde(default = "Secrets::default_refresh")]
    pub refresh_interval: String,
    /// When ESO refreshes: `periodic` (default), `created-once` or `on-change`.
    #[serde(default)]
    pub refresh_policy: RefreshPolicy,
    /// What ESO does with the target Secret it creates. Not applied to `airbyte-auth-secrets`,
    /// which Airbyte creates and fills with keys of its own: that one always uses `merge` with
    /// deletion policy `retain`.
    #[serde(default)]
    pub creation_policy: CreationPolicy,
    /// What ESO does with the target Secret when the remote secret is gone.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// Airbyte API client credentials (or basic/bearer credentials, per `airbyte.api.auth`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub airbyte: Option<AirbyteCredentials>,
    /// Airflow's own keys (fernet key, API secret key, JWT secret): External Secrets makes
    /// the Secret the chart reads, so the chart generates none of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub airflow: Option<AirflowKeys>,
    /// Password (and optionally user) of Airbyte's PostgreSQL database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postgres: Option<PasswordRef>,
    /// Credentials of Airbyte's MinIO.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minio: Option<MinioCredentials>,
}

impl Secrets {
    fn default_refresh() -> String {
        "1h".into()
    }
}

/// ESO refresh policy.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum RefreshPolicy {
    /// Refresh every `refresh-interval`.
    #[default]
    Periodic,
    /// Fetch once, never refresh.
    CreatedOnce,
    /// Refresh when the ExternalSecret changes.
    OnChange,
}

/// ESO target creation policy.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum CreationPolicy {
    /// ESO creates and owns the Secret.
    #[default]
    Owner,
    /// ESO creates the Secret but does not own it.
    Orphan,
    /// ESO merges into an existing Secret.
    Merge,
    /// ESO creates nothing.
    None,
    /// ESO creates the Secret or merges into it.
    CreateOrMerge,
}

/// ESO target deletion policy.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum DeletionPolicy {
    /// Keep the Secret.
    #[default]
    Retain,
    /// Delete the Secret.
    Delete,
    /// Remove only the keys ESO manages.
    Merge,
}

/// `SecretStore` or `ClusterSecretStore`.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum StoreKind {
    /// A namespaced store; airguard renders one in each namespace that needs secrets.
    SecretStore,
    /// A cluster-wide store.
    ClusterSecretStore,
}

/// The ESO store.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Store {
    /// Store kind.
    pub kind: StoreKind,
    /// Store name.
    pub name: String,
    /// Namespaces allowed to use a ClusterSecretStore (rendered as `conditions`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<StoreCondition>,
    /// The secret provider.
    pub provider: Provider,
}

/// One ClusterSecretStore condition.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct StoreCondition {
    /// Namespaces by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    /// Namespaces by label.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub namespace_labels: BTreeMap<String, String>,
}

/// Exactly one secret provider.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub enum Provider {
    /// AWS Secrets Manager or Parameter Store.
    Aws(AwsProvider),
    /// Azure Key Vault.
    Azurekv(AzureProvider),
    /// HashiCorp Vault.
    Vault(VaultProvider),
    /// Google Cloud Secret Manager.
    Gcpsm(GcpProvider),
}

/// A reference to a key of a Kubernetes Secret (never the value).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SecretKeyRef {
    /// Secret name.
    pub name: String,
    /// Key in the Secret.
    pub key: String,
    /// Namespace of the Secret (required with a ClusterSecretStore).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// A reference to a Kubernetes ServiceAccount.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ServiceAccountRef {
    /// ServiceAccount name.
    pub name: String,
    /// Namespace (required with a ClusterSecretStore).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// A reference to a Kubernetes Secret as a whole (its keys are fixed by the consumer).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SecretRef {
    /// Secret name.
    pub name: String,
    /// Namespace of the Secret (required with a ClusterSecretStore).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// AWS service.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum AwsService {
    /// AWS Secrets Manager.
    #[default]
    SecretsManager,
    /// SSM Parameter Store.
    ParameterStore,
}

/// AWS provider.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AwsProvider {
    /// `SecretsManager` (default) or `ParameterStore`.
    #[serde(default)]
    pub service: AwsService,
    /// AWS region.
    pub region: String,
    /// IAM role ARN to assume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// External ID the assumed `role`'s trust policy requires (`externalID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Role ARNs assumed in order before `role` (`additionalRoles`, role chaining).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_roles: Vec<String>,
    /// Prefix ESO puts before every remote key (`prefix`), e.g. `prod/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// How ESO authenticates; absent means the SDK default chain (pod identity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<AwsAuth>,
}

/// AWS authentication.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case"
)]
pub enum AwsAuth {
    /// IRSA: a ServiceAccount's projected token.
    Jwt {
        /// The ServiceAccount.
        service_account: ServiceAccountRef,
    },
    /// Static keys from a Secret.
    SecretRef {
        /// Access key id.
        access_key_id: SecretKeyRef,
        /// Secret access key.
        secret_access_key: SecretKeyRef,
    },
}

/// Azure Key Vault authentication type.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum AzureAuthType {
    /// Workload identity (federated ServiceAccount).
    #[default]
    WorkloadIdentity,
    /// Managed identity of the node.
    ManagedIdentity,
    /// A service principal's client id and secret.
    ServicePrincipal,
}

/// Azure Key Vault provider.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AzureProvider {
    /// `https://<name>.vault.azure.net`.
    pub vault_url: String,
    /// Authentication type.
    #[serde(default)]
    pub auth_type: AzureAuthType,
    /// Tenant id (required for service-principal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// ServiceAccount (workload-identity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<ServiceAccountRef>,
    /// Managed identity id (managed-identity, optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_id: Option<String>,
    /// Client id (service-principal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<SecretKeyRef>,
    /// Client secret (service-principal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<SecretKeyRef>,
    /// Azure cloud (`environmentType`): `public-cloud` (default), `us-government-cloud`,
    /// `china-cloud` or `german-cloud`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_type: Option<AzureEnvironment>,
}

/// Azure cloud environment.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum AzureEnvironment {
    /// Azure public cloud.
    PublicCloud,
    /// Azure US Government.
    UsGovernmentCloud,
    /// Azure China (21Vianet).
    ChinaCloud,
    /// Azure Germany (retired by Microsoft; for existing vaults).
    GermanCloud,
}

/// Vault KV version.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum VaultKvVersion {
    /// KV v1.
    V1,
    /// KV v2 (default).
    #[default]
    V2,
}

/// HashiCorp Vault provider.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct VaultProvider {
    /// Vault address (`https://vault.example.com:8200`).
    pub server: String,
    /// KV mount path (`secret`).
    pub path: String,
    /// KV version.
    #[serde(default)]
    pub version: VaultKvVersion,
    /// Vault Enterprise namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Base64 of the PEM CA bundle that signs the Vault server's certificate (`caBundle`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<String>,
    /// The CA bundle from a Secret or ConfigMap key instead (`caProvider`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_provider: Option<VaultCaProvider>,
    /// Authentication.
    pub auth: VaultAuth,
}

/// Where Vault's CA bundle is kept.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct VaultCaProvider {
    /// `secret` or `config-map`.
    #[serde(rename = "type")]
    pub kind: CaProviderKind,
    /// Name of the Secret or ConfigMap.
    pub name: String,
    /// Key holding the PEM bundle.
    pub key: String,
    /// Namespace (required with a ClusterSecretStore).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// The kind of object holding a CA bundle.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum CaProviderKind {
    /// A Secret.
    Secret,
    /// A ConfigMap.
    ConfigMap,
}

/// Vault authentication.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case"
)]
pub enum VaultAuth {
    /// Kubernetes auth method.
    Kubernetes {
        /// Mount path of the auth method (default `kubernetes`).
        #[serde(default = "VaultAuth::default_mount")]
        mount_path: String,
        /// Vault role.
        role: String,
        /// ServiceAccount whose token is presented (default: the controller's own).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        service_account: Option<ServiceAccountRef>,
    },
    /// A token stored in a Secret.
    Token {
        /// The token's Secret key.
        secret_ref: SecretKeyRef,
    },
    /// AppRole.
    AppRole {
        /// Mount path (default `approle`).
        #[serde(default = "VaultAuth::default_approle")]
        path: String,
        /// Role id.
        role_id: String,
        /// Secret id's Secret key.
        secret_ref: SecretKeyRef,
    },
    /// JWT/OIDC auth: a JWT from a Secret key, or a token requested for a ServiceAccount.
    Jwt {
        /// Mount path (default `jwt`).
        #[serde(default = "VaultAuth::default_jwt")]
        path: String,
        /// Vault role.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<String>,
        /// A Secret key holding the JWT.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret_ref: Option<SecretKeyRef>,
        /// A ServiceAccount whose token ESO requests (`kubernetesServiceAccountToken`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        service_account: Option<ServiceAccountRef>,
        /// Audiences of the requested ServiceAccount token (`service-account` only).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        audiences: Vec<String>,
    },
    /// TLS certificate auth: a client certificate and its private key from Secrets.
    Cert {
        /// Mount path (default `cert`).
        #[serde(default = "VaultAuth::default_cert")]
        path: String,
        /// Vault role (`vaultRole`; default: any role the certificate matches).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<String>,
        /// The client certificate's Secret key.
        client_cert: SecretKeyRef,
        /// The private key's Secret key.
        secret_ref: SecretKeyRef,
    },
    /// Username and password.
    UserPass {
        /// Mount path (default `userpass`).
        #[serde(default = "VaultAuth::default_userpass")]
        path: String,
        /// User name.
        username: String,
        /// The password's Secret key.
        secret_ref: SecretKeyRef,
    },
}

impl VaultAuth {
    fn default_mount() -> String {
        "kubernetes".into()
    }
    fn default_approle() -> String {
        "approle".into()
    }
    fn default_jwt() -> String {
        "jwt".into()
    }
    fn default_cert() -> String {
        "cert".into()
    }
    fn default_userpass() -> String {
        "userpass".into()
    }
}

/// Google Cloud Secret Manager provider.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GcpProvider {
    /// GCP project id.
    pub project_id: String,
    /// Location for regional secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Authentication; absent means the controller's default credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<GcpAuth>,
}

/// GCP authentication.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case"
)]
pub enum GcpAuth {
    /// GKE workload identity.
    WorkloadIdentity {
        /// The ServiceAccount.
        service_account: ServiceAccountRef,
        /// Cluster location.
        cluster_location: String,
        /// Cluster name.
        cluster_name: String,
        /// Cluster project id (default: `project-id`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cluster_project_id: Option<String>,
    },
    /// A service-account JSON key stored in a Secret.
    SecretRef {
        /// The key's Secret key.
        secret_access_key: SecretKeyRef,
    },
    /// Workload identity federation: exchange an external token at Google's STS (any cluster,
    /// not only GKE). Exactly one token source: `service-account`, `cred-config` or
    /// `aws-security-credentials`.
    WorkloadIdentityFederation {
        /// STS audience (the workload identity pool provider); required with `service-account`
        /// or `aws-security-credentials`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        audience: Option<String>,
        /// A Kubernetes ServiceAccount whose token is exchanged (cluster as identity provider).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        service_account: Option<ServiceAccountRef>,
        /// A ConfigMap key holding the external account credential configuration (JSON).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cred_config: Option<SecretKeyRef>,
        /// AWS credentials (Secret with `aws_access_key_id`, `aws_secret_access_key`,
        /// `aws_session_token`) and region, when the AWS metadata server is not available.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        aws_security_credentials: Option<GcpAwsCredentials>,
        /// Endpoint that serves the external tokens, checked against `credential_source.url`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        external_token_endpoint: Option<String>,
        /// Google service account to impersonate after the exchange.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gcp_service_account_email: Option<String>,
    },
}

/// AWS credentials for GCP workload identity federation.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GcpAwsCredentials {
    /// The Secret with the AWS keys.
    pub secret: SecretRef,
    /// AWS region.
    pub region: String,
}

/// A remote secret reference: `path/to/secret#property` (property optional).
pub type RemoteKey = String;

/// Airbyte API credentials in the secret provider.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AirbyteCredentials {
    /// Client id (client-credentials) or user (basic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<RemoteKey>,
    /// Client secret (client-credentials) or password (basic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<RemoteKey>,
    /// Bearer token (bearer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<RemoteKey>,
}

/// Airflow's own keys in the secret provider. Each one set is managed; each one left out the
/// chart generates (and regenerates on `helm upgrade`, for the JWT secret).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AirflowKeys {
    /// Remote key of the fernet key that encrypts connections and variables in the metadata
    /// database (`fernetKeySecretName`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fernet_key: Option<RemoteKey>,
    /// Remote key of the API server's secret key, `[api] secret_key` (`apiSecretKeySecretName`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_secret_key: Option<RemoteKey>,
    /// Remote key of the JWT signing secret, `[api_auth] jwt_secret` (`jwtSecretName`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_secret: Option<RemoteKey>,
}

/// A password in the secret provider.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PasswordRef {
    /// Remote key of the password.
    pub password: RemoteKey,
    /// Remote key of the user name (`path#property`, optional). Chart V2 reads `DATABASE_USER`
    /// from the Secret named by `global.database.secretName`, so set it there; chart V1 reads it
    /// only when `global.database.userSecretKey` is set, otherwise from `global.database.user`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<RemoteKey>,
}

/// MinIO credentials in the secret provider.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MinioCredentials {
    /// Remote key of the access key id (root user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<RemoteKey>,
    /// Remote key of the secret key (root password).
    pub password: RemoteKey,
}

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

/// Sync metrics, alerts and dashboard.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Observability {
    /// The Prometheus that scrapes the statsd exporter and evaluates the rules.
    pub prometheus: PrometheusSettings,
    /// Where the Grafana dashboard ConfigMap goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grafana: Option<GrafanaSettings>,
    /// Alert thresholds and severities.
    #[serde(default)]
    pub alerts: AlertSettings,
}

/// The Prometheus (for example kube-prometheus-stack's) that scrapes the exporter.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PrometheusSettings {
    /// Namespace the Prometheus pods run in (not one airguard isolates).
    pub namespace: String,
    /// Labels of the Prometheus pods; only they may scrape the exporter.
    pub pod_labels: BTreeMap<String, String>,
    /// Labels of the PrometheusRule the operator selects rules by
    /// (`release: kube-prometheus-stack`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rule_labels: BTreeMap<String, String>,
}

/// Grafana's dashboard sidecar.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GrafanaSettings {
    /// Namespace of the dashboard ConfigMap (where the sidecar looks).
    pub namespace: String,
    /// Labels the sidecar selects dashboards by (default `grafana_dashboard: "1"`).
    #[serde(default = "GrafanaSettings::default_labels")]
    pub dashboard_labels: BTreeMap<String, String>,
}

impl GrafanaSettings {
    fn default_labels() -> BTreeMap<String, String> {
        BTreeMap::from([("grafana_dashboard".to_string(), "1".to_string())])
    }
}

/// Alert thresholds.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AlertSettings {
    /// Severity label of each alert.
    #[serde(default)]
    pub severity: AlertSeverities,
    /// Alert when a connection has had no successful sync for this long (Go duration; default
    /// `26h`, or the longest gap between two runs of a pipeline's `schedule` plus 2h when that is
    /// longer). Must be longer than any such gap and any `when.last-sync-older-than` or
    /// `timeout` of a step syncing it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale_after: Option<String>,
    /// Alert when a sync took longer than this fraction of its step's `timeout` (default `0.8`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow_fraction: Option<f64>,
}

/// The `severity` label of each alert.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AlertSeverities {
    /// A sync failed or was cancelled (default `critical`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_failed: Option<String>,
    /// A sync committed fewer records than its minimum (default `warning`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_failed: Option<String>,
    /// No successful sync for longer than `stale-after` (default `warning`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale: Option<String>,
    /// A sync ran longer than `slow-fraction` of its timeout (default `warning`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow: Option<String>,
    /// The statsd exporter or the scheduler reports nothing (default `critical`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absent: Option<String>,
}

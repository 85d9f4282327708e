//! The `airbyte` section: chart line, namespaces, the API airguard and Airflow call, secret
//! persistence, and the external database and object storage of production layouts.

use super::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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

//! The contract between Airbyte's chart values and the ExternalSecrets, in one home: the names
//! of the Secrets the chart reads (`airbyte-auth-secrets`, `airbyte-config-secrets`) and the key
//! of every credential in them, per chart line. `external_secret` writes those keys and
//! `airbyte_values` points the chart at them (`global.database.*SecretKey`,
//! `global.storage.*SecretKey`), both from here, so the two cannot drift apart.

use crate::spec::model::{ChartProfile, CreationPolicy, DeletionPolicy, StorageKind};

/// The Secret for the Airbyte instance-admin application (API client id and secret).
///
/// Both chart lines read it in the community edition: V2 `templates/config/_auth.tpl`
/// (`global.auth.managedSecretName`, default `airbyte-auth-secrets`, keys
/// `instance-admin-client-id`, `instance-admin-client-secret`, `instance-admin-password`); V1
/// `charts/airbyte-server/templates/deployment.yaml` (edition `community` with
/// `global.auth.enabled`: `AB_INSTANCE_ADMIN_PASSWORD`/`_CLIENT_ID`/`_CLIENT_SECRET` from
/// `global.auth.secretName`, default `airbyte-auth-secrets`, keys
/// `global.auth.instanceAdmin.{password,clientId,clientSecret}SecretKey` with the same defaults).
/// V1's `global.auth.instanceAdmin.secretName` (default `airbyte-config-secrets`, keys
/// `instance-admin-email`/`instance-admin-password`) is read only by the pro/enterprise editions
/// (`charts/airbyte/templates/_enterprise.tpl`, `INITIAL_USER_EMAIL`/`INITIAL_USER_PASSWORD`).
///
/// Airbyte creates this Secret on install and keeps keys of its own in it
/// (`jwt-signature-secret`, `dataplane-client-*`), so its ExternalSecret always merges
/// ([`AUTH_CREATION_POLICY`], [`AUTH_DELETION_POLICY`]).
pub const AIRBYTE_AUTH_SECRET_NAME: &str = "airbyte-auth-secrets";

/// Creation policy of the `airbyte-auth-secrets` ExternalSecret, whatever
/// `secrets.creation-policy` says: `Owner` would drop Airbyte's own keys on every refresh. The
/// spec field has a serde default, so an explicit `owner` cannot be told from an omitted one.
pub const AUTH_CREATION_POLICY: CreationPolicy = CreationPolicy::Merge;

/// Deletion policy of the `airbyte-auth-secrets` ExternalSecret (ESO forbids `Delete` with
/// `Merge`; `Retain` leaves Airbyte's Secret alone when the remote keys go).
pub const AUTH_DELETION_POLICY: DeletionPolicy = DeletionPolicy::Retain;

/// The Secret for Airbyte's database and MinIO credentials. The name is the one Airbyte's docs
/// recommend ("Preconfiguring Kubernetes Secrets", docs.airbyte.com/deploying-airbyte/creating-secrets);
/// the chart must be told to read it with `global.database.secretName` and
/// `global.storage.secretName` (V1 `charts/airbyte/templates/_database.tpl` and `_storage.tpl`;
/// V2 `charts/v2/airbyte/templates/config/_database.tpl` and `_storage.tpl`, airbyte-platform).
/// The chart's own `<release>-airbyte-secrets` is a Helm hook Secret the chart rewrites, so ESO
/// must not own it.
pub const AIRBYTE_CONFIG_SECRET_NAME: &str = "airbyte-config-secrets";

/// Keys the Airbyte chart profile expects in its credential Secrets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChartKeys {
    /// Database user (`global.database.userSecretKey` default `DATABASE_USER`; both lines).
    pub database_user: &'static str,
    /// Database password (`global.database.passwordSecretKey` default; both lines).
    pub database_password: &'static str,
    /// Read-replica user and password keys that chart V2 (2.1+) also reads from the database
    /// Secret (`_database.tpl` `CONFIG_DATABASE_REPLICA_USER`/`_PASSWORD`; the chart's default
    /// values are the primary user and password); none for V1.
    pub database_replica: Option<(&'static str, &'static str)>,
    /// MinIO access key id (V1 `_storage.tpl` `airbyte.storage.minio.envs` default
    /// `MINIO_ACCESS_KEY_ID`; V2 `_storage.tpl` `global.storage.minio.accessKeyIdSecretKey`
    /// default `AWS_ACCESS_KEY_ID`, also read by V2 `_minio.tpl` as `MINIO_ROOT_USER`).
    pub minio_access_key_id: &'static str,
    /// MinIO secret key (V1 `MINIO_SECRET_ACCESS_KEY`; V2 `AWS_SECRET_ACCESS_KEY`, also
    /// `MINIO_ROOT_PASSWORD`).
    pub minio_secret_access_key: &'static str,
    /// Instance-admin client id (`instance-admin-client-id`).
    pub client_id: &'static str,
    /// Instance-admin client secret (`instance-admin-client-secret`).
    pub client_secret: &'static str,
    /// Instance-admin password (`instance-admin-password`), used for basic auth.
    pub admin_password: &'static str,
}

impl ChartKeys {
    /// The keys for a chart line.
    pub const fn for_chart(chart: ChartProfile) -> Self {
        let (id, secret) = match chart {
            ChartProfile::V1 => ("MINIO_ACCESS_KEY_ID", "MINIO_SECRET_ACCESS_KEY"),
            ChartProfile::V2 => ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
        };
        let replica = match chart {
            ChartProfile::V1 => None,
            ChartProfile::V2 => Some((
                "CONFIG_DATABASE_REPLICA_USER",
                "CONFIG_DATABASE_REPLICA_PASSWORD",
            )),
        };
        Self {
            database_user: "DATABASE_USER",
            database_password: "DATABASE_PASSWORD",
            database_replica: replica,
            minio_access_key_id: id,
            minio_secret_access_key: secret,
            client_id: "instance-admin-client-id",
            client_secret: "instance-admin-client-secret",
            admin_password: "instance-admin-password",
        }
    }
}

/// Keys of the external object storage's credentials in [`AIRBYTE_CONFIG_SECRET_NAME`]. The
/// rendered values name each key explicitly (`global.storage.s3.accessKeyIdSecretKey` and
/// friends), because the charts' defaults differ (V1 `_storage.tpl`: `s3-access-key-id`; V2
/// `_storage.tpl`: `AWS_ACCESS_KEY_ID`) and V1 has no default for Azure.
pub mod storage_key {
    /// S3 access key id (`global.storage.s3.accessKeyIdSecretKey`).
    pub const S3_ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
    /// S3 secret access key (`global.storage.s3.secretAccessKeySecretKey`).
    pub const S3_SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
    /// Azure Storage connection string (`global.storage.azure.connectionStringSecretKey`).
    pub const AZURE_CONNECTION_STRING: &str = "AZURE_STORAGE_CONNECTION_STRING";
    /// GCS service account key, chart V2 (`global.storage.gcs.credentialsJsonSecretKey`): read
    /// into `GOOGLE_APPLICATION_CREDENTIALS_JSON` and mounted as `gcp.json` (the server,
    /// worker, workload-api-server and launcher deployments' `gcs-log-creds-volume` items).
    pub const GCS_CREDENTIALS_JSON: &str = "GOOGLE_APPLICATION_CREDENTIALS_JSON";
    /// GCS service account key, chart V1: the deployments mount the whole Secret named by
    /// `global.storage.storageSecretName` at `/secrets/gcs-log-creds`, and the chart's own
    /// Secret keys it `gcp.json` (`_storage.tpl`), the file `GOOGLE_APPLICATION_CREDENTIALS`
    /// names. Not configurable by a values key.
    pub const GCS_CREDENTIALS_FILE: &str = "gcp.json";
}

/// The storage credential keys a storage type needs in [`AIRBYTE_CONFIG_SECRET_NAME`], per chart
/// line, in the order they are written: `(values key under global.storage, Secret key)`. The
/// values key is `None` for a key the chart reads under a fixed name.
pub fn storage_keys(
    chart: ChartProfile,
    kind: StorageKind,
) -> Vec<(Option<&'static str>, &'static str)> {
    use storage_key as k;
    match (kind, chart) {
        (StorageKind::S3, _) => vec![
            (Some("s3.accessKeyIdSecretKey"), k::S3_ACCESS_KEY_ID),
            (Some("s3.secretAccessKeySecretKey"), k::S3_SECRET_ACCESS_KEY),
        ],
        (StorageKind::Azure, _) => vec![(
            Some("azure.connectionStringSecretKey"),
            k::AZURE_CONNECTION_STRING,
        )],
        (StorageKind::Gcs, ChartProfile::V1) => vec![(None, k::GCS_CREDENTIALS_FILE)],
        (StorageKind::Gcs, ChartProfile::V2) => {
            vec![(
                Some("gcs.credentialsJsonSecretKey"),
                k::GCS_CREDENTIALS_JSON,
            )]
        }
        (StorageKind::Minio, _) => Vec::new(),
    }
}

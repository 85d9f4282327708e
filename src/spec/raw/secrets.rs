//! The `secrets` section: the External Secrets Operator store and its policies.

use super::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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

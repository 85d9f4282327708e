//! Remote references of the credentials airguard syncs: Airbyte's API, Airflow's own keys, the
//! in-cluster database and MinIO.

use super::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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

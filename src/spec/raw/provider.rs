//! The secret store's providers as ESO v1 spells them: AWS, Azure, Vault and GCP, with their auth
//! methods and options.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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

//! The closed serde model of the ESO objects airguard emits, used to parse every rendered
//! document back. Unknown fields are errors, so a template typo cannot slip through.

use super::check_policies;
use crate::spec::model::{CreationPolicy as C, DeletionPolicy as D, Model};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Object metadata.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// Name.
    pub name: String,
    /// Namespace (absent for cluster-scoped objects).
    pub namespace: Option<String>,
}

/// An `external-secrets.io/v1` ExternalSecret (the emitted subset).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExternalSecret {
    /// `external-secrets.io/v1`.
    pub api_version: String,
    /// `ExternalSecret`.
    pub kind: String,
    /// Metadata.
    pub metadata: Metadata,
    /// Spec.
    pub spec: ExternalSecretSpec,
}

/// ExternalSecret spec.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExternalSecretSpec {
    /// Go duration.
    pub refresh_interval: String,
    /// Refresh policy.
    pub refresh_policy: ExternalSecretRefreshPolicy,
    /// Store reference.
    pub secret_store_ref: StoreRef,
    /// Target Secret.
    pub target: Target,
    /// Remote keys.
    pub data: Vec<Data>,
}

/// Refresh policy.
#[derive(Debug, Deserialize, PartialEq, Eq)]
pub enum ExternalSecretRefreshPolicy {
    /// Periodic.
    Periodic,
    /// Created once.
    CreatedOnce,
    /// On change.
    OnChange,
}

/// Store reference.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreRef {
    /// `SecretStore` or `ClusterSecretStore`.
    pub kind: String,
    /// Store name.
    pub name: String,
}

/// Target Secret.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Target {
    /// Secret name.
    pub name: String,
    /// Creation policy.
    pub creation_policy: ExternalSecretCreationPolicy,
    /// Deletion policy.
    pub deletion_policy: ExternalSecretDeletionPolicy,
    /// Template.
    pub template: Option<Template>,
}

/// Creation policy.
#[derive(Debug, Deserialize, Clone, Copy)]
pub enum ExternalSecretCreationPolicy {
    /// Owner.
    Owner,
    /// Orphan.
    Orphan,
    /// Merge.
    Merge,
    /// None.
    None,
    /// CreateOrMerge.
    CreateOrMerge,
}

/// Deletion policy.
#[derive(Debug, Deserialize, Clone, Copy)]
pub enum ExternalSecretDeletionPolicy {
    /// Delete.
    Delete,
    /// Merge.
    Merge,
    /// Retain.
    Retain,
}

/// Target template.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Template {
    /// `v2`.
    pub engine_version: String,
    /// `Replace`.
    pub merge_policy: String,
    /// Secret type.
    #[serde(rename = "type")]
    pub type_: String,
    /// Key → Go template.
    pub data: BTreeMap<String, String>,
}

/// One remote key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Data {
    /// Key in the target Secret.
    pub secret_key: String,
    /// Remote reference.
    pub remote_ref: ExternalSecretDataRemoteRef,
}

/// Remote reference.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalSecretDataRemoteRef {
    /// Remote key.
    pub key: String,
    /// Property.
    pub property: Option<String>,
}

/// A SecretStore or ClusterSecretStore (the emitted subset).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecretStore {
    /// `external-secrets.io/v1`.
    pub api_version: String,
    /// Kind.
    pub kind: String,
    /// Metadata.
    pub metadata: Metadata,
    /// Spec.
    pub spec: StoreSpec,
}

/// Store spec.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSpec {
    /// Namespace conditions (ClusterSecretStore).
    pub conditions: Option<Vec<Condition>>,
    /// Exactly one provider.
    pub provider: BTreeMap<String, Provider>,
}

/// A ClusterSecretStore condition.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Condition {
    /// Namespaces.
    pub namespaces: Option<Vec<String>>,
    /// Selector.
    pub namespace_selector: Option<Selector>,
}

/// Label selector.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Selector {
    /// Labels.
    pub match_labels: BTreeMap<String, String>,
}

/// Any provider block: the union of the fields airguard emits for aws, azurekv, vault and
/// gcpsm. The provider-specific shape is checked against the CRD schema in the tests.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Provider {
    // aws
    /// AWS service.
    pub service: Option<String>,
    /// AWS region.
    pub region: Option<String>,
    /// AWS role.
    pub role: Option<String>,
    /// AWS external ID of the assumed role.
    #[serde(rename = "externalID")]
    pub external_id: Option<String>,
    /// AWS roles assumed before `role`.
    pub additional_roles: Option<Vec<String>>,
    /// AWS remote-key prefix.
    pub prefix: Option<String>,
    // azurekv
    /// Vault URL.
    pub vault_url: Option<String>,
    /// Auth type.
    pub auth_type: Option<String>,
    /// Tenant.
    pub tenant_id: Option<String>,
    /// Managed identity.
    pub identity_id: Option<String>,
    /// Workload identity SA.
    pub service_account_ref: Option<Ref>,
    /// Service principal.
    pub auth_secret_ref: Option<BTreeMap<String, Ref>>,
    /// Azure cloud.
    pub environment_type: Option<String>,
    // vault
    /// Server.
    pub server: Option<String>,
    /// KV mount.
    pub path: Option<String>,
    /// KV version.
    pub version: Option<String>,
    /// Enterprise namespace.
    pub namespace: Option<String>,
    /// Base64 PEM CA bundle.
    pub ca_bundle: Option<String>,
    /// CA bundle from a Secret or ConfigMap.
    pub ca_provider: Option<CaProvider>,
    // gcpsm
    /// Project.
    #[serde(rename = "projectID")]
    pub project_id: Option<String>,
    /// Location.
    pub location: Option<String>,
    // shared
    /// Auth block: method name → settings.
    pub auth: Option<BTreeMap<String, Auth>>,
}

/// One auth method's settings (union of the emitted fields).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Auth {
    /// SA.
    pub service_account_ref: Option<Ref>,
    /// AWS keys.
    #[serde(rename = "accessKeyIDSecretRef")]
    pub access_key_id_secret_ref: Option<Ref>,
    /// AWS/GCP secret key.
    pub secret_access_key_secret_ref: Option<Ref>,
    /// Vault kubernetes mount.
    pub mount_path: Option<String>,
    /// Vault role.
    pub role: Option<String>,
    /// Vault AppRole path.
    pub path: Option<String>,
    /// Vault AppRole role id.
    pub role_id: Option<String>,
    /// Vault AppRole secret.
    pub secret_ref: Option<Ref>,
    /// GKE cluster location.
    pub cluster_location: Option<String>,
    /// GKE cluster name.
    pub cluster_name: Option<String>,
    /// GKE project.
    #[serde(rename = "clusterProjectID")]
    pub cluster_project_id: Option<String>,
    /// Vault JWT: a requested ServiceAccount token.
    pub kubernetes_service_account_token: Option<ServiceAccountToken>,
    /// Vault cert: the client certificate.
    pub client_cert: Option<Ref>,
    /// Vault cert: the role.
    pub vault_role: Option<String>,
    /// Vault userPass: the user.
    pub username: Option<String>,
    /// GCP WIF: STS audience.
    pub audience: Option<String>,
    /// GCP WIF: credential configuration ConfigMap.
    pub cred_config: Option<Ref>,
    /// GCP WIF: AWS credentials.
    pub aws_security_credentials: Option<AwsSecurityCredentials>,
    /// GCP WIF: token endpoint.
    pub external_token_endpoint: Option<String>,
    /// GCP WIF: service account to impersonate.
    pub gcp_service_account_email: Option<String>,
    /// Vault token (`tokenSecretRef` is a ref itself, so it sits here with its fields).
    pub name: Option<String>,
    /// Key of `tokenSecretRef`.
    pub key: Option<String>,
    /// Namespace of `tokenSecretRef`.
    pub namespace: Option<String>,
}

/// Vault `caProvider`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaProvider {
    /// `Secret` or `ConfigMap`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Object name.
    pub name: String,
    /// Key.
    pub key: String,
    /// Namespace (ClusterSecretStore only).
    pub namespace: Option<String>,
}

/// Vault JWT `kubernetesServiceAccountToken`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServiceAccountToken {
    /// The ServiceAccount.
    pub service_account_ref: Ref,
    /// Token audiences.
    pub audiences: Option<Vec<String>>,
}

/// GCP WIF `awsSecurityCredentials`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AwsSecurityCredentials {
    /// The Secret with the AWS keys.
    pub aws_credentials_secret_ref: Ref,
    /// Region.
    pub region: String,
}

/// A Secret-key or ServiceAccount reference.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ref {
    /// Name.
    pub name: String,
    /// Key (Secret refs).
    pub key: Option<String>,
    /// Namespace (required in a ClusterSecretStore).
    pub namespace: Option<String>,
}

/// Split a rendered multi-document file on `---` lines.
pub fn documents(content: &str) -> Vec<String> {
    let mut docs = vec![String::new()];
    for line in content.lines() {
        if line == "---" {
            docs.push(String::new());
        } else {
            let d = docs.last_mut().expect("non-empty");
            d.push_str(line);
            d.push('\n');
        }
    }
    docs.into_iter()
        .filter(|d| {
            d.lines()
                .any(|l| !l.trim().is_empty() && !l.starts_with('#'))
        })
        .collect()
}

fn kind_of(doc: &str) -> Option<&str> {
    doc.lines().find_map(|l| l.strip_prefix("kind: "))
}

/// Parse every document of a rendered `secrets/*.yaml` file and check the rules no schema
/// encodes: allowed policy pairs, the canonical refresh interval, namespaces on every
/// ClusterSecretStore reference, exactly one provider, and no data without a remote key.
pub fn check_file(content: &str, model: &Model) -> Result<(), String> {
    for doc in documents(content) {
        match kind_of(&doc) {
            Some("ExternalSecret") => {
                let es: ExternalSecret =
                    serde_saphyr::from_str(&doc).map_err(|e| format!("ExternalSecret: {e}"))?;
                check_external_secret(&es, model)?;
            }
            Some("SecretStore") | Some("ClusterSecretStore") => {
                let ss: SecretStore =
                    serde_saphyr::from_str(&doc).map_err(|e| format!("store: {e}"))?;
                check_store(&ss)?;
            }
            other => return Err(format!("unexpected document kind {other:?}")),
        }
    }
    Ok(())
}

fn check_external_secret(es: &ExternalSecret, model: &Model) -> Result<(), String> {
    let name = &es.metadata.name;
    if es.api_version != "external-secrets.io/v1" {
        return Err(format!("{name}: apiVersion {}", es.api_version));
    }
    if es.metadata.namespace.is_none() {
        return Err(format!("{name}: ExternalSecret without namespace"));
    }
    let c = match es.spec.target.creation_policy {
        ExternalSecretCreationPolicy::Owner => C::Owner,
        ExternalSecretCreationPolicy::Orphan => C::Orphan,
        ExternalSecretCreationPolicy::Merge => C::Merge,
        ExternalSecretCreationPolicy::None => C::None,
        ExternalSecretCreationPolicy::CreateOrMerge => C::CreateOrMerge,
    };
    let d = match es.spec.target.deletion_policy {
        ExternalSecretDeletionPolicy::Delete => D::Delete,
        ExternalSecretDeletionPolicy::Merge => D::Merge,
        ExternalSecretDeletionPolicy::Retain => D::Retain,
    };
    check_policies(c, d).map_err(|m| format!("{name}: {m}"))?;
    let want = crate::spec::validate::format_go_duration(model.secrets.refresh_interval);
    if es.spec.refresh_interval != want {
        return Err(format!(
            "{name}: refreshInterval {} is not {want}",
            es.spec.refresh_interval
        ));
    }
    if es.spec.data.is_empty() || es.spec.data.iter().any(|d| d.remote_ref.key.is_empty()) {
        return Err(format!(
            "{name}: every ExternalSecret needs data with remote keys"
        ));
    }
    if let Some(t) = &es.spec.target.template {
        if t.engine_version != "v2" {
            return Err(format!(
                "{name}: template engineVersion {}",
                t.engine_version
            ));
        }
        // every Go action must reference a declared data key
        let keys: Vec<&str> = es.spec.data.iter().map(|d| d.secret_key.as_str()).collect();
        for v in t.data.values() {
            let mut rest = v.as_str();
            while let Some(i) = rest.find("{{") {
                let after = &rest[i + 2..];
                let j = after
                    .find("}}")
                    .ok_or_else(|| format!("{name}: unclosed template action"))?;
                let action = after[..j].trim();
                let field = action
                    .trim_start_matches('.')
                    .split([' ', '|'])
                    .next()
                    .unwrap_or("");
                if !keys.contains(&field) {
                    return Err(format!(
                        "{name}: template uses .{field}, which no data entry provides"
                    ));
                }
                rest = &after[j + 2..];
            }
        }
    }
    Ok(())
}

fn check_store(ss: &SecretStore) -> Result<(), String> {
    let name = &ss.metadata.name;
    if ss.api_version != "external-secrets.io/v1" {
        return Err(format!("{name}: apiVersion {}", ss.api_version));
    }
    if ss.spec.provider.len() != 1 {
        return Err(format!("{name}: a store needs exactly one provider"));
    }
    let cluster = ss.kind == "ClusterSecretStore";
    if cluster != ss.metadata.namespace.is_none() {
        return Err(format!("{name}: {} with wrong scope", ss.kind));
    }
    if !cluster && ss.spec.conditions.is_some() {
        return Err(format!(
            "{name}: conditions are for ClusterSecretStores only"
        ));
    }
    let p = ss.spec.provider.values().next().expect("one provider");
    let mut refs: Vec<(&str, Option<&String>)> = Vec::new();
    if let Some(r) = &p.service_account_ref {
        refs.push(("serviceAccountRef", r.namespace.as_ref()));
    }
    if let Some(r) = &p.ca_provider {
        refs.push(("caProvider", r.namespace.as_ref()));
    }
    for (k, r) in p.auth_secret_ref.iter().flatten() {
        refs.push((k, r.namespace.as_ref()));
    }
    for (method, a) in p.auth.iter().flatten() {
        for r in [
            a.service_account_ref.as_ref(),
            a.access_key_id_secret_ref.as_ref(),
            a.secret_access_key_secret_ref.as_ref(),
            a.secret_ref.as_ref(),
            a.client_cert.as_ref(),
            a.cred_config.as_ref(),
            a.kubernetes_service_account_token
                .as_ref()
                .map(|t| &t.service_account_ref),
            a.aws_security_credentials
                .as_ref()
                .map(|c| &c.aws_credentials_secret_ref),
        ]
        .into_iter()
        .flatten()
        {
            refs.push((method, r.namespace.as_ref()));
        }
        if a.name.is_some() {
            refs.push((method, a.namespace.as_ref()));
        }
    }
    for (what, ns) in refs {
        if cluster && ns.is_none() {
            return Err(format!(
                "{name}: {what} has no namespace in a ClusterSecretStore"
            ));
        }
        if !cluster && ns.is_some() {
            return Err(format!(
                "{name}: {what} sets a namespace in a namespaced SecretStore"
            ));
        }
    }
    Ok(())
}

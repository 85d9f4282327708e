//! External Secrets Operator objects: the (Cluster)SecretStore and the ExternalSecrets that turn
//! remote keys into the Kubernetes Secrets Airbyte's chart and Airflow read.
//!
//! Rust decides which objects exist and what they hold; `templates/secretstore.yaml.j2` and
//! `templates/externalsecret.yaml.j2` give them their YAML shape. Every rendered document is
//! parsed back into the closed serde types of [`typed`] (the subset of the `external-secrets.io/v1`
//! CRDs airguard emits) and checked before it is returned. This module never sees a secret
//! value: it writes remote keys and Go-template placeholders (`{{ .client_id | toJson }}`) that
//! ESO evaluates in the cluster, and nothing else.

use super::{env, header, Artifact, RenderError};
use crate::spec::model::{
    self, AuthKind, ChartProfile, CreationPolicy, DeletionPolicy, Model, Provider, RefreshPolicy,
    RemoteRef, StoreKind,
};
use crate::spec::raw::{
    AwsAuth, AwsService, AzureAuthType, GcpAuth, SecretKeyRef, ServiceAccountRef, VaultAuth,
    VaultKvVersion,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// The Secret in the Airflow namespace that carries `AIRBYTE_API_*` and `AIRFLOW_CONN_<ID>`.
/// `render::helm_values` points the Airflow components at it.
pub const AIRFLOW_SECRET_NAME: &str = "airguard-airbyte-api";

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

/// Keys of the Airflow-side ExternalSecret's `data`, visible to its Go template as `.<key>`.
mod tpl_key {
    pub const CLIENT_ID: &str = "client_id";
    pub const CLIENT_SECRET: &str = "client_secret";
    pub const USERNAME: &str = "username";
    pub const PASSWORD: &str = "password";
    pub const TOKEN: &str = "token";
}

/// Render the ESO artifacts: `secrets/cluster-secret-store.yaml` (ClusterSecretStore only) and
/// one `secrets/<namespace>.yaml` per namespace that receives Secrets.
pub fn render(model: &Model) -> Result<Vec<Artifact>, RenderError> {
    check_policies(model.secrets.creation_policy, model.secrets.deletion_policy).map_err(
        |message| RenderError::SelfCheck {
            path: "secrets/".into(),
            message,
        },
    )?;
    let cluster = model.secrets.store.kind == StoreKind::ClusterSecretStore;
    let mut by_ns: BTreeMap<String, Vec<ExternalSecretCtx>> = BTreeMap::new();
    for es in airbyte_side(model).into_iter().chain(airflow_side(model)) {
        by_ns.entry(es.namespace.clone()).or_default().push(es);
    }
    let mut out = Vec::new();
    if cluster {
        let path = "secrets/cluster-secret-store.yaml".to_string();
        let ctx = store_ctx(model, None).map_err(|message| RenderError::SelfCheck {
            path: path.clone(),
            message,
        })?;
        let mut content = header();
        content.push_str(&env::render("secretstore.yaml.j2", &ctx)?);
        typed::check_file(&content, model).map_err(|message| RenderError::SelfCheck {
            path: path.clone(),
            message,
        })?;
        out.push(Artifact { path, content });
    }
    for (ns, mut list) in by_ns {
        list.sort_by(|a, b| a.name.cmp(&b.name));
        let path = format!("secrets/{ns}.yaml");
        let mut docs = Vec::new();
        if !cluster {
            let ctx = store_ctx(model, Some(&ns)).map_err(|message| RenderError::SelfCheck {
                path: path.clone(),
                message,
            })?;
            docs.push(env::render("secretstore.yaml.j2", &ctx)?);
        }
        for es in &list {
            docs.push(env::render("externalsecret.yaml.j2", es)?);
        }
        let content = header() + &docs.join("---\n");
        typed::check_file(&content, model).map_err(|message| RenderError::SelfCheck {
            path: path.clone(),
            message,
        })?;
        out.push(Artifact { path, content });
    }
    Ok(out)
}

/// ESO forbids some creation/deletion policy pairs (docs/guides/ownership-deletion-policy.md):
/// `Delete` with `Merge`, `CreateOrMerge` or `None`, and `Merge` with `None`. The spec
/// validation rejects them too; this is the render-side guard.
pub fn check_policies(creation: CreationPolicy, deletion: DeletionPolicy) -> Result<(), String> {
    use CreationPolicy as C;
    use DeletionPolicy as D;
    let bad = matches!(
        (deletion, creation),
        (D::Delete, C::Merge)
            | (D::Delete, C::CreateOrMerge)
            | (D::Delete, C::None)
            | (D::Merge, C::None)
    );
    if bad {
        Err(format!(
            "ESO forbids creationPolicy {} with deletionPolicy {}",
            creation_str(creation),
            deletion_str(deletion)
        ))
    } else {
        Ok(())
    }
}

/// A duration in Go's `time.Duration.String()` form (`1h0m0s`, `10m0s`, `30s`, `1.5s`, `0s`),
/// the canonical form ESO writes back for `refreshInterval`.
pub fn go_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".into();
    }
    if nanos < 1_000_000_000 {
        let (unit, div) = if nanos < 1_000 {
            ("ns", 1)
        } else if nanos < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        return format!("{}{unit}", with_fraction(nanos / div, nanos % div, div));
    }
    let secs = nanos / 1_000_000_000;
    let frac = nanos % 1_000_000_000;
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let s = with_fraction(s, frac, 1_000_000_000);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

fn with_fraction(whole: u128, frac: u128, div: u128) -> String {
    if frac == 0 {
        return whole.to_string();
    }
    let digits = div.ilog10() as usize;
    let f = format!("{frac:0digits$}");
    format!("{whole}.{}", f.trim_end_matches('0'))
}

/// The absolute token URL for the Airflow connection's `schema` field. The Airbyte provider joins
/// it onto the host with `urljoin`, which mangles relative paths; an absolute URL is unambiguous.
pub fn absolute_token_url(api: &model::Api) -> String {
    let t = api.token_url.as_str();
    if t.starts_with("http://") || t.starts_with("https://") {
        t.to_string()
    } else if t.starts_with('/') {
        format!("{}{t}", api.url)
    } else {
        format!("{}/{t}", api.base_url())
    }
}

/// The API base URL of the Airflow connection. The Airbyte provider for Airflow speaks only the
/// public API (its hook hands `host` to the airbyte-api SDK as `server_url`), so with
/// `flavour: config`, which is for `airguard conform`, the connection still targets the public
/// API on the same server.
pub fn airflow_base_url(api: &model::Api) -> String {
    match api.flavour {
        model::ApiFlavour::Public => api.base_url(),
        model::ApiFlavour::Config => format!("{}{}", api.url, model::PUBLIC_BASE_PATH),
    }
}

/// The token URL of the Airflow connection: the public API's token endpoint (see
/// [`airflow_base_url`]); a `token-url` set for the Config API is conform's, not Airflow's.
pub fn airflow_token_url(api: &model::Api) -> String {
    match api.flavour {
        model::ApiFlavour::Public => absolute_token_url(api),
        model::ApiFlavour::Config => format!("{}/applications/token", airflow_base_url(api)),
    }
}

/// The Airflow connection JSON (`AIRFLOW_CONN_<ID>`), in the JSON form the Airbyte provider's
/// hook reads: `host` is the public API base URL with a trailing `/`, `schema` its token URL.
/// With client credentials, `login`/`password` are ESO Go-template actions, not values.
pub fn connection_json(model: &Model, with_credentials: bool) -> String {
    let api = &model.airbyte.api;
    let host =
        serde_json::to_string(&format!("{}/", airflow_base_url(api))).expect("strings serialize");
    let schema = serde_json::to_string(&airflow_token_url(api)).expect("strings serialize");
    let mut s = format!("{{\"conn_type\":\"airbyte\",\"host\":{host},");
    if with_credentials {
        s.push_str(&format!(
            "\"login\":{{{{ .{} | toJson }}}},\"password\":{{{{ .{} | toJson }}}},",
            tpl_key::CLIENT_ID,
            tpl_key::CLIENT_SECRET
        ));
    }
    s.push_str(&format!("\"schema\":{schema}}}"));
    s
}

/// Whether the Airflow side gets an ExternalSecret (any credential to carry).
pub fn airflow_has_secret(model: &Model) -> bool {
    !airflow_data(model).is_empty()
}

fn creation_str(c: CreationPolicy) -> &'static str {
    match c {
        CreationPolicy::Owner => "Owner",
        CreationPolicy::Orphan => "Orphan",
        CreationPolicy::Merge => "Merge",
        CreationPolicy::None => "None",
        CreationPolicy::CreateOrMerge => "CreateOrMerge",
    }
}

fn deletion_str(d: DeletionPolicy) -> &'static str {
    match d {
        DeletionPolicy::Retain => "Retain",
        DeletionPolicy::Delete => "Delete",
        DeletionPolicy::Merge => "Merge",
    }
}

fn refresh_str(r: RefreshPolicy) -> &'static str {
    match r {
        RefreshPolicy::Periodic => "Periodic",
        RefreshPolicy::CreatedOnce => "CreatedOnce",
        RefreshPolicy::OnChange => "OnChange",
    }
}

fn store_kind_str(k: StoreKind) -> &'static str {
    match k {
        StoreKind::SecretStore => "SecretStore",
        StoreKind::ClusterSecretStore => "ClusterSecretStore",
    }
}

// ---- SecretStore context ------------------------------------------------------------------------

#[derive(Serialize)]
struct StoreCtx {
    kind: &'static str,
    name: String,
    namespace: Option<String>,
    conditions: Vec<ConditionCtx>,
    provider: ProviderCtx,
}

#[derive(Serialize)]
struct ConditionCtx {
    namespaces: Vec<String>,
    labels: Vec<(String, String)>,
}

/// A reference to a Secret key (`key` set) or a ServiceAccount (`key` unset).
#[derive(Serialize)]
struct RefCtx {
    name: String,
    key: Option<String>,
    namespace: Option<String>,
}

#[derive(Serialize, Default)]
struct ProviderCtx {
    aws: Option<AwsCtx>,
    azurekv: Option<AzureCtx>,
    vault: Option<VaultCtx>,
    gcpsm: Option<GcpCtx>,
}

#[derive(Serialize)]
struct AwsCtx {
    service: &'static str,
    region: String,
    role: Option<String>,
    jwt: Option<RefCtx>,
    access_key_id: Option<RefCtx>,
    secret_access_key: Option<RefCtx>,
}

#[derive(Serialize)]
struct AzureCtx {
    vault_url: String,
    auth_type: &'static str,
    tenant_id: Option<String>,
    service_account: Option<RefCtx>,
    identity_id: Option<String>,
    client_id: Option<RefCtx>,
    client_secret: Option<RefCtx>,
}

#[derive(Serialize)]
struct VaultCtx {
    server: String,
    path: String,
    version: &'static str,
    namespace: Option<String>,
    kubernetes: Option<VaultK8sCtx>,
    token: Option<RefCtx>,
    app_role: Option<VaultAppRoleCtx>,
}

#[derive(Serialize)]
struct VaultK8sCtx {
    mount_path: String,
    role: String,
    service_account: Option<RefCtx>,
}

#[derive(Serialize)]
struct VaultAppRoleCtx {
    path: String,
    role_id: String,
    secret_ref: RefCtx,
}

#[derive(Serialize)]
struct GcpCtx {
    project_id: String,
    location: Option<String>,
    workload_identity: Option<GcpWiCtx>,
    secret_ref: Option<RefCtx>,
}

#[derive(Serialize)]
struct GcpWiCtx {
    service_account: RefCtx,
    cluster_location: String,
    cluster_name: String,
    cluster_project_id: Option<String>,
}

/// Resolves reference namespaces: a ClusterSecretStore needs `namespace` on every ref (the CRD
/// otherwise defaults it to the consuming ExternalSecret's namespace); a SecretStore may only
/// reference its own namespace, so the field is left out.
struct Refs {
    cluster: bool,
}

impl Refs {
    fn ns(&self, given: &Option<String>, what: &str) -> Result<Option<String>, String> {
        if !self.cluster {
            return Ok(None);
        }
        match given {
            Some(ns) => Ok(Some(ns.clone())),
            None => Err(format!(
                "{what}: a ClusterSecretStore reference needs an explicit namespace"
            )),
        }
    }
    fn key(&self, r: &SecretKeyRef, what: &str) -> Result<RefCtx, String> {
        Ok(RefCtx {
            name: r.name.clone(),
            key: Some(r.key.clone()),
            namespace: self.ns(&r.namespace, what)?,
        })
    }
    fn sa(&self, r: &ServiceAccountRef, what: &str) -> Result<RefCtx, String> {
        Ok(RefCtx {
            name: r.name.clone(),
            key: None,
            namespace: self.ns(&r.namespace, what)?,
        })
    }
}

fn store_ctx(model: &Model, namespace: Option<&str>) -> Result<StoreCtx, String> {
    let store = &model.secrets.store;
    let refs = Refs {
        cluster: store.kind == StoreKind::ClusterSecretStore,
    };
    let mut provider = ProviderCtx::default();
    match &store.provider {
        Provider::Aws(p) => {
            let (mut jwt, mut access_key_id, mut secret_access_key) = (None, None, None);
            match &p.auth {
                Some(AwsAuth::Jwt { service_account }) => {
                    jwt = Some(refs.sa(service_account, "aws jwt service-account")?)
                }
                Some(AwsAuth::SecretRef {
                    access_key_id: a,
                    secret_access_key: s,
                }) => {
                    access_key_id = Some(refs.key(a, "aws access-key-id")?);
                    secret_access_key = Some(refs.key(s, "aws secret-access-key")?);
                }
                None => {}
            }
            provider.aws = Some(AwsCtx {
                service: match p.service {
                    AwsService::SecretsManager => "SecretsManager",
                    AwsService::ParameterStore => "ParameterStore",
                },
                region: p.region.clone(),
                role: p.role.clone(),
                jwt,
                access_key_id,
                secret_access_key,
            });
        }
        Provider::Azurekv(p) => {
            provider.azurekv = Some(AzureCtx {
                vault_url: p.vault_url.clone(),
                auth_type: match p.auth_type {
                    AzureAuthType::WorkloadIdentity => "WorkloadIdentity",
                    AzureAuthType::ManagedIdentity => "ManagedIdentity",
                    AzureAuthType::ServicePrincipal => "ServicePrincipal",
                },
                tenant_id: p.tenant_id.clone(),
                service_account: p
                    .service_account
                    .as_ref()
                    .map(|s| refs.sa(s, "azurekv service-account"))
                    .transpose()?,
                identity_id: p.identity_id.clone(),
                client_id: p
                    .client_id
                    .as_ref()
                    .map(|s| refs.key(s, "azurekv client-id"))
                    .transpose()?,
                client_secret: p
                    .client_secret
                    .as_ref()
                    .map(|s| refs.key(s, "azurekv client-secret"))
                    .transpose()?,
            });
        }
        Provider::Vault(p) => {
            let (mut kubernetes, mut token, mut app_role) = (None, None, None);
            match &p.auth {
                VaultAuth::Kubernetes {
                    mount_path,
                    role,
                    service_account,
                } => {
                    kubernetes = Some(VaultK8sCtx {
                        mount_path: mount_path.clone(),
                        role: role.clone(),
                        service_account: service_account
                            .as_ref()
                            .map(|s| refs.sa(s, "vault kubernetes service-account"))
                            .transpose()?,
                    })
                }
                VaultAuth::Token { secret_ref } => {
                    token = Some(refs.key(secret_ref, "vault token secret-ref")?)
                }
                VaultAuth::AppRole {
                    path,
                    role_id,
                    secret_ref,
                } => {
                    app_role = Some(VaultAppRoleCtx {
                        path: path.clone(),
                        role_id: role_id.clone(),
                        secret_ref: refs.key(secret_ref, "vault app-role secret-ref")?,
                    })
                }
            }
            provider.vault = Some(VaultCtx {
                server: p.server.clone(),
                path: p.path.clone(),
                version: match p.version {
                    VaultKvVersion::V1 => "v1",
                    VaultKvVersion::V2 => "v2",
                },
                namespace: p.namespace.clone(),
                kubernetes,
                token,
                app_role,
            });
        }
        Provider::Gcpsm(p) => {
            let (mut workload_identity, mut secret_ref) = (None, None);
            match &p.auth {
                Some(GcpAuth::WorkloadIdentity {
                    service_account,
                    cluster_location,
                    cluster_name,
                    cluster_project_id,
                }) => {
                    workload_identity = Some(GcpWiCtx {
                        service_account: refs
                            .sa(service_account, "gcpsm workload-identity service-account")?,
                        cluster_location: cluster_location.clone(),
                        cluster_name: cluster_name.clone(),
                        cluster_project_id: cluster_project_id.clone(),
                    })
                }
                Some(GcpAuth::SecretRef { secret_access_key }) => {
                    secret_ref = Some(refs.key(secret_access_key, "gcpsm secret-access-key")?)
                }
                None => {}
            }
            provider.gcpsm = Some(GcpCtx {
                project_id: p.project_id.clone(),
                location: p.location.clone(),
                workload_identity,
                secret_ref,
            });
        }
    }
    let conditions = if refs.cluster {
        store
            .conditions
            .iter()
            .map(|c| ConditionCtx {
                namespaces: c.namespaces.clone(),
                labels: c
                    .namespace_labels
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(StoreCtx {
        kind: store_kind_str(store.kind),
        name: store.name.clone(),
        namespace: namespace.map(str::to_string),
        conditions,
        provider,
    })
}

// ---- ExternalSecret context ---------------------------------------------------------------------

#[derive(Serialize)]
struct ExternalSecretCtx {
    name: String,
    namespace: String,
    /// Comment lines above the document (what it is for, where its keys come from).
    comment: Vec<String>,
    store_kind: &'static str,
    store_name: String,
    refresh_interval: String,
    refresh_policy: &'static str,
    creation_policy: &'static str,
    deletion_policy: &'static str,
    /// Target Secret keys → Go template, in order; empty means no template.
    template: Vec<(String, String)>,
    data: Vec<DataCtx>,
}

#[derive(Serialize)]
struct DataCtx {
    secret_key: String,
    key: String,
    property: Option<String>,
}

fn data(secret_key: &str, r: &RemoteRef) -> DataCtx {
    DataCtx {
        secret_key: secret_key.to_string(),
        key: r.key.clone(),
        property: r.property.clone(),
    }
}

fn es_ctx(model: &Model, name: &str, namespace: &str, comment: Vec<String>) -> ExternalSecretCtx {
    let s = &model.secrets;
    ExternalSecretCtx {
        name: name.to_string(),
        namespace: namespace.to_string(),
        comment,
        store_kind: store_kind_str(s.store.kind),
        store_name: s.store.name.clone(),
        refresh_interval: go_duration(s.refresh_interval),
        refresh_policy: refresh_str(s.refresh_policy),
        creation_policy: creation_str(s.creation_policy),
        deletion_policy: deletion_str(s.deletion_policy),
        template: Vec::new(),
        data: Vec::new(),
    }
}

fn chart_name(chart: ChartProfile) -> &'static str {
    match chart {
        ChartProfile::V1 => "V1 (airbytehq.github.io/helm-charts)",
        ChartProfile::V2 => "V2 (airbytehq.github.io/charts)",
    }
}

fn airbyte_side(model: &Model) -> Vec<ExternalSecretCtx> {
    let s = &model.secrets;
    let ns = &model.airbyte.namespace;
    let keys = ChartKeys::for_chart(model.airbyte.chart);
    let mut out = Vec::new();

    let mut auth = es_ctx(
        model,
        AIRBYTE_AUTH_SECRET_NAME,
        ns,
        auth_comment(model.airbyte.chart),
    );
    auth.creation_policy = creation_str(AUTH_CREATION_POLICY);
    auth.deletion_policy = deletion_str(AUTH_DELETION_POLICY);
    match model.airbyte.api.auth {
        AuthKind::ClientCredentials => {
            if let (Some(id), Some(secret)) = (&s.airbyte_client_id, &s.airbyte_client_secret) {
                auth.data.push(data(keys.client_id, id));
                auth.data.push(data(keys.client_secret, secret));
            }
        }
        AuthKind::Basic => {
            if let Some(password) = &s.airbyte_client_secret {
                auth.data.push(data(keys.admin_password, password));
            }
        }
        AuthKind::Bearer | AuthKind::None => {}
    }
    if !auth.data.is_empty() {
        out.push(auth);
    }

    let mut config = es_ctx(
        model,
        AIRBYTE_CONFIG_SECRET_NAME,
        ns,
        config_comment(
            model.airbyte.chart,
            s.postgres_password.is_some(),
            s.postgres_user.is_some(),
        ),
    );
    if let Some(u) = &s.postgres_user {
        config.data.push(data(keys.database_user, u));
    }
    if let Some(p) = &s.postgres_password {
        config.data.push(data(keys.database_password, p));
    }
    if let Some((ru, rp)) = keys.database_replica {
        if let Some(u) = &s.postgres_user {
            config.data.push(data(ru, u));
        }
        if let Some(p) = &s.postgres_password {
            config.data.push(data(rp, p));
        }
    }
    if let Some(u) = &s.minio_user {
        config.data.push(data(keys.minio_access_key_id, u));
    }
    if let Some(p) = &s.minio_password {
        config.data.push(data(keys.minio_secret_access_key, p));
        if s.minio_user.is_none() {
            config.comment.push(format!(
                "secrets.minio.user is not set: the chart also reads {} from this Secret.",
                keys.minio_access_key_id
            ));
        }
    }
    if !config.data.is_empty() {
        out.push(config);
    }
    out
}

/// Comment lines above the `airbyte-auth-secrets` ExternalSecret, naming the chart's values keys.
fn auth_comment(chart: ChartProfile) -> Vec<String> {
    let mut c =
        vec!["Airbyte instance-admin credentials, in the Secret and keys the chart reads".into()];
    match chart {
        ChartProfile::V1 => {
            c.push(
                "(chart V1, community edition with global.auth.enabled: global.auth.secretName,"
                    .into(),
            );
            c.push(
                "default airbyte-auth-secrets; keys global.auth.instanceAdmin.passwordSecretKey,"
                    .into(),
            );
            c.push(
                "clientIdSecretKey, clientSecretSecretKey). The pro/enterprise editions read"
                    .into(),
            );
            c.push("instance-admin-email and instance-admin-password from global.auth.instanceAdmin.secretName".into());
            c.push("(default airbyte-config-secrets) instead; the spec has no email field, so airguard".into());
            c.push("renders neither.".into());
        }
        ChartProfile::V2 => {
            c.push(
                "(chart V2: global.auth.managedSecretName, default airbyte-auth-secrets).".into(),
            );
        }
    }
    c.push("Airbyte creates this Secret on install and keeps keys of its own in it".into());
    c.push("(jwt-signature-secret, dataplane-client-*), so this ExternalSecret always uses".into());
    c.push(
        "creationPolicy Merge and deletionPolicy Retain, whatever secrets.creation-policy says"
            .into(),
    );
    c.push(
        "(owner, the default, cannot be told from an explicit owner). Merge writes only the keys"
            .into(),
    );
    c.push(
        "below and waits until Airbyte has created the Secret; restart the server afterwards."
            .into(),
    );
    c
}

/// Comment lines above the `airbyte-config-secrets` ExternalSecret.
fn config_comment(chart: ChartProfile, password: bool, user: bool) -> Vec<String> {
    let mut c = vec![
        format!("Airbyte database and MinIO credentials, keyed for chart {}.", chart_name(chart)),
        format!(
            "Point the chart at it: global.database.secretName and global.storage.secretName = {AIRBYTE_CONFIG_SECRET_NAME}."
        ),
    ];
    match chart {
        ChartProfile::V1 => {
            c.push(
                "Chart V1 reads DATABASE_PASSWORD (global.database.passwordSecretKey) from it, and"
                    .into(),
            );
            c.push("DATABASE_USER only with global.database.userSecretKey: DATABASE_USER set (otherwise".into());
            c.push("the user comes from global.database.user).".into());
        }
        ChartProfile::V2 => {
            c.push("Chart V2 reads DATABASE_USER and DATABASE_PASSWORD (global.database.userSecretKey,".into());
            c.push(
                "passwordSecretKey) and, from 2.1, CONFIG_DATABASE_REPLICA_USER/_PASSWORD from it."
                    .into(),
            );
            if password && !user {
                c.push("secrets.postgres.user is not set: add it, or this Secret lacks DATABASE_USER and the".into());
                c.push("Airbyte pods do not start.".into());
            }
        }
    }
    c
}

/// `(template key, env var)` pairs of the Airflow-side Secret, by auth kind.
fn airflow_data(model: &Model) -> Vec<(&'static str, &'static str, &RemoteRef)> {
    let s = &model.secrets;
    let wanted: Vec<(&'static str, &'static str, &Option<RemoteRef>)> = match model.airbyte.api.auth
    {
        AuthKind::ClientCredentials => vec![
            (
                tpl_key::CLIENT_ID,
                model::env::CLIENT_ID,
                &s.airbyte_client_id,
            ),
            (
                tpl_key::CLIENT_SECRET,
                model::env::CLIENT_SECRET,
                &s.airbyte_client_secret,
            ),
        ],
        AuthKind::Basic => vec![
            (
                tpl_key::USERNAME,
                model::env::USERNAME,
                &s.airbyte_client_id,
            ),
            (
                tpl_key::PASSWORD,
                model::env::PASSWORD,
                &s.airbyte_client_secret,
            ),
        ],
        AuthKind::Bearer => vec![(tpl_key::TOKEN, model::env::TOKEN, &s.airbyte_token)],
        AuthKind::None => vec![],
    };
    wanted
        .into_iter()
        .filter_map(|(k, e, r)| r.as_ref().map(|r| (k, e, r)))
        .collect()
}

fn airflow_side(model: &Model) -> Option<ExternalSecretCtx> {
    let pairs = airflow_data(model);
    if pairs.is_empty() {
        return None;
    }
    let conn = model.airflow.conn_env_name();
    let mut comment = vec![
        format!(
            "Airbyte API credentials for Airflow: {},",
            pairs.iter().map(|p| p.1).collect::<Vec<_>>().join(", ")
        ),
        format!("and {conn}, the Airbyte connection in the provider's JSON form."),
        "The {{ ... }} are Go templates that ESO evaluates in the cluster. This file is applied by"
            .into(),
        "kustomize/kubectl; inside a Helm chart, escape them as {{ `{{ .client_id | toJson }}` }}"
            .into(),
        "or Helm evaluates them first.".into(),
    ];
    let with_creds = model.airbyte.api.auth == AuthKind::ClientCredentials
        && pairs.iter().any(|p| p.0 == tpl_key::CLIENT_ID)
        && pairs.iter().any(|p| p.0 == tpl_key::CLIENT_SECRET);
    if model.airbyte.api.auth != AuthKind::ClientCredentials {
        comment.push(
            "The Airbyte provider authenticates only with client credentials, so the connection"
                .into(),
        );
        comment.push("carries no login; the AIRBYTE_API_* keys serve `airguard conform`.".into());
    }
    if model.airbyte.api.flavour == model::ApiFlavour::Config {
        comment.push(format!(
            "The Airbyte provider speaks only the public API, so {conn} targets {};",
            model::PUBLIC_BASE_PATH
        ));
        comment.push("`flavour: config` applies to `airguard conform` only.".into());
    }
    let mut es = es_ctx(
        model,
        AIRFLOW_SECRET_NAME,
        &model.airflow.namespace,
        comment,
    );
    es.template.push((
        model::env::API_URL.to_string(),
        model.airbyte.api.url.clone(),
    ));
    for (k, e, r) in &pairs {
        es.template.push((e.to_string(), format!("{{{{ .{k} }}}}")));
        es.data.push(data(k, r));
    }
    es.template.push((conn, connection_json(model, with_creds)));
    es.template.sort_by(|a, b| a.0.cmp(&b.0));
    es.data.sort_by(|a, b| a.secret_key.cmp(&b.secret_key));
    Some(es)
}

/// The closed serde model of the ESO objects airguard emits, used to parse every rendered
/// document back. Unknown fields are errors, so a template typo cannot slip through.
pub mod typed {
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
        pub refresh_policy: RefreshPolicy,
        /// Store reference.
        pub secret_store_ref: StoreRef,
        /// Target Secret.
        pub target: Target,
        /// Remote keys.
        pub data: Vec<Data>,
    }

    /// Refresh policy.
    #[derive(Debug, Deserialize, PartialEq, Eq)]
    pub enum RefreshPolicy {
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
        pub creation_policy: CreationPolicy,
        /// Deletion policy.
        pub deletion_policy: DeletionPolicy,
        /// Template.
        pub template: Option<Template>,
    }

    /// Creation policy.
    #[derive(Debug, Deserialize, Clone, Copy)]
    pub enum CreationPolicy {
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
    pub enum DeletionPolicy {
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
        pub remote_ref: RemoteRef,
    }

    /// Remote reference.
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RemoteRef {
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
        // vault
        /// Server.
        pub server: Option<String>,
        /// KV mount.
        pub path: Option<String>,
        /// KV version.
        pub version: Option<String>,
        /// Enterprise namespace.
        pub namespace: Option<String>,
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
        /// Vault token (`tokenSecretRef` is a ref itself, so it sits here with its fields).
        pub name: Option<String>,
        /// Key of `tokenSecretRef`.
        pub key: Option<String>,
        /// Namespace of `tokenSecretRef`.
        pub namespace: Option<String>,
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
            CreationPolicy::Owner => C::Owner,
            CreationPolicy::Orphan => C::Orphan,
            CreationPolicy::Merge => C::Merge,
            CreationPolicy::None => C::None,
            CreationPolicy::CreateOrMerge => C::CreateOrMerge,
        };
        let d = match es.spec.target.deletion_policy {
            DeletionPolicy::Delete => D::Delete,
            DeletionPolicy::Merge => D::Merge,
            DeletionPolicy::Retain => D::Retain,
        };
        check_policies(c, d).map_err(|m| format!("{name}: {m}"))?;
        let want = super::go_duration(model.secrets.refresh_interval);
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
        for (k, r) in p.auth_secret_ref.iter().flatten() {
            refs.push((k, r.namespace.as_ref()));
        }
        for (method, a) in p.auth.iter().flatten() {
            for r in [
                &a.service_account_ref,
                &a.access_key_id_secret_ref,
                &a.secret_access_key_secret_ref,
                &a.secret_ref,
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_are_canonical() {
        let cases = [
            (Duration::from_secs(3600), "1h0m0s"),
            (Duration::from_secs(600), "10m0s"),
            (Duration::from_secs(90), "1m30s"),
            (Duration::from_secs(30), "30s"),
            (Duration::from_secs(0), "0s"),
            (Duration::from_millis(1500), "1.5s"),
            (Duration::from_millis(500), "500ms"),
            (Duration::from_micros(3), "3µs"),
            (Duration::from_nanos(7), "7ns"),
            (Duration::from_secs(9000), "2h30m0s"),
            (Duration::from_secs(86400 + 1), "24h0m1s"),
        ];
        for (d, want) in cases {
            assert_eq!(go_duration(d), want, "{d:?}");
        }
    }

    #[test]
    fn forbidden_policy_pairs_are_rejected() {
        use CreationPolicy as C;
        use DeletionPolicy as D;
        let all_c = [C::Owner, C::Orphan, C::Merge, C::None, C::CreateOrMerge];
        let all_d = [D::Retain, D::Delete, D::Merge];
        let mut bad = Vec::new();
        for c in all_c {
            for d in all_d {
                if check_policies(c, d).is_err() {
                    bad.push((creation_str(c), deletion_str(d)));
                }
            }
        }
        assert_eq!(
            bad,
            [
                ("Merge", "Delete"),
                ("None", "Delete"),
                ("None", "Merge"),
                ("CreateOrMerge", "Delete")
            ]
        );
    }

    fn starter() -> Model {
        let mut files = crate::diag::Files::new();
        let text = include_str!("../../templates/airguard.yaml");
        let (m, diags) = crate::spec::from_str(&mut files, "airguard.yaml", text);
        m.unwrap_or_else(|| panic!("{diags:?}"))
    }

    fn rendered(path: &str) -> String {
        render(&starter())
            .unwrap()
            .into_iter()
            .find(|a| a.path == path)
            .unwrap()
            .content
    }

    #[test]
    fn self_check_accepts_what_render_writes() {
        let m = starter();
        for a in render(&m).unwrap() {
            typed::check_file(&a.content, &m).unwrap_or_else(|e| panic!("{}: {e}", a.path));
        }
    }

    #[test]
    fn self_check_rejects_broken_objects() {
        let m = starter();
        let es = rendered("secrets/airflow.yaml");
        let cases = [
            es.replace("deletionPolicy: Retain", "deletionPolicy: Delete")
                .replace("creationPolicy: Owner", "creationPolicy: Merge"),
            es.replace("refreshInterval: \"1h0m0s\"", "refreshInterval: \"1h\""),
            es.replace("{{ .client_id }}", "{{ .clientid }}"),
            es.replace(
                "  refreshPolicy: Periodic",
                "  refreshPolicy: Periodic\n  unknownField: 1",
            ),
        ];
        for (i, c) in cases.iter().enumerate() {
            assert_ne!(c, &es, "case {i} changed nothing");
            assert!(typed::check_file(c, &m).is_err(), "case {i} accepted");
        }
        let store = rendered("secrets/cluster-secret-store.yaml");
        let no_ns = store.replace("          role: external-secrets\n", "          role: external-secrets\n          serviceAccountRef:\n            name: eso\n");
        assert_ne!(no_ns, store);
        assert!(typed::check_file(&no_ns, &m)
            .unwrap_err()
            .contains("no namespace"));
    }

    /// The ExternalSecret document for `name` in `secrets/<ns>.yaml`.
    fn es_doc(m: &Model, ns: &str, name: &str) -> String {
        let a = render(m).unwrap();
        let file = a
            .iter()
            .find(|a| a.path == format!("secrets/{ns}.yaml"))
            .unwrap();
        typed::documents(&file.content)
            .into_iter()
            .find(|d| {
                d.contains(&format!("  name: {name}\n")) && d.contains("kind: ExternalSecret")
            })
            .unwrap_or_else(|| panic!("no ExternalSecret {name}"))
    }

    #[test]
    fn auth_secret_always_merges_and_retains() {
        let mut m = starter();
        for (c, d) in [
            (CreationPolicy::Owner, DeletionPolicy::Delete),
            (CreationPolicy::Orphan, DeletionPolicy::Retain),
            (CreationPolicy::Owner, DeletionPolicy::Merge),
        ] {
            m.secrets.creation_policy = c;
            m.secrets.deletion_policy = d;
            let ns = m.airbyte.namespace.clone();
            let auth = es_doc(&m, &ns, AIRBYTE_AUTH_SECRET_NAME);
            assert!(auth.contains("creationPolicy: Merge\n"), "{auth}");
            assert!(auth.contains("deletionPolicy: Retain\n"), "{auth}");
            let config = es_doc(&m, &ns, AIRBYTE_CONFIG_SECRET_NAME);
            assert!(config.contains(&format!("creationPolicy: {}\n", creation_str(c))));
            assert!(config.contains(&format!("deletionPolicy: {}\n", deletion_str(d))));
        }
    }

    #[test]
    fn auth_comment_names_the_values_key_of_the_chart_line() {
        let mut m = starter();
        let ns = m.airbyte.namespace.clone();
        m.airbyte.chart = ChartProfile::V1;
        let v1 = es_doc(&m, &ns, AIRBYTE_AUTH_SECRET_NAME);
        assert!(v1.contains("global.auth.secretName"));
        assert!(v1.contains("global.auth.instanceAdmin.secretName"));
        assert!(!v1.contains("managedSecretName"));
        m.airbyte.chart = ChartProfile::V2;
        let v2 = es_doc(&m, &ns, AIRBYTE_AUTH_SECRET_NAME);
        assert!(v2.contains("global.auth.managedSecretName"));
        assert!(!v2.contains("global.auth.secretName"));
    }

    #[test]
    fn database_keys_follow_the_chart_line() {
        let mut m = starter();
        let ns = m.airbyte.namespace.clone();
        assert!(
            m.secrets.postgres_user.is_some(),
            "the starter sets secrets.postgres.user"
        );
        m.airbyte.chart = ChartProfile::V2;
        let v2 = es_doc(&m, &ns, AIRBYTE_CONFIG_SECRET_NAME);
        for k in [
            "DATABASE_USER",
            "DATABASE_PASSWORD",
            "CONFIG_DATABASE_REPLICA_USER",
            "CONFIG_DATABASE_REPLICA_PASSWORD",
        ] {
            assert!(v2.contains(&format!("- secretKey: {k}\n")), "{k}: {v2}");
        }
        assert!(!v2.contains("secrets.postgres.user is not set"));
        m.airbyte.chart = ChartProfile::V1;
        let v1 = es_doc(&m, &ns, AIRBYTE_CONFIG_SECRET_NAME);
        assert!(v1.contains("- secretKey: DATABASE_USER\n"));
        assert!(v1.contains("global.database.userSecretKey"));
        assert!(!v1.contains("CONFIG_DATABASE_REPLICA"));
        m.airbyte.chart = ChartProfile::V2;
        m.secrets.postgres_user = None;
        let no_user = es_doc(&m, &ns, AIRBYTE_CONFIG_SECRET_NAME);
        assert!(!no_user.contains("- secretKey: DATABASE_USER\n"));
        assert!(no_user.contains("secrets.postgres.user is not set"));
    }

    #[test]
    fn documents_split_on_separator_lines() {
        let docs = typed::documents("# h\n---\na: 1\n---\n# c\nb: 2\n");
        assert_eq!(docs, ["a: 1\n", "# c\nb: 2\n"]);
    }

    #[test]
    fn regression_config_flavour_gives_airflow_the_public_api() {
        // The Airbyte provider speaks only the public API: a Config-API host or token URL in the
        // connection makes every call of every DAG a 404.
        let mut m = starter();
        m.airbyte.api.flavour = model::ApiFlavour::Config;
        m.airbyte.api.base_path = "/api/v1".into();
        m.airbyte.api.token_url = "/api/v1/applications/token".into();
        let url = m.airbyte.api.url.clone();
        let json = connection_json(&m, true);
        assert!(
            json.contains(&format!("\"host\":\"{url}/api/public/v1/\"")),
            "{json}"
        );
        assert!(
            json.contains(&format!(
                "\"schema\":\"{url}/api/public/v1/applications/token\""
            )),
            "{json}"
        );
        assert!(!json.contains("/api/v1"), "{json}");
        let ns = m.airflow.namespace.clone();
        let es = es_doc(&m, &ns, AIRFLOW_SECRET_NAME);
        assert!(es.contains("/api/public/v1/applications/token"), "{es}");
        assert!(!es.contains("/api/v1/"), "{es}");
        // The public flavour keeps the spec's own base path and token URL.
        m.airbyte.api.flavour = model::ApiFlavour::Public;
        m.airbyte.api.base_path = "/api/public/v1".into();
        m.airbyte.api.token_url = "/api/public/v1/applications/token".into();
        assert!(connection_json(&m, true).contains("/api/public/v1/applications/token"));
    }
}

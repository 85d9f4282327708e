//! The SecretStore or ClusterSecretStore context: which provider, which auth, and every
//! Secret or ServiceAccount reference it names (namespaced when the store is cluster-wide).

use super::store_kind_str;
use crate::spec::model::{
    AwsAuth, AwsService, AzureAuthType, GcpAuth, Model, Provider, SecretKeyRef, ServiceAccountRef,
    StoreKind, VaultAuth, VaultKvVersion,
};
use serde::Serialize;

// ---- SecretStore context ------------------------------------------------------------------------

#[derive(Serialize)]
pub(super) struct StoreCtx {
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

pub(super) fn store_ctx(model: &Model, namespace: Option<&str>) -> Result<StoreCtx, String> {
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

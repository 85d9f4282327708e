//! The SecretStore or ClusterSecretStore context: which provider, which auth, and every
//! Secret or ServiceAccount reference it names (namespaced when the store is cluster-wide).

use super::store_kind_str;
use crate::spec::model::{
    AwsAuth, AwsService, AzureAuthType, AzureEnvironment, CaProviderKind, GcpAuth, Model, Provider,
    SecretKeyRef, SecretRef, ServiceAccountRef, StoreKind, VaultAuth, VaultKvVersion,
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
    external_id: Option<String>,
    additional_roles: Vec<String>,
    prefix: Option<String>,
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
    environment_type: Option<&'static str>,
}

#[derive(Serialize)]
struct VaultCtx {
    server: String,
    path: String,
    version: &'static str,
    namespace: Option<String>,
    ca_bundle: Option<String>,
    ca_provider: Option<CaProviderCtx>,
    kubernetes: Option<VaultK8sCtx>,
    token: Option<RefCtx>,
    app_role: Option<VaultAppRoleCtx>,
    jwt: Option<VaultJwtCtx>,
    cert: Option<VaultCertCtx>,
    user_pass: Option<VaultUserPassCtx>,
}

#[derive(Serialize)]
struct CaProviderCtx {
    kind: &'static str,
    reference: RefCtx,
}

#[derive(Serialize)]
struct VaultJwtCtx {
    path: String,
    role: Option<String>,
    secret_ref: Option<RefCtx>,
    service_account: Option<RefCtx>,
    audiences: Vec<String>,
}

#[derive(Serialize)]
struct VaultCertCtx {
    path: String,
    role: Option<String>,
    client_cert: RefCtx,
    secret_ref: RefCtx,
}

#[derive(Serialize)]
struct VaultUserPassCtx {
    path: String,
    username: String,
    secret_ref: RefCtx,
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
    federation: Option<GcpWifCtx>,
}

#[derive(Serialize)]
struct GcpWifCtx {
    audience: Option<String>,
    service_account: Option<RefCtx>,
    cred_config: Option<RefCtx>,
    aws_secret: Option<RefCtx>,
    aws_region: Option<String>,
    external_token_endpoint: Option<String>,
    gcp_service_account_email: Option<String>,
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
    fn secret(&self, r: &SecretRef, what: &str) -> Result<RefCtx, String> {
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
                external_id: p.external_id.clone(),
                additional_roles: p.additional_roles.clone(),
                prefix: p.prefix.clone(),
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
                environment_type: p.environment_type.map(|e| match e {
                    AzureEnvironment::PublicCloud => "PublicCloud",
                    AzureEnvironment::UsGovernmentCloud => "USGovernmentCloud",
                    AzureEnvironment::ChinaCloud => "ChinaCloud",
                    AzureEnvironment::GermanCloud => "GermanCloud",
                }),
            });
        }
        Provider::Vault(p) => {
            let (mut kubernetes, mut token, mut app_role) = (None, None, None);
            let (mut jwt, mut cert, mut user_pass) = (None, None, None);
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
                VaultAuth::Jwt {
                    path,
                    role,
                    secret_ref,
                    service_account,
                    audiences,
                } => {
                    jwt = Some(VaultJwtCtx {
                        path: path.clone(),
                        role: role.clone(),
                        secret_ref: secret_ref
                            .as_ref()
                            .map(|r| refs.key(r, "vault jwt secret-ref"))
                            .transpose()?,
                        service_account: service_account
                            .as_ref()
                            .map(|s| refs.sa(s, "vault jwt service-account"))
                            .transpose()?,
                        audiences: audiences.clone(),
                    })
                }
                VaultAuth::Cert {
                    path,
                    role,
                    client_cert,
                    secret_ref,
                } => {
                    cert = Some(VaultCertCtx {
                        path: path.clone(),
                        role: role.clone(),
                        client_cert: refs.key(client_cert, "vault cert client-cert")?,
                        secret_ref: refs.key(secret_ref, "vault cert secret-ref")?,
                    })
                }
                VaultAuth::UserPass {
                    path,
                    username,
                    secret_ref,
                } => {
                    user_pass = Some(VaultUserPassCtx {
                        path: path.clone(),
                        username: username.clone(),
                        secret_ref: refs.key(secret_ref, "vault user-pass secret-ref")?,
                    })
                }
            }
            let ca_provider = p
                .ca_provider
                .as_ref()
                .map(|c| {
                    Ok::<_, String>(CaProviderCtx {
                        kind: match c.kind {
                            CaProviderKind::Secret => "Secret",
                            CaProviderKind::ConfigMap => "ConfigMap",
                        },
                        reference: RefCtx {
                            name: c.name.clone(),
                            key: Some(c.key.clone()),
                            namespace: refs.ns(&c.namespace, "vault ca-provider")?,
                        },
                    })
                })
                .transpose()?;
            provider.vault = Some(VaultCtx {
                server: p.server.clone(),
                path: p.path.clone(),
                version: match p.version {
                    VaultKvVersion::V1 => "v1",
                    VaultKvVersion::V2 => "v2",
                },
                namespace: p.namespace.clone(),
                ca_bundle: p.ca_bundle.clone(),
                ca_provider,
                kubernetes,
                token,
                app_role,
                jwt,
                cert,
                user_pass,
            });
        }
        Provider::Gcpsm(p) => {
            let (mut workload_identity, mut secret_ref, mut federation) = (None, None, None);
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
                Some(GcpAuth::WorkloadIdentityFederation {
                    audience,
                    service_account,
                    cred_config,
                    aws_security_credentials,
                    external_token_endpoint,
                    gcp_service_account_email,
                }) => {
                    let what = "gcpsm workload-identity-federation";
                    federation = Some(GcpWifCtx {
                        audience: audience.clone(),
                        service_account: service_account
                            .as_ref()
                            .map(|s| refs.sa(s, what))
                            .transpose()?,
                        cred_config: cred_config
                            .as_ref()
                            .map(|c| refs.key(c, what))
                            .transpose()?,
                        aws_secret: aws_security_credentials
                            .as_ref()
                            .map(|a| refs.secret(&a.secret, what))
                            .transpose()?,
                        aws_region: aws_security_credentials.as_ref().map(|a| a.region.clone()),
                        external_token_endpoint: external_token_endpoint.clone(),
                        gcp_service_account_email: gcp_service_account_email.clone(),
                    })
                }
                None => {}
            }
            provider.gcpsm = Some(GcpCtx {
                project_id: p.project_id.clone(),
                location: p.location.clone(),
                workload_identity,
                secret_ref,
                federation,
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

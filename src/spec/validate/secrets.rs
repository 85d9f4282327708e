//! Rules of the `secrets` section: the (Cluster)SecretStore and its namespace coverage, the
//! refresh interval, the remote references per credential, and every provider's own settings.
//!
//! A child of `validate` so it shares the located-diagnostic helpers; it only adds rules.

use super::{check_dns_label, erased, Cx};
use crate::diag::Code;
use crate::spec::model::{self, RemoteRef};
use crate::spec::raw::{self, RawSpec};
use crate::spec::schema::dotted;
use std::time::Duration;

impl Cx<'_> {
    /// A ClusterSecretStore's `conditions` must admit every namespace airguard writes
    /// ExternalSecrets into, or ESO refuses them. Label conditions cannot be checked here
    /// (namespace labels live in the cluster), so they count as covering.
    pub(super) fn store_coverage(&mut self, raw: &RawSpec) {
        let store = &raw.secrets.store;
        if store.kind != raw::StoreKind::ClusterSecretStore || store.conditions.is_empty() {
            return;
        }
        if store
            .conditions
            .iter()
            .any(|c| !c.namespace_labels.is_empty())
        {
            return;
        }
        let mut consumers = Vec::new();
        let s = &raw.secrets;
        if s.airbyte.is_some() || s.postgres.is_some() || s.minio.is_some() {
            consumers.push(&raw.airbyte.namespace);
        }
        let airflow_keys = s.airflow.as_ref().is_some_and(|k| {
            k.fernet_key.is_some() || k.api_secret_key.is_some() || k.jwt_secret.is_some()
        });
        if raw.airbyte.api.auth != raw::AuthKind::None
            || airflow_keys
            || raw.airflow.database != raw::AirflowDatabase::InCluster
        {
            consumers.push(&raw.airflow.namespace);
        }
        // An invalid namespace name is reported on its own; do not pile a second error on it.
        for ns in consumers
            .into_iter()
            .filter(|ns| check_dns_label(ns).is_ok())
        {
            if !store.conditions.iter().any(|c| c.namespaces.contains(ns)) {
                self.push(
                    Code::ConflictingSettings,
                    "/secrets/store/conditions",
                    format!("the ClusterSecretStore's conditions do not admit namespace `{ns}`, where airguard writes ExternalSecrets"),
                    "no condition lists it",
                    format!("add `{ns}` to a condition's `namespaces`"),
                );
            }
        }
    }

    pub(super) fn remote(&mut self, pointer: &str, text: &str) -> RemoteRef {
        let (key, property) = match text.rsplit_once('#') {
            Some((k, p)) => (k.to_string(), Some(p.to_string())),
            None => (text.to_string(), None),
        };
        if key.trim().is_empty() || property.as_deref().is_some_and(|p| p.trim().is_empty()) {
            self.push(
                Code::InvalidValue,
                pointer,
                format!("`{text}` is not a remote secret reference"),
                "expected `path/to/secret#property`",
                "write the secret's key in the provider, optionally `#property` for one field of a JSON secret".into(),
            );
        }
        RemoteRef { key, property }
    }

    pub(super) fn secrets(&mut self, s: &raw::Secrets, api: &raw::AirbyteApi) -> model::Secrets {
        let store = &s.store;
        self.dns_subdomain("/secrets/store/name", &store.name);
        let cluster = store.kind == raw::StoreKind::ClusterSecretStore;
        if cluster && store.conditions.is_empty() {
            self.push(
                Code::UnconditionedClusterStore,
                "/secrets/store/kind",
                format!("ClusterSecretStore `{}` has no `conditions`: every namespace may read through it", store.name),
                "usable from every namespace",
                "add `conditions: [{namespaces: [<airbyte namespace>, <airflow namespace>]}]`".into(),
            );
        }
        if !cluster && !store.conditions.is_empty() {
            self.push(
                Code::ConflictingSettings,
                "/secrets/store/conditions",
                "`conditions` only apply to a ClusterSecretStore".into(),
                "ignored by a SecretStore",
                "remove `conditions`, or use `kind: ClusterSecretStore`".into(),
            );
        }
        for (i, c) in store.conditions.iter().enumerate() {
            for (j, ns) in c.namespaces.iter().enumerate() {
                self.dns_label(&format!("/secrets/store/conditions/{i}/namespaces/{j}"), ns);
            }
            self.labels(
                &format!("/secrets/store/conditions/{i}/namespace-labels"),
                &c.namespace_labels,
            );
            if c.namespaces.is_empty() && c.namespace_labels.is_empty() {
                self.push(
                    Code::InvalidValue,
                    &format!("/secrets/store/conditions/{i}"),
                    "an empty condition matches no namespace".into(),
                    "empty condition",
                    "list `namespaces` or `namespace-labels`".into(),
                );
            }
        }
        self.provider(&store.provider, cluster);

        let refresh = self.duration("/secrets/refresh-interval", &s.refresh_interval);
        if refresh == Some(Duration::ZERO) && s.refresh_policy != raw::RefreshPolicy::CreatedOnce {
            self.push(
                Code::ZeroRefreshInterval,
                "/secrets/refresh-interval",
                "`refresh-interval: 0` turns secret rotation off".into(),
                "no refresh",
                "set an interval such as `1h`, or say so explicitly with `refresh-policy: created-once`".into(),
            );
        }
        use raw::{CreationPolicy as C, DeletionPolicy as D};
        let forbidden = matches!(
            (s.deletion_policy, s.creation_policy),
            (D::Delete, C::Merge)
                | (D::Delete, C::CreateOrMerge)
                | (D::Delete, C::None)
                | (D::Merge, C::None)
        );
        if forbidden {
            let name = |v: &dyn erased::Named| v.name();
            self.push(
                Code::ForbiddenPolicyCombination,
                "/secrets/deletion-policy",
                format!(
                    "deletion-policy `{}` cannot be combined with creation-policy `{}`",
                    name(&s.deletion_policy),
                    name(&s.creation_policy)
                ),
                "External Secrets Operator rejects this combination",
                "use `creation-policy: owner` with `deletion-policy: delete`, or `deletion-policy: retain`".into(),
            );
        }

        let creds = s.airbyte.as_ref();
        let get = |f: fn(&raw::AirbyteCredentials) -> Option<&String>| creds.and_then(f);
        let client_id =
            get(|c| c.client_id.as_ref()).map(|k| self.remote("/secrets/airbyte/client-id", k));
        let client_secret = get(|c| c.client_secret.as_ref())
            .map(|k| self.remote("/secrets/airbyte/client-secret", k));
        let token = get(|c| c.token.as_ref()).map(|k| self.remote("/secrets/airbyte/token", k));
        let needed: &[(&str, bool)] = match api.auth {
            raw::AuthKind::None => &[],
            raw::AuthKind::Basic | raw::AuthKind::ClientCredentials => &[
                ("client-id", client_id.is_some()),
                ("client-secret", client_secret.is_some()),
            ],
            raw::AuthKind::Bearer => &[("token", token.is_some())],
        };
        for (key, present) in needed {
            if !present {
                let p = if creds.is_some() {
                    "/secrets/airbyte"
                } else {
                    "/airbyte/api/auth"
                };
                self.push_key(
                    Code::MissingKey,
                    p,
                    format!("`airbyte.api.auth` needs `secrets.airbyte.{key}`"),
                    "credential reference missing",
                    format!("add `{key}: path/to/secret#property` under `secrets.airbyte`"),
                );
            }
        }
        let postgres_password = s
            .postgres
            .as_ref()
            .map(|p| self.remote("/secrets/postgres/password", &p.password));
        let postgres_user = s
            .postgres
            .as_ref()
            .and_then(|p| p.user.as_ref())
            .map(|u| self.remote("/secrets/postgres/user", u));
        let minio_user = s
            .minio
            .as_ref()
            .and_then(|m| m.user.as_ref())
            .map(|u| self.remote("/secrets/minio/user", u));
        let minio_password = s
            .minio
            .as_ref()
            .map(|m| self.remote("/secrets/minio/password", &m.password));
        let airflow = s.airflow.as_ref();
        let mut airflow_key = |name: &str, f: fn(&raw::AirflowKeys) -> Option<&String>| {
            airflow
                .and_then(f)
                .map(|k| self.remote(&format!("/secrets/airflow/{name}"), k))
        };
        let airflow_fernet_key = airflow_key("fernet-key", |k| k.fernet_key.as_ref());
        let airflow_api_secret_key = airflow_key("api-secret-key", |k| k.api_secret_key.as_ref());
        let airflow_jwt_secret = airflow_key("jwt-secret", |k| k.jwt_secret.as_ref());
        model::Secrets {
            store: model::Store {
                kind: store.kind,
                name: store.name.clone(),
                conditions: store.conditions.clone(),
                provider: store.provider.clone(),
            },
            refresh_interval: refresh.unwrap_or(Duration::from_secs(3600)),
            refresh_policy: s.refresh_policy,
            creation_policy: s.creation_policy,
            deletion_policy: s.deletion_policy,
            airbyte_client_id: client_id,
            airbyte_client_secret: client_secret,
            airbyte_token: token,
            postgres_password,
            postgres_user,
            minio_user,
            minio_password,
            airflow_fernet_key,
            airflow_api_secret_key,
            airflow_jwt_secret,
        }
    }

    fn provider(&mut self, p: &raw::Provider, cluster: bool) {
        let base = "/secrets/store/provider";
        let mut refs: super::provider::Refs = Vec::new();
        match p {
            raw::Provider::Aws(a) => {
                let b = format!("{base}/aws");
                self.aws_options(&b, a);
                if a.region.trim().is_empty() {
                    self.push(
                        Code::IncompleteProvider,
                        &format!("{b}/region"),
                        "aws provider needs a `region`".into(),
                        "empty",
                        "set `region: eu-west-1` (or yours)".into(),
                    );
                }
                match &a.auth {
                    Some(raw::AwsAuth::Jwt { service_account }) => refs.push((
                        format!("{b}/auth/jwt/service-account"),
                        service_account.namespace.as_ref(),
                    )),
                    Some(raw::AwsAuth::SecretRef {
                        access_key_id,
                        secret_access_key,
                    }) => {
                        refs.push((
                            format!("{b}/auth/secret-ref/access-key-id"),
                            access_key_id.namespace.as_ref(),
                        ));
                        refs.push((
                            format!("{b}/auth/secret-ref/secret-access-key"),
                            secret_access_key.namespace.as_ref(),
                        ));
                    }
                    None => {}
                }
            }
            raw::Provider::Azurekv(a) => {
                let b = format!("{base}/azurekv");
                self.url(&format!("{b}/vault-url"), &a.vault_url, true);
                let missing = |cond: bool, key: &str| (!cond).then(|| key.to_string());
                let required: Vec<String> = match a.auth_type {
                    raw::AzureAuthType::ServicePrincipal => [
                        missing(a.tenant_id.is_some(), "tenant-id"),
                        missing(a.client_id.is_some(), "client-id"),
                        missing(a.client_secret.is_some(), "client-secret"),
                    ]
                    .into_iter()
                    .flatten()
                    .collect(),
                    raw::AzureAuthType::WorkloadIdentity => {
                        missing(a.service_account.is_some(), "service-account")
                            .into_iter()
                            .collect()
                    }
                    raw::AzureAuthType::ManagedIdentity => Vec::new(),
                };
                for key in required {
                    self.push(
                        Code::IncompleteProvider,
                        &b,
                        format!("azurekv `auth-type` {:?} needs `{key}`", a.auth_type),
                        "missing for this auth type",
                        format!("add `{key}` under `secrets.store.provider.azurekv`"),
                    );
                }
                if let Some(sa) = &a.service_account {
                    refs.push((format!("{b}/service-account"), sa.namespace.as_ref()));
                }
                if let Some(r) = &a.client_id {
                    refs.push((format!("{b}/client-id"), r.namespace.as_ref()));
                }
                if let Some(r) = &a.client_secret {
                    refs.push((format!("{b}/client-secret"), r.namespace.as_ref()));
                }
            }
            raw::Provider::Vault(v) => {
                let b = format!("{base}/vault");
                self.url(&format!("{b}/server"), &v.server, false);
                self.vault_ca(&b, v, &mut refs);
                self.vault_auth(&b, &v.auth, &mut refs);
                match &v.auth {
                    raw::VaultAuth::Kubernetes {
                        service_account,
                        role,
                        ..
                    } => {
                        if role.trim().is_empty() {
                            self.push(
                                Code::IncompleteProvider,
                                &format!("{b}/auth/kubernetes/role"),
                                "vault kubernetes auth needs a `role`".into(),
                                "empty",
                                "set the Vault role bound to the ServiceAccount".into(),
                            );
                        }
                        if let Some(sa) = service_account {
                            refs.push((
                                format!("{b}/auth/kubernetes/service-account"),
                                sa.namespace.as_ref(),
                            ));
                        }
                    }
                    raw::VaultAuth::Token { secret_ref } => refs.push((
                        format!("{b}/auth/token/secret-ref"),
                        secret_ref.namespace.as_ref(),
                    )),
                    raw::VaultAuth::AppRole { secret_ref, .. } => refs.push((
                        format!("{b}/auth/app-role/secret-ref"),
                        secret_ref.namespace.as_ref(),
                    )),
                    raw::VaultAuth::Jwt { .. }
                    | raw::VaultAuth::Cert { .. }
                    | raw::VaultAuth::UserPass { .. } => {}
                }
            }
            raw::Provider::Gcpsm(g) => {
                let b = format!("{base}/gcpsm");
                match &g.auth {
                    Some(raw::GcpAuth::WorkloadIdentity {
                        service_account, ..
                    }) => refs.push((
                        format!("{b}/auth/workload-identity/service-account"),
                        service_account.namespace.as_ref(),
                    )),
                    Some(raw::GcpAuth::SecretRef { secret_access_key }) => refs.push((
                        format!("{b}/auth/secret-ref/secret-access-key"),
                        secret_access_key.namespace.as_ref(),
                    )),
                    Some(wif @ raw::GcpAuth::WorkloadIdentityFederation { .. }) => {
                        self.gcp_wif(&b, wif, &mut refs)
                    }
                    None => {}
                }
            }
        }
        if cluster {
            for (pointer, ns) in refs {
                if ns.is_none() {
                    self.push_key(
                        Code::IncompleteProvider,
                        &pointer,
                        format!("`{}` needs a `namespace` in a ClusterSecretStore", dotted(&pointer)),
                        "namespace missing",
                        "set `namespace:` on the reference; otherwise ESO uses each consumer's namespace".into(),
                    );
                }
            }
        }
    }
}

//! External Secrets Operator objects: the (Cluster)SecretStore and the ExternalSecrets that turn
//! remote keys into the Kubernetes Secrets Airbyte's chart and Airflow read.
//!
//! Rust decides which objects exist and what they hold; `templates/secretstore.yaml.j2` and
//! `templates/externalsecret.yaml.j2` give them their YAML shape. Every rendered document is
//! parsed back into the closed serde types of [`check`] (the subset of the `external-secrets.io/v1`
//! CRDs airguard emits) and checked before it is returned. This module never sees a secret
//! value: it writes remote keys and Go-template placeholders (`{{ .client_id | toJson }}`) that
//! ESO evaluates in the cluster, and nothing else.

use super::airflow_conn::{airflow_data, tpl_key, AIRFLOW_SECRET_NAME};
use super::{env, header, Artifact, RenderError};
use crate::spec::model::{
    self, AuthKind, ChartProfile, CreationPolicy, DeletionPolicy, Model, RefreshPolicy, RemoteRef,
    StoreKind,
};
use crate::spec::validate::format_go_duration;
use serde::Serialize;
use std::collections::BTreeMap;

mod airflow;
pub mod check;
mod store;
#[cfg(test)]
mod tests;

use super::airbyte_secrets::storage_keys;
pub use super::airbyte_secrets::{
    ChartKeys, AIRBYTE_AUTH_SECRET_NAME, AIRBYTE_CONFIG_SECRET_NAME, AUTH_CREATION_POLICY,
    AUTH_DELETION_POLICY,
};
use super::airflow_conn::connection_json;

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
    let all = airbyte_side(model)
        .into_iter()
        .chain(airflow_side(model))
        .chain(airflow::airflow_own(model));
    for es in all {
        by_ns.entry(es.namespace.clone()).or_default().push(es);
    }
    let mut out = Vec::new();
    if cluster {
        let path = "secrets/cluster-secret-store.yaml".to_string();
        let ctx = store::store_ctx(model, None).map_err(|message| RenderError::SelfCheck {
            path: path.clone(),
            message,
        })?;
        let mut content = header();
        content.push_str(&env::render("secretstore.yaml.j2", &ctx)?);
        check::check_file(&content, model).map_err(|message| RenderError::SelfCheck {
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
            let ctx =
                store::store_ctx(model, Some(&ns)).map_err(|message| RenderError::SelfCheck {
                    path: path.clone(),
                    message,
                })?;
            docs.push(env::render("secretstore.yaml.j2", &ctx)?);
        }
        for es in &list {
            docs.push(env::render("externalsecret.yaml.j2", es)?);
        }
        let content = header() + &docs.join("---\n");
        check::check_file(&content, model).map_err(|message| RenderError::SelfCheck {
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
        refresh_interval: format_go_duration(s.refresh_interval),
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
            s.postgres_password.is_some() || model.airbyte.database.is_some(),
            s.postgres_user.is_some() || model.airbyte.database.is_some(),
        ),
    );
    // The external database's credentials replace `secrets.postgres` (validation rejects both).
    let (db_user, db_password) = match &model.airbyte.database {
        Some(ext) => (Some(&ext.user), Some(&ext.password)),
        None => (s.postgres_user.as_ref(), s.postgres_password.as_ref()),
    };
    if let Some(u) = db_user {
        config.data.push(data(keys.database_user, u));
    }
    if let Some(p) = db_password {
        config.data.push(data(keys.database_password, p));
    }
    if let Some((ru, rp)) = keys.database_replica {
        if let Some(u) = db_user {
            config.data.push(data(ru, u));
        }
        if let Some(p) = db_password {
            config.data.push(data(rp, p));
        }
    }
    if let Some(st) = &model.airbyte.storage {
        storage_data(&mut config, model.airbyte.chart, st);
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

/// The external storage's credentials, under the keys the rendered values name
/// ([`storage_keys`]); nothing for workload identity.
fn storage_data(config: &mut ExternalSecretCtx, chart: ChartProfile, st: &model::ExternalStorage) {
    let refs: Vec<&RemoteRef> = match &st.auth {
        model::StorageAuth::S3Keys {
            access_key_id,
            secret_access_key,
        } => vec![access_key_id, secret_access_key],
        model::StorageAuth::WorkloadIdentity => return,
        model::StorageAuth::GcsJson(r) | model::StorageAuth::AzureConnectionString(r) => vec![r],
    };
    for ((_, key), r) in storage_keys(chart, st.kind).into_iter().zip(refs) {
        config.data.push(data(key, r));
    }
    config.comment[0] = format!(
        "Airbyte database and {} storage credentials, keyed for chart {}.",
        storage_name(st.kind),
        chart_name(chart)
    );
    config.comment.push(
        "airbyte/values.yaml points the chart at this Secret and names each storage key.".into(),
    );
}

fn storage_name(kind: model::StorageKind) -> &'static str {
    match kind {
        model::StorageKind::S3 => "S3",
        model::StorageKind::Gcs => "GCS",
        model::StorageKind::Azure => "Azure Blob",
        model::StorageKind::Minio => "MinIO",
    }
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

//! The closed serde model of the values airguard emits; every rendered file is parsed back into
//! it, so a key outside this set (and so possibly unknown to the chart) fails the render. It also
//! checks the rules between keys the chart's schema cannot state.

use serde::Deserialize;

/// The emitted subset of the chart's values.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Values {
    /// Executor.
    pub executor: String,
    /// Chart NetworkPolicies.
    pub network_policies: NetworkPolicies,
    /// Env for all containers (name/value only).
    pub env: Option<Vec<PlainEnv>>,
    /// Secrets for all containers.
    pub secret: Option<Vec<SecretEnv>>,
    /// Workers.
    pub workers: Option<Workers>,
    /// Triggerer.
    pub triggerer: Option<Component>,
    /// Scheduler.
    pub scheduler: Option<Component>,
    /// API server.
    pub api_server: Option<Component>,
    /// DAG processor.
    pub dag_processor: Option<Component>,
    /// PgBouncer.
    pub pgbouncer: Pgbouncer,
    /// `data` (the metadata connection's Secret).
    pub data: Option<Data>,
    /// Fernet key Secret.
    pub fernet_key_secret_name: Option<String>,
    /// API secret key Secret (Airflow 3).
    pub api_secret_key_secret_name: Option<String>,
    /// JWT secret Secret.
    pub jwt_secret_name: Option<String>,
    /// The bundled PostgreSQL.
    pub postgresql: Enabled,
    /// StatsD exporter.
    pub statsd: Statsd,
    /// DAG delivery.
    pub dags: Option<Dags>,
}

/// `dags`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Dags {
    /// `dags.gitSync`.
    pub git_sync: GitSync,
}

/// `dags.gitSync`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GitSync {
    /// On.
    pub enabled: bool,
    /// Clone URL.
    pub repo: String,
    /// Branch (git-sync v3).
    pub branch: String,
    /// Revision (git-sync v3).
    pub rev: String,
    /// Branch, tag or hash (git-sync v4).
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// Directory of the DAGs in the repository (`""`: the root).
    pub sub_path: String,
    /// HTTPS credentials Secret.
    pub credentials_secret: Option<String>,
    /// SSH key Secret.
    pub ssh_key_secret: Option<String>,
}

/// `statsd`: on only with the sync metric mappings.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Statsd {
    /// On or off.
    pub enabled: bool,
    /// Mappings added to the chart's own.
    pub extra_mappings: Option<Vec<Mapping>>,
}

/// One statsd_exporter mapping.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Glob.
    #[serde(rename = "match")]
    pub glob: String,
    /// statsd type.
    pub match_metric_type: String,
    /// Series name.
    pub name: String,
    /// Help.
    pub help: String,
    /// Labels.
    pub labels: std::collections::BTreeMap<String, String>,
}

/// `data`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Data {
    /// Secret with key `connection`.
    pub metadata_secret_name: String,
}

/// `pgbouncer`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Pgbouncer {
    /// On or off.
    pub enabled: bool,
    /// Secret with `pgbouncer.ini` and `users.txt`.
    pub config_secret_name: Option<String>,
    /// The metrics exporter's stats connection.
    pub metrics_exporter_sidecar: Option<StatsSecret>,
}

/// `pgbouncer.metricsExporterSidecar`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StatsSecret {
    /// Secret name.
    pub stats_secret_name: String,
    /// Key in it.
    pub stats_secret_key: String,
}

/// A component that is only switched on or off.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enabled {
    /// On or off.
    pub enabled: bool,
}

/// `networkPolicies`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkPolicies {
    /// Must be false.
    pub enabled: bool,
}

/// Top-level `env[]` item.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlainEnv {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
}

/// Top-level `secret[]` item.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecretEnv {
    /// Env var name.
    pub env_name: String,
    /// Secret name.
    pub secret_name: String,
    /// Key in the Secret.
    pub secret_key: String,
}

/// `workers`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workers {
    /// Celery workers.
    pub celery: Option<Component>,
    /// KubernetesExecutor pod template.
    pub kubernetes: Option<Component>,
}

/// A component with `env`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// Env.
    pub env: Vec<Env>,
}

/// A per-component env item.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Env {
    /// Name.
    pub name: String,
    /// Plain value.
    pub value: Option<String>,
    /// From a Secret.
    pub value_from: Option<ValueFrom>,
}

/// `valueFrom`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ValueFrom {
    /// Secret key reference.
    pub secret_key_ref: SecretKeyRef,
}

/// `secretKeyRef`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretKeyRef {
    /// Secret.
    pub name: String,
    /// Key.
    pub key: String,
}

/// Parse and check rendered values.
pub fn check(content: &str) -> Result<(), String> {
    let v: Values = serde_saphyr::from_str(content).map_err(|e| e.to_string())?;
    if v.statsd.enabled
        != v.statsd
            .extra_mappings
            .as_ref()
            .is_some_and(|m| !m.is_empty())
    {
        return Err(
            "statsd.enabled must be false unless observability adds its mappings (no NetworkPolicy lets metrics through otherwise)".into(),
        );
    }
    if v.network_policies.enabled {
        return Err("networkPolicies.enabled must be false".into());
    }
    if v.data.is_some() == v.postgresql.enabled {
        return Err(
            "data.metadataSecretName is set exactly when the bundled postgresql is off".into(),
        );
    }
    let pgb = &v.pgbouncer;
    if !pgb.enabled && (pgb.config_secret_name.is_some() || pgb.metrics_exporter_sidecar.is_some())
    {
        return Err("PgBouncer Secrets without PgBouncer".into());
    }
    let comps = [
        v.workers.as_ref().and_then(|w| w.celery.as_ref()),
        v.workers.as_ref().and_then(|w| w.kubernetes.as_ref()),
        v.triggerer.as_ref(),
        v.scheduler.as_ref(),
        v.api_server.as_ref(),
        v.dag_processor.as_ref(),
    ];
    for c in comps.into_iter().flatten() {
        for e in &c.env {
            if e.value.is_some() == e.value_from.is_some() {
                return Err(format!(
                    "env {} needs exactly one of value and valueFrom",
                    e.name
                ));
            }
        }
    }
    Ok(())
}

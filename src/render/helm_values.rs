//! Values for the official apache-airflow Helm chart 1.21 (Airflow 3): `airflow/values.yaml`.
//!
//! Only keys the chart's `values.schema.json` knows are written: `executor`,
//! `networkPolicies.enabled: false` (airguard renders the NetworkPolicies itself), and the
//! Airbyte connection. The connection `AIRFLOW_CONN_<ID>` is read with `valueFrom.secretKeyRef`
//! from the ESO-made Secret ([`super::airflow_conn::AIRFLOW_SECRET_NAME`]) and given only to
//! the components that call Airbyte (their per-component `env`), or to every Airflow container
//! through the top-level `secret[]` when the spec asks for `all-components`. Non-secret
//! `AIRBYTE_*` settings are plain env. This module never writes a secret value.

use super::airflow_conn::{airflow_has_secret, connection_json, AIRFLOW_SECRET_NAME};
use super::airflow_secret;
use super::{env, header, Artifact, RenderError};
use crate::spec::model::{self, AirflowComponent, Executor, Model};
use serde::Serialize;
use std::collections::BTreeMap;

/// The chart version these values are written for.
pub const CHART_VERSION: &str = "1.21.0";

/// Path of the rendered values file.
pub const PATH: &str = "airflow/values.yaml";

/// The chart's `executor` value.
pub fn executor_name(e: Executor) -> &'static str {
    match e {
        Executor::Celery => "CeleryExecutor",
        Executor::Kubernetes => "KubernetesExecutor",
        Executor::Local => "LocalExecutor",
    }
}

/// Where a caller's env goes in the chart values: `(top-level key, sub-key)`.
/// Task workers are `workers.celery` (Celery) or `workers.kubernetes` (chart 1.21
/// `values.schema.json`: "Add additional env vars to the pods created with pod-template-file",
/// i.e. KubernetesExecutor task pods); with LocalExecutor tasks run inside the scheduler.
/// `workers.env` is deprecated in 1.21 and never used.
pub fn env_location(
    executor: Executor,
    c: AirflowComponent,
) -> (&'static str, Option<&'static str>) {
    match c {
        AirflowComponent::Worker => match executor {
            Executor::Celery => ("workers", Some("celery")),
            Executor::Kubernetes => ("workers", Some("kubernetes")),
            Executor::Local => ("scheduler", None),
        },
        AirflowComponent::Triggerer => ("triggerer", None),
        AirflowComponent::Scheduler => ("scheduler", None),
        AirflowComponent::ApiServer => ("apiServer", None),
        AirflowComponent::DagProcessor => ("dagProcessor", None),
    }
}

#[derive(Serialize)]
struct ValuesCtx {
    comment: Vec<String>,
    executor: &'static str,
    global_env: Vec<EnvCtx>,
    global_secret: Vec<SecretEnvCtx>,
    components: Vec<ComponentCtx>,
    pgbouncer: bool,
    bundled_postgresql: bool,
    /// `data.metadataSecretName`, if managed.
    metadata_secret: Option<&'static str>,
    /// Top-level `*SecretName` values, in order.
    secret_names: Vec<(&'static str, &'static str)>,
    /// `pgbouncer.configSecretName` / `metricsExporterSidecar.statsSecretName`.
    pgbouncer_secret: Option<&'static str>,
    pgbouncer_stats_key: &'static str,
    git_sync: Option<GitSyncCtx>,
    statsd_mappings: Vec<super::observability::Mapping>,
}

#[derive(Serialize)]
struct GitSyncCtx {
    repo: String,
    branch: String,
    rev: String,
    git_ref: String,
    sub_path: String,
    credentials_secret: Option<String>,
    ssh_key_secret: Option<String>,
}

#[derive(Clone, Serialize)]
struct EnvCtx {
    name: String,
    value: Option<String>,
    secret_name: Option<String>,
    secret_key: Option<String>,
}

#[derive(Serialize)]
struct SecretEnvCtx {
    env_name: String,
    secret_name: String,
    secret_key: String,
}

#[derive(Serialize)]
struct ComponentCtx {
    key: &'static str,
    sub: Option<&'static str>,
    env: Vec<EnvCtx>,
}

/// Render `airflow/values.yaml`.
pub fn render(model: &Model) -> Result<Artifact, RenderError> {
    let af = &model.airflow;
    let conn = af.conn_env_name();
    let secret = airflow_has_secret(model);
    let url = EnvCtx {
        name: model::env::API_URL.to_string(),
        value: Some(model.airbyte.api.url.clone()),
        secret_name: None,
        secret_key: None,
    };
    let conn_env = if secret {
        EnvCtx {
            name: conn.clone(),
            value: None,
            secret_name: Some(AIRFLOW_SECRET_NAME.into()),
            secret_key: Some(conn.clone()),
        }
    } else {
        // No credentials (auth: none): the connection holds no secret, so it is plain env.
        EnvCtx {
            name: conn.clone(),
            value: Some(connection_json(model, false)),
            secret_name: None,
            secret_key: None,
        }
    };

    let mut comment = vec![
        format!(
            "Values for the official apache-airflow Helm chart {CHART_VERSION} (Airflow 3), release {} in namespace {}.",
            af.release, af.namespace
        ),
        format!(
            "helm upgrade --install {} apache-airflow/airflow --version {CHART_VERSION} -n {} -f airflow/values.yaml",
            af.release, af.namespace
        ),
        "networkPolicies.enabled is false: airguard renders the NetworkPolicies (networkpolicies/).".into(),
        "pgbouncer, postgresql and statsd follow the spec, so these values and the policies agree:".into(),
    ];
    let statsd_mappings = super::observability::mappings(model);
    comment.push(if statsd_mappings.is_empty() {
        "statsd is off because no policy lets metrics traffic through.".into()
    } else {
        "statsd is on (observability): Airflow components reach it on UDP 9125, Prometheus scrapes it on TCP 9102; extraMappings add the sync metrics of docs/observability.md to the chart's own.".into()
    });
    let own = airflow_secret::keys(model);
    if let Some(db) = &af.external_database {
        let at = af
            .database_host
            .as_ref()
            .map_or_else(String::new, |h| format!(" {h}"));
        let ports: Vec<String> = db.ports.iter().map(|p| p.start.to_string()).collect();
        let cidrs: Vec<String> = db.cidrs.iter().map(ToString::to_string).collect();
        comment.push(format!(
            "The metadata database{at} is external (airflow.database.external): postgresql is off, and {} reach {} on port {}.",
            if af.pgbouncer { "only PgBouncer's pods" } else { "the components that use it" },
            cidrs.join(", "),
            ports.join(", ")
        ));
        if af.pgbouncer {
            comment.push(format!(
                "PgBouncer reads its pgbouncer.ini, users.txt and stats connection from Secret {}.",
                airflow_secret::PGBOUNCER_SECRET_NAME
            ));
        }
    }
    if !own.is_empty() {
        comment.push(format!(
            "{} name Secret {}, made by External Secrets (secrets/{}.yaml): the chart generates none of them.",
            own.iter().map(|k| k.value).collect::<Vec<_>>().join(", "),
            airflow_secret::SECRET_NAME,
            af.namespace
        ));
    }
    let (mut global_env, mut global_secret, mut components) = (Vec::new(), Vec::new(), Vec::new());
    if af.all_components {
        comment.push(format!(
            "{conn} goes to every Airflow container (airflow.all-components)."
        ));
        global_env.push(url);
        if secret {
            global_secret.push(SecretEnvCtx {
                env_name: conn.clone(),
                secret_name: AIRFLOW_SECRET_NAME.into(),
                secret_key: conn.clone(),
            });
        } else {
            global_env.push(conn_env);
        }
    } else {
        let mut by_location: BTreeMap<(&'static str, Option<&'static str>), Vec<EnvCtx>> =
            BTreeMap::new();
        for c in &af.callers {
            by_location
                .entry(env_location(af.executor, *c))
                .or_insert_with(|| vec![url.clone(), conn_env.clone()]);
        }
        let names: Vec<String> = by_location
            .keys()
            .map(|(k, s)| s.map_or_else(|| k.to_string(), |s| format!("{k}.{s}")))
            .collect();
        comment.push(format!(
            "{conn} goes only to the components that call Airbyte: {}.",
            names.join(", ")
        ));
        components = by_location
            .into_iter()
            .map(|((key, sub), env)| ComponentCtx { key, sub, env })
            .collect();
    }
    if secret {
        comment.push(format!(
            "It is read from Secret {AIRFLOW_SECRET_NAME}, made by External Secrets (secrets/{}.yaml).",
            af.namespace
        ));
        comment.push(
            "Env from a Secret is read at start: restart the pods after the Secret rotates.".into(),
        );
    }
    if model.dags.git_sync.is_some() {
        comment.push(
            "dags.gitSync pulls the rendered dags/ (dags.git-sync); the policies let its pods reach the git host.".into(),
        );
    }
    let ctx = ValuesCtx {
        comment,
        executor: executor_name(af.executor),
        global_env,
        global_secret,
        components,
        pgbouncer: af.pgbouncer,
        bundled_postgresql: af.external_database.is_none(),
        metadata_secret: own
            .iter()
            .any(|k| k.value == "data.metadataSecretName")
            .then_some(airflow_secret::SECRET_NAME),
        secret_names: own
            .iter()
            .filter(|k| !k.value.contains('.'))
            .map(|k| (k.value, airflow_secret::SECRET_NAME))
            .collect(),
        pgbouncer_secret: (!airflow_secret::pgbouncer_keys(model).is_empty())
            .then_some(airflow_secret::PGBOUNCER_SECRET_NAME),
        pgbouncer_stats_key: airflow_secret::STATS_KEY,
        git_sync: model.dags.git_sync.as_ref().map(|g| GitSyncCtx {
            repo: g.repo.clone(),
            branch: g.branch.clone(),
            rev: g.rev.clone().unwrap_or_else(|| "HEAD".into()),
            // git-sync v4 reads `ref`; v3 reads branch and rev.
            git_ref: g.rev.clone().unwrap_or_else(|| g.branch.clone()),
            sub_path: g.sub_path.clone().unwrap_or_default(),
            credentials_secret: g.credentials_secret.clone(),
            ssh_key_secret: g.ssh_key_secret.clone(),
        }),
        statsd_mappings,
    };
    let content = header() + &env::render("airflow-values.yaml.j2", &ctx)?;
    typed::check(&content).map_err(|message| RenderError::SelfCheck {
        path: PATH.into(),
        message,
    })?;
    Ok(Artifact {
        path: PATH.into(),
        content,
    })
}

/// The closed serde model of the values airguard emits; every rendered file is parsed back into
/// it, so a key outside this set (and so possibly unknown to the chart) fails the render.
pub mod typed;

#[cfg(test)]
mod tests {
    use super::*;

    fn starter() -> Model {
        let mut files = crate::diag::Files::new();
        let (m, diags) = crate::spec::from_str(
            &mut files,
            "airguard.yaml",
            include_str!("../../templates/airguard.yaml"),
        );
        m.unwrap_or_else(|| panic!("{diags:?}"))
    }

    #[test]
    fn workers_env_follows_the_executor() {
        use AirflowComponent as C;
        assert_eq!(
            env_location(Executor::Celery, C::Worker),
            ("workers", Some("celery"))
        );
        assert_eq!(
            env_location(Executor::Kubernetes, C::Worker),
            ("workers", Some("kubernetes"))
        );
        assert_eq!(
            env_location(Executor::Local, C::Worker),
            ("scheduler", None)
        );
        assert_eq!(
            env_location(Executor::Kubernetes, C::ApiServer),
            ("apiServer", None)
        );
        assert_eq!(
            env_location(Executor::Celery, C::DagProcessor),
            ("dagProcessor", None)
        );
    }

    #[test]
    fn starter_values_give_the_connection_to_callers_only() {
        let a = render(&starter()).expect("renders");
        assert_eq!(a.path, PATH);
        let v: typed::Values = serde_saphyr::from_str(&a.content).expect("parses");
        assert_eq!(v.executor, "CeleryExecutor");
        assert!(
            v.secret.is_none()
                && v.env.is_none()
                && v.scheduler.is_none()
                && v.api_server.is_none()
        );
        let worker = v
            .workers
            .and_then(|w| w.celery)
            .expect("celery workers get env");
        let conn = worker
            .env
            .iter()
            .find(|e| e.name == "AIRFLOW_CONN_AIRBYTE_DEFAULT")
            .expect("connection env");
        let r = &conn
            .value_from
            .as_ref()
            .expect("from a Secret")
            .secret_key_ref;
        assert_eq!(
            (r.name.as_str(), r.key.as_str()),
            (AIRFLOW_SECRET_NAME, "AIRFLOW_CONN_AIRBYTE_DEFAULT")
        );
        assert!(v.triggerer.is_some());
    }

    #[test]
    fn self_check_rejects_unknown_keys_and_chart_policies() {
        let switches =
            "pgbouncer: {enabled: false}\npostgresql: {enabled: true}\nstatsd: {enabled: false}\n";
        let ok =
            format!("executor: CeleryExecutor\nnetworkPolicies:\n  enabled: false\n{switches}");
        let ok = ok.as_str();
        assert!(typed::check(ok).is_ok());
        assert!(typed::check(&format!(
            "executor: CeleryExecutor\nnetworkPolicies:\n  enabled: true\n{switches}"
        ))
        .is_err());
        // statsd must stay off: no policy lets metrics through
        assert!(
            typed::check(&ok.replace("statsd: {enabled: false}", "statsd: {enabled: true}"))
                .is_err()
        );
        assert!(typed::check(&format!("{ok}webserver:\n  env: []\n")).is_err());
        let both = format!("{ok}triggerer:\n  env:\n  - name: X\n    value: a\n    valueFrom:\n      secretKeyRef: {{name: s, key: k}}\n");
        assert!(typed::check(&both).is_err());
    }
}

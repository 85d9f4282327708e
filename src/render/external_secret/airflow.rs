//! The ExternalSecrets for Airflow's own Secrets: [`airflow_secret::SECRET_NAME`] (metadata
//! connection, fernet key, API secret key, JWT secret, whichever the spec manages) and, for
//! PgBouncer in front of an external database, [`airflow_secret::PGBOUNCER_SECRET_NAME`]. Keys
//! and names come from `render::airflow_secret`, the same place `helm_values` reads them from.

use super::{data, es_ctx, ExternalSecretCtx};
use crate::render::airflow_secret::{self, Key};
use crate::spec::model::Model;

/// Airflow's own ExternalSecrets (none when the spec manages none of its keys).
pub(super) fn airflow_own(model: &Model) -> Vec<ExternalSecretCtx> {
    let ns = &model.airflow.namespace;
    let mut out = Vec::new();
    let own = airflow_secret::keys(model);
    if !own.is_empty() {
        let mut comment = vec![
            "Airflow's own secrets, under the keys the apache-airflow chart reads. The values"
                .into(),
            format!("{} name this Secret,", values_list(&own)),
            "so the chart generates none of them.".into(),
        ];
        if model.airflow.metadata_connection.is_some() {
            comment.push(
                "`connection` is the metadata database's SQLAlchemy URL; Celery's result backend"
                    .into(),
            );
            comment.push("falls back to it (data.resultBackendSecretName is unset).".into());
        }
        comment.push(
            "Env from a Secret is read at start: restart Airflow after the Secret rotates.".into(),
        );
        out.push(ctx(model, airflow_secret::SECRET_NAME, ns, comment, &own));
    }
    let pgb = airflow_secret::pgbouncer_keys(model);
    if !pgb.is_empty() {
        let comment = vec![
            "PgBouncer's settings for the external metadata database: pgbouncer.ini and users.txt"
                .into(),
            "(pgbouncer.configSecretName) and its metrics exporter's connection".into(),
            format!(
                "(pgbouncer.metricsExporterSidecar.statsSecretName, key {}).",
                airflow_secret::STATS_KEY
            ),
        ];
        out.push(ctx(
            model,
            airflow_secret::PGBOUNCER_SECRET_NAME,
            ns,
            comment,
            &pgb,
        ));
    }
    out
}

fn values_list(keys: &[Key<'_>]) -> String {
    keys.iter().map(|k| k.value).collect::<Vec<_>>().join(", ")
}

fn ctx(
    model: &Model,
    name: &str,
    ns: &str,
    comment: Vec<String>,
    keys: &[Key<'_>],
) -> ExternalSecretCtx {
    let mut es = es_ctx(model, name, ns, comment);
    es.data = keys.iter().map(|k| data(k.secret_key, k.remote)).collect();
    es.data.sort_by(|a, b| a.secret_key.cmp(&b.secret_key));
    es
}

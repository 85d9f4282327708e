//! Airflow's own Secrets, in one home: the metadata database connection, the fernet key, the API
//! secret key and the JWT secret (Secret [`SECRET_NAME`]), and PgBouncer's settings for an external
//! database (Secret [`PGBOUNCER_SECRET_NAME`]), each under the key the apache-airflow chart 1.21
//! reads and named by the values key that points the chart at it. `external_secret` makes the
//! Secrets from here and `helm_values` writes the `*SecretName` values from here, so both agree.

use crate::spec::model::{Model, RemoteRef};

/// The Secret in the Airflow namespace with Airflow's own keys.
pub const SECRET_NAME: &str = "airguard-airflow";

/// The Secret in the Airflow namespace with PgBouncer's `pgbouncer.ini`, `users.txt` and its
/// metrics exporter's connection (a Secret of its own: the PgBouncer pod needs none of the others).
pub const PGBOUNCER_SECRET_NAME: &str = "airguard-airflow-pgbouncer";

/// The key the chart reads the stats connection from (`statsSecretKey`, written explicitly).
pub const STATS_KEY: &str = "connection";

/// One managed key: the chart value that names its Secret, the key in it (chart 1.21
/// `values.yaml`: "the secret must contain a '<key>' key"), and its remote reference.
#[derive(Clone, Copy, Debug)]
pub struct Key<'m> {
    /// Dotted chart values path of the `*SecretName` (`data.metadataSecretName`).
    pub value: &'static str,
    /// Key in the Secret.
    pub secret_key: &'static str,
    /// Remote reference.
    pub remote: &'m RemoteRef,
}

/// Airflow's own keys the spec manages, in values order. Airflow 3 reads the API secret key from
/// `apiSecretKeySecretName`; `webserverSecretKeySecretName` is for Airflow 2 and never written.
pub fn keys(model: &Model) -> Vec<Key<'_>> {
    let s = &model.secrets;
    [
        (
            "data.metadataSecretName",
            "connection",
            model.airflow.metadata_connection.as_ref(),
        ),
        (
            "fernetKeySecretName",
            "fernet-key",
            s.airflow_fernet_key.as_ref(),
        ),
        (
            "apiSecretKeySecretName",
            "api-secret-key",
            s.airflow_api_secret_key.as_ref(),
        ),
        ("jwtSecretName", "jwt-secret", s.airflow_jwt_secret.as_ref()),
    ]
    .into_iter()
    .filter_map(|(value, secret_key, r)| {
        r.map(|remote| Key {
            value,
            secret_key,
            remote,
        })
    })
    .collect()
}

/// PgBouncer's keys for an external database: `pgbouncer.configSecretName` (`pgbouncer.ini`,
/// `users.txt`) and `pgbouncer.metricsExporterSidecar.statsSecretName` ([`STATS_KEY`]).
pub fn pgbouncer_keys(model: &Model) -> Vec<Key<'_>> {
    let Some(c) = &model.airflow.pgbouncer_config else {
        return Vec::new();
    };
    vec![
        Key {
            value: "pgbouncer.configSecretName",
            secret_key: "pgbouncer.ini",
            remote: &c.ini,
        },
        Key {
            value: "pgbouncer.configSecretName",
            secret_key: "users.txt",
            remote: &c.users,
        },
        Key {
            value: "pgbouncer.metricsExporterSidecar.statsSecretName",
            secret_key: STATS_KEY,
            remote: &c.stats_connection,
        },
    ]
}

//! Values for Airbyte's Helm chart, per chart line: `airbyte/values.yaml`, rendered when the
//! spec puts Airbyte's database or storage outside the cluster (`airbyte.database`,
//! `airbyte.storage`). An in-cluster layout runs on the chart's defaults and renders no values
//! file, so its output stays what it was.
//!
//! What it sets: `global.auth.enabled` (per `airbyte.api.auth`) and, on V2, the managed Secret
//! the rendered ExternalSecret fills (`managedSecretName`); `global.database` (type, Secret,
//! host, port, the name under V1 `database` / V2 `name`, and **explicit** `userSecretKey` and
//! `passwordSecretKey`); `global.storage` (type, Secret — V1 `storageSecretName`, which its GCS
//! volume reads, V2 `secretName` — buckets, region or authentication type, and explicit key
//! names); `postgresql.enabled: false` with an external database and, on V2, `minio.enabled:
//! false` with external storage (V1 deploys MinIO only for `storage.type: minio`). Neither chart
//! line ships NetworkPolicies, so there is nothing to turn off. Job pods run in the launcher's
//! namespace on both lines (`JOB_KUBE_NAMESPACE` from `fieldRef`), which no value changes.
//! Secret and key names come from [`super::airbyte_secrets`], the module `external_secret`
//! writes them from. Every key exists in the chart's values or templates for that line
//! (`tests/airbyte_values.rs` walks them); the file is parsed back into the closed set of keys
//! this module writes before it is returned.

use super::airbyte_secrets::{
    storage_keys, ChartKeys, AIRBYTE_AUTH_SECRET_NAME, AIRBYTE_CONFIG_SECRET_NAME,
};
use super::{env, header, Artifact, RenderError};
use crate::spec::model::{AuthKind, ChartProfile, Model, StorageAuth, StorageKind};
use serde::Serialize;

/// Path of the rendered values file.
pub const PATH: &str = "airbyte/values.yaml";

#[derive(Serialize)]
struct ValuesCtx {
    comment: Vec<String>,
    auth_enabled: bool,
    managed_secret_name: Option<&'static str>,
    database: Option<DatabaseCtx>,
    storage: Option<StorageCtx>,
    minio_off: bool,
}

#[derive(Serialize)]
struct DatabaseCtx {
    secret_name: &'static str,
    host: String,
    port: u16,
    name_key: &'static str,
    name: String,
    user_key: &'static str,
    password_key: &'static str,
}

#[derive(Serialize)]
struct StorageCtx {
    kind: &'static str,
    secret_name_key: &'static str,
    secret_name: &'static str,
    buckets: Vec<(&'static str, String)>,
    /// `s3`, `gcs` or `azure`: the type's own section, if it has settings.
    section: Option<&'static str>,
    settings: Vec<(String, String)>,
}

/// The values file, or nothing for an in-cluster layout.
pub fn render(model: &Model) -> Result<Option<Artifact>, RenderError> {
    let ab = &model.airbyte;
    if ab.database.is_none() && ab.storage.is_none() {
        return Ok(None);
    }
    let keys = ChartKeys::for_chart(ab.chart);
    let (line, name_key) = match ab.chart {
        ChartProfile::V1 => ("V1 (airbytehq.github.io/helm-charts)", "database"),
        ChartProfile::V2 => ("V2 (airbytehq.github.io/charts)", "name"),
    };
    let mut comment = vec![
        format!("Values for Airbyte's Helm chart {line}; pass with `helm install -f`."),
        format!("Credentials come from the Secrets the ExternalSecrets in secrets/ fill: {AIRBYTE_CONFIG_SECRET_NAME}"),
        format!("(database and storage) and {AIRBYTE_AUTH_SECRET_NAME} (instance admin)."),
    ];
    if ab.jobs_namespace != ab.namespace {
        comment.push(format!(
            "Job pods run in the launcher's namespace on both chart lines, not in {}.",
            ab.jobs_namespace
        ));
    }
    let database = ab.database.as_ref().map(|d| DatabaseCtx {
        secret_name: AIRBYTE_CONFIG_SECRET_NAME,
        host: d.host.clone(),
        port: d.port,
        name_key,
        name: d.name.clone(),
        user_key: keys.database_user,
        password_key: keys.database_password,
    });
    let storage = ab.storage.as_ref().map(|st| {
        let (kind, section) = match st.kind {
            StorageKind::S3 => ("s3", "s3"),
            StorageKind::Gcs => ("gcs", "gcs"),
            StorageKind::Azure => ("azure", "azure"),
            StorageKind::Minio => ("minio", "minio"),
        };
        let mut buckets = vec![
            ("log", st.log_bucket.clone()),
            ("state", st.state_bucket.clone()),
            ("workloadOutput", st.workload_output_bucket.clone()),
            ("activityPayload", st.activity_payload_bucket.clone()),
        ];
        if ab.chart == ChartProfile::V2 {
            buckets.push(("auditLogging", st.audit_logging_bucket.clone()));
        }
        let mut settings: Vec<(String, String)> = Vec::new();
        if st.kind == StorageKind::S3 {
            settings.push(("region".into(), st.region.clone().unwrap_or_default()));
            let auth = match st.auth {
                StorageAuth::WorkloadIdentity => "instanceProfile",
                _ => "credentials",
            };
            settings.push(("authenticationType".into(), auth.into()));
        }
        if st.auth != StorageAuth::WorkloadIdentity {
            for (values_key, secret_key) in storage_keys(ab.chart, st.kind) {
                if let Some(k) = values_key {
                    let (_, leaf) = k.split_once('.').unwrap_or(("", k));
                    settings.push((leaf.to_string(), secret_key.to_string()));
                }
            }
        }
        StorageCtx {
            kind,
            secret_name_key: match ab.chart {
                ChartProfile::V1 => "storageSecretName",
                ChartProfile::V2 => "secretName",
            },
            secret_name: AIRBYTE_CONFIG_SECRET_NAME,
            buckets,
            section: (!settings.is_empty()).then_some(section),
            settings,
        }
    });
    let ctx = ValuesCtx {
        comment,
        auth_enabled: ab.api.auth != AuthKind::None,
        managed_secret_name: (ab.chart == ChartProfile::V2).then_some(AIRBYTE_AUTH_SECRET_NAME),
        database,
        minio_off: ab.chart == ChartProfile::V2 && storage.is_some(),
        storage,
    };
    let content = header() + &env::render("airbyte-values.yaml.j2", &ctx)?;
    check(&content).map_err(|message| RenderError::SelfCheck {
        path: PATH.into(),
        message,
    })?;
    Ok(Some(Artifact {
        path: PATH.into(),
        content,
    }))
}

/// Every leaf this module may write, as a dotted path; anything else fails the self-check.
pub const KEYS: &[&str] = &[
    "global.auth.enabled",
    "global.auth.managedSecretName",
    "global.database.type",
    "global.database.secretName",
    "global.database.host",
    "global.database.port",
    "global.database.database",
    "global.database.name",
    "global.database.userSecretKey",
    "global.database.passwordSecretKey",
    "global.storage.type",
    "global.storage.secretName",
    "global.storage.storageSecretName",
    "global.storage.bucket.log",
    "global.storage.bucket.state",
    "global.storage.bucket.workloadOutput",
    "global.storage.bucket.activityPayload",
    "global.storage.bucket.auditLogging",
    "global.storage.s3.region",
    "global.storage.s3.authenticationType",
    "global.storage.s3.accessKeyIdSecretKey",
    "global.storage.s3.secretAccessKeySecretKey",
    "global.storage.gcs.credentialsJsonSecretKey",
    "global.storage.azure.connectionStringSecretKey",
    "postgresql.enabled",
    "minio.enabled",
];

/// Every leaf of a YAML mapping tree as `(dotted path, value)`, in document order.
pub fn leaves(v: &serde_json::Value) -> Vec<(String, serde_json::Value)> {
    fn walk(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, serde_json::Value)>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, child) in m {
                    let p = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&p, child, out);
                }
            }
            other => out.push((prefix.to_string(), other.clone())),
        }
    }
    let mut out = Vec::new();
    walk("", v, &mut out);
    out
}

/// Parse a rendered values file back and check that it holds only [`KEYS`], each a scalar.
pub fn check(content: &str) -> Result<(), String> {
    let v: serde_json::Value = serde_saphyr::from_str(content).map_err(|e| e.to_string())?;
    if !v.is_object() {
        return Err("the values are not a mapping".into());
    }
    for (path, value) in leaves(&v) {
        if !KEYS.contains(&path.as_str()) {
            return Err(format!("`{path}` is not a key airguard writes"));
        }
        if value.is_null() || value.is_array() {
            return Err(format!("`{path}` is not a scalar"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn self_check_rejects_unknown_keys_and_empty_values() {
        assert!(check("global:\n  auth:\n    enabled: true\n").is_ok());
        assert!(check("global:\n  auth:\n    enabeld: true\n")
            .unwrap_err()
            .contains("global.auth.enabeld"));
        assert!(check("postgresql:\n  enabled:\n").is_err());
        assert!(check("- a\n").is_err());
    }
}

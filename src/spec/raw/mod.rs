//! The spec as written: serde types for `airguard.yaml`, version 1.
//!
//! These types are closed (`deny_unknown_fields`) and kebab-case; the JSON Schema in
//! `schemas/airguard.schema.json` is generated from them (`cargo xtask codegen`) and a test fails
//! when it is stale. Values here are unchecked beyond their types: `spec::validate` turns them
//! into a [`crate::spec::Model`], collecting every semantic problem. No logic lives here.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

mod airbyte;
mod airflow;
mod credentials;
mod dns;
mod network;
mod observability;
mod pipelines;
mod provider;
mod secrets;

pub use airbyte::*;
pub use airflow::*;
pub use credentials::*;
pub use dns::*;
pub use network::*;
pub use observability::*;
pub use pipelines::*;
pub use provider::*;
pub use secrets::*;

/// An airguard spec: one file that declares how Airbyte and Airflow run side by side.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "airguard spec", extend("$id" = "https://airguard.dev/schemas/airguard.schema.json"))]
pub struct RawSpec {
    /// Spec format version. Only `1` exists.
    pub version: u32,
    /// The platform this spec describes.
    pub platform: Platform,
    /// The Airbyte installation.
    pub airbyte: Airbyte,
    /// The Airflow installation that calls Airbyte.
    pub airflow: Airflow,
    /// The ingress controller that fronts the Airbyte (and optionally Airflow) UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<Ingress>,
    /// Where cluster DNS runs. Every namespace airguard isolates gets egress to these pods only.
    #[serde(default = "Dns::default_value")]
    pub dns: Dns,
    /// External Secrets Operator store and the remote keys of every credential.
    pub secrets: Secrets,
    /// Airbyte connections the pipelines refer to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub connections: Vec<Connection>,
    /// Lifecycles `airguard conform` runs, step by step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pipelines: Vec<Pipeline>,
    /// Who the rendered Airflow DAGs tell when a run fails (see `docs/dags.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<Notify>,
    /// How the rendered DAGs reach Airflow (see `docs/dags.md`). Without it, deliver `dags/`
    /// yourself (a persistence volume or a baked image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dags: Option<DagsDelivery>,
    /// Sync metrics, alert rules and a Grafana dashboard (see `docs/observability.md`). When set,
    /// the Airflow chart's statsd exporter is turned on and Prometheus may scrape it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observability: Option<Observability>,
}

/// How the rendered `dags/` reach Airflow.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DagsDelivery {
    /// The chart's git-sync sidecar pulls the DAGs from a repository holding the rendered
    /// `dags/` (rendered into `dags.gitSync`, with the NetworkPolicy egress it needs).
    pub git_sync: GitSync,
}

/// The chart's `dags.gitSync`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GitSync {
    /// Clone URL: `https://host/org/repo.git`, `ssh://git@host/org/repo.git` or
    /// `git@host:org/repo.git`.
    pub repo: String,
    /// Branch to follow (default `main`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Revision to check out (default `HEAD` of the branch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rev: Option<String>,
    /// Directory of the repository that holds the rendered `dags/` files (becomes the DAG
    /// bundle root, so the DAG files find `airguard_airbyte.py`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_path: Option<String>,
    /// Secret (in the Airflow namespace) with `GITSYNC_USERNAME` and `GITSYNC_PASSWORD` (git-sync
    /// v4; `GIT_SYNC_*` for v3), for an HTTPS repository. The spec names it; airguard never reads
    /// it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret: Option<String>,
    /// Secret (in the Airflow namespace) with the SSH key `gitSshKey`, for an SSH repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh_key_secret: Option<String>,
    /// The git host's address and port: every pod that runs the git-sync sidecar gets egress to
    /// it.
    pub egress: EgressRule,
}

/// Platform-wide settings.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Platform {
    /// Name of the platform (DNS-1123 label); used in labels and object names.
    pub name: String,
}

/// Which Airbyte Helm chart line is deployed; decides pod labels, ports and flows.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum ChartProfile {
    /// The V1 chart (`airbytehq.github.io/helm-charts`): subcharts, `app.kubernetes.io/name` labels.
    V1,
    /// The V2 chart (`airbytehq.github.io/charts`): flat chart, `airbyte: <component>` labels.
    V2,
}

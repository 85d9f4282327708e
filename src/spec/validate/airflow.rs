//! Rules of the `airflow` section: namespace, release, pod labels and the external database
//! egress.
//!
//! A child of `validate` so it shares the located-diagnostic helpers; it only adds rules.

use super::Cx;
use crate::diag::Code;
use crate::spec::model;
use crate::spec::raw;

impl Cx<'_> {
    pub(super) fn airflow(&mut self, a: &raw::Airflow) -> model::Airflow {
        self.dns_label("/airflow/namespace", &a.namespace);
        self.dns_label("/airflow/release", &a.release);
        let id_ok = !a.connection_id.is_empty()
            && a.connection_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !a.connection_id.starts_with(|c: char| c.is_ascii_digit());
        if !id_ok {
            self.push(
                Code::InvalidConnectionId,
                "/airflow/connection-id",
                format!(
                    "`{}` cannot be an Airflow connection id in an environment variable",
                    a.connection_id
                ),
                "letters, digits and `_` only",
                format!(
                    "use e.g. `{}`",
                    a.connection_id
                        .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
                        .to_ascii_lowercase()
                ),
            );
        }
        let external_database = a
            .external_database
            .as_ref()
            .map(|e| self.egress("/airflow/external-database", e));
        model::Airflow {
            namespace: a.namespace.clone(),
            release: a.release.clone(),
            executor: a.executor,
            connection_id: a.connection_id.clone(),
            callers: a.callers.iter().copied().collect(),
            all_components: a.all_components,
            pgbouncer: a.pgbouncer,
            external_database,
        }
    }
}

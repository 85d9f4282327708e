//! Rules of the `airflow` section: namespace, release, pod labels, the connection id, and an
//! external metadata database (its egress, its connection and PgBouncer's settings by remote key).
//!
//! A child of `validate` so it shares the located-diagnostic helpers; it only adds rules.

use super::{check_dns_subdomain, Cx};
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
        let connection_timeout = a.connection_timeout.as_ref().and_then(|t| {
            let p = "/airflow/connection-timeout";
            let d = self.duration(p, t)?;
            if d.is_zero() {
                self.push(
                    Code::InvalidDuration,
                    p,
                    "`connection-timeout: 0` would fail every call".into(),
                    "must be positive",
                    "set a timeout such as `30s`, or remove it for the provider's default".into(),
                );
                return None;
            }
            Some(d)
        });
        let (mut external_database, mut database_host, mut metadata_connection) =
            (None, None, None);
        let mut pgbouncer_config = None;
        if let raw::AirflowDatabase::External(db) = &a.database {
            external_database = Some(self.external_database(db));
            database_host = db.host.clone();
            let b = "/airflow/database/external";
            metadata_connection = Some(self.remote(&format!("{b}/connection"), &db.connection));
            match (&db.pgbouncer_config, a.pgbouncer) {
                (Some(c), true) => {
                    let r = |cx: &mut Self, k: &str, v: &str| {
                        cx.remote(&format!("{b}/pgbouncer-config/{k}"), v)
                    };
                    pgbouncer_config = Some(model::PgbouncerConfig {
                        ini: r(self, "ini", &c.ini),
                        users: r(self, "users", &c.users),
                        stats_connection: r(self, "stats-connection", &c.stats_connection),
                    });
                }
                (None, true) => {
                    self.push(
                        Code::MissingKey,
                        b,
                        "PgBouncer in front of an external database needs `pgbouncer-config`".into(),
                        "`airflow.pgbouncer` is on",
                        "add `pgbouncer-config: {ini, users, stats-connection}` (remote keys); otherwise the chart builds PgBouncer's settings from `data.metadataConnection`, which points at the bundled PostgreSQL".into(),
                    );
                    self.at_key(b);
                }
                (Some(_), false) => {
                    let p = format!("{b}/pgbouncer-config");
                    self.push(
                        Code::ConflictingSettings,
                        &p,
                        "`pgbouncer-config` is set but `airflow.pgbouncer` is off".into(),
                        "unused",
                        "remove `pgbouncer-config`, or set `airflow.pgbouncer: true`".into(),
                    );
                    self.at_key(&p);
                }
                (None, false) => {}
            }
        }
        model::Airflow {
            namespace: a.namespace.clone(),
            release: a.release.clone(),
            executor: a.executor,
            connection_id: a.connection_id.clone(),
            callers: a.callers.iter().copied().collect(),
            connection_timeout,
            all_components: a.all_components,
            pgbouncer: a.pgbouncer,
            external_database,
            database_host,
            metadata_connection,
            pgbouncer_config,
        }
    }

    /// The egress to an external metadata database: its CIDRs (canonical, none internet-wide
    /// without a reason) on its one TCP port.
    fn external_database(&mut self, db: &raw::ExternalAirflowDatabase) -> model::Egress {
        let b = "/airflow/database/external";
        if let Some(h) = &db.host {
            if check_dns_subdomain(h).is_err() && h.parse::<std::net::IpAddr>().is_err() {
                self.push(
                    Code::InvalidDnsName,
                    &format!("{b}/host"),
                    format!("`{h}` is neither a DNS name nor an IP address"),
                    "not a host",
                    "write the database's host name (`airflow.abc123.eu-west-1.rds.amazonaws.com`) or address".into(),
                );
            }
        }
        let cidrs = self.cidr_list(
            &format!("{b}/cidrs"),
            "external-database",
            &db.cidrs,
            db.allow_internet,
            db.reason.as_deref(),
            (
                "an external metadata database needs `cidrs`",
                "list the database's addresses as CIDRs (`10.90.1.0/24`); only they are reachable",
            ),
        );
        let address = db
            .host
            .as_ref()
            .and_then(|h| h.parse::<std::net::IpAddr>().ok());
        if let Some(ip) =
            address.filter(|ip| !cidrs.is_empty() && !cidrs.iter().any(|c| c.contains(ip)))
        {
            self.push(
                Code::ConflictingSettings,
                &format!("{b}/host"),
                format!("the database's address {ip} is outside its `cidrs`"),
                "not reachable through the policies",
                format!(
                    "add `{}` to `cidrs`, or fix the address",
                    ipnet::IpNet::from(ip)
                ),
            );
        }
        let port = self.port(&format!("{b}/port"), db.port);
        model::Egress {
            name: "external-database".into(),
            cidrs,
            except: Vec::new(),
            ports: vec![model::PortRange::single(port)],
            protocol: raw::Protocol::Tcp,
            reason: db.reason.clone(),
            origin: b.into(),
        }
    }
}

//! Rules of the `airbyte` section: namespaces, release and chart version, components, egress,
//! the Kubernetes API, and the API (`airbyte.api`) the Airflow connection targets.
//!
//! A child of `validate` so it shares the located-diagnostic helpers; it only adds rules.

use super::Cx;
use crate::diag::{Code, Diagnostic};
use crate::spec::model::{self, UiComponent};
use crate::spec::raw;
use ipnet::IpNet;

impl Cx<'_> {
    pub(super) fn airbyte(&mut self, a: &raw::Airbyte) -> model::Airbyte {
        self.dns_label("/airbyte/namespace", &a.namespace);
        self.dns_label("/airbyte/release", &a.release);
        if let Some(ns) = &a.jobs_namespace {
            self.dns_label("/airbyte/jobs-namespace", ns);
        }
        let version = a
            .chart_version
            .as_ref()
            .and_then(|v| self.version("/airbyte/chart-version", v));
        if let (raw::ChartProfile::V2, Some((major, _))) = (a.chart, version) {
            if major < 2 {
                self.push(
                    Code::ConflictingSettings,
                    "/airbyte/chart-version",
                    format!(
                        "chart `v2` with chart version {} (V2 chart versions start at 2.0.0)",
                        a.chart_version.as_deref().unwrap_or_default()
                    ),
                    "not a V2 chart version",
                    "set `chart: v1` for 0.x/1.x charts, or use the V2 chart's version".into(),
                );
            }
        }
        if let (raw::ChartProfile::V1, Some((major, _))) = (a.chart, version) {
            if major >= 2 {
                self.push(
                    Code::ConflictingSettings,
                    "/airbyte/chart-version",
                    "chart `v1` with a 2.x chart version".into(),
                    "a V2 chart version",
                    "set `chart: v2`".into(),
                );
            }
        }
        let ui = match (a.chart, version) {
            (raw::ChartProfile::V1, Some(v)) if v < (1, 7) => UiComponent::Webapp,
            _ => UiComponent::Server,
        };
        let api = self.api(&a.api);
        self.api_in_cluster(a, &api);
        self.public_api(a, version);
        self.airflow_credentials(&a.api);
        let egress = self.egress_list("/airbyte/egress", &a.egress);
        let registry_egress = self.egress_list("/airbyte/registry-egress", &a.registry_egress);
        let k = &a.kubernetes_api;
        let cidrs = self.cidr_list(
            "/airbyte/kubernetes-api/cidrs",
            "kubernetes-api",
            &k.cidrs,
            k.allow_internet,
            k.reason.as_deref(),
            (
                "`airbyte.kubernetes-api.cidrs` is empty",
                "list the API server addresses pods reach (e.g. the `kubernetes` Service endpoints)",
            ),
        );
        let kubernetes_api = model::Egress {
            name: "kubernetes-api".into(),
            cidrs,
            except: Vec::new(),
            ports: self.ports("/airbyte/kubernetes-api/ports", &k.ports),
            protocol: raw::Protocol::Tcp,
            reason: k.reason.clone(),
            origin: "/airbyte/kubernetes-api".into(),
        };
        model::Airbyte {
            namespace: a.namespace.clone(),
            release: a.release.clone(),
            chart: a.chart,
            chart_version: a.chart_version.clone(),
            ui,
            jobs_namespace: a
                .jobs_namespace
                .clone()
                .unwrap_or_else(|| a.namespace.clone()),
            api,
            secret_persistence: a.secret_persistence,
            egress,
            registry_egress,
            kubernetes_api,
            database: a.database.as_ref().map(|d| self.database(d)),
            storage: a.storage.as_ref().and_then(|st| self.storage(a.chart, st)),
        }
    }

    /// The API url should be the in-cluster server Service: that is the path the rendered
    /// policies open for Airflow's callers.
    fn api_in_cluster(&mut self, a: &raw::Airbyte, api: &model::Api) {
        if api.host.is_empty() {
            return; // the url itself was already reported
        }
        let svc = format!("{}-airbyte-server-svc", a.release);
        let ns = &a.namespace;
        let hosts = [
            svc.clone(),
            format!("{svc}.{ns}"),
            format!("{svc}.{ns}.svc"),
            format!("{svc}.{ns}.svc.cluster.local"),
        ];
        if !hosts.contains(&api.host) || api.port != 8001 {
            self.push(
                Code::ApiUrlOutsideCluster,
                "/airbyte/api/url",
                format!(
                    "`{}` is not the in-cluster Airbyte server Service; the rendered policies let Airflow reach the server pods on 8001 only",
                    a.api.url
                ),
                "Airflow's calls to this address would be blocked",
                format!("use `url: http://{svc}.{ns}.svc.cluster.local:8001`"),
            );
        }
    }

    /// The Airflow connection always targets the public API (`/api/public/v1` on the server):
    /// V1 charts before 0.654.0 ran it in a separate `airbyte-api-server` pod (port 8006,
    /// `airbyte-0.64.81.tgz`; gone by `airbyte-0.654.0.tgz`), which no policy opens.
    fn public_api(&mut self, a: &raw::Airbyte, version: Option<(u64, u64)>) {
        if a.chart == raw::ChartProfile::V1 && version.is_some_and(|v| v < (0, 654)) {
            self.push(
                Code::PublicApiUnavailable,
                "/airbyte/chart-version",
                format!(
                    "chart {} has no public API on the Airbyte server, which the Airflow connection needs",
                    a.chart_version.as_deref().unwrap_or_default()
                ),
                "before 0.654.0 the public API ran in a separate airbyte-api-server pod",
                "the Airbyte provider for Airflow speaks only the public API (`/api/public/v1`): upgrade the chart to 0.654.0 or later (1.x)".into(),
            );
        }
    }

    /// The Airbyte provider for Airflow authenticates only with client credentials: with basic or
    /// bearer auth the rendered connection carries none.
    fn airflow_credentials(&mut self, api: &raw::AirbyteApi) {
        let kind = match api.auth {
            raw::AuthKind::Basic => "basic",
            raw::AuthKind::Bearer => "bearer",
            raw::AuthKind::None | raw::AuthKind::ClientCredentials => return,
        };
        self.push(
            Code::AirflowConnectionWithoutCredentials,
            "/airbyte/api/auth",
            format!("with `auth: {kind}` the Airflow connection carries no credentials: the Airbyte provider for Airflow authenticates only with client credentials"),
            "Airflow's calls to Airbyte would be unauthenticated",
            "use `auth: client-credentials` with an Airbyte application's `client-id` and `client-secret` under `secrets.airbyte` (the instance admin's in the community edition)".into(),
        );
    }

    fn version(&mut self, pointer: &str, v: &str) -> Option<(u64, u64)> {
        let mut parts = v.trim_start_matches('v').split('.');
        let major = parts.next().and_then(|p| p.parse().ok());
        let minor = parts.next().and_then(|p| p.parse().ok());
        let rest_ok = parts.all(|p| {
            !p.is_empty()
                && p.split(['-', '+'])
                    .next()
                    .is_some_and(|n| n.parse::<u64>().is_ok())
        });
        match (major, minor, rest_ok) {
            (Some(a), Some(b), true) => Some((a, b)),
            _ => {
                self.push(
                    Code::InvalidValue,
                    pointer,
                    format!("`{v}` is not a chart version"),
                    "expected MAJOR.MINOR.PATCH",
                    "write the chart version, e.g. `2.0.19` or `1.8.5`".into(),
                );
                None
            }
        }
    }

    fn api(&mut self, a: &raw::AirbyteApi) -> model::Api {
        let parsed = self.url("/airbyte/api/url", &a.url, false);
        if let Some(u) = &parsed {
            if !u.username().is_empty() || u.password().is_some() {
                // No source snippet: it would print the credentials back into logs.
                let d = Diagnostic::new(Code::InvalidUrl, "the API url `airbyte.api.url` carries credentials (`user:password@`)")
                    .with_path("/airbyte/api/url")
                    .with_note("the line is not shown, to keep the credentials out of logs")
                    .with_help("remove them from the url; credentials come from `secrets.airbyte` (never from the spec)");
                self.diags.push(d);
            }
            if u.path() != "/" && !u.path().is_empty() {
                self.push(
                    Code::InvalidUrl,
                    "/airbyte/api/url",
                    format!("the API url `{}` has a path (`{}`)", a.url, u.path()),
                    "path belongs in `base-path`",
                    format!(
                        "set `url: {}` and `base-path: {}`",
                        origin(u),
                        u.path().trim_end_matches('/')
                    ),
                );
            }
        }
        let default_base = match a.flavour {
            raw::ApiFlavour::Public => model::PUBLIC_BASE_PATH,
            raw::ApiFlavour::Config => "/api/v1",
        };
        let base_path = a.base_path.clone().unwrap_or_else(|| default_base.into());
        if !base_path.starts_with('/') {
            self.push(
                Code::InvalidValue,
                "/airbyte/api/base-path",
                format!("base path `{base_path}` must start with `/`"),
                "relative path",
                format!("write `/{base_path}`"),
            );
        }
        let base_path = base_path.trim_end_matches('/').to_string();
        let token_url = a
            .token_url
            .clone()
            .unwrap_or_else(|| format!("{base_path}/applications/token"));
        model::Api {
            url: parsed
                .as_ref()
                .map(origin)
                .unwrap_or_else(|| a.url.trim_end_matches('/').to_string()),
            flavour: a.flavour,
            base_path,
            auth: a.auth,
            token_url,
            host: parsed
                .as_ref()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_default(),
            port: parsed
                .as_ref()
                .and_then(url::Url::port_or_known_default)
                .unwrap_or(80),
        }
    }
}

/// `cidrs` of an external service: each parsed and guarded against the internet; none at all is
/// [`Code::ExternalServiceWithoutCidrs`].
struct External<'a> {
    pointer: &'a str,
    what: &'a str,
    cidrs: &'a [String],
    allow_internet: bool,
    reason: Option<&'a str>,
}

impl Cx<'_> {
    fn external_cidrs(&mut self, e: &External<'_>) -> Vec<IpNet> {
        if e.cidrs.is_empty() {
            self.push(
                Code::ExternalServiceWithoutCidrs,
                e.pointer,
                format!("{} lists no `cidrs`", e.what),
                "no network to open",
                "add `cidrs:` with the addresses it answers on (e.g. the managed service's subnet)"
                    .into(),
            );
        }
        let mut out: Vec<IpNet> = e
            .cidrs
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let p = format!("{}/cidrs/{i}", e.pointer);
                let net = self.cidr(&p, c)?;
                self.internet_wide(&p, e.what, net, e.allow_internet, e.reason);
                Some(net)
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// `airbyte.database`: an external PostgreSQL.
    fn database(&mut self, d: &raw::AirbyteDatabase) -> model::ExternalDatabase {
        const P: &str = "/airbyte/database";
        self.dns_subdomain(&format!("{P}/host"), &d.host);
        if d.name.trim().is_empty() {
            self.push(
                Code::InvalidValue,
                &format!("{P}/name"),
                "the database name is empty".into(),
                "empty",
                "write the name of Airbyte's database (e.g. `db-airbyte`)".into(),
            );
        }
        let port = self.port(&format!("{P}/port"), d.port);
        let cidrs = self.external_cidrs(&External {
            pointer: P,
            what: "the external database `airbyte.database`",
            cidrs: &d.cidrs,
            allow_internet: false,
            reason: None,
        });
        model::ExternalDatabase {
            host: d.host.clone(),
            port,
            name: d.name.clone(),
            user: self.remote(&format!("{P}/user"), &d.user),
            password: self.remote(&format!("{P}/password"), &d.password),
            egress: model::Egress {
                name: "database".into(),
                cidrs,
                except: Vec::new(),
                ports: vec![model::PortRange::single(port)],
                protocol: raw::Protocol::Tcp,
                reason: None,
                origin: P.into(),
            },
        }
    }

    /// `airbyte.storage`: `minio` is the in-cluster default (`None`); `s3`, `gcs` and `azure`
    /// need buckets, credentials (or S3 workload identity) and the networks to reach.
    fn storage(
        &mut self,
        chart: raw::ChartProfile,
        st: &raw::AirbyteStorage,
    ) -> Option<model::ExternalStorage> {
        const P: &str = "/airbyte/storage";
        use raw::StorageKind as K;
        let kind_name = match st.kind {
            K::Minio => "minio",
            K::S3 => "s3",
            K::Gcs => "gcs",
            K::Azure => "azure",
        };
        if st.kind == K::Minio {
            let extra = st.buckets.is_some()
                || st.region.is_some()
                || st.credentials.is_some()
                || st.workload_identity
                || !st.cidrs.is_empty();
            if extra {
                self.push(
                    Code::ConflictingSettings,
                    P,
                    "`type: minio` is the chart's in-cluster MinIO, which takes no buckets, region, credentials or cidrs".into(),
                    "in-cluster storage",
                    "remove them (MinIO credentials go under `secrets.minio`), or choose `s3`, `gcs` or `azure`".into(),
                );
            }
            return None;
        }
        let incomplete = |cx: &mut Self, pointer: &str, message: String, help: &str| {
            cx.push(
                Code::IncompleteStorage,
                pointer,
                message,
                "incomplete storage",
                help.into(),
            );
        };
        let buckets = match &st.buckets {
            Some(b) => {
                for (key, name) in [
                    ("log", Some(&b.log)),
                    ("state", Some(&b.state)),
                    ("workload-output", Some(&b.workload_output)),
                    ("activity-payload", b.activity_payload.as_ref()),
                    ("audit-logging", b.audit_logging.as_ref()),
                ] {
                    if name.is_some_and(|n| n.trim().is_empty()) {
                        incomplete(
                            self,
                            &format!("{P}/buckets/{key}"),
                            format!("bucket `{key}` is empty"),
                            "write the bucket (Azure: container) name",
                        );
                    }
                }
                if chart == raw::ChartProfile::V1 {
                    // V1 `env-configmap.yaml` reads log, state, workloadOutput and
                    // activityPayload; only V2 has an audit-logging bucket.
                    if b.audit_logging.is_some() {
                        self.push(
                            Code::UnsupportedByChart,
                            &format!("{P}/buckets/audit-logging"),
                            "chart v1 has no audit-logging bucket (`global.storage.bucket.auditLogging` is V2 only)".into(),
                            "chart V2 only",
                            "remove it, or set `airbyte.chart: v2`".into(),
                        );
                    }
                }
                Some(b)
            }
            None => {
                incomplete(
                    self,
                    P,
                    format!("storage `{kind_name}` names no `buckets`"),
                    "add `buckets: {log: ..., state: ..., workload-output: ...}` (one bucket may serve all three)",
                );
                None
            }
        };
        if st.kind == K::S3 {
            if st.region.as_deref().is_none_or(|r| r.trim().is_empty()) {
                incomplete(
                    self,
                    P,
                    "storage `s3` names no `region`".into(),
                    "add `region:` (e.g. `us-east-1`)",
                );
            }
        } else if st.region.is_some() {
            self.push(
                Code::ConflictingSettings,
                &format!("{P}/region"),
                format!("`region` is for `s3`, not `{kind_name}`"),
                "ignored by the chart",
                "remove it".into(),
            );
        }
        let creds = st.credentials.as_ref();
        let given = |f: fn(&raw::StorageCredentials) -> &Option<String>| {
            creds.and_then(|c| f(c).as_deref())
        };
        let access = given(|c| &c.access_key_id);
        let secret = given(|c| &c.secret_access_key);
        let json = given(|c| &c.credentials_json);
        let conn = given(|c| &c.connection_string);
        let cp = format!("{P}/credentials");
        // Fields of another storage type are mistakes, not extras.
        let foreign: Vec<&str> = match st.kind {
            K::S3 => [("credentials-json", json), ("connection-string", conn)].to_vec(),
            K::Gcs => [
                ("access-key-id", access),
                ("secret-access-key", secret),
                ("connection-string", conn),
            ]
            .to_vec(),
            K::Azure => [
                ("access-key-id", access),
                ("secret-access-key", secret),
                ("credentials-json", json),
            ]
            .to_vec(),
            K::Minio => Vec::new(),
        }
        .into_iter()
        .filter(|(_, v)| v.is_some())
        .map(|(k, _)| k)
        .collect();
        for k in foreign {
            self.push(
                Code::IncompleteStorage,
                &format!("{cp}/{k}"),
                format!("`credentials.{k}` does not belong to storage `{kind_name}`"),
                "a credential of another storage type",
                "remove it, or change `type`".into(),
            );
        }
        if st.workload_identity && st.kind != K::S3 {
            self.push(
                Code::UnsupportedByChart,
                &format!("{P}/workload-identity"),
                format!("neither Airbyte chart line has a workload-identity setting for `{kind_name}` storage"),
                "the chart reads a key from a Secret",
                if st.kind == K::Gcs {
                    "set `credentials.credentials-json` to the service account key's remote key".into()
                } else {
                    "set `credentials.connection-string` to the connection string's remote key".into()
                },
            );
        }
        let auth = match st.kind {
            K::S3 => match (access, secret, st.workload_identity) {
                (Some(a), Some(s), false) => Some(model::StorageAuth::S3Keys {
                    access_key_id: self.remote(&format!("{cp}/access-key-id"), a),
                    secret_access_key: self.remote(&format!("{cp}/secret-access-key"), s),
                }),
                (None, None, true) => Some(model::StorageAuth::WorkloadIdentity),
                (_, _, true) => {
                    self.push(
                        Code::ConflictingSettings,
                        &format!("{P}/workload-identity"),
                        "`workload-identity: true` and access keys both given".into(),
                        "two ways to authenticate",
                        "keep one: the access keys, or the workload identity".into(),
                    );
                    None
                }
                _ => {
                    incomplete(
                        self,
                        P,
                        "storage `s3` needs `credentials.access-key-id` and `credentials.secret-access-key`, or `workload-identity: true`".into(),
                        "reference both keys in the secret provider, or use IRSA / the instance profile with `workload-identity: true`",
                    );
                    None
                }
            },
            K::Gcs => match json {
                Some(j) => Some(model::StorageAuth::GcsJson(
                    self.remote(&format!("{cp}/credentials-json"), j),
                )),
                None => {
                    incomplete(
                        self,
                        P,
                        "storage `gcs` needs `credentials.credentials-json`".into(),
                        "reference the service account key (JSON) in the secret provider",
                    );
                    None
                }
            },
            K::Azure => {
                match conn {
                    Some(c) => Some(model::StorageAuth::AzureConnectionString(
                        self.remote(&format!("{cp}/connection-string"), c),
                    )),
                    None => {
                        incomplete(self, P, "storage `azure` needs `credentials.connection-string`".into(), "reference the storage account's connection string in the secret provider");
                        None
                    }
                }
            }
            K::Minio => None,
        };
        let cidrs = self.external_cidrs(&External {
            pointer: P,
            what: "the object storage `airbyte.storage`",
            cidrs: &st.cidrs,
            allow_internet: st.allow_internet,
            reason: st.reason.as_deref(),
        });
        if st.ports.is_empty() {
            self.push(
                Code::AllPortsEgress,
                &format!("{P}/ports"),
                "the object storage `airbyte.storage` allows every TCP port".into(),
                "no ports listed",
                "list the ports the store serves, e.g. `ports: [443]`".into(),
            );
        }
        let ports = self.ports(&format!("{P}/ports"), &st.ports);
        let (b, auth) = (buckets?, auth?);
        let log = b.log.clone();
        Some(model::ExternalStorage {
            kind: st.kind,
            log_bucket: log.clone(),
            state_bucket: b.state.clone(),
            workload_output_bucket: b.workload_output.clone(),
            activity_payload_bucket: b.activity_payload.clone().unwrap_or_else(|| log.clone()),
            audit_logging_bucket: b.audit_logging.clone().unwrap_or(log),
            region: st.region.clone(),
            auth,
            egress: model::Egress {
                name: "storage".into(),
                cidrs,
                except: Vec::new(),
                ports,
                protocol: raw::Protocol::Tcp,
                reason: st.reason.clone(),
                origin: P.into(),
            },
        })
    }

    /// The external database and storage carry their own credentials: `secrets.postgres` and
    /// `secrets.minio` are for the in-cluster ones.
    pub(super) fn external_credentials(&mut self, raw: &crate::spec::raw::RawSpec) {
        if raw.airbyte.database.is_some() && raw.secrets.postgres.is_some() {
            self.push(
                Code::ConflictingSettings,
                "/secrets/postgres",
                "`secrets.postgres` with an external `airbyte.database`".into(),
                "credentials of the in-cluster database",
                "remove it: `airbyte.database.user` and `password` reference the external database's credentials".into(),
            );
        }
        let external_storage = raw
            .airbyte
            .storage
            .as_ref()
            .is_some_and(|s| s.kind != raw::StorageKind::Minio);
        if external_storage && raw.secrets.minio.is_some() {
            self.push(
                Code::ConflictingSettings,
                "/secrets/minio",
                "`secrets.minio` with external `airbyte.storage`".into(),
                "credentials of the in-cluster MinIO",
                "remove it: `airbyte.storage.credentials` reference the storage's credentials"
                    .into(),
            );
        }
    }
}

fn origin(u: &url::Url) -> String {
    u.origin().ascii_serialization()
}

//! Rules of the `airbyte` section: namespaces, release and chart version, components, egress,
//! the Kubernetes API, and the API (`airbyte.api`) the Airflow connection targets.
//!
//! A child of `validate` so it shares the located-diagnostic helpers; it only adds rules.

use super::Cx;
use crate::diag::{Code, Diagnostic};
use crate::spec::model::{self, UiComponent};
use crate::spec::raw;

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

fn origin(u: &url::Url) -> String {
    u.origin().ascii_serialization()
}

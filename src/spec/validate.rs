//! Phase two of spec loading: semantic rules, raw spec → [`Model`].
//!
//! Every rule pushes diagnostics (located through the document's pointer index) and carries on;
//! nothing here stops at the first problem. The returned model may be built from partly invalid
//! input, so callers must not use it when any diagnostic is an error (`spec::from_str` enforces
//! this). Rules never print and never touch the filesystem.

use super::model::{self, Model, PortRange, RemoteRef, StepKind, UiComponent};
use super::raw::{self, RawSpec};
use super::schema::dotted;
use super::yaml::Document;
use crate::diag::{Code, Diagnostic};
use ipnet::IpNet;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

mod dags;
pub use dags::{check_schedule, parse_date};
mod observability;
pub use observability::{DEFAULT_SLOW_FRACTION, DEFAULT_STALE_AFTER};

/// Validate a raw spec into a model, pushing every problem into `diags`.
pub fn validate(raw: &RawSpec, doc: &Document, diags: &mut Vec<Diagnostic>) -> Option<Model> {
    let mut cx = Cx { doc, diags };
    cx.dns_label("/platform/name", &raw.platform.name);

    let airbyte = cx.airbyte(&raw.airbyte);
    let airflow = cx.airflow(&raw.airflow);
    let ingress = raw.ingress.as_ref().map(|i| {
        cx.dns_label("/ingress/namespace", &i.namespace);
        cx.labels("/ingress/pod-labels", &i.pod_labels);
        model::Ingress {
            namespace: i.namespace.clone(),
            pod_labels: i.pod_labels.clone(),
            airflow_ui: i.airflow_ui,
        }
    });
    cx.dns_label("/dns/namespace", &raw.dns.namespace);
    cx.labels("/dns/pod-labels", &raw.dns.pod_labels);
    let dns = model::Dns {
        namespace: raw.dns.namespace.clone(),
        pod_labels: raw.dns.pod_labels.clone(),
        port: cx.port("/dns/port", raw.dns.port),
    };
    cx.namespaces(raw);
    cx.store_coverage(raw);
    let secrets = cx.secrets(&raw.secrets, &raw.airbyte.api);
    let connections = cx.connections(&raw.connections);
    let pipelines = cx.pipelines(&raw.pipelines, &connections);
    let dags = cx.dags(raw);
    let observability = cx.observability(raw);

    Some(Model {
        platform: raw.platform.name.clone(),
        airbyte,
        airflow,
        ingress,
        dns,
        secrets,
        connections,
        pipelines,
        dags,
        observability,
    })
}

struct Cx<'a> {
    doc: &'a Document,
    diags: &'a mut Vec<Diagnostic>,
}

impl Cx<'_> {
    fn push(&mut self, code: Code, pointer: &str, message: String, label: &str, help: String) {
        let d = Diagnostic::new(code, message)
            .with_label(self.doc.file, self.doc.locate(pointer), label)
            .with_path(pointer)
            .with_help(help);
        self.diags.push(d);
    }

    // ---- names and labels -------------------------------------------------------------------

    fn dns_label(&mut self, pointer: &str, name: &str) {
        if let Err(why) = check_dns_label(name) {
            self.push(
                Code::InvalidDnsName,
                pointer,
                format!(
                    "`{name}` is not a valid name at `{}`: {why}",
                    dotted(pointer)
                ),
                "not a DNS-1123 label",
                format!(
                    "use lowercase letters, digits and `-`, e.g. `{}`",
                    suggest_dns_label(name)
                ),
            );
        }
    }

    fn dns_subdomain(&mut self, pointer: &str, name: &str) {
        let ok = !name.is_empty()
            && name.len() <= 253
            && name.split('.').all(|p| check_dns_label(p).is_ok());
        if !ok {
            self.push(
                Code::InvalidDnsName,
                pointer,
                format!(
                    "`{name}` is not a valid object name at `{}`",
                    dotted(pointer)
                ),
                "not a DNS-1123 subdomain",
                "use lowercase letters, digits, `-` and `.`, at most 253 characters".into(),
            );
        }
    }

    fn labels(&mut self, pointer: &str, labels: &BTreeMap<String, String>) {
        for (k, v) in labels {
            let p = format!("{pointer}/{}", super::yaml::escape_segment(k));
            if let Err(why) = check_label_key(k) {
                self.push(
                    Code::InvalidLabel,
                    &p,
                    format!("`{k}` is not a valid label key: {why}"),
                    "invalid label key",
                    "label keys are an optional DNS prefix and `/`, then a name of at most 63 alphanumerics, `-`, `_`, `.`".into(),
                );
            } else if !is_label_value(v) {
                self.push(
                    Code::InvalidLabel,
                    &p,
                    format!("`{v}` is not a valid value for label `{k}`"),
                    "invalid label value",
                    "label values are at most 63 alphanumerics, `-`, `_`, `.`, starting and ending with an alphanumeric".into(),
                );
            }
            let _ = p;
        }
    }

    // ---- ports, CIDRs, egress ----------------------------------------------------------------

    fn port(&mut self, pointer: &str, p: i64) -> u16 {
        match u16::try_from(p) {
            Ok(v) if v >= 1 => v,
            _ => {
                self.push(
                    Code::InvalidPort,
                    pointer,
                    format!("port {p} is out of range at `{}`", dotted(pointer)),
                    "must be 1–65535",
                    "use a port number from 1 to 65535".into(),
                );
                1
            }
        }
    }

    fn ports(&mut self, pointer: &str, ports: &[raw::PortSpec]) -> Vec<PortRange> {
        let mut out = Vec::new();
        for (i, p) in ports.iter().enumerate() {
            let ptr = format!("{pointer}/{i}");
            match p {
                raw::PortSpec::Single(n) => out.push(PortRange::single(self.port(&ptr, *n))),
                raw::PortSpec::Range(r) => {
                    let start = self.port(&format!("{ptr}/from"), r.from);
                    let end = self.port(&format!("{ptr}/to"), r.to);
                    if r.to < r.from {
                        self.push(
                            Code::InvalidPortRange,
                            &ptr,
                            format!("port range {}–{} ends before it starts", r.from, r.to),
                            "`to` is below `from`",
                            format!("swap them: `{{from: {}, to: {}}}`", r.to, r.from),
                        );
                    } else {
                        out.push(PortRange { start, end });
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    fn cidr(&mut self, pointer: &str, text: &str) -> Option<IpNet> {
        let net: IpNet = match text.parse() {
            Ok(n) => n,
            Err(_) => {
                let help = match text.parse::<std::net::IpAddr>() {
                    Ok(ip) => format!("add a prefix length, e.g. `{}`", IpNet::from(ip)),
                    Err(_) => {
                        "write an IPv4 or IPv6 network such as `10.20.0.0/16` or `2001:db8::/32`"
                            .into()
                    }
                };
                self.push(
                    Code::InvalidCidr,
                    pointer,
                    format!("`{text}` is not a CIDR at `{}`", dotted(pointer)),
                    "not an IP network",
                    help,
                );
                return None;
            }
        };
        let canonical = net.trunc();
        if canonical != net || canonical.to_string() != text {
            self.push(
                Code::NonCanonicalCidr,
                pointer,
                format!("CIDR `{text}` is not in canonical form"),
                "host bits set or not normalised",
                format!("write `{canonical}`"),
            );
            return Some(canonical);
        }
        Some(net)
    }

    fn egress(&mut self, pointer: &str, rule: &raw::EgressRule) -> model::Egress {
        self.dns_label(&format!("{pointer}/name"), &rule.name);
        let cidr = self.cidr(&format!("{pointer}/cidr"), &rule.cidr);
        let mut except = Vec::new();
        for (i, e) in rule.except.iter().enumerate() {
            let p = format!("{pointer}/except/{i}");
            if let (Some(outer), Some(inner)) = (cidr, self.cidr(&p, e)) {
                let strictly_inside =
                    outer.contains(&inner) && inner.prefix_len() > outer.prefix_len();
                if !strictly_inside {
                    self.push(
                        Code::ExceptOutsideCidr,
                        &p,
                        format!("except `{inner}` is not strictly inside `{outer}`"),
                        "not a sub-network of the rule's cidr",
                        format!("use a network inside {outer} with a longer prefix, or remove it"),
                    );
                } else {
                    except.push(inner);
                }
            }
        }
        if let Some(net) = cidr {
            self.internet_wide(
                &format!("{pointer}/cidr"),
                &rule.name,
                net,
                rule.allow_internet,
                rule.reason.as_deref(),
            );
        }
        except.sort();
        except.dedup();
        if rule.ports.is_empty() {
            self.push(
                Code::AllPortsEgress,
                &format!("{pointer}/ports"),
                format!(
                    "egress `{}` allows every {} port",
                    rule.name,
                    erased::Named::name(&rule.protocol)
                ),
                "no ports listed",
                "list the ports the destination serves, e.g. `ports: [443]`".into(),
            );
        }
        model::Egress {
            name: rule.name.clone(),
            cidrs: cidr.into_iter().collect(),
            except,
            ports: self.ports(&format!("{pointer}/ports"), &rule.ports),
            protocol: rule.protocol,
            reason: rule.reason.clone(),
            origin: pointer.to_string(),
        }
    }

    /// /0 is the internet; a v4 prefix shorter than /8 or a v6 prefix shorter than /16 is a
    /// large part of it (0.0.0.0/1 + 128.0.0.0/1 would otherwise slip through). Every egress —
    /// connector rules, registry, external database, Kubernetes API — needs `allow-internet: true`
    /// and a written `reason` for one.
    fn internet_wide(
        &mut self,
        pointer: &str,
        name: &str,
        net: IpNet,
        allow: bool,
        reason: Option<&str>,
    ) {
        let wide = match net {
            IpNet::V4(n) => n.prefix_len() < 8,
            IpNet::V6(n) => n.prefix_len() < 16,
        };
        let justified = allow && reason.is_some_and(|r| !r.trim().is_empty());
        if wide && !justified {
            self.push(
                Code::InternetEgressUnjustified,
                pointer,
                format!("egress `{name}` opens the internet, or a large part of it ({net})"),
                "every address",
                "narrow the CIDR to the destination, or set `allow-internet: true` and a `reason:`"
                    .into(),
            );
        }
    }

    fn egress_list(&mut self, pointer: &str, rules: &[raw::EgressRule]) -> Vec<model::Egress> {
        self.unique_names(
            pointer,
            rules.iter().map(|r| r.name.as_str()),
            "egress rule",
        );
        rules
            .iter()
            .enumerate()
            .map(|(i, r)| self.egress(&format!("{pointer}/{i}"), r))
            .collect()
    }

    fn unique_names<'n>(
        &mut self,
        pointer: &str,
        names: impl Iterator<Item = &'n str>,
        what: &str,
    ) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, n) in names.enumerate() {
            if let Some(first) = seen.get(n) {
                self.push(
                    Code::DuplicateName,
                    pointer,
                    format!("{what} name `{n}` is used twice in `{}`", dotted(pointer)),
                    "second use",
                    format!(
                        "rename one of them; the first is at `{}`",
                        dotted(&format!("{pointer}/{first}"))
                    ),
                );
                let p = format!("{pointer}/{i}/name");
                if let Some(last) = self.diags.last_mut() {
                    last.label.as_mut().expect("label set").range = self.doc.locate(&p);
                    last.path = Some(p);
                }
            } else {
                seen.insert(n, i);
            }
        }
    }

    /// airguard default-denies the namespaces it owns (Airbyte, its jobs, Airflow), so none of
    /// them may be a namespace it does not own (ingress, DNS), and Airbyte and Airflow each get
    /// their own.
    fn namespaces(&mut self, raw: &RawSpec) {
        let mut owned = vec![("/airbyte/namespace", &raw.airbyte.namespace)];
        if let Some(j) = &raw.airbyte.jobs_namespace {
            owned.push(("/airbyte/jobs-namespace", j));
        }
        owned.push(("/airflow/namespace", &raw.airflow.namespace));
        let mut foreign = vec![("dns", &raw.dns.namespace)];
        if let Some(i) = &raw.ingress {
            foreign.push(("ingress", &i.namespace));
        }
        for (pointer, ns) in &owned {
            for (what, other) in &foreign {
                if ns == other {
                    self.push(
                        Code::ConflictingSettings,
                        pointer,
                        format!("namespace `{ns}` is also the {what} namespace"),
                        "airguard default-denies this namespace",
                        format!("run Airbyte and Airflow outside the {what} namespace; a default deny there would cut off the {what} pods"),
                    );
                }
            }
        }
        if raw.airbyte.namespace == raw.airflow.namespace {
            self.push(
                Code::ConflictingSettings,
                "/airflow/namespace",
                format!(
                    "Airbyte and Airflow share namespace `{}`",
                    raw.airflow.namespace
                ),
                "same namespace as Airbyte",
                "give Airflow its own namespace: airguard isolates the two systems from each other"
                    .into(),
            );
        }
    }

    /// A ClusterSecretStore's `conditions` must admit every namespace airguard writes
    /// ExternalSecrets into, or ESO refuses them. Label conditions cannot be checked here
    /// (namespace labels live in the cluster), so they count as covering.
    fn store_coverage(&mut self, raw: &RawSpec) {
        let store = &raw.secrets.store;
        if store.kind != raw::StoreKind::ClusterSecretStore || store.conditions.is_empty() {
            return;
        }
        if store
            .conditions
            .iter()
            .any(|c| !c.namespace_labels.is_empty())
        {
            return;
        }
        let mut consumers = Vec::new();
        let s = &raw.secrets;
        if s.airbyte.is_some() || s.postgres.is_some() || s.minio.is_some() {
            consumers.push(&raw.airbyte.namespace);
        }
        if raw.airbyte.api.auth != raw::AuthKind::None {
            consumers.push(&raw.airflow.namespace);
        }
        // An invalid namespace name is reported on its own; do not pile a second error on it.
        for ns in consumers
            .into_iter()
            .filter(|ns| check_dns_label(ns).is_ok())
        {
            if !store.conditions.iter().any(|c| c.namespaces.contains(ns)) {
                self.push(
                    Code::ConflictingSettings,
                    "/secrets/store/conditions",
                    format!("the ClusterSecretStore's conditions do not admit namespace `{ns}`, where airguard writes ExternalSecrets"),
                    "no condition lists it",
                    format!("add `{ns}` to a condition's `namespaces`"),
                );
            }
        }
    }

    // ---- airbyte / airflow -----------------------------------------------------------------

    fn airbyte(&mut self, a: &raw::Airbyte) -> model::Airbyte {
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
        let mut cidrs: Vec<IpNet> = k
            .cidrs
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let p = format!("/airbyte/kubernetes-api/cidrs/{i}");
                let net = self.cidr(&p, c)?;
                self.internet_wide(
                    &p,
                    "kubernetes-api",
                    net,
                    k.allow_internet,
                    k.reason.as_deref(),
                );
                Some(net)
            })
            .collect();
        cidrs.sort();
        cidrs.dedup();
        if k.cidrs.is_empty() {
            self.push(
                Code::InvalidValue,
                "/airbyte/kubernetes-api/cidrs",
                "`airbyte.kubernetes-api.cidrs` is empty".into(),
                "no address",
                "list the API server addresses pods reach (e.g. the `kubernetes` Service endpoints)".into(),
            );
        }
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

    fn url(&mut self, pointer: &str, text: &str, https_only: bool) -> Option<url::Url> {
        match url::Url::parse(text) {
            Ok(u)
                if (u.scheme() == "https" || (!https_only && u.scheme() == "http"))
                    && u.host_str().is_some() =>
            {
                Some(u)
            }
            Ok(u) => {
                let want = if https_only { "https" } else { "http or https" };
                self.push(
                    Code::InvalidUrl,
                    pointer,
                    format!(
                        "`{text}` is not an {want} URL with a host (it reads as scheme `{}`)",
                        u.scheme()
                    ),
                    "wrong scheme or no host",
                    format!(
                        "write a full URL such as `{}://host:port`",
                        if https_only { "https" } else { "http" }
                    ),
                );
                None
            }
            Err(e) => {
                self.push(
                    Code::InvalidUrl,
                    pointer,
                    format!("`{text}` is not a URL: {e}"),
                    "not a URL",
                    "write a full URL such as `http://airbyte-airbyte-server-svc.airbyte:8001`"
                        .into(),
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

    fn airflow(&mut self, a: &raw::Airflow) -> model::Airflow {
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

    // ---- secrets -----------------------------------------------------------------------------

    fn duration(&mut self, pointer: &str, text: &str) -> Option<Duration> {
        if text.trim() == "0" {
            return Some(Duration::ZERO);
        }
        match parse_go_duration(text) {
            Some(d) if d.as_nanos() > i64::MAX as u128 => {
                self.push(
                    Code::InvalidDuration,
                    pointer,
                    format!("`{text}` is longer than a Go duration can be (about 2562047h)"),
                    "too long",
                    "use a shorter interval such as `24h`".into(),
                );
                None
            }
            Some(d) => Some(d),
            None => {
                self.push(
                    Code::InvalidDuration,
                    pointer,
                    format!("`{text}` is not a duration at `{}`", dotted(pointer)),
                    "not a duration",
                    "write a Go-style duration such as `1h`, `30m`, `1h30m` or `90s`".into(),
                );
                None
            }
        }
    }

    fn remote(&mut self, pointer: &str, text: &str) -> RemoteRef {
        let (key, property) = match text.rsplit_once('#') {
            Some((k, p)) => (k.to_string(), Some(p.to_string())),
            None => (text.to_string(), None),
        };
        if key.trim().is_empty() || property.as_deref().is_some_and(|p| p.trim().is_empty()) {
            self.push(
                Code::InvalidValue,
                pointer,
                format!("`{text}` is not a remote secret reference"),
                "expected `path/to/secret#property`",
                "write the secret's key in the provider, optionally `#property` for one field of a JSON secret".into(),
            );
        }
        RemoteRef { key, property }
    }

    fn secrets(&mut self, s: &raw::Secrets, api: &raw::AirbyteApi) -> model::Secrets {
        let store = &s.store;
        self.dns_subdomain("/secrets/store/name", &store.name);
        let cluster = store.kind == raw::StoreKind::ClusterSecretStore;
        if cluster && store.conditions.is_empty() {
            self.push(
                Code::UnconditionedClusterStore,
                "/secrets/store/kind",
                format!("ClusterSecretStore `{}` has no `conditions`: every namespace may read through it", store.name),
                "usable from every namespace",
                "add `conditions: [{namespaces: [<airbyte namespace>, <airflow namespace>]}]`".into(),
            );
        }
        if !cluster && !store.conditions.is_empty() {
            self.push(
                Code::ConflictingSettings,
                "/secrets/store/conditions",
                "`conditions` only apply to a ClusterSecretStore".into(),
                "ignored by a SecretStore",
                "remove `conditions`, or use `kind: ClusterSecretStore`".into(),
            );
        }
        for (i, c) in store.conditions.iter().enumerate() {
            for (j, ns) in c.namespaces.iter().enumerate() {
                self.dns_label(&format!("/secrets/store/conditions/{i}/namespaces/{j}"), ns);
            }
            self.labels(
                &format!("/secrets/store/conditions/{i}/namespace-labels"),
                &c.namespace_labels,
            );
            if c.namespaces.is_empty() && c.namespace_labels.is_empty() {
                self.push(
                    Code::InvalidValue,
                    &format!("/secrets/store/conditions/{i}"),
                    "an empty condition matches no namespace".into(),
                    "empty condition",
                    "list `namespaces` or `namespace-labels`".into(),
                );
            }
        }
        self.provider(&store.provider, cluster);

        let refresh = self.duration("/secrets/refresh-interval", &s.refresh_interval);
        if refresh == Some(Duration::ZERO) && s.refresh_policy != raw::RefreshPolicy::CreatedOnce {
            self.push(
                Code::ZeroRefreshInterval,
                "/secrets/refresh-interval",
                "`refresh-interval: 0` turns secret rotation off".into(),
                "no refresh",
                "set an interval such as `1h`, or say so explicitly with `refresh-policy: created-once`".into(),
            );
        }
        use raw::{CreationPolicy as C, DeletionPolicy as D};
        let forbidden = matches!(
            (s.deletion_policy, s.creation_policy),
            (D::Delete, C::Merge)
                | (D::Delete, C::CreateOrMerge)
                | (D::Delete, C::None)
                | (D::Merge, C::None)
        );
        if forbidden {
            let name = |v: &dyn erased::Named| v.name();
            self.push(
                Code::ForbiddenPolicyCombination,
                "/secrets/deletion-policy",
                format!(
                    "deletion-policy `{}` cannot be combined with creation-policy `{}`",
                    name(&s.deletion_policy),
                    name(&s.creation_policy)
                ),
                "External Secrets Operator rejects this combination",
                "use `creation-policy: owner` with `deletion-policy: delete`, or `deletion-policy: retain`".into(),
            );
            let p = "/secrets/deletion-policy";
            if let Some(last) = self.diags.last_mut() {
                last.label.as_mut().expect("label set").range = self.doc.locate(p);
                last.path = Some(p.into());
            }
        }

        let creds = s.airbyte.as_ref();
        let get = |f: fn(&raw::AirbyteCredentials) -> Option<&String>| creds.and_then(f);
        let client_id =
            get(|c| c.client_id.as_ref()).map(|k| self.remote("/secrets/airbyte/client-id", k));
        let client_secret = get(|c| c.client_secret.as_ref())
            .map(|k| self.remote("/secrets/airbyte/client-secret", k));
        let token = get(|c| c.token.as_ref()).map(|k| self.remote("/secrets/airbyte/token", k));
        let needed: &[(&str, bool)] = match api.auth {
            raw::AuthKind::None => &[],
            raw::AuthKind::Basic | raw::AuthKind::ClientCredentials => &[
                ("client-id", client_id.is_some()),
                ("client-secret", client_secret.is_some()),
            ],
            raw::AuthKind::Bearer => &[("token", token.is_some())],
        };
        for (key, present) in needed {
            if !present {
                self.push(
                    Code::MissingKey,
                    "/secrets/airbyte",
                    format!("`airbyte.api.auth` needs `secrets.airbyte.{key}`"),
                    "credential reference missing",
                    format!("add `{key}: path/to/secret#property` under `secrets.airbyte`"),
                );
                let p = if creds.is_some() {
                    "/secrets/airbyte"
                } else {
                    "/airbyte/api/auth"
                };
                if let Some(last) = self.diags.last_mut() {
                    last.label.as_mut().expect("label set").range = self.doc.locate_key(p);
                    last.path = Some(p.into());
                }
            }
        }
        let postgres_password = s
            .postgres
            .as_ref()
            .map(|p| self.remote("/secrets/postgres/password", &p.password));
        let postgres_user = s
            .postgres
            .as_ref()
            .and_then(|p| p.user.as_ref())
            .map(|u| self.remote("/secrets/postgres/user", u));
        let minio_user = s
            .minio
            .as_ref()
            .and_then(|m| m.user.as_ref())
            .map(|u| self.remote("/secrets/minio/user", u));
        let minio_password = s
            .minio
            .as_ref()
            .map(|m| self.remote("/secrets/minio/password", &m.password));
        model::Secrets {
            store: model::Store {
                kind: store.kind,
                name: store.name.clone(),
                conditions: store.conditions.clone(),
                provider: store.provider.clone(),
            },
            refresh_interval: refresh.unwrap_or(Duration::from_secs(3600)),
            refresh_policy: s.refresh_policy,
            creation_policy: s.creation_policy,
            deletion_policy: s.deletion_policy,
            airbyte_client_id: client_id,
            airbyte_client_secret: client_secret,
            airbyte_token: token,
            postgres_password,
            postgres_user,
            minio_user,
            minio_password,
        }
    }

    fn provider(&mut self, p: &raw::Provider, cluster: bool) {
        let base = "/secrets/store/provider";
        let mut refs: Vec<(String, Option<&String>)> = Vec::new();
        match p {
            raw::Provider::Aws(a) => {
                let b = format!("{base}/aws");
                if a.region.trim().is_empty() {
                    self.push(
                        Code::IncompleteProvider,
                        &format!("{b}/region"),
                        "aws provider needs a `region`".into(),
                        "empty",
                        "set `region: eu-west-1` (or yours)".into(),
                    );
                }
                match &a.auth {
                    Some(raw::AwsAuth::Jwt { service_account }) => refs.push((
                        format!("{b}/auth/jwt/service-account"),
                        service_account.namespace.as_ref(),
                    )),
                    Some(raw::AwsAuth::SecretRef {
                        access_key_id,
                        secret_access_key,
                    }) => {
                        refs.push((
                            format!("{b}/auth/secret-ref/access-key-id"),
                            access_key_id.namespace.as_ref(),
                        ));
                        refs.push((
                            format!("{b}/auth/secret-ref/secret-access-key"),
                            secret_access_key.namespace.as_ref(),
                        ));
                    }
                    None => {}
                }
            }
            raw::Provider::Azurekv(a) => {
                let b = format!("{base}/azurekv");
                self.url(&format!("{b}/vault-url"), &a.vault_url, true);
                let missing = |cond: bool, key: &str| (!cond).then(|| key.to_string());
                let required: Vec<String> = match a.auth_type {
                    raw::AzureAuthType::ServicePrincipal => [
                        missing(a.tenant_id.is_some(), "tenant-id"),
                        missing(a.client_id.is_some(), "client-id"),
                        missing(a.client_secret.is_some(), "client-secret"),
                    ]
                    .into_iter()
                    .flatten()
                    .collect(),
                    raw::AzureAuthType::WorkloadIdentity => {
                        missing(a.service_account.is_some(), "service-account")
                            .into_iter()
                            .collect()
                    }
                    raw::AzureAuthType::ManagedIdentity => Vec::new(),
                };
                for key in required {
                    self.push(
                        Code::IncompleteProvider,
                        &b,
                        format!("azurekv `auth-type` {:?} needs `{key}`", a.auth_type),
                        "missing for this auth type",
                        format!("add `{key}` under `secrets.store.provider.azurekv`"),
                    );
                }
                if let Some(sa) = &a.service_account {
                    refs.push((format!("{b}/service-account"), sa.namespace.as_ref()));
                }
                if let Some(r) = &a.client_id {
                    refs.push((format!("{b}/client-id"), r.namespace.as_ref()));
                }
                if let Some(r) = &a.client_secret {
                    refs.push((format!("{b}/client-secret"), r.namespace.as_ref()));
                }
            }
            raw::Provider::Vault(v) => {
                let b = format!("{base}/vault");
                self.url(&format!("{b}/server"), &v.server, false);
                match &v.auth {
                    raw::VaultAuth::Kubernetes {
                        service_account,
                        role,
                        ..
                    } => {
                        if role.trim().is_empty() {
                            self.push(
                                Code::IncompleteProvider,
                                &format!("{b}/auth/kubernetes/role"),
                                "vault kubernetes auth needs a `role`".into(),
                                "empty",
                                "set the Vault role bound to the ServiceAccount".into(),
                            );
                        }
                        if let Some(sa) = service_account {
                            refs.push((
                                format!("{b}/auth/kubernetes/service-account"),
                                sa.namespace.as_ref(),
                            ));
                        }
                    }
                    raw::VaultAuth::Token { secret_ref } => refs.push((
                        format!("{b}/auth/token/secret-ref"),
                        secret_ref.namespace.as_ref(),
                    )),
                    raw::VaultAuth::AppRole { secret_ref, .. } => refs.push((
                        format!("{b}/auth/app-role/secret-ref"),
                        secret_ref.namespace.as_ref(),
                    )),
                }
            }
            raw::Provider::Gcpsm(g) => {
                let b = format!("{base}/gcpsm");
                match &g.auth {
                    Some(raw::GcpAuth::WorkloadIdentity {
                        service_account, ..
                    }) => refs.push((
                        format!("{b}/auth/workload-identity/service-account"),
                        service_account.namespace.as_ref(),
                    )),
                    Some(raw::GcpAuth::SecretRef { secret_access_key }) => refs.push((
                        format!("{b}/auth/secret-ref/secret-access-key"),
                        secret_access_key.namespace.as_ref(),
                    )),
                    None => {}
                }
            }
        }
        if cluster {
            for (pointer, ns) in refs {
                if ns.is_none() {
                    self.push(
                        Code::IncompleteProvider,
                        &pointer,
                        format!("`{}` needs a `namespace` in a ClusterSecretStore", dotted(&pointer)),
                        "namespace missing",
                        "set `namespace:` on the reference; otherwise ESO uses each consumer's namespace".into(),
                    );
                    if let Some(last) = self.diags.last_mut() {
                        last.label.as_mut().expect("label set").range =
                            self.doc.locate_key(&pointer);
                    }
                }
            }
        }
    }

    // ---- connections and pipelines -------------------------------------------------------------

    fn connections(&mut self, conns: &[raw::Connection]) -> Vec<model::Connection> {
        self.unique_names(
            "/connections",
            conns.iter().map(|c| c.name.as_str()),
            "connection",
        );
        let mut ids: HashMap<String, usize> = HashMap::new();
        let mut out = Vec::new();
        for (i, c) in conns.iter().enumerate() {
            self.dns_label(&format!("/connections/{i}/name"), &c.name);
            let id = c.id.to_ascii_lowercase();
            if !is_uuid(&c.id) {
                self.push(
                    Code::InvalidUuid,
                    &format!("/connections/{i}/id"),
                    format!("connection id `{}` is not a UUID", c.id),
                    "expected 8-4-4-4-12 hex digits",
                    "copy the connection id from the Airbyte UI URL (`.../connections/<uuid>`)"
                        .into(),
                );
                let p = format!("/connections/{i}/id");
                if let Some(last) = self.diags.last_mut() {
                    last.label.as_mut().expect("label set").range = self.doc.locate(&p);
                    last.path = Some(p);
                }
            } else if let Some(first) = ids.get(&id) {
                self.push(
                    Code::DuplicateName,
                    &format!("/connections/{i}/id"),
                    format!("connection id `{}` is declared twice", c.id),
                    "second use",
                    format!("each Airbyte connection is declared once; the first is `connections[{first}]`"),
                );
                let p = format!("/connections/{i}/id");
                if let Some(last) = self.diags.last_mut() {
                    last.label.as_mut().expect("label set").range = self.doc.locate(&p);
                    last.path = Some(p);
                }
            } else {
                ids.insert(id.clone(), i);
            }
            out.push(model::Connection {
                name: c.name.clone(),
                id,
                min_records: c.min_records,
            });
        }
        out
    }

    fn pipelines(
        &mut self,
        pipes: &[raw::Pipeline],
        conns: &[model::Connection],
    ) -> Vec<model::Pipeline> {
        self.unique_names(
            "/pipelines",
            pipes.iter().map(|p| p.name.as_str()),
            "pipeline",
        );
        // name → min-records, built once: steps look connections up by name.
        let names: BTreeMap<&str, Option<u64>> = conns
            .iter()
            .map(|c| (c.name.as_str(), c.min_records))
            .collect();
        let mut out = Vec::new();
        for (pi, p) in pipes.iter().enumerate() {
            let base = format!("/pipelines/{pi}");
            self.dns_label(&format!("{base}/name"), &p.name);
            let mut steps = Vec::new();
            for (si, s) in p.steps.iter().enumerate() {
                let sp = format!("{base}/steps/{si}");
                if let Some(step) = self.step(&sp, s, &names) {
                    steps.push((si, step));
                }
            }
            self.check_dependencies(&base, &steps);
            out.push(model::Pipeline {
                name: p.name.clone(),
                steps: steps.into_iter().map(|(_, s)| s).collect(),
            });
        }
        out
    }

    fn step(
        &mut self,
        pointer: &str,
        s: &raw::Step,
        names: &BTreeMap<&str, Option<u64>>,
    ) -> Option<model::Step> {
        let default_timeout = Duration::from_secs(3600);
        let a = match s {
            raw::Step::Keyword(raw::StepKeyword::Health) => {
                return Some(model::Step {
                    kind: StepKind::Health,
                    after: None,
                    when: None,
                    on_running: raw::OnRunning::Attach,
                    min_records: None,
                    timeout: default_timeout,
                })
            }
            raw::Step::Action(a) => a,
        };
        let actions: Vec<(&str, &String)> = [
            ("sync", a.sync.as_ref()),
            ("reset", a.reset.as_ref()),
            ("clear", a.clear.as_ref()),
            ("validate", a.validate.as_ref()),
            ("check", a.check.as_ref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
        let (verb, conn) = match actions.as_slice() {
            [one] => *one,
            [] => {
                self.push(
                    Code::InvalidValue,
                    pointer,
                    format!("step at `{}` does nothing", dotted(pointer)),
                    "no action",
                    "give the step one of `sync`, `reset`, `clear`, `validate`, `check` with a connection name".into(),
                );
                return None;
            }
            many => {
                let verbs: Vec<&str> = many.iter().map(|(k, _)| *k).collect();
                self.push(
                    Code::InvalidValue,
                    pointer,
                    format!(
                        "step at `{}` has several actions ({})",
                        dotted(pointer),
                        verbs.join(", ")
                    ),
                    "one action per step",
                    "split it into one step per action".into(),
                );
                return None;
            }
        };
        if !names.contains_key(conn.as_str()) {
            self.unknown_connection(&format!("{pointer}/{verb}"), conn, names);
        }
        if let Some(after) = &a.after {
            if !names.contains_key(after.as_str()) {
                self.unknown_connection(&format!("{pointer}/after"), after, names);
            }
        }
        let when = a.when.as_ref().map(|w| model::Condition {
            last_sync_older_than: w
                .last_sync_older_than
                .as_ref()
                .and_then(|d| self.duration(&format!("{pointer}/when/last-sync-older-than"), d)),
            previous: w.previous,
        });
        let timeout = a
            .timeout
            .as_ref()
            .and_then(|t| self.duration(&format!("{pointer}/timeout"), t))
            .unwrap_or(default_timeout);
        let kind = match verb {
            "sync" => StepKind::Sync(conn.clone()),
            "reset" => StepKind::Reset(conn.clone()),
            "clear" => StepKind::Clear(conn.clone()),
            "validate" => StepKind::Validate(conn.clone()),
            _ => StepKind::Check(conn.clone()),
        };
        let min_records = a
            .min_records
            .or_else(|| names.get(conn.as_str()).copied().flatten());
        Some(model::Step {
            kind,
            after: a.after.clone(),
            when,
            on_running: a.on_running.unwrap_or_default(),
            min_records,
            timeout,
        })
    }

    fn unknown_connection(
        &mut self,
        pointer: &str,
        name: &str,
        names: &BTreeMap<&str, Option<u64>>,
    ) {
        let mut known: Vec<&str> = names.keys().copied().take(10).collect();
        if names.len() > known.len() {
            known.push("…");
        }
        let help = if known.is_empty() {
            "declare it under `connections:` with its name and UUID".to_string()
        } else {
            format!(
                "declare it under `connections:`, or use one of: {}",
                known.join(", ")
            )
        };
        self.push(
            Code::UnknownConnection,
            pointer,
            format!("connection `{name}` is not declared"),
            "no such connection",
            help,
        );
        if let Some(last) = self.diags.last_mut() {
            last.path = Some(pointer.into());
        }
    }

    /// `after` must name a connection that an *earlier* step of the pipeline runs (sync, reset
    /// or clear): steps run in order, so a step that runs later has no outcome yet and the step
    /// would only ever be skipped. `after` edges that close a cycle are reported as one cycle.
    fn check_dependencies(&mut self, base: &str, steps: &[(usize, model::Step)]) {
        let runs = |s: &model::Step| {
            matches!(
                s.kind,
                StepKind::Sync(_) | StepKind::Reset(_) | StepKind::Clear(_)
            )
        };
        let producers = |conn: &str| -> Vec<usize> {
            steps
                .iter()
                .enumerate()
                .filter(|(_, (_, s))| runs(s) && s.kind.connection() == Some(conn))
                .map(|(i, _)| i)
                .collect()
        };
        let mut edges: Vec<Vec<usize>> = vec![Vec::new(); steps.len()];
        for (i, (_, s)) in steps.iter().enumerate() {
            if let Some(after) = &s.after {
                // A step never waits for itself: `{sync: a, after: a}` waits for an earlier `a`.
                edges[i] = producers(after).into_iter().filter(|&j| j != i).collect();
            }
        }
        let cycle_at = self.check_cycle(base, steps, &edges);
        for (i, (si, s)) in steps.iter().enumerate() {
            let Some(after) = &s.after else { continue };
            if edges[i].iter().any(|&j| j < i) || cycle_at == Some(i) {
                continue;
            }
            let p = format!("{base}/steps/{si}/after");
            let (message, help) = if producers(after).is_empty() {
                (
                    format!("`after: {after}` but no step of this pipeline syncs, resets or clears `{after}`"),
                    format!("add a step `{{sync: {after}}}` to the pipeline, or remove `after`"),
                )
            } else {
                (
                    format!("`after: {after}` names no earlier step: the steps on `{after}` run at or after this one, so it would never run"),
                    format!("move the step on `{after}` before this one, or remove `after`"),
                )
            };
            self.push(
                Code::UnknownDependency,
                &p,
                message,
                "nothing earlier to wait for",
                help,
            );
        }
    }

    /// Report the first cycle of `after` edges, at the first step on it; return that step.
    fn check_cycle(
        &mut self,
        base: &str,
        steps: &[(usize, model::Step)],
        edges: &[Vec<usize>],
    ) -> Option<usize> {
        // Depth-first search for a cycle; report it once, at the first step on it.
        let mut state = vec![0u8; steps.len()]; // 0 new, 1 on stack, 2 done
        let mut stack = Vec::new();
        for start in 0..steps.len() {
            if let Some(cycle) = find_cycle(start, edges, &mut state, &mut stack) {
                let first = *cycle.iter().min().expect("non-empty cycle");
                let names: Vec<String> = cycle
                    .iter()
                    .map(|&i| steps[i].1.kind.connection().unwrap_or("health").to_string())
                    .collect();
                let (si, _) = steps[first];
                self.push(
                    Code::DependencyCycle,
                    &format!("{base}/steps/{si}/after"),
                    format!(
                        "steps wait for each other in a cycle: {} → {}",
                        names.join(" → "),
                        names[0]
                    ),
                    "part of a cycle",
                    "remove one of the `after:` references so the steps can run in some order"
                        .into(),
                );
                let p = format!("{base}/steps/{si}/after");
                if let Some(last) = self.diags.last_mut() {
                    last.label.as_mut().expect("label set").range = self.doc.locate(&p);
                    last.path = Some(p);
                }
                return Some(first);
            }
        }
        None
    }
}

fn find_cycle(
    n: usize,
    edges: &[Vec<usize>],
    state: &mut [u8],
    stack: &mut Vec<usize>,
) -> Option<Vec<usize>> {
    match state[n] {
        2 => return None,
        1 => {
            let pos = stack.iter().position(|&s| s == n).expect("on stack");
            return Some(stack[pos..].to_vec());
        }
        _ => {}
    }
    state[n] = 1;
    stack.push(n);
    for &m in &edges[n] {
        if let Some(c) = find_cycle(m, edges, state, stack) {
            return Some(c);
        }
    }
    stack.pop();
    state[n] = 2;
    None
}

fn origin(u: &url::Url) -> String {
    u.origin().ascii_serialization()
}

/// Kebab-case names of spec enums, for messages.
mod erased {
    pub trait Named {
        fn name(&self) -> String;
    }
    impl<T: serde::Serialize> Named for T {
        fn name(&self) -> String {
            serde_json::to_value(self)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        }
    }
}

/// Check a DNS-1123 label; the error says what is wrong.
pub fn check_dns_label(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("it is empty".into());
    }
    if s.len() > 63 {
        return Err(format!("it is {} characters long (at most 63)", s.len()));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!("`{c}` is not allowed"));
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Err("it must start and end with a letter or digit".into());
    }
    Ok(())
}

fn suggest_dns_label(s: &str) -> String {
    let mut out: String = s
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    out = out.trim_matches('-').to_string();
    out.truncate(63);
    if out.is_empty() {
        "my-name".into()
    } else {
        out
    }
}

fn check_label_key(k: &str) -> Result<(), String> {
    let (prefix, name) = match k.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    if let Some(p) = prefix {
        if p.is_empty() || p.len() > 253 || !p.split('.').all(|l| check_dns_label(l).is_ok()) {
            return Err(format!("prefix `{p}` is not a DNS subdomain"));
        }
    }
    if name.is_empty() || !is_label_value(name) {
        return Err(format!("name `{name}` is not valid"));
    }
    Ok(())
}

fn is_label_value(v: &str) -> bool {
    v.is_empty()
        || (v.len() <= 63
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && v.starts_with(|c: char| c.is_ascii_alphanumeric())
            && v.ends_with(|c: char| c.is_ascii_alphanumeric()))
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Parse a Go duration (`1h`, `1h30m`, `90s`, `1h0m0s`, `500ms`). Returns `None` when invalid.
pub fn parse_go_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let num: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += Duration::try_from_secs_f64(num * scale).ok()?;
    }
    Some(total)
}

/// Go's canonical rendering of a duration (`1h0m0s`, `30m0s`, `1m30s`, `0s`), as ESO prints it.
pub fn format_go_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s}s"),
        _ => format!("{h}h{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_go_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_go_duration("1h0m0s"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_go_duration("0s"), Some(Duration::ZERO));
        assert_eq!(parse_go_duration("1 hour"), None);
        assert_eq!(parse_go_duration("h"), None);
        assert_eq!(format_go_duration(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(format_go_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(format_go_duration(Duration::ZERO), "0s");
    }

    #[test]
    fn names() {
        assert!(check_dns_label("airbyte").is_ok());
        assert!(check_dns_label("Airbyte").is_err());
        assert!(check_dns_label("-a").is_err());
        assert!(check_label_key("app.kubernetes.io/name").is_ok());
        assert!(check_label_key("k8s-app").is_ok());
        assert!(check_label_key("bad key").is_err());
        assert!(is_uuid("7c2b1f4e-3a5d-4c8e-9f10-2b3c4d5e6f70"));
        assert!(!is_uuid("7c2b"));
    }
}

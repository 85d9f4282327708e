//! The flow topology: which pods exist (the inventory) and which connections between them the
//! spec declares (the flows), derived from a validated [`Model`].
//!
//! An [`Endpoint`] is one kind of pod (a chart component, Airbyte's connector job pods, the
//! ingress controller, the DNS pods, the Prometheus pods) with its namespace, the labels the chart really puts on it
//! for the chart profile, and its named container ports. A [`Flow`] is one allowed connection
//! from an endpoint to an endpoint or to external networks, on given ports, with an `origin`
//! that says why it exists: the JSON pointer of the spec entry that asks for it, or a fixed
//! reason naming the documented chart fact (`research/airbyte-facts.md` §5,
//! `research/k8s-eso-airflow-facts.md` §3). Ports are always the *container* ports (what a
//! NetworkPolicy sees after Service DNAT), never Service ports or port names.
//!
//! `render::network_policy` turns a topology into NetworkPolicies; the audit engine uses the same
//! topology as its synthetic inventory and as the declared intent. This module is pure data: it
//! never renders YAML, never reads files, and never decides how a flow is enforced.

use crate::spec::model::{Egress, Model, PortRange, Protocol, UiComponent};
use crate::spec::raw::{AirflowComponent, ChartProfile, Executor, SecretPersistence};
use ipnet::IpNet;
use std::collections::{BTreeMap, BTreeSet};

/// Every endpoint and every declared flow of one spec.
#[derive(Clone, Debug, PartialEq)]
pub struct Topology {
    /// Endpoints, in a fixed order: Airbyte, Airbyte job pods, Airflow, then the external
    /// (not owned) ingress controller and DNS pods, then with `observability` the statsd
    /// exporter and the (not owned) Prometheus pods. Ids are unique.
    pub endpoints: Vec<Endpoint>,
    /// Flows, in a fixed order (the order they are derived in). Ids are unique, and there is at
    /// most one flow per (source, destination endpoint) pair.
    pub flows: Vec<Flow>,
}

/// Which installation an endpoint belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum System {
    /// A pod of the Airbyte Helm chart, or an Airbyte connector job pod.
    Airbyte,
    /// A pod of the official Airflow Helm chart.
    Airflow,
    /// The ingress controller (not owned by airguard).
    Ingress,
    /// The cluster DNS pods (not owned by airguard).
    Dns,
    /// The Prometheus pods that scrape the statsd exporter (`observability`; not owned).
    Monitoring,
}

/// A named container port of an endpoint.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct NamedPort {
    /// Container port name (as the chart names it where it does; otherwise airguard's name).
    pub name: String,
    /// Port number.
    pub port: u16,
    /// Protocol.
    pub protocol: Protocol,
}

/// One kind of pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// Unique id, `<system>-<component>` (`airbyte-server`, `airflow-api-server`,
    /// `ingress-controller`, `dns`). Used as flow ends and in policy names.
    pub id: String,
    /// Which installation it belongs to.
    pub system: System,
    /// The component name (`server`, `job-pod`, `api-server`, `controller`).
    pub component: String,
    /// Namespace the pods run in.
    pub namespace: String,
    /// Labels that select exactly these pods: what airguard's policies use as `podSelector`.
    pub labels: BTreeMap<String, String>,
    /// Every label airguard knows the chart puts on these pods (a superset of `labels`); a
    /// synthetic inventory gives its pods these labels.
    pub pod_labels: BTreeMap<String, String>,
    /// Container ports the pods listen on, sorted by port.
    pub ports: Vec<NamedPort>,
    /// Whether airguard owns the namespace and renders this endpoint's policy.
    pub owned: bool,
    /// Why the endpoint exists (chart fact or spec pointer).
    pub origin: String,
}

/// External networks a flow may reach (`ipBlock` peers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct External {
    /// Name of the spec rule (`orders-db`, `kubernetes-api`).
    pub name: String,
    /// Destination networks.
    pub cidrs: Vec<IpNet>,
    /// Sub-networks that stay blocked; each lies strictly inside one of `cidrs`.
    pub except: Vec<IpNet>,
}

/// Where a flow goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Pods of an endpoint, by [`Endpoint::id`].
    Endpoint(String),
    /// Networks outside the cluster.
    External(External),
}

/// A port or inclusive port range with its protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FlowPort {
    /// Protocol.
    pub protocol: Protocol,
    /// Port range (`start == end` for one port); `None` means every port of `protocol`.
    pub range: Option<PortRange>,
}

impl FlowPort {
    /// One TCP port.
    pub const fn tcp(port: u16) -> Self {
        Self {
            protocol: Protocol::Tcp,
            range: Some(PortRange::single(port)),
        }
    }
}

/// One declared, allowed connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flow {
    /// Unique id: `<from-id>.<to-id>` for endpoint targets; for external ones
    /// `<from-id>.egress-<rule>` (connector egress), `<from-id>.registry-<rule>` (registry
    /// egress), `<from-id>.kubernetes-api` or `<from-id>.external-database`.
    pub id: String,
    /// Source endpoint id.
    pub from: String,
    /// Destination.
    pub to: Target,
    /// Destination ports, sorted. [`Topology::from_model`] never leaves this empty (a spec rule
    /// without ports becomes a [`FlowPort`] with `range: None`); an empty list would mean every
    /// port of every protocol.
    pub ports: Vec<FlowPort>,
    /// Why the flow is allowed: a spec JSON pointer (`/airbyte/egress/0`) or a chart fact
    /// (`airbyte chart v2: worker -> temporal`). Several origins are joined with `; `.
    pub origin: String,
}

/// Airbyte container ports (chart facts, identical in V1 1.8.5 and V2 2.x unless noted).
mod port {
    pub const SERVER: u16 = 8001;
    pub const WEBAPP: u16 = 8080;
    pub const WORKLOAD_API: u16 = 8007;
    pub const TEMPORAL: u16 = 7233;
    pub const DB: u16 = 5432;
    pub const MINIO: u16 = 9000;
    pub const WORKER_HEARTBEAT: u16 = 9000;
    pub const LAUNCHER_HEARTBEAT: u16 = 8016;
    pub const MANAGEMENT: u16 = 8085;
    /// manifest-server and connector-builder-server containers (both Services DNAT to 8080).
    pub const BUILDER: u16 = 8080;
    pub const AF_API: u16 = 8080;
    pub const AF_WORKER_LOGS: u16 = 8793;
    pub const AF_TRIGGERER_LOGS: u16 = 8794;
    pub const AF_REDIS: u16 = 6379;
    pub const AF_PGBOUNCER: u16 = 6543;
    pub const AF_POSTGRES: u16 = 5432;
}

impl Topology {
    /// Derive the inventory and the declared flows from a validated model.
    pub fn from_model(model: &Model) -> Topology {
        let mut b = Builder::default();
        airbyte(model, &mut b);
        airflow(model, &mut b);
        external_endpoints(model, &mut b);
        ingress_flows(model, &mut b);
        observability_flows(model, &mut b);
        dns_flows(model, &mut b);
        Topology {
            endpoints: b.endpoints,
            flows: b.flows,
        }
    }

    /// The endpoint with this id.
    pub fn endpoint(&self, id: &str) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.id == id)
    }

    /// Flows leaving an endpoint, in topology order.
    pub fn flows_from<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Flow> + 'a {
        self.flows.iter().filter(move |f| f.from == id)
    }

    /// Flows reaching an endpoint, in topology order.
    pub fn flows_to<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Flow> + 'a {
        self.flows
            .iter()
            .filter(move |f| matches!(&f.to, Target::Endpoint(t) if t == id))
    }

    /// Every namespace an endpoint lives in (owned or not), sorted and deduplicated. A synthetic
    /// inventory gives each the label `kubernetes.io/metadata.name: <name>`.
    pub fn namespaces(&self) -> Vec<String> {
        let set: BTreeSet<&str> = self
            .endpoints
            .iter()
            .map(|e| e.namespace.as_str())
            .collect();
        set.into_iter().map(str::to_string).collect()
    }

    /// The namespaces airguard owns (isolates with a default deny), sorted and deduplicated.
    pub fn owned_namespaces(&self) -> Vec<String> {
        let set: BTreeSet<&str> = self
            .endpoints
            .iter()
            .filter(|e| e.owned)
            .map(|e| e.namespace.as_str())
            .collect();
        set.into_iter().map(str::to_string).collect()
    }
}

impl Endpoint {
    /// The container port with this name (what a named NetworkPolicy port resolves to).
    pub fn port(&self, name: &str) -> Option<&NamedPort> {
        self.ports.iter().find(|p| p.name == name)
    }

    /// Whether a `matchLabels` selector selects this endpoint's pods (every selector label is
    /// among [`Endpoint::pod_labels`]).
    pub fn selected_by(&self, match_labels: &BTreeMap<String, String>) -> bool {
        match_labels
            .iter()
            .all(|(k, v)| self.pod_labels.get(k) == Some(v))
    }
}

#[derive(Default)]
struct Builder {
    endpoints: Vec<Endpoint>,
    flows: Vec<Flow>,
}

impl Builder {
    #[allow(clippy::too_many_arguments)]
    fn endpoint(
        &mut self,
        system: System,
        component: &str,
        namespace: &str,
        labels: &[(&str, &str)],
        ports: &[(&str, u16, Protocol)],
        owned: bool,
        origin: &str,
    ) {
        let prefix = match system {
            System::Airbyte => "airbyte-",
            System::Airflow => "airflow-",
            System::Ingress => "ingress-",
            System::Dns => "",
            System::Monitoring => "monitoring-",
        };
        let mut ports: Vec<NamedPort> = ports
            .iter()
            .map(|(n, p, proto)| NamedPort {
                name: (*n).to_string(),
                port: *p,
                protocol: *proto,
            })
            .collect();
        ports.sort_by(|a, b| (a.port, a.protocol, &a.name).cmp(&(b.port, b.protocol, &b.name)));
        self.endpoints.push(Endpoint {
            id: format!("{prefix}{component}"),
            system,
            component: component.to_string(),
            namespace: namespace.to_string(),
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
            pod_labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
            ports,
            owned,
            origin: origin.to_string(),
        });
    }

    /// Record more labels the chart sets on the pods of the endpoint added last.
    fn also_labelled(&mut self, extra: &[(&str, &str)]) {
        let e = self.endpoints.last_mut().expect("an endpoint was added");
        for (k, v) in extra {
            e.pod_labels.insert((*k).to_string(), (*v).to_string());
        }
    }

    fn has(&self, id: &str) -> bool {
        self.endpoints.iter().any(|e| e.id == id)
    }

    /// A flow between two endpoints; merged into an existing flow between the same pair.
    fn link(&mut self, from: &str, to: &str, ports: &[FlowPort], origin: &str) {
        debug_assert!(
            self.has(from) && self.has(to),
            "flow {from} -> {to} names unknown endpoints"
        );
        let id = format!("{from}.{to}");
        if let Some(f) = self.flows.iter_mut().find(|f| f.id == id) {
            f.ports.extend_from_slice(ports);
            f.ports.sort();
            f.ports.dedup();
            if !f.origin.split("; ").any(|o| o == origin) {
                f.origin.push_str("; ");
                f.origin.push_str(origin);
            }
            return;
        }
        let mut ports = ports.to_vec();
        ports.sort();
        ports.dedup();
        self.flows.push(Flow {
            id,
            from: from.to_string(),
            to: Target::Endpoint(to.to_string()),
            ports,
            origin: origin.to_string(),
        });
    }

    /// A flow to the networks of a spec egress rule; the flow id is `<from>.<suffix>`.
    fn egress(&mut self, from: &str, suffix: &str, rule: &Egress) {
        // No ports in the spec means every port, but still only of the rule's protocol.
        let mut ports: Vec<FlowPort> = if rule.ports.is_empty() {
            vec![FlowPort {
                protocol: rule.protocol,
                range: None,
            }]
        } else {
            rule.ports
                .iter()
                .map(|r| FlowPort {
                    protocol: rule.protocol,
                    range: Some(*r),
                })
                .collect()
        };
        ports.sort();
        ports.dedup();
        self.flows.push(Flow {
            id: format!("{from}.{suffix}"),
            from: from.to_string(),
            to: Target::External(External {
                name: rule.name.clone(),
                cidrs: rule.cidrs.clone(),
                except: rule.except.clone(),
            }),
            ports,
            origin: rule.origin.clone(),
        });
    }
}

fn airbyte(model: &Model, b: &mut Builder) {
    let ab = &model.airbyte;
    let ns = ab.namespace.as_str();
    let rel = ab.release.as_str();
    let tcp = Protocol::Tcp;
    let (profile, chart) = match ab.chart {
        ChartProfile::V1 => ("v1", "airbyte chart v1"),
        ChartProfile::V2 => ("v2", "airbyte chart v2"),
    };
    // Pod labels per chart line: V1 subcharts set `app.kubernetes.io/name: <subchart>` (the
    // bootloader subchart is `airbyte-bootloader`); V2 sets `airbyte: <component>`. Both set
    // `app.kubernetes.io/instance: <release>`.
    let component = |b: &mut Builder, name: &str, ports: &[(&str, u16, Protocol)]| {
        let origin = format!("{chart}: {name} pods");
        match ab.chart {
            ChartProfile::V1 => {
                let sub = if name == "bootloader" {
                    "airbyte-bootloader"
                } else {
                    name
                };
                b.endpoint(
                    System::Airbyte,
                    name,
                    ns,
                    &[
                        ("app.kubernetes.io/name", sub),
                        ("app.kubernetes.io/instance", rel),
                    ],
                    ports,
                    true,
                    &origin,
                );
            }
            ChartProfile::V2 => {
                let mut ports = ports.to_vec();
                // The facts list no management port for the two builder backends.
                if !matches!(
                    name,
                    "bootloader" | "manifest-server" | "connector-builder-server"
                ) {
                    ports.push(("management", port::MANAGEMENT, tcp));
                }
                b.endpoint(
                    System::Airbyte,
                    name,
                    ns,
                    &[("airbyte", name), ("app.kubernetes.io/instance", rel)],
                    &ports,
                    true,
                    &origin,
                );
                b.also_labelled(&[("app.kubernetes.io/name", name)]);
            }
        }
    };
    component(b, "server", &[("http", port::SERVER, tcp)]);
    if ab.ui == UiComponent::Webapp {
        component(b, "webapp", &[("http", port::WEBAPP, tcp)]);
    }
    component(b, "worker", &[("heartbeat", port::WORKER_HEARTBEAT, tcp)]);
    component(
        b,
        "workload-launcher",
        &[("heartbeat", port::LAUNCHER_HEARTBEAT, tcp)],
    );
    component(
        b,
        "workload-api-server",
        &[("http", port::WORKLOAD_API, tcp)],
    );
    component(b, "temporal", &[("temporal", port::TEMPORAL, tcp)]);
    component(b, "cron", &[]);
    component(b, "bootloader", &[]);
    // The connector builder backend the server calls: which one the chart deploys depends on
    // the chart line and version.
    let builder = builder_backend(ab.chart, ab.chart_version.as_deref());
    component(b, builder.component, &[("http", port::BUILDER, tcp)]);
    let e = b.endpoints.last_mut().expect("an endpoint was added");
    e.origin = format!("{chart}: {} pods ({})", builder.component, builder.why);
    // The internal DB and MinIO are root templates of both chart lines.
    let db_name = format!("{rel}-db");
    b.endpoint(
        System::Airbyte,
        "db",
        ns,
        &[
            ("app.kubernetes.io/name", &db_name),
            ("app.kubernetes.io/instance", rel),
        ],
        &[("postgres", port::DB, tcp)],
        true,
        &format!("{chart}: internal database (airbyte-db-svc)"),
    );
    let minio_name = format!("{rel}-minio");
    b.endpoint(
        System::Airbyte,
        "minio",
        ns,
        &[("app.kubernetes.io/name", &minio_name)],
        &[("minio", port::MINIO, tcp)],
        true,
        &format!("{chart}: internal MinIO (airbyte-minio-svc)"),
    );
    // Connector job pods: labelled `airbyte: job-pod` by the workload-launcher (PodLabeler),
    // in the jobs namespace; custom job labels are never applied, so this is the only selector.
    b.endpoint(
        System::Airbyte,
        "job-pod",
        &ab.jobs_namespace,
        &[("airbyte", "job-pod")],
        &[],
        true,
        "airbyte workload-launcher: connector job pods (airbyte: job-pod)",
    );

    let db = [FlowPort::tcp(port::DB)];
    let temporal = [FlowPort::tcp(port::TEMPORAL)];
    let minio = [FlowPort::tcp(port::MINIO)];
    let server = [FlowPort::tcp(port::SERVER)];
    let wl_api = [FlowPort::tcp(port::WORKLOAD_API)];
    let fact = |from: &str, to: &str| format!("{chart}: {from} -> {to}");
    let chart_flow = |b: &mut Builder, from: &str, to: &str, ports: &[FlowPort]| {
        b.link(
            &format!("airbyte-{from}"),
            &format!("airbyte-{to}"),
            ports,
            &fact(from, to),
        );
    };
    for c in ["server", "worker", "workload-launcher"] {
        chart_flow(b, c, "db", &db);
        chart_flow(b, c, "temporal", &temporal);
        chart_flow(b, c, "minio", &minio);
    }
    for c in ["worker", "workload-launcher"] {
        chart_flow(b, c, "server", &server);
        chart_flow(b, c, "workload-api-server", &wl_api);
    }
    chart_flow(b, "workload-api-server", "db", &db);
    chart_flow(b, "workload-api-server", "temporal", &temporal);
    if profile == "v1" {
        // V1 also sets INTERNAL_API_HOST on the workload-api-server.
        chart_flow(b, "workload-api-server", "server", &server);
    }
    chart_flow(b, "cron", "db", &db);
    chart_flow(b, "cron", "temporal", &temporal);
    chart_flow(b, "cron", "workload-api-server", &wl_api);
    chart_flow(b, "bootloader", "db", &db);
    chart_flow(b, "temporal", "db", &db);
    if ab.ui == UiComponent::Webapp {
        chart_flow(b, "webapp", "server", &server);
    }
    let builder_port = [FlowPort::tcp(port::BUILDER)];
    let to_builder = format!("airbyte-{}", builder.component);
    b.link(
        "airbyte-server",
        &to_builder,
        &builder_port,
        &format!(
            "{chart}: server -> {} ({}; {})",
            builder.component, builder.env, builder.why
        ),
    );
    if ab.ui == UiComponent::Webapp {
        // The V1 (below 1.7) webapp's nginx also proxies the connector builder.
        b.link(
            "airbyte-webapp",
            &to_builder,
            &builder_port,
            &format!(
                "{chart}: webapp -> {} (nginx; {})",
                builder.component, builder.why
            ),
        );
    }
    chart_flow(b, "job-pod", "workload-api-server", &wl_api);
    chart_flow(b, "job-pod", "server", &server);
    chart_flow(b, "job-pod", "minio", &minio);
    if ab.secret_persistence == SecretPersistence::ConfigDb {
        // TESTING_CONFIG_DB_TABLE: the job pod's init container reads secrets from the DB.
        b.link(
            "airbyte-job-pod",
            "airbyte-db",
            &db,
            "/airbyte/secret-persistence",
        );
    }
    for rule in &ab.egress {
        b.egress("airbyte-job-pod", &format!("egress-{}", rule.name), rule);
    }
    for c in ["server", "worker", "cron", "bootloader"] {
        for rule in &ab.registry_egress {
            b.egress(
                &format!("airbyte-{c}"),
                &format!("registry-{}", rule.name),
                rule,
            );
        }
    }
    b.egress(
        "airbyte-workload-launcher",
        "kubernetes-api",
        &named(&ab.kubernetes_api, "kubernetes-api"),
    );
}

/// The connector builder backend the Airbyte server calls (`research/airbyte-facts.md` §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct BuilderBackend {
    /// Component name (also the V1 subchart and the V2 `airbyte:` label value).
    component: &'static str,
    /// The server env var that names it.
    env: &'static str,
    /// Which chart fact (and version assumption) decides it.
    why: &'static str,
}

/// Which builder backend a chart line and version deploy: V1 (every version) and V2 2.0.x the
/// connector-builder-server, V2 from 2.1 the manifest-server (connector-builder-server is 2.0.x
/// only; manifest-server is enabled by default in 2.2.0). Without a version the newest of the
/// line is assumed. The version was validated (`MAJOR.MINOR[...]`); an unparsable one is
/// treated like a missing one.
fn builder_backend(chart: ChartProfile, version: Option<&str>) -> BuilderBackend {
    const CBS: &str = "connector-builder-server";
    const CBS_ENV: &str = "CONNECTOR_BUILDER_SERVER_API_HOST";
    let parsed = version.and_then(|v| {
        let mut parts = v.trim_start_matches('v').split('.');
        let major: u64 = parts.next()?.parse().ok()?;
        let minor: u64 = parts.next()?.parse().ok()?;
        Some((major, minor))
    });
    match (chart, parsed) {
        (ChartProfile::V1, Some(_)) => BuilderBackend {
            component: CBS,
            env: CBS_ENV,
            why: "every v1 chart version",
        },
        (ChartProfile::V1, None) => BuilderBackend {
            component: CBS,
            env: CBS_ENV,
            why: "no chart-version: assuming the newest v1 chart, which has it",
        },
        (ChartProfile::V2, Some(v)) if v < (2, 1) => BuilderBackend {
            component: CBS,
            env: CBS_ENV,
            why: "v2 chart 2.0.x; removed by 2.2.0",
        },
        (ChartProfile::V2, Some(v)) if v < (2, 2) => BuilderBackend {
            component: "manifest-server",
            env: "MANIFEST_SERVER_API_HOST",
            why: "v2 chart 2.1.x: connector-builder-server is 2.0.x only",
        },
        (ChartProfile::V2, Some(_)) => BuilderBackend {
            component: "manifest-server",
            env: "MANIFEST_SERVER_API_HOST",
            why: "v2 chart 2.2.0+, enabled by default",
        },
        (ChartProfile::V2, None) => BuilderBackend {
            component: "manifest-server",
            env: "MANIFEST_SERVER_API_HOST",
            why: "no chart-version: assuming the newest v2 chart, 2.2.0+, where it is enabled by default",
        },
    }
}

/// The Kubernetes API rule always gets one fixed name, whatever the model calls it.
fn named(rule: &Egress, name: &str) -> Egress {
    let mut r = rule.clone();
    r.name = name.to_string();
    r
}

fn airflow(model: &Model, b: &mut Builder) {
    let af = &model.airflow;
    let ns = af.namespace.as_str();
    let rel = af.release.as_str();
    let tcp = Protocol::Tcp;
    const CHART: &str = "airflow chart 1.21";
    // Chart 1.21 labels every Airflow pod `tier: airflow`, `component: <c>`, `release: <rel>`
    // (KubernetesExecutor task pods too: `component: worker` in the pod template file).
    let component = |b: &mut Builder, name: &str, ports: &[(&str, u16, Protocol)], what: &str| {
        b.endpoint(
            System::Airflow,
            name,
            ns,
            &[("component", name), ("release", rel), ("tier", "airflow")],
            ports,
            true,
            &format!("{CHART}: {what}"),
        );
    };
    component(
        b,
        "api-server",
        &[("api-server", port::AF_API, tcp)],
        "api-server pods",
    );
    let scheduler_ports: &[(&str, u16, Protocol)] = match af.executor {
        // LocalExecutor tasks run in the scheduler, which then serves their logs.
        Executor::Local => &[("worker-logs", port::AF_WORKER_LOGS, tcp)],
        _ => &[],
    };
    component(b, "scheduler", scheduler_ports, "scheduler pods");
    component(b, "dag-processor", &[], "dag-processor pods");
    component(
        b,
        "triggerer",
        &[("triggerer-logs", port::AF_TRIGGERER_LOGS, tcp)],
        "triggerer pods",
    );
    match af.executor {
        Executor::Celery => {
            component(
                b,
                "worker",
                &[("worker-logs", port::AF_WORKER_LOGS, tcp)],
                "Celery worker pods",
            );
            component(
                b,
                "redis",
                &[("redis-db", port::AF_REDIS, tcp)],
                "Redis (Celery broker)",
            );
        }
        Executor::Kubernetes => component(
            b,
            "worker",
            &[],
            "KubernetesExecutor task pods (pod template)",
        ),
        Executor::Local => {}
    }
    component(
        b,
        "run-airflow-migrations",
        &[],
        "migrate-database job pods",
    );
    component(b, "create-user-job", &[], "create-user job pods");
    if af.pgbouncer {
        component(
            b,
            "pgbouncer",
            &[("pgbouncer", port::AF_PGBOUNCER, tcp)],
            "PgBouncer",
        );
    }
    if af.external_database.is_none() {
        // The bundled Bitnami postgresql subchart labels its pods with the chart name and the
        // release, not with the Airflow tier/component labels.
        b.endpoint(
            System::Airflow,
            "postgresql",
            ns,
            &[
                ("app.kubernetes.io/instance", rel),
                ("app.kubernetes.io/name", "postgresql"),
            ],
            &[("tcp-postgresql", port::AF_POSTGRES, tcp)],
            true,
            &format!("{CHART}: bundled postgresql subchart"),
        );
        b.also_labelled(&[("app.kubernetes.io/component", "primary")]);
    }

    let has_worker = af.executor != Executor::Local;
    let af_id = |c: &str| format!("airflow-{c}");
    // Metadata database users.
    let mut db_users = vec!["scheduler", "dag-processor", "triggerer", "api-server"];
    if has_worker {
        db_users.push("worker");
    }
    db_users.extend(["run-airflow-migrations", "create-user-job"]);
    let direct_db = |b: &mut Builder, from: &str, origin: &str| match &af.external_database {
        Some(rule) => b.egress(&af_id(from), "external-database", rule),
        None => b.link(
            &af_id(from),
            "airflow-postgresql",
            &[FlowPort::tcp(port::AF_POSTGRES)],
            origin,
        ),
    };
    for c in &db_users {
        let origin = format!("{CHART}: {c} -> metadata database");
        if af.pgbouncer {
            b.link(
                &af_id(c),
                "airflow-pgbouncer",
                &[FlowPort::tcp(port::AF_PGBOUNCER)],
                &origin,
            );
        } else {
            direct_db(b, c, &origin);
        }
    }
    if af.pgbouncer {
        direct_db(b, "pgbouncer", "/airflow/pgbouncer");
    }
    if af.executor == Executor::Celery {
        for c in ["scheduler", "worker"] {
            b.link(
                &af_id(c),
                "airflow-redis",
                &[FlowPort::tcp(port::AF_REDIS)],
                &format!("{CHART}: {c} -> redis (Celery broker)"),
            );
        }
    }
    // Airflow 3 task execution API (core.execution_api_server_url -> api-server:8080).
    let task_runner = if has_worker { "worker" } else { "scheduler" };
    for c in [task_runner, "triggerer"] {
        b.link(
            &af_id(c),
            "airflow-api-server",
            &[FlowPort::tcp(port::AF_API)],
            &format!("{CHART}: {c} -> api-server (execution API)"),
        );
    }
    // Task logs: the api-server reads them from the log servers.
    match af.executor {
        Executor::Celery => b.link(
            "airflow-api-server",
            "airflow-worker",
            &[FlowPort::tcp(port::AF_WORKER_LOGS)],
            &format!("{CHART}: api-server -> worker logs"),
        ),
        Executor::Local => b.link(
            "airflow-api-server",
            "airflow-scheduler",
            &[FlowPort::tcp(port::AF_WORKER_LOGS)],
            &format!("{CHART}: api-server -> scheduler task logs (LocalExecutor)"),
        ),
        Executor::Kubernetes => {}
    }
    b.link(
        "airflow-api-server",
        "airflow-triggerer",
        &[FlowPort::tcp(port::AF_TRIGGERER_LOGS)],
        &format!("{CHART}: api-server -> triggerer logs"),
    );
    if af.executor == Executor::Kubernetes {
        // The scheduler launches task pods and the api-server reads running pods' logs through
        // the Kubernetes API.
        for (c, why) in [
            ("scheduler", "launches task pods"),
            ("api-server", "reads task pod logs"),
        ] {
            let mut api = named(&model.airbyte.kubernetes_api, "kubernetes-api");
            api.origin = format!(
                "{CHART}: KubernetesExecutor {c} {why} (endpoint {})",
                api.origin
            );
            b.egress(&af_id(c), "kubernetes-api", &api);
        }
    }
    // Components that call the Airbyte API.
    for caller in &af.callers {
        let from = match caller {
            AirflowComponent::Worker => task_runner,
            AirflowComponent::Triggerer => "triggerer",
            AirflowComponent::Scheduler => "scheduler",
            AirflowComponent::ApiServer => "api-server",
            AirflowComponent::DagProcessor => "dag-processor",
        };
        b.link(
            &af_id(from),
            "airbyte-server",
            &[FlowPort::tcp(port::SERVER)],
            "/airflow/callers",
        );
    }
    // The chart's git-sync sidecar (or KubernetesExecutor init container) runs in every pod
    // that reads DAG files: the dag-processor, the triggerer, the task runners (Celery workers,
    // task pods, or the scheduler under the LocalExecutor).
    if let Some(gs) = &model.dags.git_sync {
        for c in ["dag-processor", "triggerer", task_runner] {
            b.egress(&af_id(c), "git-sync", &gs.egress);
        }
    }
}

fn external_endpoints(model: &Model, b: &mut Builder) {
    if let Some(ing) = &model.ingress {
        let labels: Vec<(&str, &str)> = ing
            .pod_labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        b.endpoint(
            System::Ingress,
            "controller",
            &ing.namespace,
            &labels,
            &[],
            false,
            "/ingress",
        );
    }
    let labels: Vec<(&str, &str)> = model
        .dns
        .pod_labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let p = model.dns.port;
    b.endpoint(
        System::Dns,
        "dns",
        &model.dns.namespace,
        &labels,
        &[("dns", p, Protocol::Udp), ("dns-tcp", p, Protocol::Tcp)],
        false,
        "/dns",
    );
}

fn ingress_flows(model: &Model, b: &mut Builder) {
    let Some(ing) = &model.ingress else { return };
    let (ui, p) = match model.airbyte.ui {
        UiComponent::Server => ("airbyte-server", port::SERVER),
        UiComponent::Webapp => ("airbyte-webapp", port::WEBAPP),
    };
    b.link("ingress-controller", ui, &[FlowPort::tcp(p)], "/ingress");
    if ing.airflow_ui {
        b.link(
            "ingress-controller",
            "airflow-api-server",
            &[FlowPort::tcp(port::AF_API)],
            "/ingress/airflow-ui",
        );
    }
}

/// With `observability`: the chart's statsd exporter (chart 1.21 labels `component: statsd`,
/// container ports `statsd-ingest` UDP 9125 and `statsd-scrape` TCP 9102), every Airflow
/// component that emits metrics → its ingest port, and the declared Prometheus pods → its scrape
/// port. Nothing else reaches the exporter, and it reaches nothing.
fn observability_flows(model: &Model, b: &mut Builder) {
    let Some(o) = &model.observability else {
        return;
    };
    let af = &model.airflow;
    const CHART: &str = "airflow chart 1.21";
    b.endpoint(
        System::Airflow,
        "statsd",
        &af.namespace,
        &[
            ("component", "statsd"),
            ("release", af.release.as_str()),
            ("tier", "airflow"),
        ],
        &[
            ("statsd-ingest", STATSD_INGEST, Protocol::Udp),
            ("statsd-scrape", STATSD_SCRAPE, Protocol::Tcp),
        ],
        true,
        &format!("{CHART}: statsd exporter (/observability)"),
    );
    let labels: Vec<(&str, &str)> = o
        .prometheus
        .pod_labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    b.endpoint(
        System::Monitoring,
        "prometheus",
        &o.prometheus.namespace,
        &labels,
        &[],
        false,
        &o.prometheus.origin,
    );
    let ingest = FlowPort {
        protocol: Protocol::Udp,
        range: Some(PortRange::single(STATSD_INGEST)),
    };
    let mut emitters = vec!["scheduler", "dag-processor", "triggerer", "api-server"];
    if af.executor != Executor::Local {
        emitters.push("worker");
    }
    for c in emitters {
        b.link(
            &format!("airflow-{c}"),
            "airflow-statsd",
            &[ingest],
            "/observability",
        );
    }
    b.link(
        "monitoring-prometheus",
        "airflow-statsd",
        &[FlowPort::tcp(STATSD_SCRAPE)],
        &o.prometheus.origin,
    );
}

/// The statsd exporter's ingest port (UDP), chart 1.21 `ports.statsdIngest`.
const STATSD_INGEST: u16 = 9125;
/// The statsd exporter's metrics port (TCP), chart 1.21 `ports.statsdScrape`.
const STATSD_SCRAPE: u16 = 9102;

/// Every owned endpoint that opens connections resolves names: DNS to the DNS pods only.
fn dns_flows(model: &Model, b: &mut Builder) {
    let p = model.dns.port;
    let ports = [
        FlowPort {
            protocol: Protocol::Tcp,
            range: Some(PortRange::single(p)),
        },
        FlowPort {
            protocol: Protocol::Udp,
            range: Some(PortRange::single(p)),
        },
    ];
    let sources: Vec<String> = b
        .endpoints
        .iter()
        .filter(|e| e.owned && b.flows.iter().any(|f| f.from == e.id))
        .map(|e| e.id.clone())
        .collect();
    for s in sources {
        b.link(&s, "dns", &ports, "/dns");
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::spec::model::*;
    use std::time::Duration;

    fn egress(name: &str, cidr: &str, ports: &[u16], origin: &str) -> Egress {
        Egress {
            name: name.into(),
            cidrs: vec![cidr.parse().unwrap()],
            except: vec![],
            ports: ports.iter().map(|p| PortRange::single(*p)).collect(),
            protocol: Protocol::Tcp,
            reason: None,
            origin: origin.into(),
        }
    }

    /// A model equal to `templates/airguard.yaml` in everything topology reads.
    pub(crate) fn example_model() -> Model {
        Model {
            platform: "data-platform".into(),
            airbyte: Airbyte {
                namespace: "airbyte".into(),
                release: "airbyte".into(),
                chart: ChartProfile::V2,
                chart_version: Some("2.0.19".into()),
                ui: UiComponent::Server,
                jobs_namespace: "airbyte".into(),
                api: Api {
                    url: "http://airbyte-airbyte-server-svc.airbyte.svc.cluster.local:8001".into(),
                    flavour: ApiFlavour::Public,
                    base_path: "/api/public/v1".into(),
                    auth: AuthKind::ClientCredentials,
                    token_url: "applications/token".into(),
                    host: "airbyte-airbyte-server-svc.airbyte.svc.cluster.local".into(),
                    port: 8001,
                },
                secret_persistence: SecretPersistence::ConfigDb,
                egress: vec![
                    egress("orders-db", "10.20.0.0/16", &[5432], "/airbyte/egress/0"),
                    egress("warehouse", "203.0.113.0/24", &[443], "/airbyte/egress/1"),
                ],
                registry_egress: vec![egress(
                    "connector-registry",
                    "198.51.100.0/24",
                    &[443],
                    "/airbyte/registry-egress/0",
                )],
                kubernetes_api: Egress {
                    name: "kubernetes-api".into(),
                    cidrs: vec![
                        "10.96.0.1/32".parse().unwrap(),
                        "172.20.0.10/32".parse().unwrap(),
                    ],
                    except: vec![],
                    ports: vec![PortRange::single(443), PortRange::single(6443)],
                    protocol: Protocol::Tcp,
                    reason: None,
                    origin: "/airbyte/kubernetes-api".into(),
                },
            },
            airflow: Airflow {
                namespace: "airflow".into(),
                release: "airflow".into(),
                executor: Executor::Celery,
                connection_id: "airbyte_default".into(),
                callers: [AirflowComponent::Worker, AirflowComponent::Triggerer]
                    .into_iter()
                    .collect(),
                all_components: false,
                pgbouncer: false,
                external_database: None,
            },
            ingress: Some(Ingress {
                namespace: "ingress-nginx".into(),
                pod_labels: [(
                    "app.kubernetes.io/name".to_string(),
                    "ingress-nginx".to_string(),
                )]
                .into(),
                airflow_ui: false,
            }),
            dns: Dns {
                namespace: "kube-system".into(),
                pod_labels: [("k8s-app".to_string(), "kube-dns".to_string())].into(),
                port: 53,
            },
            secrets: Secrets {
                store: Store {
                    kind: StoreKind::ClusterSecretStore,
                    name: "vault-backend".into(),
                    conditions: vec![],
                    provider: Provider::Gcpsm(crate::spec::raw::GcpProvider {
                        project_id: "p".into(),
                        location: None,
                        auth: None,
                    }),
                },
                refresh_interval: Duration::from_secs(3600),
                refresh_policy: RefreshPolicy::Periodic,
                creation_policy: CreationPolicy::Owner,
                deletion_policy: DeletionPolicy::Retain,
                airbyte_client_id: None,
                airbyte_client_secret: None,
                airbyte_token: None,
                postgres_password: None,
                postgres_user: None,
                minio_user: None,
                minio_password: None,
            },
            connections: vec![],
            pipelines: vec![],
            dags: Default::default(),
            observability: None,
        }
    }

    fn labels(t: &Topology, id: &str) -> Vec<(String, String)> {
        t.endpoint(id)
            .unwrap_or_else(|| panic!("no {id}"))
            .labels
            .clone()
            .into_iter()
            .collect()
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn flow<'a>(t: &'a Topology, id: &str) -> Option<&'a Flow> {
        t.flows.iter().find(|f| f.id == id)
    }

    #[test]
    fn v2_labels_use_the_airbyte_component_label() {
        let t = Topology::from_model(&example_model());
        assert_eq!(
            labels(&t, "airbyte-server"),
            pairs(&[
                ("airbyte", "server"),
                ("app.kubernetes.io/instance", "airbyte")
            ])
        );
        assert_eq!(
            labels(&t, "airbyte-bootloader"),
            pairs(&[
                ("airbyte", "bootloader"),
                ("app.kubernetes.io/instance", "airbyte")
            ])
        );
        assert_eq!(
            labels(&t, "airbyte-db"),
            pairs(&[
                ("app.kubernetes.io/instance", "airbyte"),
                ("app.kubernetes.io/name", "airbyte-db")
            ])
        );
        assert_eq!(
            labels(&t, "airbyte-job-pod"),
            pairs(&[("airbyte", "job-pod")])
        );
        assert_eq!(
            labels(&t, "airflow-worker"),
            pairs(&[
                ("component", "worker"),
                ("release", "airflow"),
                ("tier", "airflow")
            ])
        );
        assert!(t.endpoint("airbyte-webapp").is_none());
    }

    #[test]
    fn v1_labels_use_subchart_names() {
        let mut m = example_model();
        m.airbyte.chart = ChartProfile::V1;
        m.airbyte.release = "ab".into();
        let t = Topology::from_model(&m);
        assert_eq!(
            labels(&t, "airbyte-server"),
            pairs(&[
                ("app.kubernetes.io/instance", "ab"),
                ("app.kubernetes.io/name", "server")
            ])
        );
        assert_eq!(
            labels(&t, "airbyte-bootloader"),
            pairs(&[
                ("app.kubernetes.io/instance", "ab"),
                ("app.kubernetes.io/name", "airbyte-bootloader")
            ])
        );
        assert_eq!(
            labels(&t, "airbyte-minio"),
            pairs(&[("app.kubernetes.io/name", "ab-minio")])
        );
        // V1 only: the workload-api-server calls the server.
        assert!(flow(&t, "airbyte-workload-api-server.airbyte-server").is_some());
        assert!(flow(
            &Topology::from_model(&example_model()),
            "airbyte-workload-api-server.airbyte-server"
        )
        .is_none());
    }

    #[test]
    fn old_v1_serves_the_ui_from_the_webapp() {
        let mut m = example_model();
        m.airbyte.chart = ChartProfile::V1;
        m.airbyte.ui = UiComponent::Webapp;
        let t = Topology::from_model(&m);
        assert!(t.endpoint("airbyte-webapp").is_some());
        let f = flow(&t, "ingress-controller.airbyte-webapp").expect("ingress reaches the webapp");
        assert_eq!(f.ports, vec![FlowPort::tcp(8080)]);
        assert!(flow(&t, "ingress-controller.airbyte-server").is_none());
        assert!(flow(&t, "airbyte-webapp.airbyte-server").is_some());
    }

    #[test]
    fn job_pods_reach_the_db_only_with_config_db_secrets() {
        let t = Topology::from_model(&example_model());
        let f = flow(&t, "airbyte-job-pod.airbyte-db")
            .expect("config-db: job pods read secrets from the db");
        assert_eq!(f.origin, "/airbyte/secret-persistence");
        let mut m = example_model();
        m.airbyte.secret_persistence = SecretPersistence::External;
        assert!(flow(&Topology::from_model(&m), "airbyte-job-pod.airbyte-db").is_none());
    }

    #[test]
    fn job_pods_get_exactly_the_declared_egress() {
        let t = Topology::from_model(&example_model());
        let external: Vec<&str> = t
            .flows_from("airbyte-job-pod")
            .filter(|f| matches!(f.to, Target::External(_)))
            .map(|f| f.id.as_str())
            .collect();
        assert_eq!(
            external,
            [
                "airbyte-job-pod.egress-orders-db",
                "airbyte-job-pod.egress-warehouse"
            ]
        );
        assert_eq!(
            flow(&t, "airbyte-job-pod.egress-orders-db").unwrap().origin,
            "/airbyte/egress/0"
        );
    }

    #[test]
    fn jobs_namespace_moves_job_pods() {
        let mut m = example_model();
        m.airbyte.jobs_namespace = "airbyte-jobs".into();
        let t = Topology::from_model(&m);
        assert_eq!(
            t.endpoint("airbyte-job-pod").unwrap().namespace,
            "airbyte-jobs"
        );
        assert_eq!(t.owned_namespaces(), ["airbyte", "airbyte-jobs", "airflow"]);
        assert_eq!(
            t.namespaces(),
            [
                "airbyte",
                "airbyte-jobs",
                "airflow",
                "ingress-nginx",
                "kube-system"
            ]
        );
    }

    #[test]
    fn ids_are_unique_and_flows_name_known_endpoints() {
        for executor in [Executor::Celery, Executor::Kubernetes, Executor::Local] {
            for pgbouncer in [false, true] {
                let mut m = example_model();
                m.airflow.executor = executor;
                m.airflow.pgbouncer = pgbouncer;
                m.airflow.callers = [
                    AirflowComponent::Worker,
                    AirflowComponent::Scheduler,
                    AirflowComponent::ApiServer,
                ]
                .into();
                let t = Topology::from_model(&m);
                let ids: BTreeSet<&str> = t.endpoints.iter().map(|e| e.id.as_str()).collect();
                assert_eq!(ids.len(), t.endpoints.len());
                let fids: BTreeSet<&str> = t.flows.iter().map(|f| f.id.as_str()).collect();
                assert_eq!(fids.len(), t.flows.len());
                for f in &t.flows {
                    assert!(ids.contains(f.from.as_str()), "{}", f.id);
                    if let Target::Endpoint(to) = &f.to {
                        assert!(ids.contains(to.as_str()), "{}", f.id);
                    }
                }
            }
        }
    }

    #[test]
    fn airflow_flows_follow_the_executor() {
        let t = Topology::from_model(&example_model());
        for id in [
            "airflow-worker.airflow-redis",
            "airflow-scheduler.airflow-redis",
            "airflow-worker.airflow-api-server",
            "airflow-triggerer.airflow-api-server",
            "airflow-api-server.airflow-worker",
            "airflow-api-server.airflow-triggerer",
            "airflow-worker.airbyte-server",
            "airflow-triggerer.airbyte-server",
            "airflow-scheduler.airflow-postgresql",
        ] {
            assert!(flow(&t, id).is_some(), "{id}");
        }
        let mut m = example_model();
        m.airflow.executor = Executor::Kubernetes;
        m.airflow.pgbouncer = true;
        let t = Topology::from_model(&m);
        assert!(t.endpoint("airflow-redis").is_none());
        assert!(flow(&t, "airflow-scheduler.kubernetes-api").is_some());
        assert!(flow(&t, "airflow-scheduler.airflow-pgbouncer").is_some());
        assert!(flow(&t, "airflow-pgbouncer.airflow-postgresql").is_some());
        assert!(flow(&t, "airflow-scheduler.airflow-postgresql").is_none());
        let mut m = example_model();
        m.airflow.executor = Executor::Local;
        let t = Topology::from_model(&m);
        assert!(t.endpoint("airflow-worker").is_none());
        assert!(
            flow(&t, "airflow-scheduler.airbyte-server").is_some(),
            "LocalExecutor tasks call from the scheduler"
        );
        assert!(flow(&t, "airflow-api-server.airflow-scheduler").is_some());
    }

    #[test]
    fn endpoints_resolve_named_ports_and_selectors() {
        let t = Topology::from_model(&example_model());
        let api = t.endpoint("airflow-api-server").unwrap();
        assert_eq!(api.port("api-server").map(|p| p.port), Some(8080));
        assert!(api.port("http").is_none());
        let sel = |p: &[(&str, &str)]| -> BTreeMap<String, String> {
            p.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert!(api.selected_by(&sel(&[("tier", "airflow")])));
        let server = t.endpoint("airbyte-server").unwrap();
        assert!(
            server.selected_by(&sel(&[("app.kubernetes.io/name", "server")])),
            "V2 pods carry it too"
        );
        assert!(!server.labels.contains_key("app.kubernetes.io/name"));
        assert!(api.selected_by(&sel(&[])));
        assert!(!api.selected_by(&sel(&[("component", "worker")])));
    }

    #[test]
    fn the_builder_backend_follows_chart_line_and_version() {
        const MS: &str = "airbyte-manifest-server";
        const CBS: &str = "airbyte-connector-builder-server";
        // (chart, version, expected backend endpoint, fact the origin names)
        let cases = [
            (ChartProfile::V2, Some("2.0.19"), CBS, "2.0.x"),
            (ChartProfile::V2, Some("2.0.0"), CBS, "2.0.x"),
            (ChartProfile::V2, Some("2.1.3"), MS, "2.0.x only"),
            (ChartProfile::V2, Some("2.2.0"), MS, "2.2.0+"),
            (ChartProfile::V2, Some("3.0.1"), MS, "2.2.0+"),
            (
                ChartProfile::V2,
                None,
                MS,
                "no chart-version: assuming the newest v2",
            ),
            (ChartProfile::V1, Some("1.8.5"), CBS, "every v1"),
            (ChartProfile::V1, Some("1.5.0"), CBS, "every v1"),
            (
                ChartProfile::V1,
                None,
                CBS,
                "no chart-version: assuming the newest v1",
            ),
        ];
        for (chart, version, backend, fact) in cases {
            let mut m = example_model();
            m.airbyte.chart = chart;
            m.airbyte.chart_version = version.map(str::to_string);
            let t = Topology::from_model(&m);
            let other = if backend == MS { CBS } else { MS };
            let case = format!("{chart:?} {version:?}");
            let e = t
                .endpoint(backend)
                .unwrap_or_else(|| panic!("{case}: no {backend}"));
            assert!(t.endpoint(other).is_none(), "{case}: {other} too");
            assert_eq!(e.port("http").map(|p| p.port), Some(8080), "{case}");
            assert!(e.port("management").is_none(), "{case}");
            assert!(e.origin.contains(fact), "{case}: {}", e.origin);
            let f = flow(&t, &format!("airbyte-server.{backend}"))
                .unwrap_or_else(|| panic!("{case}: server does not reach {backend}"));
            assert_eq!(f.ports, vec![FlowPort::tcp(8080)], "{case}");
            let env = if backend == MS {
                "MANIFEST_SERVER_API_HOST"
            } else {
                "CONNECTOR_BUILDER_SERVER_API_HOST"
            };
            assert!(
                f.origin.contains(env) && f.origin.contains(fact),
                "{case}: {}",
                f.origin
            );
            // Only the server (and the old webapp) calls it; it opens no connections itself.
            let callers: Vec<&str> = t.flows_to(backend).map(|f| f.from.as_str()).collect();
            assert_eq!(callers, ["airbyte-server"], "{case}");
            assert_eq!(t.flows_from(backend).count(), 0, "{case}");
        }
    }

    #[test]
    fn builder_backend_labels_follow_the_chart_line() {
        let mut m = example_model();
        m.airbyte.chart_version = Some("2.2.0".into());
        let t = Topology::from_model(&m);
        assert_eq!(
            labels(&t, "airbyte-manifest-server"),
            pairs(&[
                ("airbyte", "manifest-server"),
                ("app.kubernetes.io/instance", "airbyte")
            ])
        );
        let mut m = example_model();
        m.airbyte.chart = ChartProfile::V1;
        m.airbyte.chart_version = Some("1.8.5".into());
        let t = Topology::from_model(&m);
        assert_eq!(
            labels(&t, "airbyte-connector-builder-server"),
            pairs(&[
                ("app.kubernetes.io/instance", "airbyte"),
                ("app.kubernetes.io/name", "connector-builder-server")
            ])
        );
    }

    #[test]
    fn old_v1_webapp_proxies_the_connector_builder() {
        let mut m = example_model();
        m.airbyte.chart = ChartProfile::V1;
        m.airbyte.chart_version = Some("1.5.0".into());
        m.airbyte.ui = UiComponent::Webapp;
        let t = Topology::from_model(&m);
        let f = flow(&t, "airbyte-webapp.airbyte-connector-builder-server")
            .expect("the webapp nginx proxies the builder");
        assert_eq!(f.ports, vec![FlowPort::tcp(8080)]);
        m.airbyte.chart_version = Some("1.8.5".into());
        m.airbyte.ui = UiComponent::Server;
        let t = Topology::from_model(&m);
        assert!(t.endpoint("airbyte-webapp").is_none());
        assert!(flow(&t, "airbyte-server.airbyte-connector-builder-server").is_some());
    }

    #[test]
    fn dns_goes_to_dns_pods_for_every_client_only() {
        let t = Topology::from_model(&example_model());
        let f = flow(&t, "airbyte-server.dns").unwrap();
        assert_eq!(f.ports.len(), 2);
        assert!(
            flow(&t, "airbyte-db.dns").is_none(),
            "the db opens no connections"
        );
        assert!(flow(&t, "airbyte-job-pod.dns").is_some());
    }
}

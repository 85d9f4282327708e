//! The flow topology: which pods exist (the inventory) and which connections between them the
//! spec declares (the flows), derived from a validated [`Model`].
//!
//! An [`Endpoint`] is one kind of pod (a chart component, Airbyte's connector job pods, the
//! ingress controller, the DNS pods unless DNS is given by address, the Prometheus pods) with
//! its namespace (several kinds may share one; each selector still picks out one kind), the labels the chart really puts on it
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
//!
//! This file holds the types and the queries on them; `builder` the primitives that add
//! endpoints and merge flows, plus the ingress and DNS flows every system shares; `airbyte` and
//! `airflow` the inventory and flows of each system (`airflow` also the statsd exporter flows of
//! `observability`).

use crate::spec::model::{Model, PortRange, Protocol};
use ipnet::IpNet;
use std::collections::{BTreeMap, BTreeSet};

mod airbyte;
mod airflow;
mod builder;
#[cfg(test)]
pub(crate) mod tests;

use builder::Builder;

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
        airbyte::airbyte(model, &mut b);
        airflow::airflow(model, &mut b);
        builder::external_endpoints(model, &mut b);
        builder::ingress_flows(model, &mut b);
        airflow::observability_flows(model, &mut b);
        builder::dns_flows(model, &mut b);
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

    /// Pairs (selector end, other end) of distinct endpoints in one namespace where the pod
    /// selector of the first ([`Endpoint::labels`]) matches the pods of the second
    /// ([`Endpoint::pod_labels`]): a policy or peer meant for one would also apply to the other.
    /// Empty for every valid spec (`spec::validate` reports each as `overlapping-selectors`).
    pub fn selector_overlaps(&self) -> Vec<(&Endpoint, &Endpoint)> {
        let mut out = Vec::new();
        for e in &self.endpoints {
            for o in &self.endpoints {
                if e.id != o.id && e.namespace == o.namespace && o.selected_by(&e.labels) {
                    out.push((e, o));
                }
            }
        }
        out
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

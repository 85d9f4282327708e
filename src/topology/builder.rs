//! The topology builder: the primitives that add an endpoint and link two endpoints (merging
//! ports and origins into at most one flow per pair), and the flows every system shares — the
//! ingress controller and DNS endpoints, ingress to the UIs, and every owned caller to DNS (the
//! DNS pods, or the `dns.cidrs` addresses).

use super::{port, Endpoint, External, Flow, FlowPort, NamedPort, System, Target};
use crate::spec::model::{Egress, Model, PortRange, Protocol, UiComponent};

#[derive(Default)]
pub(super) struct Builder {
    pub(super) endpoints: Vec<Endpoint>,
    pub(super) flows: Vec<Flow>,
}

impl Builder {
    #[allow(
        clippy::too_many_arguments,
        reason = "one call per endpoint reads like the chart facts it encodes, field by field"
    )]
    pub(super) fn endpoint(
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
    pub(super) fn also_labelled(&mut self, extra: &[(&str, &str)]) {
        let e = self.endpoints.last_mut().expect("an endpoint was added");
        for (k, v) in extra {
            e.pod_labels.insert((*k).to_string(), (*v).to_string());
        }
    }

    pub(super) fn has(&self, id: &str) -> bool {
        self.endpoints.iter().any(|e| e.id == id)
    }

    /// A flow between two endpoints; merged into an existing flow between the same pair.
    pub(super) fn link(&mut self, from: &str, to: &str, ports: &[FlowPort], origin: &str) {
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
    pub(super) fn egress(&mut self, from: &str, suffix: &str, rule: &Egress) {
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

/// The Kubernetes API rule always gets one fixed name, whatever the model calls it.
pub(super) fn named(rule: &Egress, name: &str) -> Egress {
    let mut r = rule.clone();
    r.name = name.to_string();
    r
}

pub(super) fn external_endpoints(model: &Model, b: &mut Builder) {
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
    if !model.dns.cidrs.is_empty() {
        // DNS by address (NodeLocal DNSCache, DNS outside the pod network): no DNS pods.
        return;
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

pub(super) fn ingress_flows(model: &Model, b: &mut Builder) {
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

/// Every owned endpoint that opens connections resolves names: DNS to the DNS pods only, or,
/// with `dns.cidrs`, to those addresses only (flow id `<from>.dns` either way).
pub(super) fn dns_flows(model: &Model, b: &mut Builder) {
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
        if model.dns.cidrs.is_empty() {
            b.link(&s, "dns", &ports, "/dns");
        } else {
            b.flows.push(Flow {
                id: format!("{s}.dns"),
                from: s,
                to: Target::External(External {
                    name: "dns".into(),
                    cidrs: model.dns.cidrs.clone(),
                    except: Vec::new(),
                }),
                ports: ports.to_vec(),
                origin: "/dns/cidrs".into(),
            });
        }
    }
}

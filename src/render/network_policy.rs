//! NetworkPolicies: one file per namespace airguard owns, rendered from the [`Topology`].
//!
//! Each file (`networkpolicies/<namespace>.yaml`) holds a default-deny policy (ingress and
//! egress, `podSelector: {}`), then one policy per owned endpoint in that namespace whose rules
//! implement exactly the topology's flows (and, for pods airguard does not manage that run in
//! an owned namespace — an ingress controller or DNS pods inside it — one allow-all policy, so
//! the default deny leaves them as they were): the source's egress and the destination's ingress,
//! so both ends allow each flow. Flows sharing a peer are merged into one peer with the union of
//! their ports; peers with the same ports share a rule. Every policy lists the flows it
//! implements in the `airguard.io/flows` annotation (`<flow id>: <origin>` per line), and every
//! rule carries a comment naming its flows. Ports are numeric container ports, never names.
//!
//! This module never invents a flow: anything not in the topology stays denied. It never writes
//! files; the result is checked by `render::typed` before it is returned.

use super::{env, typed, Artifact, RenderError};
use crate::spec::model::{Model, Protocol};
use crate::topology::{Endpoint, Flow, FlowPort, Target, Topology};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// The template that renders one namespace's policies.
pub const TEMPLATE: &str = "networkpolicy.yaml.j2";

/// The annotation that lists the flows a policy implements.
pub const FLOWS_ANNOTATION: &str = "airguard.io/flows";

/// Name of the default-deny policy in every owned namespace.
pub const DEFAULT_DENY: &str = "airguard-default-deny";

/// The policy name for an endpoint.
pub fn policy_name(endpoint: &Endpoint) -> String {
    format!("airguard-{}", endpoint.id)
}

/// Path of the file for a namespace.
pub fn path_for(namespace: &str) -> String {
    format!("networkpolicies/{namespace}.yaml")
}

#[derive(Serialize)]
struct FileCtx {
    header: String,
    policies: Vec<PolicyCtx>,
}

#[derive(Serialize)]
struct PolicyCtx {
    name: String,
    namespace: String,
    /// Empty for the default deny and for unmanaged pods.
    flows: Vec<String>,
    /// `airguard.io/suppress` lines (`<code>: <reason>`), for the audit.
    suppress: Vec<String>,
    description: String,
    selector: BTreeMap<String, String>,
    policy_types: Vec<&'static str>,
    ingress: Vec<RuleCtx>,
    egress: Vec<RuleCtx>,
}

#[derive(Serialize)]
struct RuleCtx {
    flows: Vec<String>,
    peers: Vec<PeerCtx>,
    /// Empty means every port.
    ports: Vec<PortCtx>,
}

#[derive(Serialize, Clone, PartialEq)]
struct PeerCtx {
    /// Namespace by name (cross-namespace peers only).
    namespace: Option<String>,
    /// Pod labels (selector peers only; may be empty: all pods).
    pods: Option<BTreeMap<String, String>>,
    /// CIDR (ipBlock peers only).
    cidr: Option<String>,
    except: Vec<String>,
}

#[derive(Serialize, Clone, PartialEq)]
struct PortCtx {
    protocol: &'static str,
    /// `None`: every port of the protocol.
    port: Option<u16>,
    end_port: Option<u16>,
}

/// Render the NetworkPolicy files for a model, one per owned namespace, sorted by path.
pub fn render(model: &Model) -> Result<Vec<Artifact>, RenderError> {
    render_topology(model, &Topology::from_model(model))
}

/// Render the NetworkPolicy files for a given topology (the audit engine and tests use this).
pub fn render_topology(_model: &Model, topo: &Topology) -> Result<Vec<Artifact>, RenderError> {
    let mut out = Vec::new();
    for ns in topo.owned_namespaces() {
        let mut policies = vec![default_deny(&ns)];
        for e in topo.endpoints.iter().filter(|e| e.namespace == ns) {
            if !e.owned {
                policies.push(unmanaged_policy(e));
            } else if let Some(p) = endpoint_policy(topo, e) {
                policies.push(p);
            }
        }
        let expected: Vec<(String, String)> = policies
            .iter()
            .map(|p| (p.name.clone(), p.flows.join("\n")))
            .collect();
        let path = path_for(&ns);
        let content = env::render(
            TEMPLATE,
            FileCtx {
                header: super::header(),
                policies,
            },
        )?;
        let parsed = typed::check_network_policies(&path, &content)?;
        check_round_trip(&path, &expected, &parsed)?;
        out.push(Artifact { path, content });
    }
    Ok(out)
}

/// The rendered documents are exactly the intended policies, in order, with their annotations.
fn check_round_trip(
    path: &str,
    expected: &[(String, String)],
    parsed: &[k8s_openapi::api::networking::v1::NetworkPolicy],
) -> Result<(), RenderError> {
    let fail = |message: String| RenderError::SelfCheck {
        path: path.to_string(),
        message,
    };
    if expected.len() != parsed.len() {
        return Err(fail(format!(
            "expected {} policies, parsed {}",
            expected.len(),
            parsed.len()
        )));
    }
    for ((name, flows), np) in expected.iter().zip(parsed) {
        if np.metadata.name.as_deref() != Some(name.as_str()) {
            return Err(fail(format!(
                "expected policy `{name}`, found {:?}",
                np.metadata.name
            )));
        }
        let got = np
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(FLOWS_ANNOTATION));
        if !flows.is_empty() && got != Some(flows) {
            return Err(fail(format!(
                "policy `{name}`: annotation {FLOWS_ANNOTATION} does not read back"
            )));
        }
    }
    Ok(())
}

fn default_deny(namespace: &str) -> PolicyCtx {
    PolicyCtx {
        name: DEFAULT_DENY.to_string(),
        namespace: namespace.to_string(),
        flows: Vec::new(),
        description: format!(
            "deny all ingress and egress of every pod in {namespace} not allowed below"
        ),
        suppress: Vec::new(),
        selector: BTreeMap::new(),
        policy_types: vec!["Ingress", "Egress"],
        ingress: Vec::new(),
        egress: Vec::new(),
    }
}

/// The annotation the audit reads suppressions from (`audit::inventory::SUPPRESS_ANNOTATION`).
pub const SUPPRESS_ANNOTATION: &str = "airguard.io/suppress";

/// Pods airguard does not manage (the ingress controller, the DNS or Prometheus pods) that run
/// in a namespace it owns: the default deny would cut them off, so one policy gives them back
/// everything in both directions, as if they were outside it. The owned components' own
/// policies still decide what reaches them and what they reach. Its `podSelector` selects only
/// these pods (`spec::validate` rejects overlapping selectors).
fn unmanaged_policy(e: &Endpoint) -> PolicyCtx {
    let reason = format!(
        "`{}` is not managed by airguard ({}); it keeps the access it has outside the default deny",
        e.id,
        one_line(&e.origin)
    );
    let all = || RuleCtx {
        flows: vec![format!("everything: {} is not managed by airguard", e.id)],
        peers: Vec::new(),
        ports: Vec::new(),
    };
    PolicyCtx {
        name: policy_name(e),
        namespace: e.namespace.clone(),
        flows: Vec::new(),
        description: format!(
            "{}: {} (not managed by airguard: everything allowed)",
            e.id,
            one_line(&e.origin)
        ),
        suppress: vec![format!("allow-all-rule: {reason}")],
        selector: e.labels.clone(),
        policy_types: vec!["Ingress", "Egress"],
        ingress: vec![all()],
        egress: vec![all()],
    }
}

fn endpoint_policy(topo: &Topology, e: &Endpoint) -> Option<PolicyCtx> {
    let ingress_flows: Vec<&Flow> = topo.flows_to(&e.id).collect();
    let egress_flows: Vec<&Flow> = topo.flows_from(&e.id).collect();
    if ingress_flows.is_empty() && egress_flows.is_empty() {
        return None;
    }
    let ingress = rules(topo, e, &ingress_flows, |f| Peer::Endpoint(f.from.clone()));
    let egress = rules(topo, e, &egress_flows, |f| match &f.to {
        Target::Endpoint(id) => Peer::Endpoint(id.clone()),
        Target::External(_) => Peer::External(f.id.clone()),
    });
    let mut policy_types = Vec::new();
    if !ingress.is_empty() {
        policy_types.push("Ingress");
    }
    if !egress.is_empty() {
        policy_types.push("Egress");
    }
    let mut flows: Vec<&Flow> = ingress_flows;
    flows.extend(egress_flows);
    Some(PolicyCtx {
        name: policy_name(e),
        namespace: e.namespace.clone(),
        flows: flows
            .iter()
            .map(|f| format!("{}: {}", f.id, one_line(&f.origin)))
            .collect(),
        description: format!("{}: {}", e.id, one_line(&e.origin)),
        suppress: Vec::new(),
        selector: e.labels.clone(),
        policy_types,
        ingress,
        egress,
    })
}

/// Origins go into a YAML block scalar: one line, no control characters, no edge spaces.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// A peer key: an endpoint, or the external networks of one flow.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Peer {
    Endpoint(String),
    External(String),
}

struct PeerGroup<'a> {
    key: Peer,
    flow: &'a Flow,
    ports: Option<Vec<FlowPort>>,
    ids: Vec<String>,
}

/// Merge flows into rules: flows to the same peer share it (ports merged), and peers with the
/// same port set share one rule. Order follows the first flow of each rule.
fn rules(
    topo: &Topology,
    policy: &Endpoint,
    flows: &[&Flow],
    peer_of: impl Fn(&Flow) -> Peer,
) -> Vec<RuleCtx> {
    // Peers in first-flow order, each with its merged ports (None = every port) and flow ids.
    let mut groups: Vec<PeerGroup> = Vec::new();
    let mut index: HashMap<Peer, usize> = HashMap::new();
    for f in flows {
        let key = peer_of(f);
        let ports = (!f.ports.is_empty()).then(|| f.ports.clone());
        match index.get(&key) {
            Some(&i) => {
                let g = &mut groups[i];
                g.ports = match (g.ports.take(), ports) {
                    (Some(mut a), Some(b)) => {
                        a.extend(b);
                        a.sort();
                        a.dedup();
                        Some(a)
                    }
                    _ => None,
                };
                g.ids.push(f.id.clone());
            }
            None => {
                index.insert(key.clone(), groups.len());
                groups.push(PeerGroup {
                    key,
                    flow: f,
                    ports,
                    ids: vec![f.id.clone()],
                });
            }
        }
    }
    // Peers with the same ports share a rule, in first-peer order.
    let mut rules: Vec<RuleCtx> = Vec::new();
    let mut by_ports: HashMap<Option<Vec<FlowPort>>, usize> = HashMap::new();
    for g in groups {
        let peers = peers(topo, policy, &g.key, g.flow);
        match by_ports.get(&g.ports) {
            Some(&i) => {
                rules[i].peers.extend(peers);
                rules[i].flows.extend(g.ids);
            }
            None => {
                let ports = g.ports.iter().flatten().map(port_ctx).collect();
                by_ports.insert(g.ports, rules.len());
                rules.push(RuleCtx {
                    flows: g.ids,
                    peers,
                    ports,
                });
            }
        }
    }
    rules
}

fn port_ctx(p: &FlowPort) -> PortCtx {
    PortCtx {
        protocol: match p.protocol {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        },
        port: p.range.map(|r| r.start),
        end_port: p.range.filter(|r| r.end != r.start).map(|r| r.end),
    }
}

fn peers(topo: &Topology, policy: &Endpoint, key: &Peer, flow: &Flow) -> Vec<PeerCtx> {
    match key {
        Peer::Endpoint(id) => {
            let other = topo
                .endpoint(id)
                .expect("topology flows name known endpoints");
            vec![PeerCtx {
                namespace: (other.namespace != policy.namespace).then(|| other.namespace.clone()),
                pods: Some(other.labels.clone()),
                cidr: None,
                except: Vec::new(),
            }]
        }
        Peer::External(_) => {
            let Target::External(ext) = &flow.to else {
                unreachable!("external peer keys come from external flows")
            };
            ext.cidrs
                .iter()
                .map(|cidr| PeerCtx {
                    namespace: None,
                    pods: None,
                    cidr: Some(cidr.to_string()),
                    except: ext
                        .except
                        .iter()
                        .filter(|x| cidr.contains(*x) && *x != cidr)
                        .map(|x| x.to_string())
                        .collect(),
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::tests::example_model;

    #[test]
    fn renders_one_file_per_owned_namespace() {
        let out = render(&example_model()).expect("renders");
        let paths: Vec<&str> = out.iter().map(|a| a.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "networkpolicies/airbyte.yaml",
                "networkpolicies/airflow.yaml"
            ]
        );
        assert!(out[0].content.starts_with(crate::render::HEADER));
    }

    #[test]
    fn unmanaged_pods_in_an_owned_namespace_keep_everything() {
        let mut m = example_model();
        m.ingress
            .as_mut()
            .expect("example has an ingress")
            .namespace = "airflow".into();
        let out = render(&m).unwrap();
        let airflow = &out[1].content;
        assert!(
            airflow.contains("name: airguard-ingress-controller\n"),
            "{airflow}"
        );
        assert!(
            airflow.contains("  ingress:\n    # everything: ingress-controller is not managed by airguard\n    - {}\n  egress:\n    # everything: ingress-controller is not managed by airguard\n    - {}\n"),
            "{airflow}"
        );
        assert_eq!(airflow.matches("podSelector: {}").count(), 1, "{airflow}");
        // The audit reads the suppression from the annotation it knows.
        assert_eq!(
            SUPPRESS_ANNOTATION,
            crate::audit::inventory::SUPPRESS_ANNOTATION
        );
        assert!(airflow.contains("airguard.io/suppress: \"allow-all-rule: "));
    }

    #[test]
    fn rendering_is_byte_stable() {
        let m = example_model();
        assert_eq!(render(&m).unwrap(), render(&m).unwrap());
    }

    #[test]
    fn except_blocks_land_on_their_cidr() {
        let mut m = example_model();
        m.airbyte.egress[0].except = vec!["10.20.5.0/24".parse().unwrap()];
        let out = render(&m).unwrap();
        assert!(
            out[0].content.contains(
                "cidr: \"10.20.0.0/16\"\n            except:\n              - \"10.20.5.0/24\"\n"
            ),
            "{}",
            out[0].content
        );
    }

    #[test]
    fn port_ranges_use_end_port() {
        let mut m = example_model();
        m.airbyte.egress[1].ports = vec![crate::spec::model::PortRange {
            start: 8000,
            end: 8010,
        }];
        let out = render(&m).unwrap();
        assert!(
            out[0]
                .content
                .contains("port: 8000\n          endPort: 8010\n"),
            "{}",
            out[0].content
        );
    }

    #[test]
    fn egress_without_ports_keeps_its_protocol() {
        let mut m = example_model();
        m.airbyte.egress[1].ports = vec![];
        m.airbyte.egress[1].protocol = Protocol::Udp;
        let out = render(&m).unwrap();
        assert!(
            out[0]
                .content
                .contains("cidr: \"203.0.113.0/24\"\n      ports:\n        - protocol: UDP\n    #"),
            "{}",
            out[0].content
        );
    }
}

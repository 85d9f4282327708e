//! NetworkPolicies compiled into rules: isolation per direction, peers, and port sets.
//!
//! Compiling applies the API's defaults (`policyTypes` is `[Ingress]` plus `Egress` only when the
//! egress list is non-empty; empty `from`/`to` means every peer; empty `ports` means every port;
//! protocol defaults to TCP) and its validation rules (a peer has exactly one of `ipBlock` or
//! selectors, `except` strictly inside `cidr`, `endPort >= port` and only with a numeric `port`, a
//! string `port` is an IANA service name, names, namespaces and label keys and values follow
//! [`super::names`]).
//! Each rule, peer and port keeps the JSON pointer of its source so findings can point at it.
//! This module never looks at endpoints: resolving selectors and named ports is the engine's job.

use super::intervals::{Conns, IpSet, Protocol, MAX_PORT};
use super::inventory::{ContainerPort, PolicyObject};
use super::names;
use super::selector::Selector;
use crate::diag::{Code, Diagnostic};
use k8s_openapi::api::networking::v1::{IPBlock, NetworkPolicyPeer, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::borrow::Cow;

/// A traffic direction, as seen from the selected pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dir {
    /// Connections to the selected pod.
    Ingress,
    /// Connections from the selected pod.
    Egress,
}

impl Dir {
    /// `ingress` or `egress` (the policy's key).
    pub fn key(self) -> &'static str {
        match self {
            Dir::Ingress => "ingress",
            Dir::Egress => "egress",
        }
    }
    /// `from` or `to` (the rule's peer key).
    pub fn peer_key(self) -> &'static str {
        match self {
            Dir::Ingress => "from",
            Dir::Egress => "to",
        }
    }
}

/// Which namespaces a selector peer looks in.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NsScope {
    /// Only the policy's own namespace (a bare `podSelector`).
    Own(String),
    /// Namespaces matching a `namespaceSelector`.
    Selector(Selector),
}

/// What a peer matches.
#[derive(Clone, Debug)]
pub enum PeerKind {
    /// Pods matching `pods` in namespaces of `ns`.
    Pods {
        /// The namespaces.
        ns: NsScope,
        /// The pod selector (everything when absent).
        pods: Selector,
    },
    /// Addresses of an `ipBlock`.
    Ip {
        /// `cidr` minus every `except`.
        set: IpSet,
        /// The `cidr` as written.
        cidr: String,
        /// Each `except` as written, with its addresses (so callers can name the one that
        /// carves an address out).
        except: Vec<(String, IpSet)>,
        /// Whether the cidr is `0.0.0.0/0` or `::/0`.
        whole_family: bool,
    },
}

/// One peer of a rule.
#[derive(Clone, Debug)]
pub struct Peer {
    /// What it matches.
    pub kind: PeerKind,
    /// JSON pointer of the peer in the policy document.
    pub ptr: String,
}

/// One entry of a rule's `ports`.
#[derive(Clone, Debug)]
pub struct PortEntry {
    /// Numeric ports (empty for a named port).
    pub numeric: Conns,
    /// A named port and its protocol.
    pub named: Option<(String, Protocol)>,
    /// JSON pointer of the entry.
    pub ptr: String,
}

/// One ingress or egress rule.
#[derive(Clone, Debug)]
pub struct Rule {
    /// Its direction.
    pub dir: Dir,
    /// Its index in the policy's list.
    pub index: usize,
    /// JSON pointer of the rule (`/spec/ingress/0`).
    pub ptr: String,
    /// The peers; `None` means every peer (no or empty `from`/`to`).
    pub peers: Option<Vec<Peer>>,
    /// The ports; `None` means every port.
    pub ports: Option<Vec<PortEntry>>,
    numeric: Conns,
}

impl Rule {
    /// The connections this rule allows towards a destination with the given container ports
    /// (`None` for an external address, where named ports match nothing).
    pub fn conns_to(&self, dst: Option<&[ContainerPort]>) -> Cow<'_, Conns> {
        let Some(ports) = &self.ports else {
            return Cow::Owned(Conns::all());
        };
        if ports.iter().all(|p| p.named.is_none()) {
            return Cow::Borrowed(&self.numeric);
        }
        let mut c = self.numeric.clone();
        for (name, proto) in ports.iter().filter_map(|p| p.named.as_ref()) {
            for cp in dst.into_iter().flatten() {
                if cp.protocol == *proto && cp.name.as_deref() == Some(name.as_str()) {
                    c.add(&Conns::ports(*proto, cp.port as u128, cp.port as u128));
                }
            }
        }
        Cow::Owned(c)
    }

    /// Whether the rule has no peers and no ports: it allows everything.
    pub fn is_allow_all(&self) -> bool {
        self.peers.is_none() && self.ports.is_none()
    }
}

/// A compiled policy.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Index into `Inventory::policies`.
    pub obj: usize,
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Its `podSelector`.
    pub selector: Selector,
    /// Ingress rules when the policy isolates ingress (`Some(vec![])` denies all).
    pub ingress: Option<Vec<Rule>>,
    /// Egress rules when the policy isolates egress.
    pub egress: Option<Vec<Rule>>,
}

impl Policy {
    /// The rules of one direction, if the policy isolates it.
    pub fn rules(&self, dir: Dir) -> Option<&[Rule]> {
        match dir {
            Dir::Ingress => self.ingress.as_deref(),
            Dir::Egress => self.egress.as_deref(),
        }
    }

    /// `namespace/name`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// Compile a policy object; API validation problems are pushed to `diags` and make it `None`.
pub fn compile(
    obj_index: usize,
    obj: &PolicyObject,
    diags: &mut Vec<Diagnostic>,
) -> Option<Policy> {
    let mut errs: Vec<(String, String)> = Vec::new();
    metadata(obj, &mut errs);
    let spec = obj.policy.spec.clone().unwrap_or_default();
    let selector = match spec
        .pod_selector
        .as_ref()
        .map(Selector::compile)
        .transpose()
    {
        Ok(s) => s.unwrap_or_default(),
        Err(e) => {
            errs.push(("/spec/podSelector".into(), e.to_string()));
            Selector::default()
        }
    };
    let types: Vec<String> = match &spec.policy_types {
        Some(t) => t.clone(),
        None => {
            let mut t = vec!["Ingress".to_string()];
            if spec.egress.as_ref().is_some_and(|e| !e.is_empty()) {
                t.push("Egress".into());
            }
            t
        }
    };
    if types.len() > 2 {
        errs.push((
            "/spec/policyTypes".into(),
            "may not specify more than two policyTypes".into(),
        ));
    }
    for (i, t) in types.iter().enumerate() {
        if t != "Ingress" && t != "Egress" {
            errs.push((
                format!("/spec/policyTypes/{i}"),
                format!("unknown policy type `{t}`"),
            ));
        }
    }
    let has = |t: &str| types.iter().any(|x| x == t);
    // (peers, ports) of each rule, per direction: `from` for ingress, `to` for egress.
    let ingress_rules = spec.ingress.unwrap_or_default();
    let egress_rules = spec.egress.unwrap_or_default();
    let ingress = has("Ingress").then(|| {
        let rules = ingress_rules
            .iter()
            .map(|r| (r.from.as_deref(), r.ports.as_deref()));
        compile_rules(obj, Dir::Ingress, rules, &mut errs)
    });
    let egress = has("Egress").then(|| {
        let rules = egress_rules
            .iter()
            .map(|r| (r.to.as_deref(), r.ports.as_deref()));
        compile_rules(obj, Dir::Egress, rules, &mut errs)
    });
    if !errs.is_empty() {
        for (ptr, msg) in errs {
            diags.push(
                Diagnostic::new(
                    Code::InvalidPolicy,
                    format!("NetworkPolicy `{}/{}`: {msg}", obj.namespace, obj.name),
                )
                .with_label(obj.doc.file, obj.doc.locate(&ptr), "here")
                .with_path(ptr)
                .with_help("the API server rejects this policy; fix it as the message says"),
            );
        }
        return None;
    }
    Some(Policy {
        obj: obj_index,
        namespace: obj.namespace.clone(),
        name: obj.name.clone(),
        selector,
        ingress,
        egress,
    })
}

/// The object metadata rules: a DNS-subdomain name, a DNS-label namespace, valid label keys and
/// values and annotation keys.
fn metadata(obj: &PolicyObject, errs: &mut Vec<(String, String)>) {
    let meta = &obj.policy.metadata;
    match meta.name.as_deref() {
        None | Some("") => errs.push(("/metadata".into(), "metadata.name is required".into())),
        Some(n) => {
            if let Err(e) = names::dns_subdomain(n) {
                errs.push(("/metadata/name".into(), format!("name `{n}` {e}")));
            }
        }
    }
    if let Some(ns) = meta.namespace.as_deref() {
        if let Err(e) = names::dns_label(ns) {
            errs.push((
                "/metadata/namespace".into(),
                format!("namespace `{ns}` {e}"),
            ));
        }
    }
    for (k, msg) in names::labels(meta.labels.iter().flatten()) {
        errs.push((
            format!("/metadata/labels/{}", names::pointer_token(&k)),
            msg,
        ));
    }
    for k in meta.annotations.iter().flatten().map(|(k, _)| k) {
        if let Err(e) = names::label_key(k) {
            errs.push((
                format!("/metadata/annotations/{}", names::pointer_token(k)),
                format!("annotation key `{k}` {}", e.replacen("label key", "key", 1)),
            ));
        }
    }
}

/// Compile every rule of one direction.
fn compile_rules<'r>(
    obj: &PolicyObject,
    dir: Dir,
    rules: impl Iterator<
        Item = (
            Option<&'r [NetworkPolicyPeer]>,
            Option<&'r [NetworkPolicyPort]>,
        ),
    >,
    errs: &mut Vec<(String, String)>,
) -> Vec<Rule> {
    rules
        .enumerate()
        .map(|(i, (peers, ports))| compile_rule(obj, dir, i, peers, ports, errs))
        .collect()
}

fn compile_rule(
    obj: &PolicyObject,
    dir: Dir,
    index: usize,
    peers: Option<&[NetworkPolicyPeer]>,
    ports: Option<&[NetworkPolicyPort]>,
    errs: &mut Vec<(String, String)>,
) -> Rule {
    let ptr = format!("/spec/{}/{index}", dir.key());
    let peers = match peers {
        None | Some([]) => None,
        Some(list) => Some(
            list.iter()
                .enumerate()
                .filter_map(|(i, p)| {
                    compile_peer(obj, p, format!("{ptr}/{}/{i}", dir.peer_key()), errs)
                })
                .collect(),
        ),
    };
    let ports: Option<Vec<PortEntry>> = match ports {
        None | Some([]) => None,
        Some(list) => Some(
            list.iter()
                .enumerate()
                .filter_map(|(i, p)| compile_port(p, format!("{ptr}/ports/{i}"), errs))
                .collect(),
        ),
    };
    let numeric = match &ports {
        None => Conns::all(),
        Some(list) => list
            .iter()
            .fold(Conns::none(), |acc: Conns, p: &PortEntry| {
                acc.union(&p.numeric)
            }),
    };
    Rule {
        dir,
        index,
        ptr,
        peers,
        ports,
        numeric,
    }
}

fn compile_peer(
    obj: &PolicyObject,
    p: &NetworkPolicyPeer,
    ptr: String,
    errs: &mut Vec<(String, String)>,
) -> Option<Peer> {
    let has_sel = p.pod_selector.is_some() || p.namespace_selector.is_some();
    match (&p.ip_block, has_sel) {
        (Some(_), true) => {
            errs.push((
                ptr,
                "a peer may not specify both ipBlock and another peer".into(),
            ));
            None
        }
        (None, false) => {
            errs.push((
                ptr,
                "a peer must specify a podSelector, namespaceSelector or ipBlock".into(),
            ));
            None
        }
        (Some(b), false) => compile_ip_block(b, &ptr, errs).map(|kind| Peer { kind, ptr }),
        (None, true) => {
            let mut sel =
                |s: &Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>,
                 key: &str| {
                    match s.as_ref().map(Selector::compile).transpose() {
                        Ok(s) => s,
                        Err(e) => {
                            errs.push((format!("{ptr}/{key}"), e.to_string()));
                            Some(Selector::default())
                        }
                    }
                };
            let pods = sel(&p.pod_selector, "podSelector").unwrap_or_default();
            let ns = match sel(&p.namespace_selector, "namespaceSelector") {
                Some(s) => NsScope::Selector(s),
                None => NsScope::Own(obj.namespace.clone()),
            };
            Some(Peer {
                kind: PeerKind::Pods { ns, pods },
                ptr,
            })
        }
    }
}

fn parse_net(s: &str) -> Option<ipnet::IpNet> {
    s.parse::<ipnet::IpNet>().ok().map(|n| n.trunc())
}

fn compile_ip_block(b: &IPBlock, ptr: &str, errs: &mut Vec<(String, String)>) -> Option<PeerKind> {
    let Some(net) = parse_net(&b.cidr) else {
        errs.push((
            format!("{ptr}/ipBlock/cidr"),
            format!("`{}` is not a CIDR", b.cidr),
        ));
        return None;
    };
    let mut set = IpSet::net(&net);
    let mut except = Vec::new();
    for (i, e) in b.except.iter().flatten().enumerate() {
        let eptr = format!("{ptr}/ipBlock/except/{i}");
        match parse_net(e) {
            None => errs.push((eptr, format!("`{e}` is not a CIDR"))),
            Some(en) if !(net.contains(&en) && en.prefix_len() > net.prefix_len()) => errs.push((
                eptr,
                format!("except `{e}` must be a strict subset of cidr `{}`", b.cidr),
            )),
            Some(en) => {
                let carved = IpSet::net(&en);
                set = set.subtract(&carved);
                except.push((e.clone(), carved));
            }
        }
    }
    Some(PeerKind::Ip {
        set,
        cidr: b.cidr.clone(),
        except,
        whole_family: net.prefix_len() == 0,
    })
}

fn compile_port(
    p: &NetworkPolicyPort,
    ptr: String,
    errs: &mut Vec<(String, String)>,
) -> Option<PortEntry> {
    let proto = match super::intervals::protocol_field(p.protocol.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            errs.push((format!("{ptr}/protocol"), e));
            return None;
        }
    };
    let (numeric, named) = match (&p.port, p.end_port) {
        (None, Some(_)) => {
            errs.push((
                format!("{ptr}/endPort"),
                "endPort may not be specified when port is not specified".into(),
            ));
            return None;
        }
        (None, None) => (Conns::protocol(proto), None),
        (Some(IntOrString::String(s)), end) => {
            if end.is_some() {
                errs.push((
                    format!("{ptr}/endPort"),
                    "endPort may not be specified when port is non-numeric".into(),
                ));
                return None;
            }
            // The API server validates a string port as a port name, so `"80"` is rejected.
            if let Err(e) = names::port_name(s) {
                let hint = if s.parse::<u16>().is_ok() {
                    " (write the number without quotes)"
                } else {
                    ""
                };
                errs.push((format!("{ptr}/port"), format!("port `{s}` {e}{hint}")));
                return None;
            }
            (Conns::none(), Some((s.clone(), proto)))
        }
        (Some(IntOrString::Int(n)), end) => {
            (numeric_port(proto, *n as i64, end, &ptr, errs)?, None)
        }
    };
    Some(PortEntry {
        numeric,
        named,
        ptr,
    })
}

fn numeric_port(
    proto: Protocol,
    n: i64,
    end: Option<i32>,
    ptr: &str,
    errs: &mut Vec<(String, String)>,
) -> Option<Conns> {
    if !(1..=MAX_PORT as i64).contains(&n) {
        errs.push((
            format!("{ptr}/port"),
            format!("port {n} is outside 1-65535"),
        ));
        return None;
    }
    let hi = match end {
        None => n,
        Some(e) if (e as i64) < n || e as i64 > MAX_PORT as i64 => {
            errs.push((
                format!("{ptr}/endPort"),
                format!("endPort {e} must be between port {n} and 65535"),
            ));
            return None;
        }
        Some(e) => e as i64,
    };
    Some(Conns::ports(proto, n as u128, hi as u128))
}

//! `--explain "SRC DST PORT/PROTO"`: why one flow is allowed or denied.
//!
//! For the source's egress and the destination's ingress it names every policy that isolates the
//! endpoint in that direction, and for each of their rules whether its peers and ports match the
//! flow. A side with no isolating policy is open. The flow is allowed when both sides allow it.
//! A rule that does not match says why, per peer and per port entry (outside the cidr, carved out
//! by a named `except`, namespace or pod labels not selected, port outside the range, protocol
//! mismatch, named port not resolving on the destination): never just "not selected".
//! Endpoints are `namespace/name`; an external end is an IP address. This module does no IO.

use super::engine::Analysis;
use super::intervals::{Family, Protocol};
use super::inventory::{ContainerPort, Endpoint};
use super::policy::{Dir, NsScope, PeerKind, Rule};
use super::selector::{Labels, Selector};
use crate::diag::Files;
use std::fmt::Write;

/// A query that cannot be answered.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    /// The query is not `SRC DST PORT[/PROTO]`.
    #[error("expected \"SRC DST PORT/PROTO\" (for example \"ns/a ns/b 8080/TCP\"), got `{0}`")]
    Syntax(String),
    /// An end names no endpoint and is not an IP address.
    #[error("`{0}` is neither an endpoint (namespace/name) of the inventory nor an IP address")]
    UnknownEnd(String),
    /// Both ends are IP addresses.
    #[error("at least one end must be an endpoint of the inventory")]
    NoEndpoint,
    /// The port is not a number or a name, or the protocol is unknown.
    #[error("bad port or protocol `{0}` (a port number or name, then TCP, UDP or SCTP)")]
    BadPort(String),
}

enum End {
    Endpoint {
        idx: usize,
        class: u32,
    },
    Addr {
        family: Family,
        value: u128,
        text: String,
    },
}

impl End {
    fn parse(a: &Analysis<'_>, s: &str) -> Result<Self, ExplainError> {
        if let Ok(ip) = s.parse::<std::net::IpAddr>() {
            let (family, value) = match ip {
                std::net::IpAddr::V4(v) => (Family::V4, u32::from(v) as u128),
                std::net::IpAddr::V6(v) => (Family::V6, u128::from(v)),
            };
            return Ok(End::Addr {
                family,
                value,
                text: s.to_string(),
            });
        }
        let idx = a
            .inv
            .endpoints
            .iter()
            .position(|e| e.id() == s)
            .ok_or_else(|| ExplainError::UnknownEnd(s.to_string()))?;
        Ok(End::Endpoint {
            idx,
            class: a.class_of[idx],
        })
    }
}

/// Explain one flow. Returns the verdict (`true` = allowed) and a human report.
pub fn explain(
    a: &Analysis<'_>,
    files: &Files,
    query: &str,
) -> Result<(bool, String), ExplainError> {
    let parts: Vec<&str> = query.split_whitespace().collect();
    let [src, dst, port] = parts.as_slice() else {
        return Err(ExplainError::Syntax(query.to_string()));
    };
    let (src, dst) = (End::parse(a, src)?, End::parse(a, dst)?);
    if matches!((&src, &dst), (End::Addr { .. }, End::Addr { .. })) {
        return Err(ExplainError::NoEndpoint);
    }
    let (port_s, proto_s) = port.split_once('/').unwrap_or((port, "TCP"));
    let proto = Protocol::parse(proto_s).ok_or_else(|| ExplainError::BadPort(port.to_string()))?;
    let dst_ports = match &dst {
        End::Endpoint { class, .. } => Some(a.classes[*class as usize].ports.as_slice()),
        End::Addr { .. } => None,
    };
    let port_num: u128 = match port_s.parse::<u16>() {
        Ok(n) if n > 0 => n as u128,
        _ => dst_ports
            .into_iter()
            .flatten()
            .find(|cp| cp.protocol == proto && cp.name.as_deref() == Some(port_s))
            .map(|cp| cp.port as u128)
            .ok_or_else(|| ExplainError::BadPort(port.to_string()))?,
    };
    let name = |e: &End| match e {
        End::Endpoint { idx, .. } => a.inv.endpoints[*idx].id(),
        End::Addr { text, .. } => text.clone(),
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "flow: {} -> {} {} {port_num}",
        name(&src),
        name(&dst),
        proto.as_str()
    );
    let eg = side(a, files, &src, &dst, Dir::Egress, proto, port_num, &mut out);
    let ing = side(
        a,
        files,
        &dst,
        &src,
        Dir::Ingress,
        proto,
        port_num,
        &mut out,
    );
    let allowed = eg && ing;
    let _ = writeln!(
        out,
        "verdict: {}",
        match (eg, ing) {
            (true, true) => "ALLOWED (egress and ingress both allow it)",
            (false, true) => "DENIED by the source's egress",
            (true, false) => "DENIED by the destination's ingress",
            (false, false) => "DENIED by the source's egress and the destination's ingress",
        }
    );
    Ok((allowed, out))
}

/// Report one side; `me` is the endpoint whose policies apply, `other` the remote end.
#[allow(
    clippy::too_many_arguments,
    reason = "the flow's ends, direction, protocol and port, plus the analysis it reads and the text it writes"
)]
fn side(
    a: &Analysis<'_>,
    files: &Files,
    me: &End,
    other: &End,
    dir: Dir,
    proto: Protocol,
    port: u128,
    out: &mut String,
) -> bool {
    let End::Endpoint { idx, class } = me else {
        let _ = writeln!(
            out,
            "{}: external address, no policy applies: allowed",
            dir.key()
        );
        return true;
    };
    let e = &a.inv.endpoints[*idx];
    if !a.isolated(*class, dir) {
        let _ = writeln!(
            out,
            "{} of {}: no policy selects it for {}: allowed (not isolated)",
            dir.key(),
            e.id(),
            dir.key()
        );
        return true;
    }
    let _ = writeln!(out, "{} of {}: isolated", dir.key(), e.id());
    // Named ports resolve on the destination of the flow.
    let (dst_ports, dst_name) = match (dir, other) {
        (Dir::Ingress, _) => (Some(a.classes[*class as usize].ports.as_slice()), e.id()),
        (Dir::Egress, End::Endpoint { class: c, idx: o }) => (
            Some(a.classes[*c as usize].ports.as_slice()),
            a.inv.endpoints[*o].id(),
        ),
        (Dir::Egress, End::Addr { text, .. }) => (None, text.clone()),
    };
    let flow = Flow {
        proto,
        port,
        dst_ports,
        dst_name: &dst_name,
    };
    let pols = if dir == Dir::Ingress {
        &a.ingress_of[*class as usize]
    } else {
        &a.egress_of[*class as usize]
    };
    let mut allowed = false;
    for &pi in pols {
        let p = &a.policies[pi as usize];
        let obj = &a.inv.policies[p.obj];
        let line = files.line_col(obj.doc.file, obj.loc.offset).line;
        let _ = writeln!(
            out,
            "  policy {} ({}:{line}) selects it with podSelector {}",
            p.id(),
            files.name(obj.doc.file),
            p.selector
        );
        let rules = p.rules(dir).unwrap_or(&[]);
        if rules.is_empty() {
            let _ = writeln!(
                out,
                "    no {} rules: denies everything by itself",
                dir.key()
            );
        }
        for (ri, r) in rules.iter().enumerate() {
            let res = &a.resolved[&super::engine::RuleRef {
                policy: pi,
                dir,
                rule: ri as u32,
            }];
            let peer_ok = match other {
                End::Endpoint { class: c, .. } => res.has_class(*c),
                End::Addr { family, value, .. } => res.ips.family(*family).contains(*value),
            };
            let port_ok = r.conns_to(flow.dst_ports).contains(proto, port);
            let rline = files
                .line_col(obj.doc.file, obj.doc.locate(&r.ptr).start)
                .line;
            let verdict = match (peer_ok, port_ok) {
                (true, true) => {
                    allowed = true;
                    "ALLOWS the flow".to_string()
                }
                (false, true) => format!("does not match: {}", peer_miss(a, r, other)),
                (true, false) => format!("does not match: {}", port_miss(r, &flow)),
                (false, false) => format!(
                    "does not match: {}; {}",
                    peer_miss(a, r, other),
                    port_miss(r, &flow)
                ),
            };
            let _ = writeln!(
                out,
                "    rule {} (line {rline}): {}; {}; {verdict}",
                r.ptr,
                peers_text(r),
                ports_text(r)
            );
        }
    }
    let _ = writeln!(
        out,
        "  {}: {}",
        dir.key(),
        if allowed {
            "allowed"
        } else {
            "denied (no rule matches)"
        }
    );
    allowed
}

fn peers_text(r: &Rule) -> String {
    let Some(peers) = &r.peers else {
        return format!("{}: every peer", r.dir.peer_key());
    };
    let list: Vec<String> = peers
        .iter()
        .map(|p| match &p.kind {
            PeerKind::Pods {
                ns: NsScope::Own(n),
                pods,
            } => format!("pods {pods} in {n}"),
            PeerKind::Pods {
                ns: NsScope::Selector(s),
                pods,
            } => {
                format!("pods {pods} in namespaces {s}")
            }
            PeerKind::Ip { cidr, except, .. } if except.is_empty() => format!("ipBlock {cidr}"),
            PeerKind::Ip { cidr, except, .. } => {
                let list: Vec<&str> = except.iter().map(|(e, _)| e.as_str()).collect();
                format!("ipBlock {cidr} except [{}]", list.join(", "))
            }
        })
        .collect();
    format!("{}: {}", r.dir.peer_key(), list.join(" OR "))
}

fn ports_text(r: &Rule) -> String {
    match &r.ports {
        None => "ports: all".into(),
        Some(list) => {
            let items: Vec<String> = list
                .iter()
                .map(|p| match &p.named {
                    Some((n, proto)) => format!("{n}/{}", proto.as_str()),
                    None => p.numeric.to_string(),
                })
                .collect();
            format!("ports: {}", items.join(", "))
        }
    }
}

/// The flow as a rule's ports see it: protocol, port number, and the destination's container
/// ports (`None` for an external destination) and name.
struct Flow<'a> {
    proto: Protocol,
    port: u128,
    dst_ports: Option<&'a [ContainerPort]>,
    dst_name: &'a str,
}

/// `app=web,tier=front`, or `{}` for no labels.
fn labels_text(labels: &Labels) -> String {
    if labels.is_empty() {
        return "{}".into();
    }
    let items: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    items.join(",")
}

/// Why none of a rule's peers selects the remote end `other`: one specific reason per peer.
fn peer_miss(a: &Analysis<'_>, r: &Rule, other: &End) -> String {
    let Some(peers) = &r.peers else {
        // A rule without peers selects everything; the caller never asks.
        return "peer not selected".into();
    };
    let reasons: Vec<String> = peers
        .iter()
        .map(|p| match other {
            End::Endpoint { idx, .. } => {
                let e = &a.inv.endpoints[*idx];
                pod_peer_miss(a, &p.kind, &e.id(), e)
            }
            End::Addr {
                family,
                value,
                text,
            } => match &p.kind {
                PeerKind::Pods { .. } => {
                    format!("{text} is an external address and a pod selector selects only pods")
                }
                PeerKind::Ip {
                    set, cidr, except, ..
                } => {
                    if set.family(*family).contains(*value) {
                        format!("{text} is selected by ipBlock {cidr}")
                    } else if let Some((e, _)) = except
                        .iter()
                        .find(|(_, carved)| carved.family(*family).contains(*value))
                    {
                        format!("{text} is excluded by except {e}")
                    } else {
                        format!("{text} is outside {cidr}")
                    }
                }
            },
        })
        .collect();
    reasons.join(", and ")
}

/// Why one peer does not select the pod `name` (endpoint `c`).
fn pod_peer_miss(a: &Analysis<'_>, kind: &PeerKind, name: &str, c: &Endpoint) -> String {
    let pods_miss = |pods: &Selector| {
        if pods.matches(&c.labels) {
            None
        } else {
            Some(format!(
                "{name} (labels {}) does not match podSelector {pods}",
                labels_text(&c.labels)
            ))
        }
    };
    match kind {
        PeerKind::Ip { cidr, .. } => {
            format!("{name} is a pod and ipBlock {cidr} selects only external addresses")
        }
        PeerKind::Pods {
            ns: NsScope::Own(n),
            pods,
        } => {
            if &c.namespace != n {
                format!(
                    "{name} is in namespace {}, but podSelector {pods} without a \
                     namespaceSelector selects only in the policy's namespace {n}",
                    c.namespace
                )
            } else {
                pods_miss(pods).unwrap_or_else(|| format!("{name} is selected"))
            }
        }
        PeerKind::Pods {
            ns: NsScope::Selector(s),
            pods,
        } => {
            let empty = Labels::new();
            let ns_labels = a
                .inv
                .namespaces
                .get(&c.namespace)
                .map_or(&empty, |n| &n.labels);
            if !s.matches(ns_labels) {
                format!(
                    "namespace {} (labels {}) does not match namespaceSelector {s}",
                    c.namespace,
                    labels_text(ns_labels)
                )
            } else {
                pods_miss(pods).unwrap_or_else(|| format!("{name} is selected"))
            }
        }
    }
}

/// Why none of a rule's port entries admits the flow: one specific reason per entry.
fn port_miss(r: &Rule, f: &Flow<'_>) -> String {
    let Some(entries) = &r.ports else {
        // A rule without ports admits every port; the caller never asks.
        return "port not listed".into();
    };
    let (proto, port) = (f.proto.as_str(), f.port);
    let reasons: Vec<String> = entries
        .iter()
        .map(|p| match &p.named {
            Some((n, np)) => {
                let np_s = np.as_str();
                let Some(ports) = f.dst_ports else {
                    return format!(
                        "named port {n}/{np_s} never matches an external address ({})",
                        f.dst_name
                    );
                };
                if *np != f.proto {
                    return format!("named port {n} is {np_s}, the flow is {proto}");
                }
                match ports
                    .iter()
                    .find(|cp| cp.protocol == *np && cp.name.as_deref() == Some(n.as_str()))
                {
                    Some(cp) if cp.port as u128 == port => {
                        format!("{n}/{np_s} resolves to {port} on {}", f.dst_name)
                    }
                    Some(cp) => format!(
                        "{n}/{np_s} resolves to {} on {}, not {port}",
                        cp.port, f.dst_name
                    ),
                    None => {
                        let others: Vec<&str> = ports
                            .iter()
                            .filter(|cp| cp.name.as_deref() == Some(n.as_str()))
                            .map(|cp| cp.protocol.as_str())
                            .collect();
                        if others.is_empty() {
                            format!(
                                "named port {n}/{np_s} does not resolve on {} (no container port named {n})",
                                f.dst_name
                            )
                        } else {
                            format!(
                                "named port {n}/{np_s} does not resolve on {} ({n} is {} there)",
                                f.dst_name,
                                others.join(", ")
                            )
                        }
                    }
                }
            }
            None => {
                let c = &p.numeric;
                let set = c.of(f.proto);
                if set.is_empty() {
                    let theirs: Vec<&str> = Protocol::ALL
                        .into_iter()
                        .filter(|q| !c.of(*q).is_empty())
                        .map(Protocol::as_str)
                        .collect();
                    format!("{c} is {}, the flow is {proto}", theirs.join(", "))
                } else if set.contains(port) {
                    format!("{port} is in {c}")
                } else if matches!(set.ranges(), [(lo, hi)] if lo == hi) {
                    format!("port {port} is not {c}")
                } else {
                    format!("port {port} is outside {c}")
                }
            }
        })
        .collect();
    reasons.join(", and ")
}

//! Self-checks of rendered objects: parse them back into their typed Kubernetes models and apply
//! the API-server validation rules that no JSON Schema encodes.
//!
//! For NetworkPolicies these are the rules of `ValidateNetworkPolicySpec/Peer/Port/IPBlock` in
//! kubernetes `pkg/apis/networking/validation/validation.go`: a peer sets at least one field, an
//! `ipBlock` is never combined with a selector, `except` entries lie strictly inside their
//! `cidr`, `endPort` needs a numeric `port` and is not below it, `policyTypes` has at most two
//! distinct entries out of `Ingress`/`Egress`. A failure is a bug in airguard, reported as
//! [`RenderError::SelfCheck`]. This module never changes what it checks; it only reads.

use super::RenderError;
use ipnet::IpNet;
use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// Parse a multi-document YAML file of NetworkPolicies and check each one. Returns the parsed
/// policies in document order.
pub fn check_network_policies(
    path: &str,
    content: &str,
) -> Result<Vec<NetworkPolicy>, RenderError> {
    let fail = |message: String| RenderError::SelfCheck {
        path: path.to_string(),
        message,
    };
    let docs: Vec<NetworkPolicy> =
        serde_saphyr::from_multiple_with_options(content, own_output(content))
            .map_err(|e| fail(format!("does not parse as NetworkPolicy documents: {e}")))?;
    for np in &docs {
        let problems = network_policy_problems(np);
        if let Some(first) = problems.first() {
            let name = np.metadata.name.as_deref().unwrap_or("<unnamed>");
            return Err(fail(format!("policy `{name}`: {first}")));
        }
    }
    Ok(docs)
}

/// Parser limits for reading back what airguard itself wrote. The default budget guards against
/// hostile input (250 000 nodes); a rendered file grows with the spec (20 000 egress rules make
/// some 330 000 nodes), so the limits follow the text's size instead: a YAML node or event takes
/// at least one byte, so none of them can be breached by well-formed output of any size, and
/// the spec that produced it already passed the default budget.
pub fn own_output(content: &str) -> serde_saphyr::Options {
    let n = content.len();
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_documents: n.max(1_024),
            max_nodes: n.max(250_000),
            max_events: n.saturating_mul(2).max(1_000_000),
            max_total_scalar_bytes: n.max(64 * 1024 * 1024),
        },
    }
}

/// Every API-server rule a policy breaks (empty when it is valid).
pub fn network_policy_problems(np: &NetworkPolicy) -> Vec<String> {
    let mut out = Vec::new();
    if np.metadata.name.as_deref().is_none_or(str::is_empty) {
        out.push("metadata.name is missing".to_string());
    }
    if np.metadata.namespace.as_deref().is_none_or(str::is_empty) {
        out.push("metadata.namespace is missing".to_string());
    }
    let Some(spec) = &np.spec else {
        out.push("spec is missing".to_string());
        return out;
    };
    match &spec.policy_types {
        None => out.push("policyTypes is not explicit".to_string()),
        Some(types) => {
            if types.is_empty() || types.len() > 2 {
                out.push(format!(
                    "policyTypes has {} entries (1 or 2 allowed)",
                    types.len()
                ));
            }
            for (i, t) in types.iter().enumerate() {
                if t != "Ingress" && t != "Egress" {
                    out.push(format!("policyTypes[{i}]: unknown type `{t}`"));
                }
                if types[..i].contains(t) {
                    out.push(format!("policyTypes[{i}]: duplicate `{t}`"));
                }
            }
        }
    }
    for (i, rule) in spec.ingress.iter().flatten().enumerate() {
        for (j, p) in rule.from.iter().flatten().enumerate() {
            peer_problems(p, &format!("ingress[{i}].from[{j}]"), &mut out);
        }
        for (j, p) in rule.ports.iter().flatten().enumerate() {
            port_problems(p, &format!("ingress[{i}].ports[{j}]"), &mut out);
        }
    }
    for (i, rule) in spec.egress.iter().flatten().enumerate() {
        for (j, p) in rule.to.iter().flatten().enumerate() {
            peer_problems(p, &format!("egress[{i}].to[{j}]"), &mut out);
        }
        for (j, p) in rule.ports.iter().flatten().enumerate() {
            port_problems(p, &format!("egress[{i}].ports[{j}]"), &mut out);
        }
    }
    out
}

fn peer_problems(p: &NetworkPolicyPeer, at: &str, out: &mut Vec<String>) {
    let selectors = p.pod_selector.is_some() || p.namespace_selector.is_some();
    match &p.ip_block {
        None if !selectors => out.push(format!("{at}: must specify a peer")),
        Some(_) if selectors => out.push(format!(
            "{at}: may not specify both ipBlock and another peer"
        )),
        Some(b) => ip_block_problems(b, at, out),
        None => {}
    }
}

fn ip_block_problems(b: &IPBlock, at: &str, out: &mut Vec<String>) {
    let Ok(cidr) = b.cidr.parse::<IpNet>() else {
        out.push(format!("{at}.ipBlock.cidr: `{}` is not a CIDR", b.cidr));
        return;
    };
    if cidr.trunc() != cidr {
        out.push(format!(
            "{at}.ipBlock.cidr: `{cidr}` is not canonical (`{}`)",
            cidr.trunc()
        ));
    }
    for (k, x) in b.except.iter().flatten().enumerate() {
        match x.parse::<IpNet>() {
            Err(_) => out.push(format!("{at}.ipBlock.except[{k}]: `{x}` is not a CIDR")),
            Ok(x) if !(cidr.contains(&x) && x.prefix_len() > cidr.prefix_len()) => out.push(
                format!("{at}.ipBlock.except[{k}]: `{x}` must be a strict subset of `{cidr}`"),
            ),
            Ok(_) => {}
        }
    }
}

fn port_problems(p: &NetworkPolicyPort, at: &str, out: &mut Vec<String>) {
    if let Some(proto) = &p.protocol {
        if !matches!(proto.as_str(), "TCP" | "UDP" | "SCTP") {
            out.push(format!("{at}.protocol: `{proto}` is not TCP, UDP or SCTP"));
        }
    }
    let port = match &p.port {
        Some(IntOrString::Int(n)) => {
            if !(1..=65535).contains(n) {
                out.push(format!("{at}.port: {n} is outside 1-65535"));
            }
            Some(*n)
        }
        Some(IntOrString::String(name)) => {
            if p.end_port.is_some() {
                out.push(format!(
                    "{at}.endPort: may not be specified when port `{name}` is non-numeric"
                ));
            }
            None
        }
        None => {
            if p.end_port.is_some() {
                out.push(format!(
                    "{at}.endPort: may not be specified when port is not specified"
                ));
            }
            None
        }
    };
    if let (Some(port), Some(end)) = (port, p.end_port) {
        if end < port {
            out.push(format!(
                "{at}.endPort: {end} must be greater than or equal to port {port}"
            ));
        }
        if end > 65535 {
            out.push(format!("{at}.endPort: {end} is outside 1-65535"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(yaml: &str) -> Vec<String> {
        let np: NetworkPolicy = serde_saphyr::from_str(yaml).unwrap();
        network_policy_problems(&np)
    }

    const HEAD: &str = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: n}\n";

    #[test]
    fn valid_policy_has_no_problems() {
        let y = format!("{HEAD}spec:\n  podSelector: {{}}\n  policyTypes: [Egress]\n  egress:\n  - to:\n    - ipBlock: {{cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}\n    ports:\n    - {{port: 80, endPort: 90}}\n");
        assert_eq!(problems(&y), Vec::<String>::new());
    }

    #[test]
    fn each_api_server_rule_is_enforced() {
        let cases = [
            ("policyTypes: [Ingress, Egress, Ingress]", "entries"),
            ("egress: [{to: [{}]}]", "must specify a peer"),
            (
                "egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}]",
                "both ipBlock",
            ),
            (
                "egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.0.0.0/8]}}]}]",
                "strict subset",
            ),
            (
                "egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/16]}}]}]",
                "strict subset",
            ),
            (
                "egress: [{ports: [{port: 90, endPort: 80}]}]",
                "greater than or equal",
            ),
            (
                "egress: [{ports: [{endPort: 80}]}]",
                "port is not specified",
            ),
            (
                "egress: [{ports: [{port: http, endPort: 80}]}]",
                "non-numeric",
            ),
            ("egress: [{ports: [{protocol: ICMP, port: 1}]}]", "not TCP"),
            (
                "egress: [{to: [{ipBlock: {cidr: 10.0.0.1/8}}]}]",
                "canonical",
            ),
        ];
        for (spec, want) in cases {
            let types = if spec.starts_with("policyTypes") {
                ""
            } else {
                "  policyTypes: [Egress]\n"
            };
            let y = format!("{HEAD}spec:\n  podSelector: {{}}\n{types}  {spec}\n");
            let got = problems(&y);
            assert!(got.iter().any(|p| p.contains(want)), "{spec}: {got:?}");
        }
        let y = format!("{HEAD}spec:\n  podSelector: {{}}\n");
        assert!(problems(&y).iter().any(|p| p.contains("not explicit")));
    }
}

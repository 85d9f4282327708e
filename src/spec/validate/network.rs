//! Network rules: ports and port ranges, CIDRs and egress rules (with the internet-wide
//! guard), DNS by pods or by address, and the pod selectors of components sharing a namespace
//! (each must select one kind of pod only).
//!
//! A child of `validate` so it shares the located-diagnostic helpers; it only adds rules.

use super::{erased, Cx};
use crate::diag::Code;
use crate::spec::model::{self, PortRange};
use crate::spec::raw;
use crate::spec::schema::dotted;
use crate::topology::{Endpoint, System, Topology};
use ipnet::IpNet;

impl Cx<'_> {
    pub(super) fn port(&mut self, pointer: &str, p: i64) -> u16 {
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

    pub(super) fn ports(&mut self, pointer: &str, ports: &[raw::PortSpec]) -> Vec<PortRange> {
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

    pub(super) fn cidr(&mut self, pointer: &str, text: &str) -> Option<IpNet> {
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

    pub(super) fn egress(&mut self, pointer: &str, rule: &raw::EgressRule) -> model::Egress {
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
    pub(super) fn internet_wide(
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

    /// A list of destination CIDRs (the Kubernetes API, an external database): each canonical
    /// and, when internet-wide, justified; sorted and deduplicated. An empty list is reported
    /// with `empty` as the message.
    pub(super) fn cidr_list(
        &mut self,
        pointer: &str,
        name: &str,
        cidrs: &[String],
        allow_internet: bool,
        reason: Option<&str>,
        empty: (&str, &str),
    ) -> Vec<IpNet> {
        let mut out: Vec<IpNet> = cidrs
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let p = format!("{pointer}/{i}");
                let net = self.cidr(&p, c)?;
                self.internet_wide(&p, name, net, allow_internet, reason);
                Some(net)
            })
            .collect();
        out.sort();
        out.dedup();
        if cidrs.is_empty() {
            self.push(
                Code::InvalidValue,
                pointer,
                empty.0.into(),
                "no address",
                empty.1.into(),
            );
        }
        out
    }

    pub(super) fn egress_list(
        &mut self,
        pointer: &str,
        rules: &[raw::EgressRule],
    ) -> Vec<model::Egress> {
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

    /// DNS by pods (`namespace`, `pod-labels`, CoreDNS by default) or by address (`cidrs`),
    /// never both.
    pub(super) fn dns(&mut self, d: &raw::Dns) -> model::Dns {
        let namespace = d
            .namespace
            .clone()
            .unwrap_or_else(raw::Dns::default_namespace);
        let pod_labels = d
            .pod_labels
            .clone()
            .unwrap_or_else(raw::Dns::default_labels);
        if d.namespace.is_some() {
            self.dns_label("/dns/namespace", &namespace);
        }
        if d.pod_labels.is_some() {
            self.labels("/dns/pod-labels", &pod_labels);
        }
        let mut cidrs = Vec::new();
        if let Some(list) = &d.cidrs {
            let pods: Vec<&str> = [
                d.namespace.as_ref().map(|_| "namespace"),
                d.pod_labels.as_ref().map(|_| "pod-labels"),
            ]
            .into_iter()
            .flatten()
            .collect();
            if !pods.is_empty() {
                self.push(
                    Code::DnsGivenBothWays,
                    "/dns/cidrs",
                    format!(
                        "`dns` gives DNS addresses (`cidrs`) and DNS pods (`{}`) at once",
                        pods.join("`, `")
                    ),
                    "DNS by address",
                    "keep `cidrs` (NodeLocal DNSCache, or DNS reached by address) or the pods' `namespace` and `pod-labels`, not both".into(),
                );
            }
            if list.is_empty() {
                self.push(
                    Code::InvalidValue,
                    "/dns/cidrs",
                    "`dns.cidrs` is empty".into(),
                    "no address",
                    "list the DNS addresses, e.g. `[169.254.20.10/32]` for NodeLocal DNSCache, or leave `cidrs` out to select the DNS pods".into(),
                );
            }
            for (i, c) in list.iter().enumerate() {
                let p = format!("/dns/cidrs/{i}");
                if let Some(net) = self.cidr(&p, c) {
                    self.internet_wide(&p, "dns", net, false, None);
                    cidrs.push(net);
                }
            }
            cidrs.sort();
            cidrs.dedup();
        }
        model::Dns {
            namespace,
            pod_labels,
            cidrs,
            port: self.port("/dns/port", d.port),
        }
    }

    /// Kinds of pods may share a namespace (Airbyte and Airflow, the ingress controller or DNS
    /// inside an owned one) as long as every pod selector airguard uses picks out exactly one
    /// kind: no endpoint's selector may match another endpoint's pod labels in its namespace.
    /// Checked on the topology of a model that is otherwise free of errors.
    pub(super) fn selectors(&mut self, model: &model::Model) {
        if crate::diag::has_errors(self.diags) {
            return;
        }
        let topo = Topology::from_model(model);
        // One diagnostic per selector, naming every other kind of pod it matches; a pair whose
        // selectors match each other is reported once.
        let mut seen = std::collections::BTreeSet::new();
        let mut groups: Vec<(&Endpoint, Vec<&Endpoint>)> = Vec::new();
        for (sel, other) in topo.selector_overlaps() {
            if seen.contains(&(other.id.as_str(), sel.id.as_str())) {
                continue;
            }
            seen.insert((sel.id.as_str(), other.id.as_str()));
            match groups.last_mut() {
                Some((s, list)) if s.id == sel.id => list.push(other),
                _ => groups.push((sel, vec![other])),
            }
        }
        for (sel, others) in groups {
            // Point at the labels the user chose if either end has them, else at the namespace
            // that made the two share one.
            let at = std::iter::once(sel)
                .chain(others.iter().copied())
                .min_by_key(|e| blame_rank(e))
                .map_or("/airflow/namespace", |e| blame_pointer(self.doc, e));
            let labels: Vec<String> = sel
                .labels
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            let names: Vec<&str> = others.iter().map(|o| o.id.as_str()).collect();
            self.push(
                Code::OverlappingSelectors,
                at,
                format!(
                    "in namespace `{}`, the pod selector of `{}` ({{{}}}) also matches the pods of `{}`",
                    sel.namespace,
                    sel.id,
                    labels.join(", "),
                    names.join("`, `")
                ),
                "selects more than one kind of pod",
                format!(
                    "give `{}` pod labels that no other component in `{}` has, or run it in a separate namespace",
                    sel.id, sel.namespace
                ),
            );
        }
    }
}

/// Which end of an overlap a diagnostic points at: labels the user wrote first, then Airflow's
/// namespace (the one that joined Airbyte's), then Airbyte's.
fn blame_rank(e: &Endpoint) -> u8 {
    match e.system {
        System::Ingress | System::Dns | System::Monitoring => 0,
        System::Airflow => 1,
        System::Airbyte => 2,
    }
}

fn blame_pointer(doc: &super::Document, e: &Endpoint) -> &'static str {
    match e.system {
        System::Ingress => "/ingress/pod-labels",
        System::Dns if doc.place("/dns/pod-labels").is_some() => "/dns/pod-labels",
        System::Dns if doc.place("/dns/namespace").is_some() => "/dns/namespace",
        System::Dns => "/dns",
        System::Monitoring => "/observability/prometheus/pod-labels",
        System::Airflow => "/airflow/namespace",
        System::Airbyte
            if e.component == "job-pod" && doc.place("/airbyte/jobs-namespace").is_some() =>
        {
            "/airbyte/jobs-namespace"
        }
        System::Airbyte => "/airbyte/namespace",
    }
}

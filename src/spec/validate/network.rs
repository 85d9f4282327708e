//! Network rules: ports and port ranges, CIDRs and egress rules (with the internet-wide
//! guard), and the namespaces airguard owns and default-denies.
//!
//! A child of `validate` so it shares the located-diagnostic helpers; it only adds rules.

use super::{erased, Cx};
use crate::diag::Code;
use crate::spec::model::{self, PortRange};
use crate::spec::raw::{self, RawSpec};
use crate::spec::schema::dotted;
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

    /// airguard default-denies the namespaces it owns (Airbyte, its jobs, Airflow), so none of
    /// them may be a namespace it does not own (ingress, DNS), and Airbyte and Airflow each get
    /// their own.
    pub(super) fn namespaces(&mut self, raw: &RawSpec) {
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
}

//! Network settings shared by every section: protocols, ports and port ranges, egress rules, the
//! Kubernetes API's addresses.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Transport protocol of a rule.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    Deserialize,
    Serialize,
    JsonSchema,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Protocol {
    /// TCP.
    #[default]
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

impl Protocol {
    /// All protocols, in output order.
    pub const ALL: [Protocol; 3] = [Protocol::Tcp, Protocol::Udp, Protocol::Sctp];

    /// Parse `TCP`, `UDP` or `SCTP` (case-insensitive).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            "SCTP" => Some(Protocol::Sctp),
            _ => None,
        }
    }

    /// The protocol's name as Kubernetes writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

/// A port (`5432`) or an inclusive port range (`{from: 8000, to: 8010}`).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(untagged)]
pub enum PortSpec {
    /// One port.
    Single(i64),
    /// An inclusive range.
    Range(PortRange),
}

/// An inclusive port range.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PortRange {
    /// First port.
    pub from: i64,
    /// Last port (inclusive, at least `from`).
    pub to: i64,
}

/// One allowed external destination.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct EgressRule {
    /// Name of the destination (DNS-1123 label), unique in its list.
    pub name: String,
    /// Destination network in canonical CIDR form.
    pub cidr: String,
    /// Sub-networks of `cidr` that stay blocked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub except: Vec<String>,
    /// Destination ports; empty means every port (discouraged).
    pub ports: Vec<PortSpec>,
    /// Protocol of the ports (default TCP).
    #[serde(default)]
    pub protocol: Protocol,
    /// Must be `true` to allow `0.0.0.0/0` or `::/0`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_internet: bool,
    /// Why this egress is needed; required with `allow-internet`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The Kubernetes API endpoint, as seen from pods (after DNAT: the API servers' addresses).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct KubernetesApi {
    /// Addresses of the API servers, as CIDRs (`10.0.0.1/32`).
    pub cidrs: Vec<String>,
    /// API server ports (default 443 and 6443).
    #[serde(default = "KubernetesApi::default_ports")]
    pub ports: Vec<PortSpec>,
    /// Must be `true` to allow `0.0.0.0/0` or `::/0` (as for every egress rule).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_internet: bool,
    /// Why this egress is needed; required with `allow-internet`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl KubernetesApi {
    fn default_ports() -> Vec<PortSpec> {
        vec![PortSpec::Single(443), PortSpec::Single(6443)]
    }
}

//! Stable diagnostic codes.
//!
//! Every code is a kebab-case identifier users can grep for, suppress or escalate. The doc comment
//! on each variant is its documentation: `cargo xtask codegen` collects them into
//! `docs/diagnostics.md`. Renaming a code is a breaking change; add new ones at the end of their
//! group.

use super::Severity;

/// A stable diagnostic code.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    strum::EnumIter,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::Display,
    serde::Serialize,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Code {
    // ---- reading input ------------------------------------------------------------------------
    /// A file could not be read: it does not exist, is a directory, or is not readable.
    /// Fix the path given on the command line.
    IoError,
    /// The spec file is empty or holds only comments. Run `airguard init` for a starter spec.
    EmptySpec,
    /// The file is not valid YAML. The message names the line and column where parsing stopped.
    YamlSyntax,
    /// A key the spec does not define. The spec is closed: every unknown key is an error, usually
    /// a typo. The help line lists the keys allowed at that place.
    UnknownKey,
    /// A required key is missing.
    MissingKey,
    /// A value has the wrong type (for example a list where a string is expected).
    WrongType,
    /// A value is not one of the allowed values, or does not match the required format.
    InvalidValue,
    /// The spec's `version` is not one this airguard understands (only `1` today).
    UnsupportedVersion,

    // ---- spec semantics -----------------------------------------------------------------------
    /// Two items of the same list share a name; names must be unique so that every rendered
    /// object and every flow traces back to one spec entry.
    DuplicateName,
    /// A name is not a DNS-1123 label (lowercase letters, digits and `-`, starting and ending
    /// with an alphanumeric, at most 63 characters). Kubernetes rejects such names.
    InvalidDnsName,
    /// A Kubernetes label key or value is not valid.
    InvalidLabel,
    /// A CIDR does not parse as an IPv4 or IPv6 network.
    InvalidCidr,
    /// A CIDR has host bits set (`10.0.0.1/8`). Kubernetes compares CIDRs literally; write the
    /// canonical network address shown in the help.
    NonCanonicalCidr,
    /// An `except` block is not strictly inside its CIDR (Kubernetes rejects it).
    ExceptOutsideCidr,
    /// Egress to the whole internet (`0.0.0.0/0` or `::/0`) without `allow-internet: true` and a
    /// written `reason`.
    InternetEgressUnjustified,
    /// A port is outside 1–65535.
    InvalidPort,
    /// A port range whose end is below its start.
    InvalidPortRange,
    /// A connection id is not a UUID.
    InvalidUuid,
    /// A pipeline step names a connection that `connections` does not declare.
    UnknownConnection,
    /// A step's `after` names a connection that no earlier step of the same pipeline syncs.
    UnknownDependency,
    /// The `after` references of a pipeline form a cycle, so no order can run them.
    DependencyCycle,
    /// An ExternalSecret creation/deletion policy combination that External Secrets Operator
    /// forbids (Delete+Merge, Delete+CreateOrMerge, Delete+None, Merge+None).
    ForbiddenPolicyCombination,
    /// A duration does not parse (use Go-style durations such as `1h`, `30m`, `1h30m`).
    InvalidDuration,
    /// `refresh-interval: 0` turns rotation off; it is only allowed with `refresh-policy: created-once`.
    ZeroRefreshInterval,
    /// A ClusterSecretStore without `conditions` can be used from every namespace.
    UnconditionedClusterStore,
    /// A URL does not parse or has the wrong scheme.
    InvalidUrl,
    /// An Airflow connection id is not a valid identifier (letters, digits and `_`).
    InvalidConnectionId,
    /// A provider is missing a field its authentication method needs, or sets one it ignores.
    IncompleteProvider,
    /// Two settings contradict each other (for example a v1 chart profile with a v2-only option).
    ConflictingSettings,
    /// `airbyte.api.url` is not the in-cluster Airbyte server Service
    /// (`<release>-airbyte-server-svc[.<namespace>[.svc[.cluster.local]]]:8001`). The rendered
    /// policies let Airflow's callers reach the server pods on 8001 only, so calls through an
    /// ingress or load balancer would be blocked.
    ApiUrlOutsideCluster,
    /// An egress rule without `ports` allows every port of its protocol to its destination.
    /// List the ports the connector needs.
    AllPortsEgress,

    // ---- render self-checks -------------------------------------------------------------------
    /// A rendered artifact failed its own self-check (typed parse-back or schema). This is a bug
    /// in airguard; please report it with the spec that triggered it.
    RenderSelfCheck,

    // ---- audit: reading manifests ---------------------------------------------------------------
    /// A manifest object does not parse into its Kubernetes type (a NetworkPolicy, Namespace, Pod
    /// or workload with a wrong field type, or an object without `kind`), or breaks a rule the API
    /// server enforces (a namespace that is not a DNS-1123 label, a bad name, label, port name,
    /// port number or protocol). Fix the object.
    InvalidManifest,
    /// A NetworkPolicy that the API server would reject: a peer with `ipBlock` and a selector, a
    /// peer with no field, an `except` outside its `cidr`, an `endPort` below `port` or next to a
    /// named port, a bad CIDR or protocol, an unknown selector operator, a string `port` that is
    /// not an IANA service name (`"80"`), or a bad name, namespace, label key or value.
    InvalidPolicy,
    /// An `airguard.io/suppress` annotation entry without a reason or with an unknown code. Write
    /// `airguard.io/suppress: "<code>: <reason>"`, one entry per line; a suppression without a
    /// written reason is not applied.
    InvalidSuppression,

    // ---- audit: findings ------------------------------------------------------------------------
    /// An endpoint that no NetworkPolicy selects for ingress: every pod and address can connect to
    /// it on every port. Add a default-deny ingress policy to its namespace.
    PodNotIsolatedIngress,
    /// An endpoint that no NetworkPolicy selects for egress: it can connect anywhere, including
    /// the internet. Add a default-deny egress policy to its namespace.
    PodNotIsolatedEgress,
    /// A namespace with endpoints but no default-deny policy (`podSelector: {}` with the direction
    /// in `policyTypes` and no rules) for ingress or egress. New pods there start unprotected.
    NamespaceWithoutDefaultDeny,
    /// A rule with no peers and no ports (`- {}`): it allows every source or destination on every
    /// port, and no other policy can narrow it. Name the peers and ports it is meant for.
    AllowAllRule,
    /// An egress `ipBlock` of `0.0.0.0/0` or `::/0`: the selected pods can reach the whole
    /// internet (minus any `except`). Narrow the CIDR to the services actually needed.
    InternetEgress,
    /// A peer with `namespaceSelector: {}`: it matches pods in every namespace, including ones
    /// created later. Select the namespaces by `kubernetes.io/metadata.name`.
    AllNamespacesSelector,
    /// A policy whose `podSelector` matches no endpoint in its namespace: it has no effect on the
    /// given inventory. Usually a label typo or a policy in the wrong namespace.
    SelectorMatchesNothing,
    /// A peer whose selectors match no endpoint: the rule allows nothing through it. Usually a
    /// label typo, or a `namespaceSelector` naming a namespace by a label it does not have.
    PeerMatchesNothing,
    /// An endpoint isolated for egress that may call something but cannot reach any DNS server
    /// (UDP 53): name lookups will fail. Add an egress rule to the DNS pods on UDP and TCP 53.
    EgressWithoutDns,
    /// A rule that allows nothing the other rules selecting the same pods do not already allow.
    /// Remove it, or fix it if it was meant to allow something else.
    RedundantRule,
    /// A policy whose rules are all redundant and whose isolation other policies already provide:
    /// removing it changes no connection.
    RedundantPolicy,
    /// A named port in a rule that no destination endpoint defines with that name and protocol:
    /// the port entry allows nothing. Fix the name, or use the port number.
    NamedPortUnresolved,
    /// With `--spec`: a connection the policies allow between spec endpoints (or to an external
    /// network) that the spec does not declare. Least privilege means nothing more than declared.
    UndeclaredFlow,
    /// With `--spec`: a connection the spec declares that the policies block; the integration
    /// will fail at run time. `--explain` shows which side denies it.
    BlockedDeclaredFlow,
}

impl Code {
    /// The severity a diagnostic with this code starts with.
    pub fn default_severity(self) -> Severity {
        match self {
            Code::UnconditionedClusterStore | Code::ApiUrlOutsideCluster | Code::AllPortsEgress => {
                Severity::Warning
            }
            Code::PodNotIsolatedIngress
            | Code::PodNotIsolatedEgress
            | Code::NamespaceWithoutDefaultDeny
            | Code::AllowAllRule
            | Code::InternetEgress
            | Code::AllNamespacesSelector
            | Code::SelectorMatchesNothing
            | Code::PeerMatchesNothing
            | Code::NamedPortUnresolved => Severity::Warning,
            Code::RedundantRule | Code::RedundantPolicy => Severity::Note,
            _ => Severity::Error,
        }
    }

    /// The code as its stable kebab-case string.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use strum::IntoEnumIterator;

    #[test]
    fn codes_are_unique_kebab_case() {
        let all: Vec<&str> = Code::iter().map(Code::as_str).collect();
        let set: BTreeSet<&str> = all.iter().copied().collect();
        assert_eq!(all.len(), set.len());
        for c in all {
            assert!(
                c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '-'),
                "{c}"
            );
            assert_eq!(c.parse::<Code>().unwrap().as_str(), c);
        }
    }
}

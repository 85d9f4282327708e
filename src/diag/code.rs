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
    /// A spec that is not UTF-8 (at its first bad byte), or larger than the parser reads (250 000
    /// YAML nodes, nesting depth 64), is reported this way too.
    YamlSyntax,
    /// A key the spec does not define. The spec is closed: every unknown key is an error, usually
    /// a typo. The help line lists the keys allowed at that place.
    UnknownKey,
    /// A required key is missing.
    MissingKey,
    /// A value has the wrong type (for example a list where a string is expected). Also a plain
    /// scalar that YAML 1.1 and YAML 1.2 read differently: `yes`, `no`, `on`, `off`, `y`, `n`
    /// (booleans in 1.1, strings in 1.2 and the JSON Schema), `012`, `1_000`, `0b11`, `1:30`, or
    /// such a mapping key. Quote it for text; write `true`/`false` or a plain decimal number.
    WrongType,
    /// A value is not one of the allowed values, or does not match the required format.
    InvalidValue,
    /// The spec's `version` is not one this airguard understands (only `1` today).
    UnsupportedVersion,
    /// An input path is not a regular file: a character or block device (such as `/dev/zero`), a
    /// FIFO, a socket or a directory where a file is needed (a spec path that is a directory is
    /// reported as `io-error`). airguard refuses it before reading, so a device cannot feed it
    /// endless input and a FIFO cannot make it wait. Pass the file itself.
    NotARegularFile,
    /// An input file is larger than airguard reads: 16 MiB for a spec or a mock scenario, 64 MiB
    /// for each manifest file given to `audit`. The size is checked before reading and again while
    /// reading, so a file that grows cannot exceed it. Check that this is the right file.
    InputTooLarge,

    // ---- writing output -----------------------------------------------------------------------
    /// airguard could not write its output: a directory could not be created, a file written or
    /// renamed, the output path is a symbolic link or not a directory, or the target holds files
    /// airguard did not write. The message names the path and the operation; nothing was left
    /// half-written (the previous output, if any, is unchanged).
    OutputError,

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
    /// A step's `after` names a connection that no earlier step of the same pipeline syncs,
    /// resets or clears. Steps run in order, so a step later in the pipeline does not count: the
    /// step would never run.
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
    /// The Airbyte instance the spec describes has no public API on its server, which the Airflow
    /// connection needs: the Airbyte provider for Airflow (`apache-airflow-providers-airbyte`)
    /// speaks only the public API (`/api/public/v1`), whatever `airbyte.api.flavour` conform uses.
    /// V1 charts before 0.654.0 (Airbyte before about 0.63) ran it in a separate
    /// `airbyte-api-server` pod on port 8006, which airguard does not model. Upgrade the chart.
    PublicApiUnavailable,
    /// `airbyte.api.auth` is `basic` or `bearer`, but the Airbyte provider for Airflow
    /// authenticates only with OAuth2 client credentials, so the rendered Airflow connection
    /// carries no credentials and Airflow's calls are unauthenticated. Use
    /// `auth: client-credentials` with an Airbyte application's client id and secret.
    AirflowConnectionWithoutCredentials,
    /// A pipeline's `schedule` is neither a 5-field cron expression (minute hour day-of-month
    /// month day-of-week; numbers, `*`, ranges `a-b`, steps `/n`, lists `a,b`, month and weekday
    /// names), nor one of the presets `@once`, `@hourly`, `@daily`, `@weekly`, `@monthly`,
    /// `@quarterly`, `@yearly`, nor `none`.
    InvalidSchedule,
    /// A pipeline's `start-date` is not a real calendar date written `YYYY-MM-DD`.
    InvalidStartDate,
    /// A step's `checks` cannot run: SQL checks without the `table` they check or the
    /// `connection-id` of its database, a `python` callable that is not `module.function`,
    /// nothing to check at all, or `checks` on a step that is not a `sync`.
    IncompleteCheck,
    /// A `notify` target lacks what it needs to send: Slack without the `connection-id` of its
    /// webhook connection, e-mail without its SMTP `connection-id` or without recipients (`to`).
    IncompleteNotify,
    /// `observability` is set but the spec has no pipeline: there are no syncs to measure, so
    /// the rules and dashboard would watch nothing. Add pipelines or remove the section.
    ObservabilityWithoutPipelines,
    /// `observability.prometheus.namespace` is one airguard isolates (Airbyte, its jobs or
    /// Airflow) or has no pod labels: the default deny there cuts Prometheus off, or no policy
    /// can name its pods. Give the Prometheus pods' own namespace and labels.
    UnreachablePrometheus,
    /// `observability.alerts.stale-after` is not longer than how often a connection is meant to
    /// sync (the longest gap between two runs of a pipeline's `schedule`, a step's
    /// `when.last-sync-older-than`, or its `timeout`): the staleness alert would fire between two
    /// healthy syncs. Raise `stale-after`, or leave it out to derive it from the schedules.
    StaleBoundTooShort,
    /// Two kinds of pods in one namespace (Airbyte and Airflow sharing a namespace, or the
    /// ingress controller, DNS or Prometheus pods inside an owned one) carry labels such that the
    /// pod selector airguard uses for one also matches the other: a policy or peer meant for one
    /// would also apply to the other, so the components would no longer be isolated from each
    /// other. Give the pods labels that tell them apart (for example a distinct `release`, or
    /// more specific `pod-labels`), or run them in separate namespaces.
    OverlappingSelectors,
    /// `dns` names DNS pods (`namespace`, `pod-labels`) and DNS addresses (`cidrs`) at once.
    /// Give one of the two: `cidrs` for NodeLocal DNSCache (`169.254.20.10/32`) or DNS reached
    /// by address, the pods otherwise.
    DnsGivenBothWays,
    /// An external service Airbyte's pods must reach — `airbyte.database`, or `airbyte.storage`
    /// of type `s3`, `gcs` or `azure` — lists no `cidrs`. The rendered policies open exactly
    /// those networks from exactly the components that use the service (per chart line); without
    /// them, nothing could reach it. List the addresses it answers on (a managed database's
    /// subnet, the object store's ranges), or `0.0.0.0/0` with `allow-internet: true` and a
    /// `reason` for storage.
    ExternalServiceWithoutCidrs,
    /// `airbyte.storage` lacks what its `type` needs: the bucket names (`buckets`, for `s3`,
    /// `gcs` and `azure`), the `region` (`s3`), or its credentials — `access-key-id` and
    /// `secret-access-key` or `workload-identity: true` for `s3`, `credentials-json` for `gcs`,
    /// `connection-string` for `azure` — or it sets credentials of another type.
    IncompleteStorage,
    /// The spec sets something the chart line it names (`airbyte.chart`) cannot express in its
    /// values: `buckets.audit-logging` exists only in chart V2, and neither chart line has a workload-identity setting for GCS or Azure storage (they read a
    /// key or connection string from a Secret). Remove the key or change the chart line.
    UnsupportedByChart,

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
    // ---- conform: server responses --------------------------------------------------------------
    /// The Airbyte API answered with a redirect (3xx). `conform` never follows one: a redirect
    /// could carry the credentials, the token request's client secret or a job trigger to
    /// another host, or turn a `POST` into a `GET`. The message names the request URL and the
    /// `Location`; point `--api-url` (or `airbyte.api.token-url`) at the final address.
    RedirectRefused,
    /// A response body is larger than `conform` reads (8 MiB), announced by `Content-Length` or
    /// found while streaming. Reading stops there; no Airbyte API response comes near it.
    ResponseTooLarge,
    /// A JSON object in a response repeats a key (`{"status":"failed","status":"succeeded"}`).
    /// Parsers disagree on which one counts, so `conform` fails the step instead of guessing.
    DuplicateJsonKey,
    /// A job read while waiting belongs to another connection than the one the step triggered
    /// (public `connectionId`, Config API `configId`); the step fails instead of trusting it.
    JobConnectionMismatch,
    /// A step with `after: C` could not run because no step on `C` passed before it (that step
    /// was skipped, or comes later). The step fails, so a pipeline whose step never ran does
    /// not pass. (When the step on `C` failed, the dependent step is reported skipped.)
    StepBlocked,

    // ---- mock -------------------------------------------------------------------------------------
    /// A mock scenario file (`airguard mock serve --scenario`) does not match the scenario format:
    /// an unknown key (the format is closed), a wrong type, an unknown value, a bad duration, a
    /// connection, workspace, source or destination id that is not a UUID or is listed twice, zero `attempts`, or a fault status
    /// that is not 4xx/5xx. The help names what is allowed there; `docs/mock.md` describes
    /// the format.
    InvalidScenario,

    // ---- export ---------------------------------------------------------------------------------
    /// `export` could not read Airbyte's configuration: the API is unreachable, refused the
    /// credentials, answered 403 for a workspace, failed after retries, or answered something
    /// that is not a public API list response. Nothing was written (an earlier export is kept).
    ExportApiError,
    /// A list of the public API never ends: a `next` link repeats, does not move `offset` forward,
    /// follows an empty page, or there are more than 10 000 pages. `export` stops instead of
    /// reading forever; nothing was written. The server's paging is broken.
    ExportEndlessList,
    /// The API returned a value in the clear under a key that names a credential (`password`,
    /// `secret`, `token`, `key`, `credentials`, … see `docs/export.md`). The export wrote
    /// `**********` instead and lists the place (never the value) in `index.yaml`. Mark the field
    /// secret in the connector's spec, and rotate the credential if others can read the API.
    ExportUnmaskedSecret,
    /// Two objects of one kind in one workspace (or two workspaces) have names that give the same
    /// file name. Each gets its id appended (`orders--7c2b1e4a.yaml`), so no file depends on the
    /// order the API listed them in; renaming them in Airbyte gives stable file names.
    ExportDuplicateName,
    /// With `--spec`: a connection the spec names does not exist in Airbyte (or the credentials
    /// cannot see its workspace). Every pipeline step on it fails.
    ExportConnectionMissing,
    /// With `--spec`: a connection the spec names exists but is not `active` (inactive,
    /// deprecated or locked), so Airbyte refuses its syncs.
    ExportConnectionInactive,
    /// With `--spec`: a pipeline syncs a connection that Airbyte also schedules itself (`cron` or
    /// `basic`), so the data syncs twice and the two runs collide (409). Set the connection's
    /// schedule to `manual` when Airflow orchestrates it.
    ExportDoubleSchedule,
    /// With `--spec`: a connection exists in Airbyte that no spec names; nothing orchestrates or
    /// checks it. A note: it may be run by hand on purpose.
    ExportUnmanagedConnection,
    /// With `--spec`: a pipeline resets (or clears) a connection whose streams are all
    /// `full_refresh_overwrite`; every sync replaces the data anyway, so the reset only costs a job.
    ExportNeedlessReset,
}

impl Code {
    /// The severity a diagnostic with this code starts with.
    pub fn default_severity(self) -> Severity {
        match self {
            Code::UnconditionedClusterStore
            | Code::ApiUrlOutsideCluster
            | Code::AllPortsEgress
            | Code::AirflowConnectionWithoutCredentials => Severity::Warning,
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
            Code::ExportUnmaskedSecret | Code::ExportDoubleSchedule => Severity::Warning,
            Code::ExportDuplicateName
            | Code::ExportUnmanagedConnection
            | Code::ExportNeedlessReset => Severity::Note,
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

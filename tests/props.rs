//! Property tests: random valid specs load, render, and render to the same bytes twice; random
//! and mutated YAML, arbitrary YAML trees and arbitrary bytes never panic, and every diagnostic
//! points into the file (or, when showing the line would print credentials, names its path).

use airguard::diag::{self, Files};
use airguard::spec::raw::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9]{0,8}"
}

fn cidr() -> impl Strategy<Value = String> {
    (any::<u32>(), 8u8..=32).prop_map(|(ip, len)| {
        let net = ipnet::Ipv4Net::new(std::net::Ipv4Addr::from(ip), len)
            .unwrap()
            .trunc();
        net.to_string()
    })
}

fn ports() -> impl Strategy<Value = Vec<PortSpec>> {
    prop::collection::vec(
        prop_oneof![
            (1i64..=65535).prop_map(PortSpec::Single),
            (1i64..=60000, 0i64..100)
                .prop_map(|(a, d)| PortSpec::Range(PortRange { from: a, to: a + d })),
        ],
        1..4,
    )
}

fn egress_list(max: usize) -> impl Strategy<Value = Vec<EgressRule>> {
    prop::collection::vec((cidr(), ports(), prop::bool::ANY), 0..max).prop_map(|rules| {
        rules
            .into_iter()
            .enumerate()
            .map(|(i, (cidr, ports, udp))| EgressRule {
                name: format!("dest-{i}"),
                cidr,
                except: Vec::new(),
                ports,
                protocol: if udp { Protocol::Udp } else { Protocol::Tcp },
                allow_internet: false,
                reason: None,
            })
            .collect()
    })
}

fn provider() -> impl Strategy<Value = Provider> {
    let sa = || ServiceAccountRef {
        name: "eso".into(),
        namespace: Some("external-secrets".into()),
    };
    prop_oneof![
        Just(Provider::Vault(VaultProvider {
            server: "https://vault.example.com:8200".into(),
            path: "secret".into(),
            version: VaultKvVersion::V2,
            namespace: None,
            ca_bundle: None,
            ca_provider: None,
            auth: VaultAuth::Kubernetes {
                mount_path: "kubernetes".into(),
                role: "eso".into(),
                service_account: Some(sa())
            },
        })),
        Just(Provider::Aws(AwsProvider {
            service: AwsService::SecretsManager,
            region: "eu-west-1".into(),
            role: None,
            external_id: None,
            additional_roles: Vec::new(),
            prefix: None,
            auth: Some(AwsAuth::Jwt {
                service_account: sa()
            }),
        })),
        Just(Provider::Aws(AwsProvider {
            service: AwsService::ParameterStore,
            region: "eu-west-1".into(),
            role: Some("arn:aws:iam::123456789012:role/eso".into()),
            external_id: Some("platform".into()),
            additional_roles: vec!["arn:aws:iam::210987654321:role/hop".into()],
            prefix: Some("prod/".into()),
            auth: None,
        })),
        Just(Provider::Vault(VaultProvider {
            server: "https://vault.example.com:8200".into(),
            path: "secret".into(),
            version: VaultKvVersion::V2,
            namespace: None,
            ca_bundle: None,
            ca_provider: Some(VaultCaProvider {
                kind: CaProviderKind::ConfigMap,
                name: "vault-ca".into(),
                key: "ca.pem".into(),
                namespace: Some("external-secrets".into()),
            }),
            auth: VaultAuth::Cert {
                path: "cert".into(),
                role: None,
                client_cert: SecretKeyRef { name: "vault-client".into(), key: "tls.crt".into(), namespace: Some("external-secrets".into()) },
                secret_ref: SecretKeyRef { name: "vault-client".into(), key: "tls.key".into(), namespace: Some("external-secrets".into()) },
            },
        })),
        Just(Provider::Azurekv(AzureProvider {
            vault_url: "https://kv.vault.azure.net".into(),
            auth_type: AzureAuthType::WorkloadIdentity,
            tenant_id: None,
            service_account: Some(sa()),
            identity_id: None,
            client_id: None,
            client_secret: None,
            environment_type: Some(AzureEnvironment::UsGovernmentCloud),
        })),
        Just(Provider::Gcpsm(GcpProvider {
            project_id: "proj".into(),
            location: None,
            auth: None
        })),
        Just(Provider::Gcpsm(GcpProvider {
            project_id: "proj".into(),
            location: None,
            auth: Some(GcpAuth::WorkloadIdentityFederation {
                audience: Some("//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/k".into()),
                service_account: Some(sa()),
                cred_config: None,
                aws_security_credentials: None,
                external_token_endpoint: None,
                gcp_service_account_email: None,
            }),
        })),
    ]
}

/// `airbyte.database` on an external PostgreSQL reached at `cidrs`.
fn external_database(cidrs: Vec<String>) -> AirbyteDatabase {
    AirbyteDatabase {
        host: "db.example.internal".into(),
        port: 5432,
        name: "airbyte".into(),
        cidrs,
        user: "platform/db#user".into(),
        password: "platform/db#password".into(),
    }
}

/// `airbyte.storage` of kind 1 (S3 with keys), 2 (S3 with workload identity), 3 (GCS) or else
/// Azure, reached at `cidrs` on 443.
fn external_storage(kind: u8, cidrs: Vec<String>) -> AirbyteStorage {
    let creds = |a: Option<&str>, s: Option<&str>, j: Option<&str>, c: Option<&str>| {
        Some(StorageCredentials {
            access_key_id: a.map(Into::into),
            secret_access_key: s.map(Into::into),
            credentials_json: j.map(Into::into),
            connection_string: c.map(Into::into),
        })
    };
    AirbyteStorage {
        kind: match kind {
            1 | 2 => StorageKind::S3,
            3 => StorageKind::Gcs,
            _ => StorageKind::Azure,
        },
        buckets: Some(StorageBuckets {
            log: "logs".into(),
            state: "state".into(),
            workload_output: "out".into(),
            activity_payload: None,
            audit_logging: None,
        }),
        region: (kind <= 2).then(|| "eu-west-1".into()),
        credentials: match kind {
            1 => creds(
                Some("platform/s3#id"),
                Some("platform/s3#secret"),
                None,
                None,
            ),
            2 => None,
            3 => creds(None, None, Some("platform/gcs#key"), None),
            _ => creds(None, None, None, Some("platform/azure#conn")),
        },
        workload_identity: kind == 2,
        cidrs,
        ports: vec![PortSpec::Single(443)],
        allow_internet: false,
        reason: None,
    }
}

/// The networks of an external service: one drawn CIDR, or a drawn CIDR split into its two
/// adjacent halves (which the audit must see as one declared range).
fn service_cidrs() -> impl Strategy<Value = Vec<String>> {
    (cidr(), prop::bool::ANY).prop_map(|(c, split)| {
        let net: ipnet::Ipv4Net = c.parse().unwrap();
        match net.subnets(net.prefix_len() + 1) {
            Ok(halves) if split => halves.map(|h| h.to_string()).collect(),
            _ => vec![c],
        }
    })
}

prop_compose! {
    pub fn spec()(
        ab_ns in name(), af_ns in name(), chart in prop::bool::ANY, minor in 0u32..10,
        executor in prop_oneof![Just(Executor::Celery), Just(Executor::Kubernetes), Just(Executor::Local)],
        egress in egress_list(6), registry in egress_list(2), k8s in prop::collection::vec(cidr(), 1..3),
        provider in provider(), cluster in prop::bool::ANY, n_conns in 0usize..6, pgbouncer in prop::bool::ANY,
        ingress in prop::bool::ANY, dns_port in prop_oneof![Just(53i64), Just(5353i64)],
        ext_db in prop::bool::ANY, storage_kind in 0u8..5, db_cidr in cidr(),
        airflow_db in prop::option::of(prop::collection::vec(cidr(), 1..3)), airflow_keys in prop::bool::ANY,
    ) -> RawSpec {
        // Production layouts: an external database and S3 (keys or workload identity), GCS or
        // Azure storage; their credentials replace `secrets.postgres` / `secrets.minio`.
        let database = ext_db.then(|| external_database(vec![db_cidr]));
        let storage = (storage_kind > 0).then(|| external_storage(storage_kind, vec!["52.218.0.0/17".into()]));
        let connections: Vec<Connection> = (0..n_conns)
            .map(|i| Connection { name: format!("conn{i}"), id: format!("00000000-0000-4000-8000-{i:012}"), min_records: Some(i as u64) })
            .collect();
        let pipelines = if n_conns >= 2 {
            vec![Pipeline { name: "chain".into(), steps: vec![
                Step::Keyword(StepKeyword::Health),
                Step::Action(Box::new(StepAction { sync: Some("conn0".into()), ..Default::default() })),
                Step::Action(Box::new(StepAction { sync: Some("conn1".into()), after: Some("conn0".into()), ..Default::default() })),
            ], schedule: None, start_date: None, tags: Vec::new(), owner: None, retries: None }]
        } else { Vec::new() };
        let callers = if executor == Executor::Local { vec![AirflowComponent::Scheduler, AirflowComponent::Triggerer] } else { vec![AirflowComponent::Worker, AirflowComponent::Triggerer] };
        RawSpec {
            version: 1,
            platform: Platform { name: "platform".into() },
            airbyte: Airbyte {
                namespace: format!("ab-{ab_ns}"),
                release: "airbyte".into(),
                chart: if chart { ChartProfile::V2 } else { ChartProfile::V1 },
                chart_version: Some(if chart { format!("2.0.{minor}") } else { format!("1.{minor}.0") }),
                jobs_namespace: None,
                api: AirbyteApi { url: format!("http://airbyte-airbyte-server-svc.ab-{ab_ns}:8001"), flavour: ApiFlavour::Public, base_path: None, auth: AuthKind::ClientCredentials, token_url: None },
                secret_persistence: SecretPersistence::ConfigDb,
                egress,
                registry_egress: registry,
                kubernetes_api: KubernetesApi { cidrs: { let mut k = k8s; k.sort(); k.dedup(); k }, ports: vec![PortSpec::Single(443)], allow_internet: false, reason: None },
                database: database.clone(),
                storage: storage.clone(),
            },
            airflow: Airflow {
                namespace: format!("af-{af_ns}"),
                release: "airflow".into(),
                executor,
                connection_id: "airbyte_default".into(),
                callers,
                connection_timeout: (n_conns % 2 == 1).then(|| "45s".into()),
                all_components: false,
                pgbouncer,
                database: match airflow_db {
                    None => AirflowDatabase::InCluster,
                    Some(cidrs) => AirflowDatabase::External(ExternalAirflowDatabase {
                        host: Some("airflow-db.example.com".into()),
                        port: 5432,
                        cidrs: { let mut c = cidrs; c.sort(); c.dedup(); c },
                        connection: "platform/airflow-db#connection".into(),
                        pgbouncer_config: pgbouncer.then(|| PgbouncerConfig {
                            ini: "platform/pgbouncer#ini".into(),
                            users: "platform/pgbouncer#users".into(),
                            stats_connection: "platform/pgbouncer#stats".into(),
                        }),
                        allow_internet: false,
                        reason: None,
                    }),
                },
            },
            ingress: ingress.then(|| Ingress { namespace: "ingress-nginx".into(), pod_labels: BTreeMap::from([("app.kubernetes.io/name".into(), "ingress-nginx".into())]), airflow_ui: true }),
            dns: Dns { namespace: Some("kube-system".into()), pod_labels: Some(BTreeMap::from([("k8s-app".into(), "kube-dns".into())])), cidrs: None, port: dns_port },
            secrets: Secrets {
                store: Store {
                    kind: if cluster { StoreKind::ClusterSecretStore } else { StoreKind::SecretStore },
                    name: "backend".into(),
                    conditions: if cluster { vec![StoreCondition { namespaces: vec![format!("ab-{ab_ns}"), format!("af-{af_ns}")], namespace_labels: BTreeMap::new() }] } else { Vec::new() },
                    provider,
                },
                refresh_interval: "1h".into(),
                refresh_policy: RefreshPolicy::Periodic,
                creation_policy: CreationPolicy::Owner,
                deletion_policy: DeletionPolicy::Retain,
                airflow: airflow_keys.then(|| AirflowKeys {
                    fernet_key: Some("platform/airflow#fernet".into()),
                    api_secret_key: Some("platform/airflow#api".into()),
                    jwt_secret: Some("platform/airflow#jwt".into()),
                }),
                airbyte: Some(AirbyteCredentials { client_id: Some("platform/airbyte#client_id".into()), client_secret: Some("platform/airbyte#client_secret".into()), token: None }),
                postgres: database.is_none().then(|| PasswordRef { password: "platform/db#password".into(), user: Some("platform/db#user".into()) }),
                minio: storage.is_none().then(|| MinioCredentials { user: None, password: "platform/minio#password".into() }),
            },
            connections,
            observability: (!pipelines.is_empty() && pgbouncer).then(|| Observability {
                prometheus: PrometheusSettings { namespace: "monitoring".into(), pod_labels: BTreeMap::from([("app.kubernetes.io/name".into(), "prometheus".into())]), rule_labels: BTreeMap::new() },
                grafana: Some(GrafanaSettings { namespace: "monitoring".into(), dashboard_labels: BTreeMap::from([("grafana_dashboard".into(), "1".into())]) }),
                alerts: AlertSettings::default(),
            }),
            pipelines,
            notify: None,
            dags: None,
        }
    }
}

/// Where a kind of pods airguard does not manage (the ingress controller, DNS) runs.
#[derive(Clone, Copy, Debug)]
pub enum Place {
    /// Its own namespace.
    Own,
    /// Inside Airbyte's namespace.
    Airbyte,
    /// Inside Airflow's namespace.
    Airflow,
}

/// One production-layout option. Each is one arm of [`layout_option`] and rewrites a spec from
/// [`spec`] in [`LayoutOption::apply`]; a new option is one more variant and one more arm.
#[derive(Clone, Debug)]
pub enum LayoutOption {
    /// Airflow in Airbyte's namespace.
    SharedNamespace,
    /// Connector job pods in their own namespace.
    JobsNamespace,
    /// The ingress controller, with these pod labels, at this place.
    Ingress(Place, BTreeMap<String, String>),
    /// The DNS pods, with these pod labels, at this place.
    DnsPods(Place, BTreeMap<String, String>),
    /// DNS by address (NodeLocal DNSCache or DNS outside the pod network).
    DnsByAddress(Vec<String>),
    /// Airbyte on an external database at these networks.
    ExternalDatabase(Vec<String>),
    /// Airbyte's storage on S3 (keys or workload identity), GCS or Azure (see
    /// [`external_storage`]) at these networks.
    ExternalStorage(u8, Vec<String>),
    /// Connector egress to a network declared as two rules, one per adjacent half, on the same
    /// ports (the policies allow the halves as one range).
    AdjacentEgress(Vec<String>, Vec<PortSpec>),
}

/// Pod labels drawn from a pool that mixes neutral labels with the ones the charts put on their
/// pods, so that a drawn selector may match chart pods sharing its namespace (which the spec
/// must then reject with `overlapping-selectors`).
fn pod_labels() -> impl Strategy<Value = BTreeMap<String, String>> {
    let pool = prop::sample::select(vec![
        ("app.kubernetes.io/name", "ingress-nginx"),
        ("app.kubernetes.io/component", "controller"),
        ("k8s-app", "kube-dns"),
        ("app.kubernetes.io/instance", "airbyte"),
        ("app.kubernetes.io/instance", "airflow"),
        ("airbyte", "server"),
        ("tier", "airflow"),
        ("release", "airflow"),
        ("component", "scheduler"),
    ]);
    prop::collection::vec(pool, 1..3).prop_map(|v| {
        v.into_iter()
            .map(|(k, val)| (k.to_string(), val.to_string()))
            .collect()
    })
}

fn place() -> impl Strategy<Value = Place> {
    prop_oneof![Just(Place::Own), Just(Place::Airbyte), Just(Place::Airflow)]
}

/// One layout option (see [`LayoutOption`]).
pub fn layout_option() -> impl Strategy<Value = LayoutOption> {
    prop_oneof![
        Just(LayoutOption::SharedNamespace),
        Just(LayoutOption::JobsNamespace),
        (place(), pod_labels()).prop_map(|(p, l)| LayoutOption::Ingress(p, l)),
        (place(), pod_labels()).prop_map(|(p, l)| LayoutOption::DnsPods(p, l)),
        prop::collection::vec(cidr(), 1..3).prop_map(LayoutOption::DnsByAddress),
        service_cidrs().prop_map(LayoutOption::ExternalDatabase),
        (1u8..5, service_cidrs()).prop_map(|(k, c)| LayoutOption::ExternalStorage(k, c)),
        (service_cidrs(), ports()).prop_map(|(c, p)| LayoutOption::AdjacentEgress(c, p)),
    ]
}

impl LayoutOption {
    /// Rewrite a spec for this option; later options win where two set the same key.
    pub fn apply(&self, s: &mut RawSpec) {
        let at = |s: &RawSpec, p: Place, own: &str| match p {
            Place::Own => own.to_string(),
            Place::Airbyte => s.airbyte.namespace.clone(),
            Place::Airflow => s.airflow.namespace.clone(),
        };
        match self {
            LayoutOption::SharedNamespace => s.airflow.namespace = s.airbyte.namespace.clone(),
            LayoutOption::JobsNamespace => {
                s.airbyte.jobs_namespace = Some(format!("{}-jobs", s.airbyte.namespace))
            }
            LayoutOption::Ingress(p, labels) => {
                s.ingress = Some(Ingress {
                    namespace: at(s, *p, "ingress-nginx"),
                    pod_labels: labels.clone(),
                    airflow_ui: true,
                })
            }
            LayoutOption::DnsPods(p, labels) => {
                s.dns = Dns {
                    namespace: Some(at(s, *p, "kube-system")),
                    pod_labels: Some(labels.clone()),
                    cidrs: None,
                    port: s.dns.port,
                }
            }
            LayoutOption::DnsByAddress(cidrs) => {
                let mut c = cidrs.clone();
                c.sort();
                c.dedup();
                s.dns = Dns {
                    namespace: None,
                    pod_labels: None,
                    cidrs: Some(c),
                    port: s.dns.port,
                }
            }
            LayoutOption::ExternalDatabase(cidrs) => {
                s.airbyte.database = Some(external_database(cidrs.clone()));
                s.secrets.postgres = None;
            }
            LayoutOption::ExternalStorage(kind, cidrs) => {
                s.airbyte.storage = Some(external_storage(*kind, cidrs.clone()));
                s.secrets.minio = None;
            }
            LayoutOption::AdjacentEgress(cidrs, ports) => {
                for cidr in cidrs {
                    s.airbyte.egress.push(EgressRule {
                        name: format!("half-{}", s.airbyte.egress.len()),
                        cidr: cidr.clone(),
                        except: Vec::new(),
                        ports: ports.clone(),
                        protocol: Protocol::Tcp,
                        allow_internet: false,
                        reason: None,
                    });
                }
            }
        }
    }
}

/// A spec from [`spec`] rewritten by a few layout options, in order. A ClusterSecretStore's
/// conditions follow the namespaces the options leave.
pub fn layout_spec() -> impl Strategy<Value = (RawSpec, Vec<LayoutOption>)> {
    (spec(), prop::collection::vec(layout_option(), 0..4)).prop_map(|(mut s, options)| {
        for o in &options {
            o.apply(&mut s);
        }
        if !s.secrets.store.conditions.is_empty() {
            let mut ns = vec![s.airbyte.namespace.clone(), s.airflow.namespace.clone()];
            ns.dedup();
            s.secrets.store.conditions = vec![StoreCondition {
                namespaces: ns,
                namespace_labels: BTreeMap::new(),
            }];
        }
        (s, options)
    })
}

fn load(text: &str) -> (Files, Option<airguard::spec::Model>, Vec<diag::Diagnostic>) {
    let mut files = Files::new();
    let (m, d) = airguard::spec::from_str(&mut files, "spec.yaml", text);
    (files, m, d)
}

/// Every diagnostic is located: a label inside its file, or (when the line would show
/// credentials) a JSON pointer.
fn assert_located(files: &Files, diags: &[diag::Diagnostic]) -> Result<(), TestCaseError> {
    for d in diags {
        match &d.label {
            Some(label) => {
                let len = files.source(label.file).len();
                prop_assert!(
                    label.range.start <= label.range.end && label.range.end <= len,
                    "out of the file: {:?}",
                    d
                );
            }
            None => prop_assert!(d.path.is_some(), "unlocated: {:?}", d),
        }
    }
    Ok(())
}

/// Plain scalars, including every kind YAML 1.1 and 1.2 read differently.
fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "yes",
            "No",
            "on",
            "OFF",
            "y",
            "n",
            "True",
            "false",
            "~",
            "null",
            "012",
            "0o17",
            "0b11",
            "1_000",
            "1:30",
            "0x1F",
            "1e3",
            "2.10",
            "-1",
            "65536",
            "0.0.0.0/0",
            "10.0.0.1/32",
            "v2",
            "v1",
            "local",
            "public",
            "config",
            "basic",
            "bearer",
            "1h",
            "airbyte",
            "airflow",
            "health",
            "\"quoted\"",
            "'single'",
            "\"\\u2028\"",
        ])
        .prop_map(str::to_string),
        "[a-z][a-z0-9-]{0,10}",
    ]
}

/// Keys of the spec, and a few that are not.
fn key() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "version",
        "platform",
        "name",
        "airbyte",
        "namespace",
        "release",
        "chart",
        "chart-version",
        "api",
        "url",
        "flavour",
        "auth",
        "token-url",
        "base-path",
        "egress",
        "cidr",
        "ports",
        "except",
        "allow-internet",
        "reason",
        "kubernetes-api",
        "cidrs",
        "airflow",
        "executor",
        "callers",
        "connection-id",
        "dns",
        "pod-labels",
        "port",
        "secrets",
        "store",
        "kind",
        "provider",
        "vault",
        "connections",
        "id",
        "pipelines",
        "steps",
        "sync",
        "after",
        "on",
        "yes",
        "1",
        "012",
        "~",
    ])
    .prop_map(str::to_string)
}

/// Arbitrary YAML trees in flow style, whose top level is usually a mapping.
fn yaml_tree() -> impl Strategy<Value = String> {
    let leaf = scalar();
    let tree = leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(|v| format!("[{}]", v.join(", "))),
            prop::collection::vec((key(), inner), 0..6).prop_map(|kv| {
                let items: Vec<String> = kv.into_iter().map(|(k, v)| format!("{k}: {v}")).collect();
                format!("{{{}}}", items.join(", "))
            }),
        ]
    });
    prop::collection::vec((key(), tree), 0..8).prop_map(|kv| {
        kv.into_iter()
            .map(|(k, v)| format!("{k}: {v}\n"))
            .collect::<String>()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_and_diagnostics_are_located(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
    ) {
        let mut files = Files::new();
        let (model, diags) = airguard::spec::from_bytes(&mut files, "spec.yaml", &bytes);
        prop_assert!(model.is_some() || diag::has_errors(&diags));
        assert_located(&files, &diags)?;
    }

    #[test]
    fn arbitrary_yaml_never_panics_and_diagnostics_are_located(text in yaml_tree()) {
        let (files, model, diags) = load(&text);
        prop_assert!(model.is_some() || diag::has_errors(&diags));
        assert_located(&files, &diags)?;
    }

    #[test]
    fn starter_spec_with_any_plain_scalar_never_panics_and_is_located(
        line in 0usize..200, value in scalar(),
    ) {
        // Replace one `key: value` line's value of the starter spec with any plain scalar.
        let base = airguard::cli::init::STARTER_SPEC;
        let lines: Vec<&str> = base.lines().collect();
        let i = line % lines.len();
        let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        if let Some((k, _)) = lines[i].split_once(": ") {
            if !k.trim_start().starts_with('#') {
                out[i] = format!("{k}: {value}");
            }
        }
        let (files, _, diags) = load(&(out.join("\n") + "\n"));
        assert_located(&files, &diags)?;
    }

    #[test]
    fn random_valid_specs_render_deterministically(spec in spec()) {
        let text = serde_saphyr::to_string(&spec).unwrap();
        let (files, model, diags) = load(&text);
        let model = model.unwrap_or_else(|| panic!("{}\n{text}", diag::render::human(&files, &diags, false)));
        let a = airguard::render::render(&model).unwrap();
        let b = airguard::render::render(&model).unwrap();
        prop_assert_eq!(&a, &b);
        prop_assert!(!a.is_empty());
    }

    #[test]
    fn mutated_yaml_never_panics_and_errors_are_located(
        cut in 0usize..4000, len in 0usize..40, junk in "[ :\\-\\[\\]{}#'\"a-z0-9\\n\\t]{0,12}",
    ) {
        let base = airguard::cli::init::STARTER_SPEC;
        let floor = |mut i: usize| { while !base.is_char_boundary(i) { i -= 1; } i };
        let start = floor(cut.min(base.len()));
        let end = floor((start + len).min(base.len()));
        let text = format!("{}{}{}", &base[..start], junk, &base[end..]);
        let (files, model, diags) = load(&text);
        prop_assert!(model.is_some() || diag::has_errors(&diags));
        assert_located(&files, &diags)?;
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let (files, _, diags) = load(&text);
        assert_located(&files, &diags)?;
    }
}

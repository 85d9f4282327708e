//! Unit tests of the topology: labels per chart line, flows per executor, ids and selectors.

use super::*;
use crate::spec::model::*;
use std::time::Duration;

fn egress(name: &str, cidr: &str, ports: &[u16], origin: &str) -> Egress {
    Egress {
        name: name.into(),
        cidrs: vec![cidr.parse().unwrap()],
        except: vec![],
        ports: ports.iter().map(|p| PortRange::single(*p)).collect(),
        protocol: Protocol::Tcp,
        reason: None,
        origin: origin.into(),
    }
}

/// A model equal to `templates/airguard.yaml` in everything topology reads.
pub(crate) fn example_model() -> Model {
    Model {
        platform: "data-platform".into(),
        airbyte: Airbyte {
            namespace: "airbyte".into(),
            release: "airbyte".into(),
            chart: ChartProfile::V2,
            chart_version: Some("2.0.19".into()),
            ui: UiComponent::Server,
            jobs_namespace: "airbyte".into(),
            api: Api {
                url: "http://airbyte-airbyte-server-svc.airbyte.svc.cluster.local:8001".into(),
                flavour: ApiFlavour::Public,
                base_path: "/api/public/v1".into(),
                auth: AuthKind::ClientCredentials,
                token_url: "applications/token".into(),
                host: "airbyte-airbyte-server-svc.airbyte.svc.cluster.local".into(),
                port: 8001,
            },
            secret_persistence: SecretPersistence::ConfigDb,
            egress: vec![
                egress("orders-db", "10.20.0.0/16", &[5432], "/airbyte/egress/0"),
                egress("warehouse", "203.0.113.0/24", &[443], "/airbyte/egress/1"),
            ],
            registry_egress: vec![egress(
                "connector-registry",
                "198.51.100.0/24",
                &[443],
                "/airbyte/registry-egress/0",
            )],
            kubernetes_api: Egress {
                name: "kubernetes-api".into(),
                cidrs: vec![
                    "10.96.0.1/32".parse().unwrap(),
                    "172.20.0.10/32".parse().unwrap(),
                ],
                except: vec![],
                ports: vec![PortRange::single(443), PortRange::single(6443)],
                protocol: Protocol::Tcp,
                reason: None,
                origin: "/airbyte/kubernetes-api".into(),
            },
            database: None,
            storage: None,
        },
        airflow: Airflow {
            namespace: "airflow".into(),
            release: "airflow".into(),
            executor: Executor::Celery,
            connection_id: "airbyte_default".into(),
            callers: [AirflowComponent::Worker, AirflowComponent::Triggerer]
                .into_iter()
                .collect(),
            connection_timeout: None,
            all_components: false,
            pgbouncer: false,
            external_database: None,
            database_host: None,
            metadata_connection: None,
            pgbouncer_config: None,
        },
        ingress: Some(Ingress {
            namespace: "ingress-nginx".into(),
            pod_labels: [(
                "app.kubernetes.io/name".to_string(),
                "ingress-nginx".to_string(),
            )]
            .into(),
            airflow_ui: false,
        }),
        dns: Dns {
            namespace: "kube-system".into(),
            pod_labels: [("k8s-app".to_string(), "kube-dns".to_string())].into(),
            cidrs: vec![],
            port: 53,
        },
        secrets: Secrets {
            store: Store {
                kind: StoreKind::ClusterSecretStore,
                name: "vault-backend".into(),
                conditions: vec![],
                provider: Provider::Gcpsm(crate::spec::model::GcpProvider {
                    project_id: "p".into(),
                    location: None,
                    auth: None,
                }),
            },
            refresh_interval: Duration::from_secs(3600),
            refresh_policy: RefreshPolicy::Periodic,
            creation_policy: CreationPolicy::Owner,
            deletion_policy: DeletionPolicy::Retain,
            airbyte_client_id: None,
            airbyte_client_secret: None,
            airbyte_token: None,
            postgres_password: None,
            postgres_user: None,
            minio_user: None,
            minio_password: None,
            airflow_fernet_key: None,
            airflow_api_secret_key: None,
            airflow_jwt_secret: None,
        },
        connections: vec![],
        pipelines: vec![],
        dags: Default::default(),
        observability: None,
    }
}

fn labels(t: &Topology, id: &str) -> Vec<(String, String)> {
    t.endpoint(id)
        .unwrap_or_else(|| panic!("no {id}"))
        .labels
        .clone()
        .into_iter()
        .collect()
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn flow<'a>(t: &'a Topology, id: &str) -> Option<&'a Flow> {
    t.flows.iter().find(|f| f.id == id)
}

#[test]
fn v2_labels_use_the_airbyte_component_label() {
    let t = Topology::from_model(&example_model());
    assert_eq!(
        labels(&t, "airbyte-server"),
        pairs(&[
            ("airbyte", "server"),
            ("app.kubernetes.io/instance", "airbyte")
        ])
    );
    assert_eq!(
        labels(&t, "airbyte-bootloader"),
        pairs(&[
            ("airbyte", "bootloader"),
            ("app.kubernetes.io/instance", "airbyte")
        ])
    );
    assert_eq!(
        labels(&t, "airbyte-db"),
        pairs(&[
            ("app.kubernetes.io/instance", "airbyte"),
            ("app.kubernetes.io/name", "airbyte-db")
        ])
    );
    assert_eq!(
        labels(&t, "airbyte-job-pod"),
        pairs(&[("airbyte", "job-pod")])
    );
    assert_eq!(
        labels(&t, "airflow-worker"),
        pairs(&[
            ("component", "worker"),
            ("release", "airflow"),
            ("tier", "airflow")
        ])
    );
    assert!(t.endpoint("airbyte-webapp").is_none());
}

#[test]
fn v1_labels_use_subchart_names() {
    let mut m = example_model();
    m.airbyte.chart = ChartProfile::V1;
    m.airbyte.release = "ab".into();
    let t = Topology::from_model(&m);
    assert_eq!(
        labels(&t, "airbyte-server"),
        pairs(&[
            ("app.kubernetes.io/instance", "ab"),
            ("app.kubernetes.io/name", "server")
        ])
    );
    assert_eq!(
        labels(&t, "airbyte-bootloader"),
        pairs(&[
            ("app.kubernetes.io/instance", "ab"),
            ("app.kubernetes.io/name", "airbyte-bootloader")
        ])
    );
    assert_eq!(
        labels(&t, "airbyte-minio"),
        pairs(&[("app.kubernetes.io/name", "ab-minio")])
    );
    // V1 only: the workload-api-server calls the server.
    assert!(flow(&t, "airbyte-workload-api-server.airbyte-server").is_some());
    assert!(flow(
        &Topology::from_model(&example_model()),
        "airbyte-workload-api-server.airbyte-server"
    )
    .is_none());
}

#[test]
fn old_v1_serves_the_ui_from_the_webapp() {
    let mut m = example_model();
    m.airbyte.chart = ChartProfile::V1;
    m.airbyte.ui = UiComponent::Webapp;
    let t = Topology::from_model(&m);
    assert!(t.endpoint("airbyte-webapp").is_some());
    let f = flow(&t, "ingress-controller.airbyte-webapp").expect("ingress reaches the webapp");
    assert_eq!(f.ports, vec![FlowPort::tcp(8080)]);
    assert!(flow(&t, "ingress-controller.airbyte-server").is_none());
    assert!(flow(&t, "airbyte-webapp.airbyte-server").is_some());
}

#[test]
fn regression_v2_workload_api_server_reaches_the_in_cluster_minio() {
    // Chart v2's workload-api-server deployment includes `airbyte.storage.envs` (MINIO_ENDPOINT
    // for the in-cluster MinIO); chart v1's does not read storage.
    let t = Topology::from_model(&example_model());
    let f = flow(&t, "airbyte-workload-api-server.airbyte-minio").expect("v2 reads storage");
    assert_eq!(f.ports, vec![FlowPort::tcp(9000)]);
    assert!(f.origin.contains("MINIO_ENDPOINT"), "{}", f.origin);
    let mut m = example_model();
    m.airbyte.chart = ChartProfile::V1;
    m.airbyte.chart_version = Some("1.8.5".into());
    let t = Topology::from_model(&m);
    assert!(flow(&t, "airbyte-workload-api-server.airbyte-minio").is_none());
    assert!(flow(&t, "airbyte-worker.airbyte-minio").is_some());
}

#[test]
fn job_pods_reach_the_db_only_with_config_db_secrets() {
    let t = Topology::from_model(&example_model());
    let f = flow(&t, "airbyte-job-pod.airbyte-db")
        .expect("config-db: job pods read secrets from the db");
    assert_eq!(f.origin, "/airbyte/secret-persistence");
    let mut m = example_model();
    m.airbyte.secret_persistence = SecretPersistence::External;
    assert!(flow(&Topology::from_model(&m), "airbyte-job-pod.airbyte-db").is_none());
}

#[test]
fn job_pods_get_exactly_the_declared_egress() {
    let t = Topology::from_model(&example_model());
    let external: Vec<&str> = t
        .flows_from("airbyte-job-pod")
        .filter(|f| matches!(f.to, Target::External(_)))
        .map(|f| f.id.as_str())
        .collect();
    assert_eq!(
        external,
        [
            "airbyte-job-pod.egress-orders-db",
            "airbyte-job-pod.egress-warehouse"
        ]
    );
    assert_eq!(
        flow(&t, "airbyte-job-pod.egress-orders-db").unwrap().origin,
        "/airbyte/egress/0"
    );
}

#[test]
fn jobs_namespace_moves_job_pods() {
    let mut m = example_model();
    m.airbyte.jobs_namespace = "airbyte-jobs".into();
    let t = Topology::from_model(&m);
    assert_eq!(
        t.endpoint("airbyte-job-pod").unwrap().namespace,
        "airbyte-jobs"
    );
    assert_eq!(t.owned_namespaces(), ["airbyte", "airbyte-jobs", "airflow"]);
    assert_eq!(
        t.namespaces(),
        [
            "airbyte",
            "airbyte-jobs",
            "airflow",
            "ingress-nginx",
            "kube-system"
        ]
    );
}

#[test]
fn ids_are_unique_and_flows_name_known_endpoints() {
    for executor in [Executor::Celery, Executor::Kubernetes, Executor::Local] {
        for pgbouncer in [false, true] {
            let mut m = example_model();
            m.airflow.executor = executor;
            m.airflow.pgbouncer = pgbouncer;
            m.airflow.callers = [
                AirflowComponent::Worker,
                AirflowComponent::Scheduler,
                AirflowComponent::ApiServer,
            ]
            .into();
            let t = Topology::from_model(&m);
            let ids: BTreeSet<&str> = t.endpoints.iter().map(|e| e.id.as_str()).collect();
            assert_eq!(ids.len(), t.endpoints.len());
            let fids: BTreeSet<&str> = t.flows.iter().map(|f| f.id.as_str()).collect();
            assert_eq!(fids.len(), t.flows.len());
            for f in &t.flows {
                assert!(ids.contains(f.from.as_str()), "{}", f.id);
                if let Target::Endpoint(to) = &f.to {
                    assert!(ids.contains(to.as_str()), "{}", f.id);
                }
            }
        }
    }
}

#[test]
fn airflow_flows_follow_the_executor() {
    let t = Topology::from_model(&example_model());
    for id in [
        "airflow-worker.airflow-redis",
        "airflow-scheduler.airflow-redis",
        "airflow-worker.airflow-api-server",
        "airflow-triggerer.airflow-api-server",
        "airflow-api-server.airflow-worker",
        "airflow-api-server.airflow-triggerer",
        "airflow-worker.airbyte-server",
        "airflow-triggerer.airbyte-server",
        "airflow-scheduler.airflow-postgresql",
    ] {
        assert!(flow(&t, id).is_some(), "{id}");
    }
    let mut m = example_model();
    m.airflow.executor = Executor::Kubernetes;
    m.airflow.pgbouncer = true;
    let t = Topology::from_model(&m);
    assert!(t.endpoint("airflow-redis").is_none());
    assert!(flow(&t, "airflow-scheduler.kubernetes-api").is_some());
    assert!(flow(&t, "airflow-scheduler.airflow-pgbouncer").is_some());
    assert!(flow(&t, "airflow-pgbouncer.airflow-postgresql").is_some());
    assert!(flow(&t, "airflow-scheduler.airflow-postgresql").is_none());
    let mut m = example_model();
    m.airflow.executor = Executor::Local;
    let t = Topology::from_model(&m);
    assert!(t.endpoint("airflow-worker").is_none());
    assert!(
        flow(&t, "airflow-scheduler.airbyte-server").is_some(),
        "LocalExecutor tasks call from the scheduler"
    );
    assert!(flow(&t, "airflow-api-server.airflow-scheduler").is_some());
}

#[test]
fn endpoints_resolve_named_ports_and_selectors() {
    let t = Topology::from_model(&example_model());
    let api = t.endpoint("airflow-api-server").unwrap();
    assert_eq!(api.port("api-server").map(|p| p.port), Some(8080));
    assert!(api.port("http").is_none());
    let sel = |p: &[(&str, &str)]| -> BTreeMap<String, String> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    assert!(api.selected_by(&sel(&[("tier", "airflow")])));
    let server = t.endpoint("airbyte-server").unwrap();
    assert!(
        server.selected_by(&sel(&[("app.kubernetes.io/name", "server")])),
        "V2 pods carry it too"
    );
    assert!(!server.labels.contains_key("app.kubernetes.io/name"));
    assert!(api.selected_by(&sel(&[])));
    assert!(!api.selected_by(&sel(&[("component", "worker")])));
}

#[test]
fn the_builder_backend_follows_chart_line_and_version() {
    const MS: &str = "airbyte-manifest-server";
    const CBS: &str = "airbyte-connector-builder-server";
    // (chart, version, expected backend endpoint, fact the origin names)
    let cases = [
        (ChartProfile::V2, Some("2.0.19"), CBS, "2.0.x"),
        (ChartProfile::V2, Some("2.0.0"), CBS, "2.0.x"),
        (ChartProfile::V2, Some("2.1.3"), MS, "2.0.x only"),
        (ChartProfile::V2, Some("2.2.0"), MS, "2.2.0+"),
        (ChartProfile::V2, Some("3.0.1"), MS, "2.2.0+"),
        (
            ChartProfile::V2,
            None,
            MS,
            "no chart-version: assuming the newest v2",
        ),
        (ChartProfile::V1, Some("1.8.5"), CBS, "every v1"),
        (ChartProfile::V1, Some("1.5.0"), CBS, "every v1"),
        (
            ChartProfile::V1,
            None,
            CBS,
            "no chart-version: assuming the newest v1",
        ),
    ];
    for (chart, version, backend, fact) in cases {
        let mut m = example_model();
        m.airbyte.chart = chart;
        m.airbyte.chart_version = version.map(str::to_string);
        let t = Topology::from_model(&m);
        let other = if backend == MS { CBS } else { MS };
        let case = format!("{chart:?} {version:?}");
        let e = t
            .endpoint(backend)
            .unwrap_or_else(|| panic!("{case}: no {backend}"));
        assert!(t.endpoint(other).is_none(), "{case}: {other} too");
        assert_eq!(e.port("http").map(|p| p.port), Some(8080), "{case}");
        assert!(e.port("management").is_none(), "{case}");
        assert!(e.origin.contains(fact), "{case}: {}", e.origin);
        let f = flow(&t, &format!("airbyte-server.{backend}"))
            .unwrap_or_else(|| panic!("{case}: server does not reach {backend}"));
        assert_eq!(f.ports, vec![FlowPort::tcp(8080)], "{case}");
        let env = if backend == MS {
            "MANIFEST_SERVER_API_HOST"
        } else {
            "CONNECTOR_BUILDER_SERVER_API_HOST"
        };
        assert!(
            f.origin.contains(env) && f.origin.contains(fact),
            "{case}: {}",
            f.origin
        );
        // Only the server (and the old webapp) calls it; it opens no connections itself.
        let callers: Vec<&str> = t.flows_to(backend).map(|f| f.from.as_str()).collect();
        assert_eq!(callers, ["airbyte-server"], "{case}");
        assert_eq!(t.flows_from(backend).count(), 0, "{case}");
    }
}

#[test]
fn builder_backend_labels_follow_the_chart_line() {
    let mut m = example_model();
    m.airbyte.chart_version = Some("2.2.0".into());
    let t = Topology::from_model(&m);
    assert_eq!(
        labels(&t, "airbyte-manifest-server"),
        pairs(&[
            ("airbyte", "manifest-server"),
            ("app.kubernetes.io/instance", "airbyte")
        ])
    );
    let mut m = example_model();
    m.airbyte.chart = ChartProfile::V1;
    m.airbyte.chart_version = Some("1.8.5".into());
    let t = Topology::from_model(&m);
    assert_eq!(
        labels(&t, "airbyte-connector-builder-server"),
        pairs(&[
            ("app.kubernetes.io/instance", "airbyte"),
            ("app.kubernetes.io/name", "connector-builder-server")
        ])
    );
}

#[test]
fn old_v1_webapp_proxies_the_connector_builder() {
    let mut m = example_model();
    m.airbyte.chart = ChartProfile::V1;
    m.airbyte.chart_version = Some("1.5.0".into());
    m.airbyte.ui = UiComponent::Webapp;
    let t = Topology::from_model(&m);
    let f = flow(&t, "airbyte-webapp.airbyte-connector-builder-server")
        .expect("the webapp nginx proxies the builder");
    assert_eq!(f.ports, vec![FlowPort::tcp(8080)]);
    m.airbyte.chart_version = Some("1.8.5".into());
    m.airbyte.ui = UiComponent::Server;
    let t = Topology::from_model(&m);
    assert!(t.endpoint("airbyte-webapp").is_none());
    assert!(flow(&t, "airbyte-server.airbyte-connector-builder-server").is_some());
}

#[test]
fn dns_goes_to_dns_pods_for_every_client_only() {
    let t = Topology::from_model(&example_model());
    let f = flow(&t, "airbyte-server.dns").unwrap();
    assert_eq!(f.ports.len(), 2);
    assert!(
        flow(&t, "airbyte-db.dns").is_none(),
        "the db opens no connections"
    );
    assert!(flow(&t, "airbyte-job-pod.dns").is_some());
}

#[test]
fn dns_by_address_goes_to_those_cidrs_and_has_no_pods() {
    let mut m = example_model();
    m.dns.cidrs = vec!["169.254.20.10/32".parse().unwrap()];
    let t = Topology::from_model(&m);
    assert!(t.endpoint("dns").is_none());
    let f = flow(&t, "airbyte-server.dns").unwrap();
    assert_eq!(
        f.to,
        Target::External(External {
            name: "dns".into(),
            cidrs: m.dns.cidrs.clone(),
            except: vec![],
        })
    );
    assert_eq!(f.origin, "/dns/cidrs");
    let protocols: Vec<Protocol> = f.ports.iter().map(|p| p.protocol).collect();
    assert_eq!(protocols, [Protocol::Tcp, Protocol::Udp]);
    assert!(flow(&t, "airbyte-db.dns").is_none());
}

#[test]
fn shared_namespace_selectors_pick_out_one_kind_each() {
    let mut m = example_model();
    m.airflow.namespace = m.airbyte.namespace.clone();
    m.dns.namespace = m.airbyte.namespace.clone();
    let t = Topology::from_model(&m);
    assert_eq!(t.owned_namespaces(), ["airbyte"]);
    assert!(t.selector_overlaps().is_empty());
    // DNS pods labelled like every Airbyte pod would be selected with them.
    m.dns.pod_labels = BTreeMap::from([(
        "app.kubernetes.io/instance".to_string(),
        "airbyte".to_string(),
    )]);
    let t = Topology::from_model(&m);
    let pairs: Vec<(&str, &str)> = t
        .selector_overlaps()
        .iter()
        .map(|(a, b)| (a.id.as_str(), b.id.as_str()))
        .collect();
    assert!(pairs.contains(&("dns", "airbyte-server")), "{pairs:?}");
    assert!(pairs.iter().all(|(a, _)| *a == "dns"), "{pairs:?}");
}

#[test]
fn an_external_metadata_database_is_reached_by_exactly_its_users() {
    let users = [
        "scheduler",
        "dag-processor",
        "triggerer",
        "api-server",
        "worker",
        "run-airflow-migrations",
        "create-user-job",
    ];
    for pgbouncer in [false, true] {
        let mut m = example_model();
        m.airflow.pgbouncer = pgbouncer;
        m.airflow.external_database = Some(egress(
            "external-database",
            "10.90.1.0/24",
            &[5432],
            "/airflow/database/external",
        ));
        let t = Topology::from_model(&m);
        assert!(t.endpoint("airflow-postgresql").is_none());
        assert!(!t.flows.iter().any(|f| f.id.contains("postgresql")));
        let to_db: BTreeSet<&str> = t
            .flows
            .iter()
            .filter(|f| f.id.ends_with(".external-database"))
            .map(|f| f.from.as_str())
            .collect();
        let want: BTreeSet<String> = if pgbouncer {
            ["airflow-pgbouncer".to_string()].into()
        } else {
            users.iter().map(|u| format!("airflow-{u}")).collect()
        };
        let want: BTreeSet<&str> = want.iter().map(String::as_str).collect();
        assert_eq!(to_db, want, "pgbouncer: {pgbouncer}");
        if pgbouncer {
            for u in users {
                assert!(
                    flow(&t, &format!("airflow-{u}.airflow-pgbouncer")).is_some(),
                    "{u}"
                );
            }
        }
    }
}

//! NetworkPolicy rendering: golden snapshots per spec variant, validation against the strict
//! upstream Kubernetes JSON Schema, and exactness against the topology (every declared flow is
//! allowed at both owned ends, and every allowed peer/port is a declared flow).
//!
//! Variants start from the example spec (`templates/airguard.yaml`) and edit the model, so each
//! snapshot differs from the example only in what the variant is about.

use airguard::diag::Files;
use airguard::render::network_policy::{self, policy_name, FLOWS_ANNOTATION};
use airguard::render::Artifact;
use airguard::spec::model::{
    AirflowComponent, ChartProfile, Egress, Executor, Model, PortRange, Protocol,
    SecretPersistence, UiComponent,
};
use airguard::topology::{Target, Topology};
use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::{BTreeMap, BTreeSet};

/// The example spec every variant starts from.
fn example() -> Model {
    let text =
        std::fs::read_to_string(crate::util::root().join("templates/airguard.yaml")).unwrap();
    let (model, diags) = airguard::spec::from_str(&mut Files::new(), "airguard.yaml", &text);
    model.unwrap_or_else(|| panic!("example spec is valid: {diags:?}"))
}

fn v1_webapp() -> Model {
    let mut m = example();
    m.airbyte.chart = ChartProfile::V1;
    m.airbyte.chart_version = Some("1.5.1".into());
    m.airbyte.ui = UiComponent::Webapp;
    m
}

fn openshift_dns() -> Model {
    let mut m = example();
    m.dns.namespace = "openshift-dns".into();
    m.dns.pod_labels = BTreeMap::from([(
        "dns.operator.openshift.io/daemonset-dns".to_string(),
        "default".to_string(),
    )]);
    m.dns.port = 5353;
    m
}

/// KubernetesExecutor, PgBouncer in front of an external database, a separate jobs namespace,
/// secrets outside the DB, an `except` block, a port range, UDP egress, the Airflow UI behind the
/// ingress, and more callers.
fn kubernetes_executor() -> Model {
    let mut m = example();
    m.airflow.executor = Executor::Kubernetes;
    m.airflow.pgbouncer = true;
    m.airflow.external_database = Some(Egress {
        name: "metadata-db".into(),
        cidrs: vec!["10.40.1.0/24".parse().unwrap()],
        except: vec![],
        ports: vec![PortRange::single(5432)],
        protocol: Protocol::Tcp,
        reason: None,
        origin: "/airflow/external-database".into(),
    });
    m.airflow.callers = [AirflowComponent::Worker, AirflowComponent::ApiServer].into();
    m.airbyte.jobs_namespace = "airbyte-jobs".into();
    m.airbyte.secret_persistence = SecretPersistence::External;
    m.airbyte.egress[0].except = vec!["10.20.128.0/17".parse().unwrap()];
    m.airbyte.egress[1].ports = vec![PortRange {
        start: 8000,
        end: 8010,
    }];
    m.airbyte.egress.push(Egress {
        name: "syslog".into(),
        cidrs: vec!["192.0.2.10/32".parse().unwrap()],
        except: vec![],
        ports: vec![PortRange::single(514)],
        protocol: Protocol::Udp,
        reason: None,
        origin: "/airbyte/egress/2".into(),
    });
    m.ingress.as_mut().unwrap().airflow_ui = true;
    m
}

fn local_executor_without_ingress() -> Model {
    let mut m = example();
    m.airflow.executor = Executor::Local;
    m.ingress = None;
    m
}

fn variants() -> Vec<(&'static str, Model)> {
    vec![
        ("example", example()),
        ("v1-webapp", v1_webapp()),
        ("openshift-dns", openshift_dns()),
        ("kubernetes-executor", kubernetes_executor()),
        ("local-executor", local_executor_without_ingress()),
    ]
}

/// Every valid fixture spec (their full renders have goldens in `render`), plus the variants.
fn all_models() -> Vec<(String, Model)> {
    let mut out: Vec<(String, Model)> = variants()
        .into_iter()
        .map(|(n, m)| (n.to_string(), m))
        .collect();
    let mut paths: Vec<_> = std::fs::read_dir(crate::util::fixture("specs/valid"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    paths.sort();
    for p in paths {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&p).unwrap();
        let (model, diags) = airguard::spec::from_str(&mut Files::new(), &name, &text);
        out.push((name, model.unwrap_or_else(|| panic!("{diags:?}"))));
    }
    assert!(out.len() > variants().len(), "no valid fixtures found");
    out
}

fn render(m: &Model) -> Vec<Artifact> {
    network_policy::render(m).expect("renders")
}

fn docs(a: &Artifact) -> Vec<serde_json::Value> {
    serde_saphyr::from_multiple(&a.content).expect("rendered YAML parses")
}

#[test]
fn golden_policies_per_variant() {
    for (name, m) in variants() {
        let out = render(&m);
        insta::assert_snapshot!(name, airguard::render::stream(&out));
    }
}

#[test]
fn rendering_is_deterministic() {
    for (_, m) in all_models() {
        assert_eq!(render(&m), render(&m));
    }
}

/// Serves `_definitions.json` to the validator for the schema's `/api/_definitions.json` refs.
struct Definitions(serde_json::Value);

impl jsonschema::Retrieve for Definitions {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<serde_json::Value, Box<dyn std::error::Error + Send + Sync>> {
        if uri.as_str() == "https://kubernetes.io/api/_definitions.json" {
            Ok(self.0.clone())
        } else {
            Err(format!("unexpected schema reference {uri}").into())
        }
    }
}

/// The compiled strict NetworkPolicy schema, shared by every test (compiling it is slow).
fn strict_validator() -> &'static jsonschema::Validator {
    static VALIDATOR: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    VALIDATOR.get_or_init(compile_strict_validator)
}

fn compile_strict_validator() -> jsonschema::Validator {
    let dir = "kubernetes/kubernetes-validate-v1.37.0-local-strict";
    let read = |f: &str| -> serde_json::Value {
        let p = crate::util::upstream(&format!("{dir}/{f}"));
        serde_json::from_str(
            &std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
        )
        .unwrap()
    };
    jsonschema::options()
        .with_retriever(Definitions(read("_definitions.json")))
        .build(&read("networkpolicy-networking-v1.json"))
        .expect("the upstream schema compiles")
}

#[test]
fn policies_validate_against_the_strict_upstream_schema() {
    let validator = strict_validator();
    let mut checked = 0;
    for (name, m) in all_models() {
        for a in render(&m) {
            for doc in docs(&a) {
                let errors: Vec<String> = validator
                    .iter_errors(&doc)
                    .map(|e| format!("{} at {}", e, e.instance_path()))
                    .collect();
                assert!(errors.is_empty(), "{name} {}: {errors:#?}", a.path);
                checked += 1;
            }
        }
    }
    assert!(checked > 50, "checked only {checked} documents");
}

#[test]
fn the_strict_schema_rejects_an_unknown_field() {
    // Guard against a validator that silently accepts everything (e.g. unresolved refs).
    let validator = strict_validator();
    let a = &render(&example())[0];
    let mut doc = docs(a).remove(1);
    doc["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabel"] = serde_json::json!({});
    assert!(!validator.is_valid(&doc));
}

#[test]
fn each_file_starts_with_a_default_deny() {
    for (name, m) in all_models() {
        let topo = Topology::from_model(&m);
        let out = render(&m);
        let namespaces: Vec<String> = topo.owned_namespaces();
        let paths: Vec<String> = namespaces
            .iter()
            .map(|ns| network_policy::path_for(ns))
            .collect();
        assert_eq!(
            out.iter().map(|a| a.path.clone()).collect::<Vec<_>>(),
            paths,
            "{name}"
        );
        for a in &out {
            let first: NetworkPolicy = serde_saphyr::from_multiple(&a.content).unwrap().remove(0);
            let spec = first.spec.unwrap();
            assert_eq!(
                first.metadata.name.as_deref(),
                Some(network_policy::DEFAULT_DENY)
            );
            assert_eq!(spec.pod_selector, Some(Default::default()));
            assert_eq!(spec.policy_types.unwrap(), ["Ingress", "Egress"]);
            assert!(spec.ingress.is_none() && spec.egress.is_none());
            // One default deny per namespace, and no two policies with one name.
            let all: Vec<NetworkPolicy> = serde_saphyr::from_multiple(&a.content).unwrap();
            let denies = all
                .iter()
                .filter(|p| p.spec.as_ref().unwrap().pod_selector == Some(Default::default()))
                .count();
            assert_eq!(denies, 1, "{name}: {}", a.path);
            let names: BTreeSet<_> = all.iter().map(|p| p.metadata.name.clone()).collect();
            assert_eq!(names.len(), all.len(), "{name}: {}", a.path);
        }
    }
}

/// Shared namespaces: every policy but the default deny selects the pods of exactly one
/// endpoint of its namespace (its own), whatever else runs there.
#[test]
fn every_policy_selects_exactly_its_endpoint() {
    let mut shared = 0;
    for (name, m) in all_models() {
        let topo = Topology::from_model(&m);
        for a in render(&m) {
            let all: Vec<NetworkPolicy> = serde_saphyr::from_multiple(&a.content).unwrap();
            for np in all.iter().skip(1) {
                let ns = np.metadata.namespace.clone().unwrap();
                let labels = np
                    .spec
                    .as_ref()
                    .unwrap()
                    .pod_selector
                    .as_ref()
                    .and_then(|s| s.match_labels.clone())
                    .unwrap_or_default();
                let selected: Vec<&str> = topo
                    .endpoints
                    .iter()
                    .filter(|e| e.namespace == ns && e.selected_by(&labels))
                    .map(|e| e.id.as_str())
                    .collect();
                let own = np.metadata.name.clone().unwrap();
                let expect: Vec<&str> = topo
                    .endpoints
                    .iter()
                    .filter(|e| e.namespace == ns && policy_name(e) == own)
                    .map(|e| e.id.as_str())
                    .collect();
                assert_eq!(selected, expect, "{name}: {ns}/{own}");
            }
        }
        let systems: BTreeSet<_> = topo
            .endpoints
            .iter()
            .filter(|e| topo.owned_namespaces().contains(&e.namespace))
            .map(|e| (e.namespace.clone(), e.system))
            .collect();
        if systems.len() > topo.owned_namespaces().len() {
            shared += 1;
        }
    }
    assert!(shared >= 2, "fixtures with shared namespaces: {shared}");
}

/// One allowed (policy, direction, peer, port) combination, as comparable text.
type Grant = (String, &'static str, String, String);

fn peer_text(p: &NetworkPolicyPeer) -> String {
    if let Some(b) = &p.ip_block {
        return format!(
            "cidr {} except {:?}",
            b.cidr,
            b.except.clone().unwrap_or_default()
        );
    }
    let ns = p
        .namespace_selector
        .as_ref()
        .map(|s| format!("{:?}", s.match_labels.clone().unwrap_or_default()));
    let pods = p
        .pod_selector
        .as_ref()
        .map(|s| format!("{:?}", s.match_labels.clone().unwrap_or_default()));
    format!("ns {ns:?} pods {pods:?}")
}

fn port_text(p: &NetworkPolicyPort) -> String {
    let proto = p.protocol.as_deref().unwrap_or("TCP");
    let port = match &p.port {
        Some(IntOrString::Int(n)) => *n,
        None => return format!("{proto} all"),
        other => panic!("only numeric ports are rendered, got {other:?}"),
    };
    let end = p.end_port.unwrap_or(port);
    format!("{proto} {port}-{end}")
}

/// What the rendered policies allow, as grants.
fn rendered_grants(out: &[Artifact]) -> BTreeSet<Grant> {
    let mut grants = BTreeSet::new();
    for a in out {
        let policies: Vec<NetworkPolicy> = serde_saphyr::from_multiple(&a.content).unwrap();
        for np in policies {
            let name = format!(
                "{}/{}",
                np.metadata.namespace.unwrap(),
                np.metadata.name.unwrap()
            );
            let spec = np.spec.unwrap();
            let rules = spec
                .ingress
                .iter()
                .flatten()
                .map(|r| ("ingress", r.from.clone(), r.ports.clone()))
                .chain(
                    spec.egress
                        .iter()
                        .flatten()
                        .map(|r| ("egress", r.to.clone(), r.ports.clone())),
                );
            for (dir, peers, ports) in rules {
                // Only the allow-all rule of an unmanaged endpoint names no peers.
                let peers = peers.unwrap_or_default();
                let peers: Vec<String> = if peers.is_empty() {
                    vec!["any peer".to_string()]
                } else {
                    peers.iter().map(peer_text).collect()
                };
                let ports: Vec<String> = match ports {
                    Some(p) if !p.is_empty() => p.iter().map(port_text).collect(),
                    _ => vec!["all".to_string()],
                };
                for peer in &peers {
                    for port in &ports {
                        grants.insert((name.clone(), dir, peer.clone(), port.clone()));
                    }
                }
            }
        }
    }
    grants
}

/// What the topology says must be allowed, as grants, built independently of the renderer.
fn declared_grants(topo: &Topology) -> BTreeSet<Grant> {
    let selector_peer = |policy_ns: &str, id: &str| -> Vec<String> {
        let e = topo.endpoint(id).unwrap();
        let ns = (e.namespace != policy_ns).then(|| {
            format!(
                "{:?}",
                BTreeMap::from([(
                    "kubernetes.io/metadata.name".to_string(),
                    e.namespace.clone()
                )])
            )
        });
        vec![format!(
            "ns {ns:?} pods {:?}",
            Some(format!("{:?}", e.labels))
        )]
    };
    let mut grants = BTreeSet::new();
    // Pods airguard does not manage inside a namespace it default-denies keep everything.
    let owned = topo.owned_namespaces();
    for e in topo
        .endpoints
        .iter()
        .filter(|e| !e.owned && owned.contains(&e.namespace))
    {
        let policy = format!("{}/{}", e.namespace, policy_name(e));
        for dir in ["ingress", "egress"] {
            grants.insert((policy.clone(), dir, "any peer".into(), "all".into()));
        }
    }
    for f in &topo.flows {
        let ports: Vec<String> = if f.ports.is_empty() {
            vec!["all".into()]
        } else {
            f.ports
                .iter()
                .map(|p| {
                    let proto = match p.protocol {
                        Protocol::Tcp => "TCP",
                        Protocol::Udp => "UDP",
                        Protocol::Sctp => "SCTP",
                    };
                    match p.range {
                        Some(r) => format!("{proto} {}-{}", r.start, r.end),
                        None => format!("{proto} all"),
                    }
                })
                .collect()
        };
        let from = topo.endpoint(&f.from).unwrap();
        if from.owned {
            let policy = format!("{}/{}", from.namespace, policy_name(from));
            let peers = match &f.to {
                Target::Endpoint(id) => selector_peer(&from.namespace, id),
                Target::External(ext) => ext
                    .cidrs
                    .iter()
                    .map(|c| {
                        let except: Vec<String> = ext
                            .except
                            .iter()
                            .filter(|x| c.contains(*x) && *x != c)
                            .map(|x| x.to_string())
                            .collect();
                        format!("cidr {c} except {except:?}")
                    })
                    .collect(),
            };
            for peer in &peers {
                for port in &ports {
                    grants.insert((policy.clone(), "egress", peer.clone(), port.clone()));
                }
            }
        }
        if let Target::Endpoint(to) = &f.to {
            let to = topo.endpoint(to).unwrap();
            if to.owned {
                let policy = format!("{}/{}", to.namespace, policy_name(to));
                for peer in selector_peer(&to.namespace, &f.from) {
                    for port in &ports {
                        grants.insert((policy.clone(), "ingress", peer.clone(), port.clone()));
                    }
                }
            }
        }
    }
    grants
}

#[test]
fn rendered_rules_allow_exactly_the_declared_flows() {
    for (name, m) in all_models() {
        let topo = Topology::from_model(&m);
        let rendered = rendered_grants(&render(&m));
        let declared = declared_grants(&topo);
        let missing: Vec<_> = declared.difference(&rendered).collect();
        let extra: Vec<_> = rendered.difference(&declared).collect();
        assert!(
            missing.is_empty(),
            "{name}: declared but not allowed: {missing:#?}"
        );
        assert!(
            extra.is_empty(),
            "{name}: allowed but not declared: {extra:#?}"
        );
    }
}

#[test]
fn every_flow_is_traced_by_annotation_at_each_owned_end() {
    for (name, m) in all_models() {
        let topo = Topology::from_model(&m);
        let mut traced: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for a in render(&m) {
            for np in serde_saphyr::from_multiple::<NetworkPolicy>(&a.content).unwrap() {
                let ann = np.metadata.annotations.unwrap_or_default();
                let Some(lines) = ann.get(FLOWS_ANNOTATION) else {
                    continue;
                };
                for line in lines.lines() {
                    let (id, origin) = line.split_once(": ").expect("`<id>: <origin>` lines");
                    let flow = topo.flows.iter().find(|f| f.id == id);
                    let flow = flow
                        .unwrap_or_else(|| panic!("{name}: annotation names unknown flow {id}"));
                    assert_eq!(flow.origin, origin, "{name}: {id}");
                    traced
                        .entry(id.to_string())
                        .or_default()
                        .insert(np.metadata.name.clone().unwrap());
                }
            }
        }
        for f in &topo.flows {
            let mut want = BTreeSet::new();
            let from = topo.endpoint(&f.from).unwrap();
            if from.owned {
                want.insert(policy_name(from));
            }
            if let Target::Endpoint(to) = &f.to {
                let to = topo.endpoint(to).unwrap();
                if to.owned {
                    want.insert(policy_name(to));
                }
            }
            assert_eq!(
                traced.get(&f.id).cloned().unwrap_or_default(),
                want,
                "{name}: {}",
                f.id
            );
        }
    }
}

#[test]
fn dns_egress_goes_to_the_dns_pods_only() {
    let m = openshift_dns();
    let out = render(&m);
    let text: String = out.iter().map(|a| a.content.as_str()).collect();
    assert!(text.contains("kubernetes.io/metadata.name: openshift-dns"));
    assert!(text.contains("port: 5353"));
    assert!(!text.contains("port: 53\n"), "no leftover kube-dns port");
    for g in rendered_grants(&out) {
        if g.3.ends_with(" 5353-5353") {
            assert!(
                g.2.contains("openshift-dns") && g.2.contains("daemonset-dns"),
                "{g:?}"
            );
        }
    }
}

mod random {
    //! Random model variants (chart line, UI, executor, PgBouncer, external DB, jobs namespace,
    //! secret persistence, ingress, DNS, callers, egress rules with `except`, ranges and
    //! protocols) render, pass the self-check, validate against the strict schema and allow
    //! exactly the declared flows.

    use super::*;
    use proptest::prelude::*;

    fn cidr() -> impl Strategy<Value = (ipnet::IpNet, Option<ipnet::IpNet>)> {
        (any::<u32>(), 8u8..=32, any::<u32>(), 1u8..=8).prop_map(|(addr, p, inner, extra)| {
            let net = ipnet::Ipv4Net::new(addr.into(), p).unwrap().trunc();
            let except = (p < 32).then(|| {
                let q = (p + extra).min(32);
                let host = u32::from(net.network())
                    | (inner & !u32::MAX.checked_shl(32 - u32::from(p)).unwrap_or(0));
                ipnet::IpNet::V4(ipnet::Ipv4Net::new(host.into(), q).unwrap().trunc())
            });
            (ipnet::IpNet::V4(net), except)
        })
    }

    fn egress_rules() -> impl Strategy<Value = Vec<Egress>> {
        let rule = (
            cidr(),
            any::<bool>(),
            prop::collection::vec((1u16..=65000, 0u16..=20), 0..3),
            0usize..3,
        );
        prop::collection::vec(rule, 0..5).prop_map(|rules| {
            rules
                .into_iter()
                .enumerate()
                .map(|(i, ((net, except), use_except, ports, proto))| Egress {
                    name: format!("rule-{i}"),
                    cidrs: vec![net],
                    except: if use_except {
                        except.into_iter().collect()
                    } else {
                        vec![]
                    },
                    ports: ports
                        .into_iter()
                        .map(|(s, w)| PortRange {
                            start: s,
                            end: s + w,
                        })
                        .collect(),
                    protocol: [Protocol::Tcp, Protocol::Udp, Protocol::Sctp][proto],
                    reason: None,
                    origin: format!("/airbyte/egress/{i}"),
                })
                .collect()
        })
    }

    prop_compose! {
        fn model()(
            v1 in any::<bool>(),
            webapp in any::<bool>(),
            executor in 0usize..3,
            pgbouncer in any::<bool>(),
            external_db in any::<bool>(),
            separate_jobs in any::<bool>(),
            config_db in any::<bool>(),
            ingress in 0usize..3,
            dns_port in prop_oneof![Just(53u16), Just(5353u16)],
            callers in prop::collection::btree_set(0usize..5, 0..5),
            egress in egress_rules(),
        ) -> Model {
            let mut m = example();
            m.airbyte.chart = if v1 { ChartProfile::V1 } else { ChartProfile::V2 };
            m.airbyte.ui = if v1 && webapp { UiComponent::Webapp } else { UiComponent::Server };
            m.airflow.executor = [Executor::Celery, Executor::Kubernetes, Executor::Local][executor];
            m.airflow.pgbouncer = pgbouncer;
            if external_db {
                m.airflow.external_database = Some(Egress {
                    name: "metadata".into(),
                    cidrs: vec!["10.40.0.0/16".parse().unwrap()],
                    except: vec!["10.40.7.0/24".parse().unwrap()],
                    ports: vec![PortRange::single(5432)],
                    protocol: Protocol::Tcp,
                    reason: None,
                    origin: "/airflow/external-database".into(),
                });
            }
            if separate_jobs {
                m.airbyte.jobs_namespace = "airbyte-jobs".into();
            }
            m.airbyte.secret_persistence =
                if config_db { SecretPersistence::ConfigDb } else { SecretPersistence::External };
            match ingress {
                0 => m.ingress = None,
                1 => m.ingress.as_mut().unwrap().airflow_ui = true,
                _ => {}
            }
            m.dns.port = dns_port;
            let all = [
                AirflowComponent::Worker,
                AirflowComponent::Triggerer,
                AirflowComponent::Scheduler,
                AirflowComponent::ApiServer,
                AirflowComponent::DagProcessor,
            ];
            m.airflow.callers = callers.into_iter().map(|i| all[i]).collect();
            m.airbyte.egress = egress;
            m
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

        #[test]
        fn random_models_render_valid_exact_policies(m in model()) {
            let out = network_policy::render(&m).expect("renders and passes the self-check");
            prop_assert_eq!(&out, &network_policy::render(&m).unwrap());
            let topo = Topology::from_model(&m);
            prop_assert_eq!(rendered_grants(&out), declared_grants(&topo));
            let validator = strict_validator();
            for a in &out {
                for doc in docs(a) {
                    prop_assert!(validator.is_valid(&doc), "{}", a.content);
                }
            }
        }
    }
}

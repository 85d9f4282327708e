//! Airbyte's inventory and flows: each component for the chart line and version (labels, container
//! ports), connector job pods, the connector-builder backend, the declared egress, and the
//! in-cluster database and MinIO or, when the spec names external ones, flows from exactly their
//! clients to the networks it declares.

use super::builder::{named, Builder};
use super::{port, FlowPort, System};
use crate::spec::model::{ChartProfile, Egress, Model, Protocol, SecretPersistence, UiComponent};

pub(super) fn airbyte(model: &Model, b: &mut Builder) {
    let ab = &model.airbyte;
    let ns = ab.namespace.as_str();
    let rel = ab.release.as_str();
    let tcp = Protocol::Tcp;
    let (profile, chart) = match ab.chart {
        ChartProfile::V1 => ("v1", "airbyte chart v1"),
        ChartProfile::V2 => ("v2", "airbyte chart v2"),
    };
    // Pod labels per chart line: V1 subcharts set `app.kubernetes.io/name: <subchart>` (the
    // bootloader subchart is `airbyte-bootloader`); V2 sets `airbyte: <component>`. Both set
    // `app.kubernetes.io/instance: <release>`.
    let component = |b: &mut Builder, name: &str, ports: &[(&str, u16, Protocol)]| {
        let origin = format!("{chart}: {name} pods");
        match ab.chart {
            ChartProfile::V1 => {
                let sub = if name == "bootloader" {
                    "airbyte-bootloader"
                } else {
                    name
                };
                b.endpoint(
                    System::Airbyte,
                    name,
                    ns,
                    &[
                        ("app.kubernetes.io/name", sub),
                        ("app.kubernetes.io/instance", rel),
                    ],
                    ports,
                    true,
                    &origin,
                );
            }
            ChartProfile::V2 => {
                let mut ports = ports.to_vec();
                // The facts list no management port for the two builder backends.
                if !matches!(
                    name,
                    "bootloader" | "manifest-server" | "connector-builder-server"
                ) {
                    ports.push(("management", port::MANAGEMENT, tcp));
                }
                b.endpoint(
                    System::Airbyte,
                    name,
                    ns,
                    &[("airbyte", name), ("app.kubernetes.io/instance", rel)],
                    &ports,
                    true,
                    &origin,
                );
                b.also_labelled(&[("app.kubernetes.io/name", name)]);
            }
        }
    };
    component(b, "server", &[("http", port::SERVER, tcp)]);
    if ab.ui == UiComponent::Webapp {
        component(b, "webapp", &[("http", port::WEBAPP, tcp)]);
    }
    component(b, "worker", &[("heartbeat", port::WORKER_HEARTBEAT, tcp)]);
    component(
        b,
        "workload-launcher",
        &[("heartbeat", port::LAUNCHER_HEARTBEAT, tcp)],
    );
    component(
        b,
        "workload-api-server",
        &[("http", port::WORKLOAD_API, tcp)],
    );
    component(b, "temporal", &[("temporal", port::TEMPORAL, tcp)]);
    component(b, "cron", &[]);
    component(b, "bootloader", &[]);
    // The connector builder backend the server calls: which one the chart deploys depends on
    // the chart line and version.
    let builder = builder_backend(ab.chart, ab.chart_version.as_deref());
    component(b, builder.component, &[("http", port::BUILDER, tcp)]);
    let e = b.endpoints.last_mut().expect("an endpoint was added");
    e.origin = format!("{chart}: {} pods ({})", builder.component, builder.why);
    // The internal DB and MinIO are root templates of both chart lines; an external database or
    // object store replaces them (`airbyte.database`, `airbyte.storage`).
    if ab.database.is_none() {
        let db_name = format!("{rel}-db");
        b.endpoint(
            System::Airbyte,
            "db",
            ns,
            &[
                ("app.kubernetes.io/name", &db_name),
                ("app.kubernetes.io/instance", rel),
            ],
            &[("postgres", port::DB, tcp)],
            true,
            &format!("{chart}: internal database (airbyte-db-svc)"),
        );
    }
    if ab.storage.is_none() {
        let minio_name = format!("{rel}-minio");
        b.endpoint(
            System::Airbyte,
            "minio",
            ns,
            &[("app.kubernetes.io/name", &minio_name)],
            &[("minio", port::MINIO, tcp)],
            true,
            &format!("{chart}: internal MinIO (airbyte-minio-svc)"),
        );
    }
    // Connector job pods: labelled `airbyte: job-pod` by the workload-launcher (PodLabeler),
    // in the jobs namespace; custom job labels are never applied, so this is the only selector.
    b.endpoint(
        System::Airbyte,
        "job-pod",
        &ab.jobs_namespace,
        &[("airbyte", "job-pod")],
        &[],
        true,
        "airbyte workload-launcher: connector job pods (airbyte: job-pod)",
    );

    let db = [FlowPort::tcp(port::DB)];
    let temporal = [FlowPort::tcp(port::TEMPORAL)];
    let minio = [FlowPort::tcp(port::MINIO)];
    let server = [FlowPort::tcp(port::SERVER)];
    let wl_api = [FlowPort::tcp(port::WORKLOAD_API)];
    let fact = |from: &str, to: &str| format!("{chart}: {from} -> {to}");
    let chart_flow = |b: &mut Builder, from: &str, to: &str, ports: &[FlowPort]| {
        b.link(
            &format!("airbyte-{from}"),
            &format!("airbyte-{to}"),
            ports,
            &fact(from, to),
        );
    };
    // The database's clients (the database env each pod gets; temporal via POSTGRES_SEEDS) and
    // the storage's clients (the storage env and, for GCS, the credentials volume: server,
    // worker, workload-launcher, and job pods for logs, state and workload output).
    let to_db = |b: &mut Builder, c: &str| match &ab.database {
        None => chart_flow(b, c, "db", &db),
        Some(ext) => external(b, c, &ext.egress, &fact(c, "database")),
    };
    let to_storage = |b: &mut Builder, c: &str| match &ab.storage {
        None => chart_flow(b, c, "minio", &minio),
        Some(ext) => external(b, c, &ext.egress, &fact(c, "storage")),
    };
    for c in ["server", "worker", "workload-launcher"] {
        to_db(b, c);
        chart_flow(b, c, "temporal", &temporal);
        to_storage(b, c);
    }
    for c in ["worker", "workload-launcher"] {
        chart_flow(b, c, "server", &server);
        chart_flow(b, c, "workload-api-server", &wl_api);
    }
    to_db(b, "workload-api-server");
    if ab.chart == ChartProfile::V2 {
        // V2 (main) gives the workload-api-server the storage env for every storage type: its
        // deployment includes `airbyte.storage.envs` (MINIO_ENDPOINT for the in-cluster MinIO).
        match &ab.storage {
            None => b.link(
                "airbyte-workload-api-server",
                "airbyte-minio",
                &minio,
                &format!(
                    "{chart}: workload-api-server -> minio (airbyte.storage.envs: MINIO_ENDPOINT)"
                ),
            ),
            Some(_) => to_storage(b, "workload-api-server"),
        }
    }
    chart_flow(b, "workload-api-server", "temporal", &temporal);
    if profile == "v1" {
        // V1 also sets INTERNAL_API_HOST on the workload-api-server.
        chart_flow(b, "workload-api-server", "server", &server);
    }
    to_db(b, "cron");
    chart_flow(b, "cron", "temporal", &temporal);
    chart_flow(b, "cron", "workload-api-server", &wl_api);
    to_db(b, "bootloader");
    to_db(b, "temporal");
    if ab.ui == UiComponent::Webapp {
        chart_flow(b, "webapp", "server", &server);
    }
    let builder_port = [FlowPort::tcp(port::BUILDER)];
    let to_builder = format!("airbyte-{}", builder.component);
    b.link(
        "airbyte-server",
        &to_builder,
        &builder_port,
        &format!(
            "{chart}: server -> {} ({}; {})",
            builder.component, builder.env, builder.why
        ),
    );
    if ab.ui == UiComponent::Webapp {
        // The V1 (below 1.7) webapp's nginx also proxies the connector builder.
        b.link(
            "airbyte-webapp",
            &to_builder,
            &builder_port,
            &format!(
                "{chart}: webapp -> {} (nginx; {})",
                builder.component, builder.why
            ),
        );
    }
    chart_flow(b, "job-pod", "workload-api-server", &wl_api);
    chart_flow(b, "job-pod", "server", &server);
    to_storage(b, "job-pod");
    if ab.secret_persistence == SecretPersistence::ConfigDb {
        // TESTING_CONFIG_DB_TABLE: the job pod's init container reads secrets from the DB.
        match &ab.database {
            None => b.link(
                "airbyte-job-pod",
                "airbyte-db",
                &db,
                "/airbyte/secret-persistence",
            ),
            Some(ext) => external(b, "job-pod", &ext.egress, "/airbyte/secret-persistence"),
        }
    }
    for rule in &ab.egress {
        b.egress("airbyte-job-pod", &format!("egress-{}", rule.name), rule);
    }
    for c in ["server", "worker", "cron", "bootloader"] {
        for rule in &ab.registry_egress {
            b.egress(
                &format!("airbyte-{c}"),
                &format!("registry-{}", rule.name),
                rule,
            );
        }
    }
    b.egress(
        "airbyte-workload-launcher",
        "kubernetes-api",
        &named(&ab.kubernetes_api, "kubernetes-api"),
    );
}

/// A flow from an Airbyte component to an external service (`airbyte.database`,
/// `airbyte.storage`); its origin is the spec entry and the chart fact that makes the component
/// a client. The flow id is `airbyte-<component>.<rule name>`.
fn external(b: &mut Builder, component: &str, rule: &Egress, why: &str) {
    let mut r = rule.clone();
    r.origin = format!("{}; {why}", rule.origin);
    b.egress(&format!("airbyte-{component}"), &rule.name, &r);
}

/// The connector builder backend the Airbyte server calls (`research/airbyte-facts.md` §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct BuilderBackend {
    /// Component name (also the V1 subchart and the V2 `airbyte:` label value).
    component: &'static str,
    /// The server env var that names it.
    env: &'static str,
    /// Which chart fact (and version assumption) decides it.
    why: &'static str,
}

/// Which builder backend a chart line and version deploy: V1 (every version) and V2 2.0.x the
/// connector-builder-server, V2 from 2.1 the manifest-server (connector-builder-server is 2.0.x
/// only; manifest-server is enabled by default in 2.2.0). Without a version the newest of the
/// line is assumed. The version was validated (`MAJOR.MINOR[...]`); an unparsable one is
/// treated like a missing one.
fn builder_backend(chart: ChartProfile, version: Option<&str>) -> BuilderBackend {
    const CBS: &str = "connector-builder-server";
    const CBS_ENV: &str = "CONNECTOR_BUILDER_SERVER_API_HOST";
    let parsed = version.and_then(|v| {
        let mut parts = v.trim_start_matches('v').split('.');
        let major: u64 = parts.next()?.parse().ok()?;
        let minor: u64 = parts.next()?.parse().ok()?;
        Some((major, minor))
    });
    match (chart, parsed) {
        (ChartProfile::V1, Some(_)) => BuilderBackend {
            component: CBS,
            env: CBS_ENV,
            why: "every v1 chart version",
        },
        (ChartProfile::V1, None) => BuilderBackend {
            component: CBS,
            env: CBS_ENV,
            why: "no chart-version: assuming the newest v1 chart, which has it",
        },
        (ChartProfile::V2, Some(v)) if v < (2, 1) => BuilderBackend {
            component: CBS,
            env: CBS_ENV,
            why: "v2 chart 2.0.x; removed by 2.2.0",
        },
        (ChartProfile::V2, Some(v)) if v < (2, 2) => BuilderBackend {
            component: "manifest-server",
            env: "MANIFEST_SERVER_API_HOST",
            why: "v2 chart 2.1.x: connector-builder-server is 2.0.x only",
        },
        (ChartProfile::V2, Some(_)) => BuilderBackend {
            component: "manifest-server",
            env: "MANIFEST_SERVER_API_HOST",
            why: "v2 chart 2.2.0+, enabled by default",
        },
        (ChartProfile::V2, None) => BuilderBackend {
            component: "manifest-server",
            env: "MANIFEST_SERVER_API_HOST",
            why: "no chart-version: assuming the newest v2 chart, 2.2.0+, where it is enabled by default",
        },
    }
}

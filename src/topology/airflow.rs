//! Airflow's inventory and flows: each component for the executor, its database and broker, the
//! calls to Airbyte, git-sync and external-database egress, and with `observability` the statsd
//! exporter and the Prometheus pods that scrape it.

use super::builder::{named, Builder};
use super::{port, FlowPort, System};
use crate::spec::model::{AirflowComponent, Executor, Model, PortRange, Protocol};

pub(super) fn airflow(model: &Model, b: &mut Builder) {
    let af = &model.airflow;
    let ns = af.namespace.as_str();
    let rel = af.release.as_str();
    let tcp = Protocol::Tcp;
    const CHART: &str = "airflow chart 1.21";
    // Chart 1.21 labels every Airflow pod `tier: airflow`, `component: <c>`, `release: <rel>`
    // (KubernetesExecutor task pods too: `component: worker` in the pod template file).
    let component = |b: &mut Builder, name: &str, ports: &[(&str, u16, Protocol)], what: &str| {
        b.endpoint(
            System::Airflow,
            name,
            ns,
            &[("component", name), ("release", rel), ("tier", "airflow")],
            ports,
            true,
            &format!("{CHART}: {what}"),
        );
    };
    component(
        b,
        "api-server",
        &[("api-server", port::AF_API, tcp)],
        "api-server pods",
    );
    let scheduler_ports: &[(&str, u16, Protocol)] = match af.executor {
        // LocalExecutor tasks run in the scheduler, which then serves their logs.
        Executor::Local => &[("worker-logs", port::AF_WORKER_LOGS, tcp)],
        _ => &[],
    };
    component(b, "scheduler", scheduler_ports, "scheduler pods");
    component(b, "dag-processor", &[], "dag-processor pods");
    component(
        b,
        "triggerer",
        &[("triggerer-logs", port::AF_TRIGGERER_LOGS, tcp)],
        "triggerer pods",
    );
    match af.executor {
        Executor::Celery => {
            component(
                b,
                "worker",
                &[("worker-logs", port::AF_WORKER_LOGS, tcp)],
                "Celery worker pods",
            );
            component(
                b,
                "redis",
                &[("redis-db", port::AF_REDIS, tcp)],
                "Redis (Celery broker)",
            );
        }
        Executor::Kubernetes => component(
            b,
            "worker",
            &[],
            "KubernetesExecutor task pods (pod template)",
        ),
        Executor::Local => {}
    }
    component(
        b,
        "run-airflow-migrations",
        &[],
        "migrate-database job pods",
    );
    component(b, "create-user-job", &[], "create-user job pods");
    if af.pgbouncer {
        component(
            b,
            "pgbouncer",
            &[("pgbouncer", port::AF_PGBOUNCER, tcp)],
            "PgBouncer",
        );
    }
    if af.external_database.is_none() {
        // The bundled Bitnami postgresql subchart labels its pods with the chart name and the
        // release, not with the Airflow tier/component labels.
        b.endpoint(
            System::Airflow,
            "postgresql",
            ns,
            &[
                ("app.kubernetes.io/instance", rel),
                ("app.kubernetes.io/name", "postgresql"),
            ],
            &[("tcp-postgresql", port::AF_POSTGRES, tcp)],
            true,
            &format!("{CHART}: bundled postgresql subchart"),
        );
        b.also_labelled(&[("app.kubernetes.io/component", "primary")]);
    }

    let has_worker = af.executor != Executor::Local;
    let af_id = |c: &str| format!("airflow-{c}");
    // Metadata database users.
    let mut db_users = vec!["scheduler", "dag-processor", "triggerer", "api-server"];
    if has_worker {
        db_users.push("worker");
    }
    db_users.extend(["run-airflow-migrations", "create-user-job"]);
    let direct_db = |b: &mut Builder, from: &str, origin: &str| match &af.external_database {
        Some(rule) => b.egress(&af_id(from), "external-database", rule),
        None => b.link(
            &af_id(from),
            "airflow-postgresql",
            &[FlowPort::tcp(port::AF_POSTGRES)],
            origin,
        ),
    };
    for c in &db_users {
        let origin = format!("{CHART}: {c} -> metadata database");
        if af.pgbouncer {
            b.link(
                &af_id(c),
                "airflow-pgbouncer",
                &[FlowPort::tcp(port::AF_PGBOUNCER)],
                &origin,
            );
        } else {
            direct_db(b, c, &origin);
        }
    }
    if af.pgbouncer {
        direct_db(b, "pgbouncer", "/airflow/pgbouncer");
    }
    if af.executor == Executor::Celery {
        for c in ["scheduler", "worker"] {
            b.link(
                &af_id(c),
                "airflow-redis",
                &[FlowPort::tcp(port::AF_REDIS)],
                &format!("{CHART}: {c} -> redis (Celery broker)"),
            );
        }
    }
    // Airflow 3 task execution API (core.execution_api_server_url -> api-server:8080).
    let task_runner = if has_worker { "worker" } else { "scheduler" };
    for c in [task_runner, "triggerer"] {
        b.link(
            &af_id(c),
            "airflow-api-server",
            &[FlowPort::tcp(port::AF_API)],
            &format!("{CHART}: {c} -> api-server (execution API)"),
        );
    }
    // Task logs: the api-server reads them from the log servers.
    match af.executor {
        Executor::Celery => b.link(
            "airflow-api-server",
            "airflow-worker",
            &[FlowPort::tcp(port::AF_WORKER_LOGS)],
            &format!("{CHART}: api-server -> worker logs"),
        ),
        Executor::Local => b.link(
            "airflow-api-server",
            "airflow-scheduler",
            &[FlowPort::tcp(port::AF_WORKER_LOGS)],
            &format!("{CHART}: api-server -> scheduler task logs (LocalExecutor)"),
        ),
        Executor::Kubernetes => {}
    }
    b.link(
        "airflow-api-server",
        "airflow-triggerer",
        &[FlowPort::tcp(port::AF_TRIGGERER_LOGS)],
        &format!("{CHART}: api-server -> triggerer logs"),
    );
    if af.executor == Executor::Kubernetes {
        // The scheduler launches task pods and the api-server reads running pods' logs through
        // the Kubernetes API.
        for (c, why) in [
            ("scheduler", "launches task pods"),
            ("api-server", "reads task pod logs"),
        ] {
            let mut api = named(&model.airbyte.kubernetes_api, "kubernetes-api");
            api.origin = format!(
                "{CHART}: KubernetesExecutor {c} {why} (endpoint {})",
                api.origin
            );
            b.egress(&af_id(c), "kubernetes-api", &api);
        }
    }
    // Components that call the Airbyte API.
    for caller in &af.callers {
        let from = match caller {
            AirflowComponent::Worker => task_runner,
            AirflowComponent::Triggerer => "triggerer",
            AirflowComponent::Scheduler => "scheduler",
            AirflowComponent::ApiServer => "api-server",
            AirflowComponent::DagProcessor => "dag-processor",
        };
        b.link(
            &af_id(from),
            "airbyte-server",
            &[FlowPort::tcp(port::SERVER)],
            "/airflow/callers",
        );
    }
    // The chart's git-sync sidecar (or KubernetesExecutor init container) runs in every pod
    // that reads DAG files: the dag-processor, the triggerer, the task runners (Celery workers,
    // task pods, or the scheduler under the LocalExecutor).
    if let Some(gs) = &model.dags.git_sync {
        for c in ["dag-processor", "triggerer", task_runner] {
            b.egress(&af_id(c), "git-sync", &gs.egress);
        }
    }
}

/// With `observability`: the chart's statsd exporter (chart 1.21 labels `component: statsd`,
/// container ports `statsd-ingest` UDP 9125 and `statsd-scrape` TCP 9102), every Airflow
/// component that emits metrics → its ingest port, and the declared Prometheus pods → its scrape
/// port. Nothing else reaches the exporter, and it reaches nothing.
pub(super) fn observability_flows(model: &Model, b: &mut Builder) {
    let Some(o) = &model.observability else {
        return;
    };
    let af = &model.airflow;
    const CHART: &str = "airflow chart 1.21";
    b.endpoint(
        System::Airflow,
        "statsd",
        &af.namespace,
        &[
            ("component", "statsd"),
            ("release", af.release.as_str()),
            ("tier", "airflow"),
        ],
        &[
            ("statsd-ingest", STATSD_INGEST, Protocol::Udp),
            ("statsd-scrape", STATSD_SCRAPE, Protocol::Tcp),
        ],
        true,
        &format!("{CHART}: statsd exporter (/observability)"),
    );
    let labels: Vec<(&str, &str)> = o
        .prometheus
        .pod_labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    b.endpoint(
        System::Monitoring,
        "prometheus",
        &o.prometheus.namespace,
        &labels,
        &[],
        false,
        &o.prometheus.origin,
    );
    let ingest = FlowPort {
        protocol: Protocol::Udp,
        range: Some(PortRange::single(STATSD_INGEST)),
    };
    let mut emitters = vec!["scheduler", "dag-processor", "triggerer", "api-server"];
    if af.executor != Executor::Local {
        emitters.push("worker");
    }
    for c in emitters {
        b.link(
            &format!("airflow-{c}"),
            "airflow-statsd",
            &[ingest],
            "/observability",
        );
    }
    b.link(
        "monitoring-prometheus",
        "airflow-statsd",
        &[FlowPort::tcp(STATSD_SCRAPE)],
        &o.prometheus.origin,
    );
}

/// The statsd exporter's ingest port (UDP), chart 1.21 `ports.statsdIngest`.
const STATSD_INGEST: u16 = 9125;
/// The statsd exporter's metrics port (TCP), chart 1.21 `ports.statsdScrape`.
const STATSD_SCRAPE: u16 = 9102;

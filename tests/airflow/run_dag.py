"""Run rendered DAGs with ``dag.test()`` and print what happened, one JSON line per run.

Usage: python run_dag.py <dags-folder> <dag_id>[+busy=<connection-uuid>] ...

DAGs run in the order given (a dag_id may repeat). ``+busy=<uuid>`` starts a sync of that
connection through the provider's ``AirbyteHook`` just before the DAG's first task runs, so the
DAG's own trigger meets a 409. The Airbyte connection comes from the environment
(``AIRFLOW_CONN_<ID>``, pointed at the mock).
Each run prints ``AIRGUARD-RESULT {"dag_id", "state", "tasks": {task_id: {"state",
"try_number"}}, "xcom": {task_id: {key: value}}}``.
"""

import json
import pathlib
import sys

from airflow.dag_processing.dagbag import BundleDagBag
from airflow.models.xcom import XComModel
from airflow.providers.airbyte.hooks.airbyte import AirbyteHook
from airflow.sdk.configuration import conf
from airflow.sdk.observability import stats
from airflow.sdk.observability.metrics import stats_utils
from airflow.utils.session import create_session

# A worker's task runner initialises Airflow's metrics client from ``[metrics]`` before any task
# runs (``airflow.sdk.execution_time.task_runner.main``); ``dag.test()`` runs tasks in this
# process without that entry point, so do the same here. With ``statsd_on`` unset it is the
# no-op logger, as in a worker.
stats.initialize(
    factory=stats_utils.get_stats_factory(),
    export_legacy_names=conf.getboolean("metrics", "legacy_names_on"),
)

folder = sys.argv[1]
bag = BundleDagBag(dag_folder=folder, bundle_path=pathlib.Path(folder))
if bag.import_errors:
    print("AIRGUARD-RESULT " + json.dumps({"import_errors": sorted(bag.import_errors)}))
    sys.exit(1)

for arg in sys.argv[2:]:
    dag_id, _, busy = arg.partition("+busy=")
    dag = bag.dags[dag_id]
    if busy:
        # Start a sync of the connection right before the DAG's first task sends its own.
        first = dag.get_task(sorted(dag.task_ids)[0])

        def start_busy_sync(context, _busy=busy):
            AirbyteHook(airbyte_conn_id="airbyte_default").submit_sync_connection(connection_id=_busy)

        first.pre_execute = start_busy_sync
    run = dag.test()
    out = {"dag_id": dag_id, "state": str(getattr(run.state, "value", run.state)), "tasks": {}, "xcom": {}}
    for ti in run.get_task_instances():
        out["tasks"][ti.task_id] = {
            "state": str(getattr(ti.state, "value", ti.state)),
            "try_number": ti.try_number,
        }
    with create_session() as session:
        rows = session.query(XComModel).filter(XComModel.dag_id == dag_id, XComModel.run_id == run.run_id)
        for row in rows:
            value = row.value
            if isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            out["xcom"].setdefault(row.task_id, {})[row.key] = value
    print("AIRGUARD-RESULT " + json.dumps(out, sort_keys=True, default=str), flush=True)

"""Load rendered dags/ folders in a real Airflow DagBag and print their structure as JSON.

Usage: python dagbag.py <dags-folder>... Each folder is loaded as the DAG processor loads a
bundle (its root on sys.path, so ``import airguard_airbyte`` finds the runtime module beside
the DAG files). Prints one line ``AIRGUARD-RESULT {folder: {dag_id: {...}}}`` with, per DAG, its
schedule, tags, owner, file and tasks (task_id -> operator class, upstream task ids, trigger
rule, retries); import errors are listed under ``"import_errors"``.
"""

import json
import pathlib
import sys

from airflow.dag_processing.dagbag import BundleDagBag

out = {}
for folder in sys.argv[1:]:
    sys.modules.pop("airguard_airbyte", None)
    bag = BundleDagBag(dag_folder=folder, bundle_path=pathlib.Path(folder))
    dags = {"import_errors": {k: str(v) for k, v in sorted(bag.import_errors.items())}}
    for dag_id, dag in sorted(bag.dags.items()):
        dags[dag_id] = {
            "schedule": None if dag.schedule is None else str(dag.schedule),
            "tags": sorted(dag.tags or []),
            "owner": dag.owner,
            "file": pathlib.Path(dag.fileloc).name,
            "on_failure_callbacks": len(dag.on_failure_callback or []),
            "tasks": {
                t.task_id: {
                    "class": type(t).__name__,
                    "upstream": sorted(t.upstream_task_ids),
                    "trigger_rule": str(getattr(t.trigger_rule, "value", t.trigger_rule)),
                    "retries": t.retries,
                }
                for t in dag.tasks
            },
        }
    out[folder] = dags
print("AIRGUARD-RESULT " + json.dumps(out, sort_keys=True))

"""Load a rendered dags/ folder in a real Airflow DagBag and print its structure as JSON.

Usage: python dagbag.py <dags-folder>. Exit 1 on any import error. The JSON maps each dag_id to
its schedule, tags, owner and tasks (task_id -> operator class, upstream task ids, trigger rule,
retries), for the Rust test to compare with the spec.
"""

import json
import sys

import pathlib

from airflow.dag_processing.dagbag import BundleDagBag

folder = sys.argv[1]
# As the DAG processor loads a bundle: its root is on sys.path, so `import airguard_airbyte`
# finds the runtime module beside the DAG files.
bag = BundleDagBag(dag_folder=folder, bundle_path=pathlib.Path(folder))
if bag.import_errors:
    for path, err in bag.import_errors.items():
        print(f"import error in {path}:\n{err}", file=sys.stderr)
    sys.exit(1)
out = {}
for dag_id, dag in sorted(bag.dags.items()):
    tasks = {}
    for t in dag.tasks:
        tasks[t.task_id] = {
            "class": type(t).__name__,
            "upstream": sorted(t.upstream_task_ids),
            "trigger_rule": str(getattr(t.trigger_rule, "value", t.trigger_rule)),
            "retries": t.retries,
        }
    timetable = dag.timetable
    out[dag_id] = {
        "schedule": getattr(timetable, "summary", None),
        "tags": sorted(dag.tags or []),
        "owner": dag.owner,
        "fileloc": dag.fileloc.rsplit("/", 1)[-1],
        "tasks": tasks,
    }
print(json.dumps(out, indent=2, sort_keys=True))

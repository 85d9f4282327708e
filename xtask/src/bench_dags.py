"""DagBag parse cost of rendered DAGs against the same DAGs expressed for dag-factory.

Usage: python bench_dags.py <rendered-dags-folder> <work-dir>. Loads the rendered DAGs in a
DagBag, writes each DAG's tasks (same operator classes, arguments, dependencies, trigger rules,
retries) as a dag-factory 1.x YAML file with the usual one-line loader beside it, loads those in a
second DagBag (when dagfactory imports), and prints ``AIRGUARD-RESULT <json>`` with the per-file
parse times of both.
"""

import inspect
import json
import pathlib
import shutil
import statistics
import sys

from airflow.dag_processing.dagbag import BundleDagBag


def parse(folder):
    bag = BundleDagBag(dag_folder=str(folder), bundle_path=pathlib.Path(folder))
    assert not bag.import_errors, bag.import_errors
    per = [s.duration.total_seconds() if hasattr(s.duration, "total_seconds") else float(s.duration)
           for s in bag.dagbag_stats if s.dag_num]
    return bag, per


def summary(per):
    return {"files": len(per), "total_s": sum(per), "mean_ms": statistics.mean(per) * 1e3,
            "median_ms": statistics.median(per) * 1e3}


rendered, work = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
bag, per = parse(rendered)
out = {"rendered": summary(per)}
try:
    import dagfactory  # noqa: F401
    import yaml
except ImportError as e:
    out["dag_factory"] = f"not installed: {e}"
    print("AIRGUARD-RESULT " + json.dumps(out))
    sys.exit(0)

folder = work / "dag-factory"
folder.mkdir(parents=True, exist_ok=True)
shutil.copy(rendered / "airguard_airbyte.py", folder / "airguard_airbyte.py")
for dag_id, dag in sorted(bag.dags.items()):
    tasks = []
    for t in dag.tasks:
        cls = type(t)
        spec = {"task_id": t.task_id, "operator": f"airguard_airbyte.{cls.__name__}"}
        for name in inspect.signature(cls.__init__).parameters:
            if name not in ("self", "kwargs") and hasattr(t, name):
                spec[name] = getattr(t, name)
        spec["trigger_rule"] = str(getattr(t.trigger_rule, "value", t.trigger_rule))
        spec["retries"] = t.retries
        if hasattr(t, "poke_interval"):
            spec["poke_interval"] = float(t.poke_interval)
            spec["mode"] = t.mode
        if t.upstream_task_ids:
            spec["dependencies"] = sorted(t.upstream_task_ids)
        tasks.append(spec)
    config = {dag_id: {"schedule": dag.schedule, "catchup": False, "tags": list(dag.tags),
                       "default_args": {"owner": dag.owner, "start_date": "2026-01-01"},
                       "tasks": tasks}}
    (folder / f"{dag_id}.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    (folder / f"{dag_id}.py").write_text(
        "# Airflow DAG from dag-factory\nimport os\n\nfrom dagfactory import load_yaml_dags\n\n"
        "load_yaml_dags(globals_dict=globals(), config_filepath="
        f"os.path.join(os.path.dirname(__file__), {dag_id + '.yml'!r}))\n"
    )
df_bag, df_per = parse(folder)
assert len(df_bag.dags) == len(bag.dags), (len(df_bag.dags), len(bag.dags))
out["dag_factory"] = summary(df_per)
print("AIRGUARD-RESULT " + json.dumps(out))

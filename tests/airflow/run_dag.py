"""Run rendered DAGs with ``dag.test()`` and print what happened, one JSON line per run.

Usage: python run_dag.py <dags-folder> <dag_id>[+busy=<connection-uuid>][+sql=<file>] ...

DAGs run in the order given (a dag_id may repeat). ``+busy=<uuid>`` starts a sync of that
connection through the provider's ``AirbyteHook`` just before the DAG's first task runs, so the
DAG's own trigger meets a 409. ``+sql=<file>`` replaces the sqlite database ``AIRGUARD_SQLITE``
with a fresh one filled by that script before the run. The Airbyte connection comes from the
environment (``AIRFLOW_CONN_<ID>``, pointed at the mock), and so does the sqlite one.

With ``AIRGUARD_NOTIFY_SECRET`` set, a Slack webhook listener (HTTP) and an SMTP sink are started
on 127.0.0.1, and the connections ``AIRGUARD_NOTIFY_SLACK_CONN`` (``slackwebhook``, the secret
in its token) and ``AIRGUARD_NOTIFY_SMTP_CONN`` (``smtp``, the secret as its password) point at
them; each run then also reports what they received.
Each run prints ``AIRGUARD-RESULT {"dag_id", "run_id", "state", "tasks": {task_id: {"state",
"try_number"}}, "xcom": {task_id: {key: value}}, "slack": [{"path", "body"}], "email":
[{"from", "to", "subject", "body", "raw", "auth"}]}``.
"""

import email
import email.policy
import http.server
import json
import os
import pathlib
import socketserver
import sqlite3
import sys
import threading

import structlog
from airflow.callbacks.callback_requests import DagCallbackRequest, DagRunContext
from airflow.dag_processing.dagbag import BundleDagBag
from airflow.dag_processing.processor import _execute_dag_callbacks
from airflow.models.dagrun import DagRun
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


SLACK, EMAIL = [], []


class SlackWebhook(http.server.BaseHTTPRequestHandler):
    """Records every POST (path and body) and answers ``ok`` like Slack."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        SLACK.append({"path": self.path, "body": body})
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


class SmtpSink(socketserver.StreamRequestHandler):
    """Just enough SMTP (EHLO, AUTH, MAIL, RCPT, DATA, QUIT) to accept and record each mail."""

    def reply(self, text):
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self):
        self.reply("220 127.0.0.1 airguard test sink")
        auth, sender, rcpt = None, None, []
        while line := self.rfile.readline():
            cmd = line.decode("utf-8", "replace").strip()
            verb = cmd.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250-127.0.0.1\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME")
            elif verb == "AUTH":
                auth = cmd.split(" ")[1]  # the mechanism only, not the credentials
                self.reply("235 2.7.0 authenticated")
            elif verb == "MAIL":
                sender = cmd.split(":", 1)[1].strip().strip("<>")
                self.reply("250 ok")
            elif verb == "RCPT":
                rcpt.append(cmd.split(":", 1)[1].strip().strip("<>"))
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                raw = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    raw += chunk
                msg = email.message_from_bytes(raw, policy=email.policy.default)
                part = msg.get_body(preferencelist=("html", "plain"))
                EMAIL.append(
                    {
                        "from": sender,
                        "to": rcpt,
                        "subject": str(msg["subject"]),
                        "body": part.get_content() if part else "",
                        "raw": raw.decode("utf-8", "replace"),
                        "auth": auth,
                    }
                )
                self.reply("250 ok")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


def serve(server):
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


secret = os.environ.get("AIRGUARD_NOTIFY_SECRET")
if secret:
    slack_port = serve(http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlackWebhook))
    smtp_port = serve(socketserver.ThreadingTCPServer(("127.0.0.1", 0), SmtpSink))
    os.environ["no_proxy"] = os.environ["NO_PROXY"] = "127.0.0.1"
    slack_conn = {
        "conn_type": "slackwebhook",
        "schema": "http",
        "host": f"127.0.0.1:{slack_port}/services",
        "password": f"T000/B000/{secret}",
    }
    smtp_conn = {
        "conn_type": "smtp",
        "host": "127.0.0.1",
        "port": smtp_port,
        "login": "airflow",
        "password": secret,
        "extra": {
            "disable_tls": True,
            "disable_ssl": True,
            "from_email": "airflow@example.com",
            "retry_limit": 0,
        },
    }
    for var, conn in (
        ("AIRGUARD_NOTIFY_SLACK_CONN", slack_conn),
        ("AIRGUARD_NOTIFY_SMTP_CONN", smtp_conn),
    ):
        os.environ["AIRFLOW_CONN_" + os.environ[var].upper()] = json.dumps(conn)

folder = sys.argv[1]
bag = BundleDagBag(dag_folder=folder, bundle_path=pathlib.Path(folder))
if bag.import_errors:
    print("AIRGUARD-RESULT " + json.dumps({"import_errors": sorted(bag.import_errors)}))
    sys.exit(1)


def execute_dag_callbacks(self, dag, success=True, relevant_ti=None, reason="success"):
    """Run a DAG's success/failure callbacks as the dag-processor does in production: the
    callback request the scheduler would send, executed against the DAG file parsed afresh.
    (``dag.test()``'s own shortcut hands the callbacks the serialized DAG, which cannot render
    a notifier's templates, and would reuse notifiers a first run has already rendered.)"""
    request = DagCallbackRequest(
        filepath=bag.dags[self.dag_id].relative_fileloc,
        dag_id=self.dag_id,
        run_id=self.run_id,
        bundle_name="dags-folder",
        bundle_version=None,
        context_from_server=DagRunContext(dag_run=self, last_ti=relevant_ti),
        is_failure_callback=not success,
        msg=reason,
    )
    fileloc = pathlib.Path(bag.dags[self.dag_id].fileloc)
    fresh = BundleDagBag(dag_folder=fileloc, bundle_path=pathlib.Path(folder))
    _execute_dag_callbacks(fresh, request, structlog.get_logger())


DagRun.execute_dag_callbacks = execute_dag_callbacks

for arg in sys.argv[2:]:
    dag_id, *opts = arg.split("+")
    opts = dict(o.split("=", 1) for o in opts)
    busy, sql = opts.get("busy"), opts.get("sql")
    dag = bag.dags[dag_id]
    if sql:
        db = pathlib.Path(os.environ["AIRGUARD_SQLITE"])
        db.unlink(missing_ok=True)
        with sqlite3.connect(db) as c:
            c.executescript(pathlib.Path(sql).read_text())
        c.close()
    SLACK.clear()
    EMAIL.clear()
    if busy:
        # Start a sync of the connection right before the DAG's first task sends its own.
        first = dag.get_task(min(dag.task_ids))

        def start_busy_sync(context, _busy=busy):
            AirbyteHook(airbyte_conn_id="airbyte_default").submit_sync_connection(
                connection_id=_busy
            )

        first.pre_execute = start_busy_sync
    run = dag.test()
    out = {
        "dag_id": dag_id,
        "run_id": run.run_id,
        "state": str(getattr(run.state, "value", run.state)),
        "tasks": {},
        "xcom": {},
        "slack": list(SLACK),
        "email": list(EMAIL),
    }
    for ti in run.get_task_instances():
        out["tasks"][ti.task_id] = {
            "state": str(getattr(ti.state, "value", ti.state)),
            "try_number": ti.try_number,
        }
    with create_session() as session:
        rows = session.query(XComModel).filter(
            XComModel.dag_id == dag_id, XComModel.run_id == run.run_id
        )
        for row in rows:
            value = row.value
            if isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            out["xcom"].setdefault(row.task_id, {})[row.key] = value
    print("AIRGUARD-RESULT " + json.dumps(out, sort_keys=True, default=str), flush=True)

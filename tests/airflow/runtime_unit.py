"""Unit checks of the rendered runtime module (dags/airguard_airbyte.py) that need no server.

Usage: python runtime_unit.py <dags-folder>. Prints ``AIRGUARD-RESULT "ok"`` when every check holds.
"""

import sys
import types

sys.path.insert(0, sys.argv[1])

import httpx  # noqa: E402

import airguard_airbyte as ab  # noqa: E402
from airflow.sdk.exceptions import AirflowFailException  # noqa: E402


class HttpError(Exception):
    def __init__(self, status):
        super().__init__(f"HTTP {status}")
        self.status_code = status
        self.body = "body"


def raises(status=None, exc=None):
    def fn():
        raise exc if exc is not None else HttpError(status)

    return fn


def outcome(fn):
    try:
        ab._call("op", fn)
    except ab.TransientError:
        return "transient"
    except ab.ApiError as e:
        assert isinstance(e, AirflowFailException), "a 4xx must never be retried"
        return f"final {e.status}"
    return "ok"


# 5xx, 429 and network errors are retried; any other 4xx is final.
assert outcome(raises(503)) == "transient"
assert outcome(raises(500)) == "transient"
assert outcome(raises(429)) == "transient"
assert outcome(raises(exc=httpx.ConnectError("refused"))) == "transient"
assert outcome(raises(exc=httpx.ReadTimeout("slow"))) == "transient"
assert outcome(raises(404)) == "final 404"
assert outcome(raises(409)) == "final 409"
assert outcome(raises(422)) == "final 422"
assert outcome(lambda: 1) == "ok"

# `queued` is in progress (provider 6.2.0's wait_for_job treats it as an error).
assert ab.IN_PROGRESS == {"pending", "queued", "running", "incomplete"}

# Stats carry the seed's keys.
job = types.SimpleNamespace(
    job_id=7,
    connection_id="c",
    rows_synced=10,
    bytes_synced=20,
    start_time="2026-01-01T00:00:00Z",
    last_updated_at="2026-01-01T00:01:30Z",
)
stats = ab.job_stats(job)
assert list(stats) == list(ab.STAT_KEYS), stats
assert stats["airbyte_records"] == 10 and stats["airbyte_bytes"] == 20
assert stats["airbyte_duration_seconds"] == 90.0, stats
# Metrics: names from the contract's table; a failing client, a bad label or no labels (no
# `observability`) never raise, and the last two send nothing.
from airflow.sdk.observability import stats as airflow_stats  # noqa: E402

sent = []


class Log:
    def __init__(self):
        self.warnings = []

    def warning(self, *args, **kwargs):
        self.warnings.append(args[0] % args[1:])


def gauge(name, value, **kwargs):
    sent.append(("g", name, value))


def incr(name, count=1, **kwargs):
    sent.append(("c", name, count))


airflow_stats.gauge, airflow_stats.incr = gauge, incr
labels = {"pipeline": "daily", "connection": "orders", "step": "sync"}
log = Log()
ab.emit_job(log, labels, stats)
ab.emit_outcome(log, labels, "succeeded", 1767225690.0)
assert sent == [
    ("g", "airguard.sync.daily.orders.sync.records", 10),
    ("g", "airguard.sync.daily.orders.sync.bytes", 20),
    ("g", "airguard.sync.daily.orders.sync.duration", 90.0),
    ("c", "airguard.sync.daily.orders.sync.outcome.succeeded", 1),
    ("g", "airguard.last_success.daily.orders", 1767225690.0),
], sent
sent.clear()
ab.emit(log, None, "airguard_sync_records", 1)
ab.emit(log, {**labels, "connection": "a.b"}, "airguard_sync_records", 1)
assert sent == [] and len(log.warnings) == 1, (sent, log.warnings)


def broken(*args, **kwargs):
    raise OSError("statsd unreachable")


airflow_stats.gauge, airflow_stats.incr = broken, broken
ab.emit_outcome(log, labels, "failed")
ab.emit(log, labels, "airguard_sync_records", 1)
assert len(log.warnings) == 3, log.warnings
print('AIRGUARD-RESULT "ok"')

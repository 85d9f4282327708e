"""Interop proof (b): the Airflow provider's AirbyteHook (apache-airflow-providers-airbyte 6.2.0)
submits a sync and waits for it to succeed against the airguard mock, with client credentials,
reading its connection from AIRFLOW_CONN_AIRBYTE_DEFAULT (JSON form) as a deployment would.

Environment: AIRFLOW_CONN_AIRBYTE_DEFAULT, AIRBYTE_MOCK_BASE, AIRBYTE_CONNECTION_ID.
"""

import json
import os

# Set by .ci/interop.sh, in the JSON form the rendered Airflow values use.
conn = json.loads(os.environ["AIRFLOW_CONN_AIRBYTE_DEFAULT"])
assert conn["host"] == os.environ["AIRBYTE_MOCK_BASE"], conn["host"]

from airflow.providers.airbyte.hooks.airbyte import AirbyteHook  # noqa: E402

hook = AirbyteHook(airbyte_conn_id="airbyte_default")
ok, message = hook.test_connection()
assert ok, message

job = hook.submit_sync_connection(connection_id=os.environ["AIRBYTE_CONNECTION_ID"])
print(f"airflow: submitted job {job.job_id} status={job.status}")
hook.wait_for_job(job_id=job.job_id, wait_seconds=0.5, timeout=60)
final = hook.get_job_details(job.job_id)
print(f"airflow: job {job.job_id} ended {final.status}; rows={final.rows_synced}")
assert str(final.status.value if hasattr(final.status, "value") else final.status) == "succeeded", final
print("airflow: OK")

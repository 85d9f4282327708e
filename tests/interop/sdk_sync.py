"""Interop proof (a): the airbyte-api Python SDK (1.0.1) runs a sync to success against the
airguard mock, authenticating with client credentials.

Environment: AIRBYTE_MOCK_BASE (e.g. http://127.0.0.1:PORT/api/public/v1), AIRBYTE_CLIENT_ID,
AIRBYTE_CLIENT_SECRET, AIRBYTE_CONNECTION_ID. Exits non-zero on any failure.
"""

import os
import sys
import time

import airbyte_api
from airbyte_api import api, models

base = os.environ["AIRBYTE_MOCK_BASE"]
connection_id = os.environ["AIRBYTE_CONNECTION_ID"]

# The SDK joins a relative token URL onto the server URL with urljoin, which replaces the last
# path segment: "v1/applications/token" on ".../api/public/v1" gives ".../api/public/v1/applications/token".
sdk = airbyte_api.AirbyteAPI(
    server_url=base,
    security=models.Security(
        client_credentials=models.SchemeClientCredentials(
            client_id=os.environ["AIRBYTE_CLIENT_ID"],
            client_secret=os.environ["AIRBYTE_CLIENT_SECRET"],
            token_url="v1/applications/token",
        )
    ),
)

health = sdk.health.get_health_check()
assert health.status_code == 200, health

conn = sdk.connections.get_connection(request=api.GetConnectionRequest(connection_id=connection_id))
assert conn.connection_response is not None, conn
assert conn.connection_response.connection_id == connection_id
assert conn.connection_response.status == models.ConnectionStatusEnum.ACTIVE

listed = sdk.connections.list_connections(request=api.ListConnectionsRequest())
assert any(c.connection_id == connection_id for c in listed.connections_response.data), listed

created = sdk.jobs.create_job(
    request=models.JobCreateRequest(connection_id=connection_id, job_type=models.JobTypeEnum.SYNC)
)
job = created.job_response
assert job is not None and job.job_type == models.JobTypeEnum.SYNC, created
job_id = job.job_id
print(f"sdk: created job {job_id} status={job.status}")

deadline = time.monotonic() + 60
seen = []
while True:
    got = sdk.jobs.get_job(request=api.GetJobRequest(job_id=job_id)).job_response
    if not seen or seen[-1] != got.status:
        seen.append(got.status)
    if got.status in (models.JobStatusEnum.SUCCEEDED, models.JobStatusEnum.FAILED, models.JobStatusEnum.CANCELLED):
        break
    if time.monotonic() > deadline:
        sys.exit(f"sdk: job {job_id} did not finish: {seen}")
    time.sleep(0.5)

print(f"sdk: statuses {[str(s.value) for s in seen]}; rows={got.rows_synced} bytes={got.bytes_synced} duration={got.duration}")
assert got.status == models.JobStatusEnum.SUCCEEDED, got
assert got.rows_synced and got.rows_synced > 0, got

jobs = sdk.jobs.list_jobs(request=api.ListJobsRequest(connection_id=connection_id))
assert any(j.job_id == job_id for j in jobs.jobs_response.data), jobs
print("sdk: OK")

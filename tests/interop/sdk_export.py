"""Interop proof (c): the airbyte-api Python SDK (1.0.1) lists what `airguard export` reads from
`airguard mock serve`: workspaces, sources, destinations and connections (paged with the API's
largest page, filtered by workspace), one source by id with its secrets masked, and a source's
stream properties. The SDK parses every body into its typed models, so a field the mock spells
wrong fails here.

Environment: AIRBYTE_MOCK_BASE (e.g. http://127.0.0.1:PORT/api/public/v1), AIRBYTE_CLIENT_ID,
AIRBYTE_CLIENT_SECRET, AIRBYTE_EXPORT_CONNECTIONS (how many connections the mock holds).
Exits non-zero on any failure.
"""

import os

import airbyte_api
from airbyte_api import api, models

base = os.environ["AIRBYTE_MOCK_BASE"]
expected = int(os.environ["AIRBYTE_EXPORT_CONNECTIONS"])
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

workspaces = sdk.workspaces.list_workspaces(request=api.ListWorkspacesRequest(limit=100))
ws = workspaces.workspaces_response.data
assert len(ws) == 1, ws
ws_id = ws[0].workspace_id

sources = sdk.sources.list_sources(request=api.ListSourcesRequest(workspace_ids=[ws_id], limit=100))
src = {s.name: s for s in sources.sources_response.data}
assert sorted(src) == ["Postgres prod", "mock-source"], src
pg = src["Postgres prod"]
# The SDK parses `configuration` into a union of connector models; the wire form shows the mask.
raw = {s["name"]: s for s in sources.raw_response.json()["data"]}
assert raw["Postgres prod"]["configuration"]["password"] == "**********", "masked as the server does"

one = sdk.sources.get_source(request=api.GetSourceRequest(source_id=pg.source_id))
assert one.source_response.source_type == "postgres", one

dests = sdk.destinations.list_destinations(request=api.ListDestinationsRequest(workspace_ids=[ws_id]))
assert sorted(d.name for d in dests.destinations_response.data) == ["Null sink", "mock-destination"]

seen, offset, pages = [], 0, 0
while True:
    page = sdk.connections.list_connections(
        request=api.ListConnectionsRequest(workspace_ids=[ws_id], limit=100, offset=offset)
    ).connections_response
    pages += 1
    seen.extend(page.data)
    if not page.next:
        break
    offset += len(page.data)
assert len(seen) == expected, (len(seen), expected)
assert len({c.connection_id for c in seen}) == expected, "no connection twice"
first = seen[0]
assert first.schedule.schedule_type == models.ScheduleTypeWithBasicEnum.CRON, first.schedule
assert first.configurations.streams[0].sync_mode == models.ConnectionSyncModeEnum.INCREMENTAL_APPEND

streams = sdk.streams.get_stream_properties(
    request=api.GetStreamPropertiesRequest(source_id=pg.source_id)
)
names = [s.stream_name for s in streams.stream_properties_response]
assert names == ["users"], names
print(f"sdk export: {len(seen)} connections in {pages} pages, {len(src)} sources")

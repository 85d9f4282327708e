#!/usr/bin/env bash
# Interop proof: the official Airbyte clients run a sync to success against `airguard mock serve`,
# and the SDK lists the configuration `airguard export` reads (workspaces, sources, destinations,
# 250 connections over 3 pages, stream properties).
#
# Creates (once) a Python venv with the pinned airbyte-api SDK and the Airflow Airbyte provider,
# builds the airguard binary, starts the mock on a free loopback port with client-credentials auth,
# runs tests/interop/sdk_sync.py and tests/interop/airflow_hook_sync.py, stops the mock, and exits
# non-zero if anything failed. Idempotent: the venv is cached (default target/interop-venv, or
# $AIRGUARD_INTEROP_VENV) and reused while the pins are unchanged.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

PINS=("airbyte-api==1.0.1" "apache-airflow-providers-airbyte==6.2.0")
venv="${AIRGUARD_INTEROP_VENV:-$root/target/interop-venv}"
stamp="$venv/.airguard-pins"

log() { printf '[interop %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }

# A fresh Debian/Ubuntu machine may lack the venv module (or python3 itself).
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    log "installing python3-venv"
    sudo_cmd=""; [[ "$(id -u)" -ne 0 ]] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    $sudo_cmd apt-get install -y -qq python3 python3-venv >/dev/null
  else
    echo "python3 with the venv module is required" >&2
    exit 1
  fi
fi

if [[ ! -f "$stamp" ]] || [[ "$(cat "$stamp")" != "${PINS[*]}" ]]; then
  log "creating venv $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  log "installing ${PINS[*]}"
  "$venv/bin/python" -m pip install --quiet "${PINS[@]}"
  echo "${PINS[*]}" > "$stamp"
else
  log "reusing venv $venv"
fi

log "building airguard"
cargo build --quiet --bin airguard
bin="$root/target/debug/airguard"

port="$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
client_id="interop-client"
client_secret="interop-secret-$RANDOM$RANDOM"
connection_id="9b1d0c6e-3f1a-4a8e-9d2b-6c0f4e1a2b3c"

scenario="$(mktemp)"
mocklog="$(mktemp)"
airflow_home="$(mktemp -d)"
cleanup() {
  if [[ -n "${mock_pid:-}" ]]; then kill "$mock_pid" 2>/dev/null || true; wait "$mock_pid" 2>/dev/null || true; fi
  rm -rf "$scenario" "$mocklog" "$airflow_home"
}
trap cleanup EXIT

cat > "$scenario" <<YAML
connections:
  - id: $connection_id
    name: interop
    source: 5c000000-0000-4000-8000-000000000001
    destination: de000000-0000-4000-8000-000000000001
    schedule: { cron: "0 0 2 * * ?" }
    streams:
      - { name: users, sync-mode: incremental_append, cursor-field: [updated_at], primary-key: [[id]] }
sources:
  - id: 5c000000-0000-4000-8000-000000000001
    name: Postgres prod
    type: postgres
    configuration: { host: db, password: interop-pg-secret }
    secret-fields: [password]
destinations:
  - id: de000000-0000-4000-8000-000000000001
    name: Null sink
    type: dev-null
    configuration: { destinationType: dev-null, test_destination: { test_destination_type: SILENT } }
bulk: { connections: 249, streams: 2 }
jobs:
  duration: 2s
  pending: 500ms
  records: 1234
  bytes: 56789
YAML

log "starting mock on 127.0.0.1:$port"
"$bin" mock serve --listen "127.0.0.1:$port" --scenario "$scenario" \
  --auth client-credentials --client-id "$client_id" --client-secret "$client_secret" >"$mocklog" 2>&1 &
mock_pid=$!
for _ in $(seq 1 100); do
  if "$venv/bin/python" -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/api/public/v1/health', timeout=1)" 2>/dev/null; then break; fi
  sleep 0.1
done

export AIRBYTE_MOCK_BASE="http://127.0.0.1:$port/api/public/v1"
export AIRBYTE_CLIENT_ID="$client_id" AIRBYTE_CLIENT_SECRET="$client_secret" AIRBYTE_CONNECTION_ID="$connection_id"
export AIRBYTE_EXPORT_CONNECTIONS=250
# The Airflow connection in JSON form, as the rendered values give it to Airflow: host carries
# scheme and base path, login/password are the client credentials, schema is the token URL.
export AIRFLOW_HOME="$airflow_home"
export AIRFLOW_CONN_AIRBYTE_DEFAULT="{\"conn_type\":\"airbyte\",\"host\":\"$AIRBYTE_MOCK_BASE\",\"login\":\"$client_id\",\"password\":\"$client_secret\",\"schema\":\"v1/applications/token\",\"extra\":{\"timeout\":10}}"

failed=0
log "airbyte-api SDK"
if ! "$venv/bin/python" tests/interop/sdk_sync.py; then failed=1; log "SDK interop FAILED"; fi
log "airbyte-api SDK lists what export reads"
if ! "$venv/bin/python" tests/interop/sdk_export.py; then failed=1; log "SDK export interop FAILED"; fi
log "Airflow AirbyteHook"
if ! "$venv/bin/python" tests/interop/airflow_hook_sync.py; then failed=1; log "Airflow hook interop FAILED"; fi

if [[ $failed -ne 0 ]]; then
  log "mock output:"; cat "$mocklog"
  exit 1
fi
log "all interop checks passed"

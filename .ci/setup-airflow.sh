#!/usr/bin/env bash
# Install a pinned Airflow 3 with the providers the rendered DAGs use (Airbyte, common.sql, Slack,
# SMTP), the sqlite provider the data-check tests run against, and ruff into their own venv under
# target/, migrate a throwaway sqlite metadata database,
# and export AIRGUARD_AIRFLOW_PY=<the venv's python> for `tests/dags_airflow.rs`.
# Versions are pinned below and every transitive dependency by .ci/airflow-constraints.txt (pip -c).
# Idempotent: a venv whose stamp matches the pins is reused. Works sourced (from .ci/run) or
# executed (then it prints the export line).
set -euo pipefail
_af_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_af_venv="${_af_root}/target/airflow-venv"
_af_pins=(
  "apache-airflow==3.3.2"
  "apache-airflow-providers-airbyte==6.2.0"
  "apache-airflow-providers-common-sql==2.4.0"
  "apache-airflow-providers-smtp==3.2.0"
  "apache-airflow-providers-slack==9.11.1"
  # Airflow's statsd client (the image's `statsd` extra): the runtime's metrics go through it.
  "statsd==4.0.1"
  "apache-airflow-providers-sqlite==4.3.4"
  "ruff==0.17.6"
)
_af_stamp="$(printf '%s\n' "${_af_pins[@]}" | cat - "${_af_root}/.ci/airflow-constraints.txt" | sha256sum | cut -c1-16)"
if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
fi
if [ "$(cat "${_af_venv}/.airguard-stamp" 2>/dev/null)" != "${_af_stamp}" ]; then
  rm -rf "${_af_venv}"
  python3 -m venv "${_af_venv}"
  "${_af_venv}/bin/python" -m pip install --quiet --upgrade pip
  "${_af_venv}/bin/python" -m pip install --quiet -c "${_af_root}/.ci/airflow-constraints.txt" "${_af_pins[@]}"
  echo "${_af_stamp}" > "${_af_venv}/.airguard-stamp"
fi
# A throwaway AIRFLOW_HOME with sqlite: the tests give each run its own copy of it.
export AIRGUARD_AIRFLOW_HOME="${_af_root}/target/airflow-home"
mkdir -p "${AIRGUARD_AIRFLOW_HOME}/dags"
if [ ! -f "${AIRGUARD_AIRFLOW_HOME}/airflow.db" ]; then
  AIRFLOW_HOME="${AIRGUARD_AIRFLOW_HOME}" AIRFLOW__CORE__LOAD_EXAMPLES=False \
    AIRFLOW__CORE__DAGS_FOLDER="${AIRGUARD_AIRFLOW_HOME}/dags" \
    "${_af_venv}/bin/airflow" db migrate >/dev/null
fi
export AIRGUARD_AIRFLOW_PY="${_af_venv}/bin/python"
"${AIRGUARD_AIRFLOW_PY}" -c 'import airflow.sdk, airflow.providers.airbyte.hooks.airbyte' >/dev/null
echo "export AIRGUARD_AIRFLOW_PY=${AIRGUARD_AIRFLOW_PY} AIRGUARD_AIRFLOW_HOME=${AIRGUARD_AIRFLOW_HOME}"

#!/usr/bin/env bash
# Install network-config-analyzer 2.1.0 (the NetworkPolicy cross-check oracle for
# `tests/audit_nca.rs`) into its own venv under target/, and export AIRGUARD_NCA=<its nca>.
# Idempotent: an existing venv with the right version is reused. Works sourced (from .ci/run)
# or executed (then it prints the export line).
set -euo pipefail
_nca_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_nca_venv="${_nca_root}/target/nca-venv"
_nca_version="2.1.0"
if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
fi
if ! "${_nca_venv}/bin/python" -m pip show network-config-analyzer 2>/dev/null | grep -qx "Version: ${_nca_version}"; then
  python3 -m venv "${_nca_venv}"
  "${_nca_venv}/bin/python" -m pip install --quiet --upgrade pip
  "${_nca_venv}/bin/python" -m pip install --quiet "network-config-analyzer==${_nca_version}"
fi
export AIRGUARD_NCA="${_nca_venv}/bin/nca"
"${AIRGUARD_NCA}" --help >/dev/null
echo "export AIRGUARD_NCA=${AIRGUARD_NCA}"

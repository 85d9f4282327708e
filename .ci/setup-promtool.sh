#!/usr/bin/env bash
# Install promtool (Debian's `prometheus` package) for the rule checks and unit tests in
# `tests/observability.rs`, and export AIRGUARD_PROMTOOL=<its promtool>.
# Idempotent: an installed promtool is reused. Works sourced (from .ci/run) or executed (then it
# prints the export line).
set -euo pipefail
if ! command -v promtool >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then _pt_sudo=""; else _pt_sudo="sudo"; fi
  ${_pt_sudo} apt-get update -qq
  DEBIAN_FRONTEND=noninteractive ${_pt_sudo} apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
AIRGUARD_PROMTOOL="$(command -v promtool)"
export AIRGUARD_PROMTOOL
"${AIRGUARD_PROMTOOL}" --version >/dev/null
echo "export AIRGUARD_PROMTOOL=${AIRGUARD_PROMTOOL}"

#!/usr/bin/env bash
# Install headless Chromium (Debian's `chromium` package) for the browser checks of the audit's
# HTML report in `tests/audit_html.rs`, and export AIRGUARD_CHROMIUM=<its binary>. The test
# drives it with its own command line (--headless --dump-dom / --screenshot, console messages
# read from --enable-logging=stderr): no driver library, nothing from npm.
# Idempotent: an installed chromium is reused. Works sourced (from .ci/run) or executed (then it
# prints the export line).
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then _cr_sudo=""; else _cr_sudo="sudo"; fi
  ${_cr_sudo} apt-get update -qq
  DEBIAN_FRONTEND=noninteractive ${_cr_sudo} apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
AIRGUARD_CHROMIUM="$(command -v chromium)"
export AIRGUARD_CHROMIUM
"${AIRGUARD_CHROMIUM}" --version >/dev/null
echo "export AIRGUARD_CHROMIUM=${AIRGUARD_CHROMIUM}"

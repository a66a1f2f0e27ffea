#!/usr/bin/env bash
# Start the platform in the background and wait until every service answers healthy
# (runbook: Planned Maintenance, step 4). Embedded by default; distributed with
# MCP_TRADING_DEPLOYMENT=distributed. A platform left in maintenance stays in it (journaled)
# until maintenance-complete.
# Usage: startup.sh [--timeout S] [--data-dir DIR]. Exit 0 once healthy.
set -uo pipefail
. "$(dirname "$0")/_common.sh"
echo "▶️  Starting the platform - $(date)"
if "$CLI" start --detach "$@"; then
  echo "✅ Platform started"
else
  rc=$?
  echo "❌ Start failed (exit $rc)"
  exit "$rc"
fi

#!/usr/bin/env bash
# Graceful shutdown (runbook: Planned Maintenance, step 2): new orders refused, the journal
# flushed, every service stopped — by the PID file, never by process name.
# Usage: graceful_shutdown.sh [--data-dir DIR]. Exit 0 when stopped (or not running).
set -uo pipefail
. "$(dirname "$0")/_common.sh"
echo "⏹️  Graceful shutdown - $(date)"
if "$CLI" stop "$@"; then
  echo "✅ Platform stopped"
else
  rc=$?
  echo "❌ Graceful shutdown failed (exit $rc)"
  exit "$rc"
fi

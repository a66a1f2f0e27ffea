#!/usr/bin/env bash
# Database maintenance (runbook: Planned Maintenance, database-maintenance): SQLite — WAL
# checkpoint, PRAGMA integrity_check, ANALYZE, VACUUM when worth it (>= 20 % free pages; only
# with the platform stopped); PostgreSQL — VACUUM (ANALYZE) of the platform's tables.
# Usage: database_maintenance.sh [--vacuum auto|always|never] [--json] [--data-dir DIR]
# Exit 0 when every store passed, 1 when a step failed (e.g. an integrity problem), 2 bad input.
set -uo pipefail
. "$(dirname "$0")/_common.sh"
echo "🗄️  Database maintenance - $(date)"
if "$CLI" db maintain "$@"; then
  echo "✅ Database maintenance completed"
else
  rc=$?
  echo "❌ Database maintenance failed (exit $rc)"
  exit "$rc"
fi

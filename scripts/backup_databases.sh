#!/usr/bin/env bash
# Backup every store (runbook: Backup Procedures): SQLite (embedded) through its online backup
# API, PostgreSQL (distributed) through pg_dump -Fc; compressed, with a manifest, then VERIFIED
# (checksums, a test restore, the journal/state/projection checks). Safe while trading runs.
# Usage: backup_databases.sh [--to DIR] [--archive] [--json]
# Exit 0 only when the backup verified; retention (MCP_TRADING_BACKUP_KEEP_DAILY/_WEEKLY) applies.
set -uo pipefail
. "$(dirname "$0")/_common.sh"
echo "💾 Backing up the platform's stores - $(date)"
if "$CLI" backup "$@"; then
  echo "✅ Backup completed and verified"
else
  rc=$?
  echo "❌ Backup failed or did not verify (exit $rc)"
  exit "$rc"
fi

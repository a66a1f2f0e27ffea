#!/usr/bin/env bash
# Restore (runbook: Restore Procedures): restore_databases.sh BACKUP_FILE|latest [postgres|sqlite]
# BACKUP_FILE is a backup directory or .tar (or its name in the backup directory); `latest` is
# the newest VERIFIED backup. The manifest and every checksum are checked first (a corrupt or
# incomplete backup is refused and nothing is touched); the running platform is stopped
# gracefully (as the runbook's script stops it); the stores are restored aside, checked, and
# swapped in by rename; the replaced data is kept as a rollback copy. Start the platform
# afterwards (`mcp-trading start --detach`); trading state is as it was at the backup.
set -uo pipefail
. "$(dirname "$0")/_common.sh"
if [ $# -lt 1 ]; then
  echo "usage: $0 BACKUP_FILE|latest [postgres|sqlite]" >&2
  exit 2
fi
backup=$1
store=${2:-}
args=(--yes --stop)
case "$store" in
  "") ;;
  postgres|sqlite) args+=(--store "$store") ;;
  mongodb)
    echo "❌ the platform keeps no MongoDB: its analytics data lives in the journal's database" \
         "and is restored with it; run: $0 $backup" >&2
    exit 2 ;;
  *) echo "❌ unknown store '$store': use postgres or sqlite" >&2; exit 2 ;;
esac
echo "♻️  Restoring from $backup - $(date)"
if "$CLI" restore "$backup" "${args[@]}"; then
  echo "✅ Restore completed; start the platform with: $CLI start --detach"
else
  rc=$?
  echo "❌ Restore refused or failed (exit $rc); the current data is untouched unless said above"
  exit "$rc"
fi

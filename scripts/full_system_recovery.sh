#!/usr/bin/env bash
# Full system recovery (runbook: Emergency Procedures). Restores the latest *verified* backup,
# comes up halted (new orders refused until an operator resumes), verifies the data, starts
# the platform and runs the system integration test against it.
# Usage: full_system_recovery.sh [--data-dir DIR] [--no-restore] [--timeout S] [BACKUP|latest]
#   --no-restore   the data in place is good (e.g. after a host failure): skip step 2
#   --timeout S    how long step 5 waits for every service to answer healthy (default 180;
#                  distributed mode starts one process per service)
# Both modes: embedded (SQLite) or, with MCP_TRADING_DEPLOYMENT=distributed, PostgreSQL.
# Exit: 0 recovered (trading halted), 1 a step failed (the step is named), 2 usage/unsupported.
set -uo pipefail
. "$(dirname "$0")/_common.sh"
restore=1
backup=latest
timeout=180
while [ $# -gt 0 ]; do
  case "$1" in
    --data-dir) export MCP_TRADING_DATA_DIR="$2"; shift 2 ;;
    --no-restore) restore=0; shift ;;
    --timeout) timeout="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) backup=$1; shift ;;
  esac
done
fail() { echo "❌ step $1 failed: $2"; echo "   trading stays halted; fix the cause and run this again"; exit 1; }

echo "🔄 FULL SYSTEM RECOVERY - $(date)"

echo "1. Stopping the platform if it runs (gracefully, by its PID file)..."
"$CLI" stop || fail 1 "the platform did not stop"  # "not running" is fine

if [ $restore -eq 1 ]; then
  echo "2. Restoring the latest verified backup ($backup)..."
  if ! "$CLI" restore --help >/dev/null 2>&1; then
    echo "❌ this version has no \`mcp-trading restore\` (the backup/restore work is not installed);"
    echo "   restore the data directory by hand, or run with --no-restore to recover the data in place"
    exit 2
  fi
  "$CLI" restore "$backup" --yes || fail 2 "restore refused (see above: nothing was touched)"
else
  echo "2. Restore skipped (--no-restore): recovering the data in place"
fi

echo "3. Halting new orders before anything starts (manual approval resumes)..."
"$CLI" halt --offline --reason "full system recovery $(date -u +%FT%TZ): manual approval required" \
  || fail 3 "could not record the halt in the journal"

echo "4. Verifying data integrity..."
"$PY" "$ROOT/scripts/verify_data_integrity.py" || fail 4 "integrity check (each failed check is named above)"

echo "5. Starting the platform..."
if ! "$CLI" start --detach --timeout "$timeout"; then
  "$CLI" stop >/dev/null 2>&1  # a half-started platform is not left running
  fail 5 "the platform did not start healthy within $timeout s (stopped again; see the logs)"
fi

echo "6. Running the system integration test..."
integration=("$PY" "$ROOT/tests/system_integration_test.py")
[ -n "${MCP_TRADING_DATA_DIR:-}" ] && integration+=(--data-dir "$MCP_TRADING_DATA_DIR")
"${integration[@]}" || fail 6 "system integration test"

echo "7. System recovery complete. Trading is HALTED (new orders refused): manual approval required to resume trading."
echo "   Run: ./scripts/resume_trading.sh \"reason\"   (or: mcp-trading resume --reason \"...\")"
echo "✅ Full system recovery completed"

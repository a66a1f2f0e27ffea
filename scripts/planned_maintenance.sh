#!/usr/bin/env bash
# Planned maintenance (runbook: Maintenance Procedures):
#   planned_maintenance.sh security-update|database-maintenance|log-rotation [--yes]
# 1. maintenance-start (journaled: new orders refused from here on; the alert notifies people)
# 2. graceful_shutdown.sh   3. the maintenance itself   4. startup.sh
# 5. post_maintenance_check.sh   6. maintenance-complete — only when 3 and 5 passed; otherwise
#    the platform is left up but in maintenance (orders refused) and the exit code is 1.
# security-update is the host's package manager, not the platform's: it prints the commands
# it would run unless given --yes. Steps 4-5 run even when 3 failed: the platform is never
# left down by a failed maintenance. Exit 0 when every step passed, 1 naming the failed
# ones, 2 for a bad argument.
set -uo pipefail
. "$(dirname "$0")/_common.sh"
HERE="$(dirname "$0")"
TYPE="${1:-}"
YES="no"
[ "${2:-}" = "--yes" ] && YES="yes"
case "$TYPE" in
  security-update|database-maintenance|log-rotation) ;;
  *) echo "usage: planned_maintenance.sh security-update|database-maintenance|log-rotation [--yes]" >&2
     exit 2 ;;
esac

echo "🔧 Starting planned maintenance: $TYPE - $(date)"
failed=()
was_running="no"
[ "$("$CLI" status --json 2>/dev/null | field running)" = "True" ] && was_running="yes"

echo "1. Notifying users (maintenance-start)..."
if [ "$was_running" = "yes" ]; then
  api POST "$PORT_ALERTS" /alerts/maintenance-start "{\"reason\": \"planned maintenance: $TYPE\"}" \
    >/dev/null || failed+=("maintenance-start")
else
  echo "   the platform is not running: nothing to notify through it"
fi

echo "2. Graceful shutdown..."
bash "$HERE/graceful_shutdown.sh" || failed+=("graceful shutdown")

echo "3. Maintenance: $TYPE..."
case "$TYPE" in
  security-update)
    if [ "$YES" = "yes" ]; then
      { apt-get update && apt-get upgrade -y; } || failed+=("security-update")
    else
      echo "   would run: apt-get update && apt-get upgrade -y   (the host's packages; add --yes to run)"
    fi ;;
  database-maintenance)
    bash "$HERE/database_maintenance.sh" || failed+=("database-maintenance") ;;
  log-rotation)
    bash "$HERE/rotate_logs.sh" || failed+=("log-rotation") ;;
esac

echo "4. Restarting services..."
if bash "$HERE/startup.sh"; then
  echo "5. Verifying functionality..."
  bash "$HERE/post_maintenance_check.sh" || failed+=("post-maintenance check")
else
  failed+=("startup")
fi

if [ "${#failed[@]}" -eq 0 ]; then
  echo "6. Notifying completion (maintenance-complete)..."
  if api POST "$PORT_ALERTS" /alerts/maintenance-complete '{}' >/dev/null; then
    echo "✅ Planned maintenance completed"
    exit 0
  fi
  failed+=("maintenance-complete")
fi
echo "❌ Planned maintenance: failed steps: ${failed[*]}"
echo "   the platform stays in maintenance (new orders refused) until an operator runs:"
echo "   curl -X POST http://$HOST:$PORT_ALERTS/alerts/maintenance-complete"
exit 1

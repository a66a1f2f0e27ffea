#!/usr/bin/env bash
# daily_eod_procedures.sh (runbook: Daily Operations, End-of-Day Procedures): the five steps,
# each run even when an earlier one failed:
#   1. the daily trading report for today (exchange calendar date)reports/daily_trading_report.py
#   2. the verified backup of the trading data             scripts/backup_trading_data.sh
#   3. the daily risk report                                reports/daily_risk_report.py
#   4. the performance summary                              reports/performance_summary.py
#   5. cleanup of the platform's OWN temporary files only (in place of the runbook's broad
#      `find /tmp ... -delete`): atomic-write leftovers (*.tmp) and restore scratch dirs
#      (.unpack-*) under the data dir, older than a day. Nothing else is touched.
# Then a summary table; exit 0 only when every step succeeded, else 1 naming each failed step.
# Usage: daily_eod_procedures.sh [--data-dir DIR]
set -euo pipefail
. "$(dirname "$0")/_common.sh"
while [ $# -gt 0 ]; do
  case "$1" in
    --data-dir) export MCP_TRADING_DATA_DIR="$2"; shift 2 ;;
    *) echo "unknown argument: $1 (usage: daily_eod_procedures.sh [--data-dir DIR])" >&2; exit 2 ;;
  esac
done

# "today" on the trading calendar's clock (the report refuses a future date; UTC runs ahead)
today="$(cd "$ROOT" && "$PY" -c 'from datetime import datetime; from zoneinfo import ZoneInfo
from mcp_trading.reports.trading_source import TIMEZONE; print(datetime.now(ZoneInfo(TIMEZONE)).date())' \
  2>/dev/null || date +%Y-%m-%d)"
names=() results=() failed=()
step() {  # step NAME COMMAND...: run it, record ok/FAILED, never stop the procedure
  local name=$1 rc=0; shift
  "$@" || rc=$?
  names+=("$name")
  if [ "$rc" -eq 0 ]; then results+=("ok"); else results+=("FAILED (exit $rc)"); failed+=("$name"); fi
}

performance_summary() {
  if [ ! -f "$ROOT/reports/performance_summary.py" ]; then
    echo "❌ reports/performance_summary.py is missing: no performance summary was produced" >&2
    return 1
  fi
  "$PY" "$ROOT/reports/performance_summary.py"
}

cleanup_temp() {
  local data_dir
  data_dir="$("$PY" -c 'from mcp_trading.config import Settings; print(Settings().data_dir.resolve())')" || return 1
  if [ ! -d "$data_dir" ]; then echo "data dir $data_dir does not exist: nothing to clean"; return 0; fi
  echo "cleaning the platform's stale temporary files under $data_dir"
  find "$data_dir" -type f -name '*.tmp' -mtime +0 -print -delete || return 1
  find "$data_dir" -mindepth 1 -type d -name '.unpack-*' -mtime +0 -prune -print \
    -exec rm -rf {} + || return 1
}

echo "🌇 End-of-Day Procedures - $(date)"
echo "=================================="
echo "1. Daily trading report ($today)..."
step "trading report" "$PY" "$ROOT/reports/daily_trading_report.py" "--date=$today"
echo "2. Backing up trading data..."
step "backup (verified)" "$ROOT/scripts/backup_trading_data.sh"
echo "3. Risk reporting..."
step "risk report" "$PY" "$ROOT/reports/daily_risk_report.py"
echo "4. Performance metrics..."
step "performance summary" performance_summary
echo "5. Cleanup of the platform's temporary files..."
step "temp cleanup" cleanup_temp

echo
printf '%-22s %s\n' "STEP" "RESULT"
for i in "${!names[@]}"; do printf '%-22s %s\n' "${names[$i]}" "${results[$i]}"; done
if [ "${#failed[@]}" -gt 0 ]; then
  joined="$(printf '%s, ' "${failed[@]}")"
  echo "❌ End-of-day procedures FAILED: ${joined%, }"
  exit 1
fi
echo "✅ End-of-day procedures completed"

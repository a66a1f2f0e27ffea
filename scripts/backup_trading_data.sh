#!/usr/bin/env bash
# End-of-day backup of the trading data (runbook: Daily Operations, step 2): the same verified
# backup as backup_databases.sh (journal, projections, API keys, history, strategy files and
# the settings without secrets), then the list of backups kept.
# Usage: backup_trading_data.sh [--to DIR] [--archive]
set -uo pipefail
. "$(dirname "$0")/_common.sh"
"$(dirname "$0")/backup_databases.sh" "$@" || exit $?
to=()
for ((i = 1; i <= $#; i++)); do
  if [ "${!i}" = "--to" ]; then j=$((i + 1)); to=(--to "${!j}"); fi
done
"$CLI" backup list "${to[@]}"

#!/usr/bin/env bash
# Emergency halt (runbook: Emergency Procedures). One atomic server-side step halts trading and
# cancels every working order, so no order can slip in between (the runbook's two calls race).
# Usage: emergency_halt.sh [--close-positions] [reason...]
set -uo pipefail
. "$(dirname "$0")/_common.sh"
close=0
if [ "${1:-}" = "--close-positions" ]; then close=1; shift; fi
reason="${*:-emergency halt via emergency_halt.sh}"
body=$("$PY" -c 'import json,sys; print(json.dumps({"reason": sys.argv[1]}))' "$reason")
echo "🚨 EMERGENCY TRADING HALT - $(date)"
result=$(api POST "$PORT_TRADING_ENGINE" /emergency/halt "$body") || { echo "❌ halt request failed"; exit 1; }
echo "trading_status: $(printf '%s' "$result" | field trading_status); canceled $(printf '%s' "$result" | field canceled_count) working orders"
if [ $close -eq 1 ]; then
  api POST "$PORT_TRADING_ENGINE" /emergency/close-all-positions "$body" >/dev/null || { echo "❌ close-all-positions failed"; exit 1; }
  echo "closing orders submitted"
fi
# the platform itself appended the halt to emergency.log and raised an alert (webhooks notified)
echo "✅ Emergency halt completed"

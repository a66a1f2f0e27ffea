#!/usr/bin/env bash
# Resume trading only if the comprehensive health check passes; the server enforces the same rule.
# Usage: resume_trading.sh [reason...]
set -uo pipefail
. "$(dirname "$0")/_common.sh"
echo "🔄 RESUMING TRADING - $(date)"
if ! "$(dirname "$0")/comprehensive_health_check.sh"; then
  echo "❌ Health check failed. Cannot resume trading."
  exit 1
fi
reason="${*:-resume via resume_trading.sh}"
body=$("$PY" -c 'import json,sys; print(json.dumps({"reason": sys.argv[1]}))' "$reason")
result=$(api POST "$PORT_TRADING_ENGINE" /emergency/resume-trading "$body") || { echo "❌ resume refused"; exit 1; }
echo "trading_status: $(printf '%s' "$result" | field trading_status)"
echo "✅ Trading resumed"

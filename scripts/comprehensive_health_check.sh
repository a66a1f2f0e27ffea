#!/usr/bin/env bash
# Every service and dependency healthy, and one order through the whole pipeline.
# Exit 0 only when all of it passes (resume_trading.sh relies on that).
set -uo pipefail
. "$(dirname "$0")/_common.sh"
"$CLI" health --check-all || { echo "❌ health check failed"; exit 1; }
if report=$(api POST "$PORT_TRADING_ENGINE" /orders/test); then
  echo "order pipeline self-test: $(printf '%s' "$report" | field result)"
else
  echo "❌ order pipeline self-test failed"; exit 1
fi
echo "✅ comprehensive health check passed"

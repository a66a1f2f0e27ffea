#!/usr/bin/env bash
# Morning checklist (runbook: Daily Operations). Exits non-zero if any step fails.
set -uo pipefail
. "$(dirname "$0")/_common.sh"
failed=0
step() { echo "$1"; }
fail() { echo "   ❌ $1"; failed=1; }

echo "🌅 Daily Startup Checklist - $(date)"
echo "=================================="
step "1. System Health Check..."
"$CLI" health --check-all || fail "system health check"
step "2. Market Data Verification..."
md=$(api GET "$PORT_MARKET_DATA" /health) && printf '%s' "$md" | field market_data_status || fail "market data"
step "3. Trading Engine Status..."
te=$(api GET "$PORT_TRADING_ENGINE" /health) && printf '%s' "$te" | field trading_status || fail "trading engine"
step "4. Risk Management Check..."
rk=$(api GET "$PORT_RISK" /health) && printf '%s' "$rk" | field risk_status || fail "risk"
step "5. Portfolio Status..."
api GET "$PORT_PORTFOLIO" /portfolio/summary && echo || fail "portfolio summary"
step "6. External Data Feeds..."
pv=$(api GET "$PORT_PROVIDERS" /providers) && printf '%s' "$pv" | field active_providers || fail "providers"
step "7. System Resources..."
df -h "$ROOT"; free -h 2>/dev/null || true; uptime
if [ $failed -eq 0 ]; then echo "✅ Daily startup check completed"; else echo "❌ Daily startup check found problems"; fi
exit $failed

#!/usr/bin/env bash
# Fast first look during an incident: which services answer, and the trading state.
set -uo pipefail
. "$(dirname "$0")/_common.sh"
down=0
for port in $ALL_PORTS; do
  if curl -fsS --max-time 2 "${TLS_ARGS[@]}" -o /dev/null "$BASE_URL:$port/health"; then
    echo "port $port: up"
  else
    echo "port $port: DOWN"; down=1
  fi
done
if state=$(curl -fsS --max-time 2 "${TLS_ARGS[@]}" "$BASE_URL:$PORT_TRADING_ENGINE/health"); then
  echo "trading_status: $(printf '%s' "$state" | field trading_status)"
fi
exit $down

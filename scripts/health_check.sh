#!/usr/bin/env bash
# Every service must answer /health with status "healthy"; exit 1 otherwise.
set -uo pipefail
. "$(dirname "$0")/_common.sh"
failed=0
for port in $ALL_PORTS; do
  if body=$(curl -fsS --max-time 5 "${TLS_ARGS[@]}" "$BASE_URL:$port/health"); then
    status=$(printf '%s' "$body" | field status)
    echo "port $port: $status"
    [ "$status" = "healthy" ] || failed=1
  else
    echo "port $port: DOWN (no answer)"
    failed=1
  fi
done
exit $failed

# Shared by the runbook scripts: ports (overridable like the platform's own settings), the CLI,
# and curl that fails on HTTP errors. Sourced, not run.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOST="${MCP_TRADING_SCRIPT_HOST:-127.0.0.1}"
PORT_MARKET_DATA="${MCP_TRADING_PORT_MARKET_DATA:-8001}"
PORT_TRADING_ENGINE="${MCP_TRADING_PORT_TRADING_ENGINE:-8010}"
PORT_ORDERS="${MCP_TRADING_PORT_ORDERS:-8011}"
PORT_RISK="${MCP_TRADING_PORT_RISK:-8012}"
PORT_PORTFOLIO="${MCP_TRADING_PORT_PORTFOLIO:-8013}"
PORT_PROVIDERS="${MCP_TRADING_PORT_PROVIDERS:-8093}"
PORT_STRATEGIES="${MCP_TRADING_PORT_STRATEGIES:-8090}"
PORT_OPTIMIZER="${MCP_TRADING_PORT_OPTIMIZER:-8052}"
PORT_ALERTS="${MCP_TRADING_PORT_ALERTS:-8100}"
ALL_PORTS="$PORT_MARKET_DATA $PORT_TRADING_ENGINE $PORT_ORDERS $PORT_RISK $PORT_PORTFOLIO $PORT_PROVIDERS $PORT_STRATEGIES $PORT_OPTIMIZER $PORT_ALERTS"

# HTTPS when the platform serves it (MCP_TRADING_TLS_CERT), verified with MCP_TRADING_TLS_CA
SCHEME=http
TLS_ARGS=()
if [ -n "${MCP_TRADING_TLS_CERT:-}" ]; then
  SCHEME=https
  [ -n "${MCP_TRADING_TLS_CA:-}" ] && TLS_ARGS=(--cacert "$MCP_TRADING_TLS_CA")
fi
BASE_URL="$SCHEME://$HOST"

if [ -x "$ROOT/.venv/bin/mcp-trading" ]; then
  CLI="$ROOT/.venv/bin/mcp-trading"
  PY="$ROOT/.venv/bin/python"
else
  CLI="mcp-trading"
  PY="python3"
fi

# api METHOD PORT PATH [JSON]: fails (non-zero) on connection errors and HTTP >= 400
api() {
  local method=$1 port=$2 path=$3 body=${4:-}
  local auth=()
  [ -n "${MCP_TRADING_API_KEY:-}" ] && auth=(-H "Authorization: Bearer ${MCP_TRADING_API_KEY}")
  if [ -n "$body" ]; then
    curl -fsS --max-time 15 "${TLS_ARGS[@]}" -X "$method" "${auth[@]}" \
      -H 'Content-Type: application/json' -d "$body" "$BASE_URL:$port$path"
  else
    curl -fsS --max-time 15 "${TLS_ARGS[@]}" -X "$method" "${auth[@]}" "$BASE_URL:$port$path"
  fi
}

# field NAME: read a top-level JSON field from stdin (no jq needed)
field() {
  "$PY" -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print(json.dumps(v) if isinstance(v,(list,dict)) else v)' "$1"
}

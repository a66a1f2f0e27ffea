#!/usr/bin/env bash
# Reset application passwords (runbook: Password Reset Procedure) without a restart and
# without losing an order: over `mcp-trading secrets rotate`.
#   - JWT: a new signing key; tokens of the previous key stay valid for --grace (default 1h)
#   - PostgreSQL: the idle one of two login roles gets a new password, the platform switches
#     to it, then the other is disabled (needs MCP_TRADING_DATABASE_ADMIN_URL or an admin
#     DATABASE_URL)
#   - Redis: the platform's ACL user holds both passwords during the switch, then only the new
# Every secret lives in the secrets file (MCP_TRADING_SECRETS_FILE, default
# <data dir>/secrets.json, mode 0600); running services re-read it. Nothing is printed but
# what rotated and when.
# Usage: reset_passwords.sh [--jwt] [--database] [--redis] [--all] [--grace 1h] [--json]
#        (no selection: --all, as the runbook resets every password)
set -uo pipefail
. "$(dirname "$0")/_common.sh"
args=("$@")
selected=0
for a in "$@"; do
  case "$a" in --jwt|--database|--redis|--all) selected=1 ;; esac
done
[ "$selected" -eq 1 ] || args+=(--all)
echo "🔑 Resetting application passwords - $(date)" >&2
if "$CLI" secrets rotate "${args[@]}"; then
  echo "✅ Password reset completed (no restart needed)" >&2
else
  rc=$?
  echo "❌ Password reset failed (exit $rc); the secrets file names the logins in force" >&2
  exit "$rc"
fi

#!/usr/bin/env bash
# Security incident response (runbook: Security Incident Response, Suspected Breach).
# One command does the runbook's steps in order, each recorded in emergency.log with its
# outcome: halt trading (every working order cancelled, atomically; in the journal when the
# platform is stopped), revoke every API key (or --keys ID,ID), rotate the JWT signing key with
# no grace, collect evidence (one 0600 tarball: logs, status, health, masked settings, open
# connections on the platform's ports, recent journal events), alert the security team
# (log, webhooks, e-mail). A failing step does not stop the others; the exit code is 1 then.
# Network isolation (the runbook's iptables lines) stays a host decision: it is not done here.
# Usage: security_incident.sh [--keys ID,ID] [--since 24h] [reason...]
# An operator key for the halt comes from MCP_TRADING_API_KEY (the dev profile needs none);
# afterwards regain access with `mcp-trading keys create --role admin --all-accounts`.
set -uo pipefail
. "$(dirname "$0")/_common.sh"
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --keys|--since) [ $# -ge 2 ] || { echo "❌ $1 needs a value"; exit 2; }; args+=("$1" "$2"); shift 2 ;;
    *) break ;;
  esac
done
reason="${*:-suspected breach (security_incident.sh)}"
echo "🚨 SECURITY INCIDENT RESPONSE - $(date)"
"$CLI" incident breach --reason "$reason" "${args[@]}"
rc=$?
if [ $rc -eq 0 ]; then
  echo "✅ every step completed (see emergency.log)"
else
  echo "❌ at least one step failed (exit $rc): see the table above and emergency.log"
fi
exit $rc

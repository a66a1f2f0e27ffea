#!/usr/bin/env bash
# The runbook's certificate management: check | renew | backup, over `mcp-trading certs`.
#   check   subject, issuer, Not After of MCP_TRADING_TLS_CERT; exit 1 within 7 days of expiry
#   renew   MCP_TRADING_TLS_RENEW_COMMAND (e.g. certbot) or, in dev, a new certificate from
#           the dev CA; every running service then presents it, without a restart
#   backup  a dated tar.gz (mode 0600) of certificate and key under <data dir>/backups/certs
# Extra arguments (--json, --data-dir DIR, ...) go to the CLI; its exit code is this script's.
set -uo pipefail
. "$(dirname "$0")/_common.sh"
verb=${1:-}
case "$verb" in
  check|renew|backup) shift ;;
  *) echo "usage: $0 check|renew|backup [--json] [--data-dir DIR]" >&2; exit 2 ;;
esac
"$CLI" certs "$verb" "$@"
rc=$?
[ $rc -eq 0 ] || echo "manage_certificates.sh $verb: failed (exit $rc)" >&2
exit $rc

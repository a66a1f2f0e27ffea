#!/usr/bin/env bash
# Log rotation (runbook: Planned Maintenance, "log-rotation"). Within the platform's own log
# directory only (`mcp-trading logs --path`), never /var/log at large:
# - MCP_TRADING_LOG_ROTATION=external and /etc/logrotate.d/trading-platform installed: runs
#   logrotate on that file (forced), as the host's daily run would;
# - otherwise each non-empty *.log is copied to <name>.log.<UTC stamp>, truncated in place
#   (the services append, so they keep writing to it) and the copy gzipped: the same names
#   the platform's own rotation gives, which `mcp-trading logs` and the retention read.
# Usage: rotate_logs.sh        exits non-zero when anything failed
set -uo pipefail
. "$(dirname "$0")/_common.sh"
. "$(dirname "$0")/_logs.sh"
LOG_DIR=$(platform_log_dir) || exit 1
LOGROTATE_CONF="${MCP_TRADING_LOGROTATE_CONF:-/etc/logrotate.d/trading-platform}"
mode=$(setting log_rotation) || { echo "❌ cannot read the settings"; exit 1; }
echo "🔄 Rotating logs in $LOG_DIR (rotation: $mode) - $(date)"

if [ "$mode" = "external" ] && [ -f "$LOGROTATE_CONF" ] && grep -qF "$LOG_DIR" "$LOGROTATE_CONF"; then
  if ! logrotate -f "$LOGROTATE_CONF"; then
    echo "❌ logrotate $LOGROTATE_CONF failed"
    exit 1
  fi
  echo "✅ Logs rotated by logrotate ($LOGROTATE_CONF)"
  exit 0
fi

stamp=$(date -u +%Y%m%dT%H%M%S)
failed=0
rotated=0
shopt -s nullglob
for file in "$LOG_DIR"/*.log; do
  [ -f "$file" ] && [ -s "$file" ] || continue
  target="$file.$stamp"
  n=1
  while [ -e "$target" ] || [ -e "$target.gz" ]; do n=$((n + 1)); target="$file.$stamp-$n"; done
  if cp -p -- "$file" "$target" && : > "$file" && gzip -f -- "$target"; then
    echo "  $(basename "$file") -> $(basename "$target").gz"
    rotated=$((rotated + 1))
  else
    echo "❌ could not rotate $file"
    failed=1
  fi
done
if [ $failed -ne 0 ]; then
  echo "❌ Log rotation incomplete"
  exit 1
fi
echo "✅ Log rotation completed ($rotated file(s))"

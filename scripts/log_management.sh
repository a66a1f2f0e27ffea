#!/usr/bin/env bash
# Log management (runbook: Maintenance, "Log Management"), within the platform's own log
# directory only (`mcp-trading logs --path`: MCP_TRADING_LOG_DIR or <data dir>/logs):
#   rotate    rotate_logs.sh (logrotate in external mode, else copy-truncate + gzip)
#   compress  gzip rotated copies (*.log.*) older than 30 days that are not compressed yet
#   prune     delete compressed copies (*.gz) older than 90 days
#   backup    tar.gz of the directory into <backup dir>/logs (MCP_TRADING_BACKUP_DIR or
#             <data dir>/backups; --to DIR overrides), verified by listing it
# Usage: log_management.sh [all|rotate|compress|prune|backup] [--to DIR]
#        COMPRESS_DAYS / DELETE_DAYS override 30 / 90. Exits non-zero when a step failed.
set -uo pipefail
. "$(dirname "$0")/_common.sh"
. "$(dirname "$0")/_logs.sh"
step=all
backup_to=""
while [ $# -gt 0 ]; do
  case "$1" in
    all | rotate | compress | prune | backup) step=$1 ;;
    --to) backup_to=${2:?--to needs a directory}; shift ;;
    *) echo "❌ unknown argument $1; usage: log_management.sh [all|rotate|compress|prune|backup] [--to DIR]"; exit 2 ;;
  esac
  shift
done
COMPRESS_DAYS="${COMPRESS_DAYS:-30}"
DELETE_DAYS="${DELETE_DAYS:-90}"
LOG_DIR=$(platform_log_dir) || exit 1
setting data_dir >/dev/null || exit 1  # read once, for this script and rotate_logs.sh
export _PLATFORM_LOG_DIR=$LOG_DIR
echo "📝 Log Management - $(date) ($LOG_DIR)"

do_rotate() {
  "$(dirname "$0")/rotate_logs.sh"
}

do_compress() {
  local found
  found=$(find "$LOG_DIR" -maxdepth 1 -type f -name '*.log.*' ! -name '*.gz' -mtime +"$COMPRESS_DAYS" -print) || return 1
  [ -z "$found" ] && { echo "  nothing older than $COMPRESS_DAYS days to compress"; return 0; }
  printf '%s\n' "$found" | while IFS= read -r f; do gzip -f -- "$f" && echo "  compressed $(basename "$f")" || exit 1; done
}

do_prune() {
  local found
  found=$(find "$LOG_DIR" -maxdepth 1 -type f -name '*.gz' -mtime +"$DELETE_DAYS" -print) || return 1
  [ -z "$found" ] && { echo "  no archive older than $DELETE_DAYS days"; return 0; }
  printf '%s\n' "$found" | while IFS= read -r f; do rm -f -- "$f" && echo "  deleted $(basename "$f")" || exit 1; done
}

do_backup() {
  local dir archive rc
  if [ -n "$backup_to" ]; then
    dir=$backup_to
  else
    dir=$(setting backup_dir) || return 1
    if [ "$dir" = "None" ]; then dir="$(setting data_dir)/backups" || return 1; fi
    dir="$dir/logs"
  fi
  mkdir -p -- "$dir" || return 1
  archive="$dir/logs_$(date -u +%Y%m%dT%H%M%S).tar.gz"
  # a file written while it is read makes GNU tar exit 1: the copy is still usable
  tar -czf "$archive" --warning=no-file-changed -C "$LOG_DIR" .
  rc=$?
  if [ $rc -gt 1 ] || ! tar -tzf "$archive" >/dev/null; then
    echo "❌ backup $archive failed"
    rm -f -- "$archive"
    return 1
  fi
  echo "  backed up to $archive ($(du -h "$archive" | cut -f1))"
}

failed=0
for s in rotate compress prune backup; do
  if [ "$step" = all ] || [ "$step" = "$s" ]; then
    echo "▶ $s"
    "do_$s" || { echo "❌ $s failed"; failed=1; }
  fi
done
if [ $failed -ne 0 ]; then
  echo "❌ Log management finished with failures"
  exit 1
fi
echo "✅ Log management completed"

#!/usr/bin/env bash
# Performance monitoring report (runbook: Monitoring and Alerting): CPU, memory, disk, load,
# every service's /health answer time, and the store in use (SQLite size and WAL; PostgreSQL
# active connections) — in embedded and distributed mode alike.
# Usage: performance_monitor.sh [--json] [--data-dir DIR]
# Exit 0 when every service is healthy, 1 when one is degraded or down, 2 for bad input.
set -uo pipefail
. "$(dirname "$0")/_common.sh"
echo "📊 Performance Monitoring Report - $(date)"
echo "=========================================="
"$CLI" monitor "$@"
rc=$?
[ "$rc" -eq 0 ] || echo "⚠️  not every service is healthy (exit $rc)"
exit "$rc"

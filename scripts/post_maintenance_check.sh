#!/usr/bin/env bash
# After maintenance (runbook: Planned Maintenance, step 5): every service and dependency
# answers, the integrity checks pass, and the system integration test (every service; the
# self-test trades on the internal account only) passes. Run while the platform is still in
# maintenance: new orders stay refused until maintenance-complete.
# Usage: post_maintenance_check.sh. Exit 0 only when all of it passes.
set -uo pipefail
. "$(dirname "$0")/_common.sh"
echo "🔎 Post-maintenance check - $(date)"
failed=()
"$CLI" health --check-all || failed+=("health")
"$CLI" verify || failed+=("integrity")
"$PY" "$ROOT/tests/system_integration_test.py" || failed+=("integration test")
if [ "${#failed[@]}" -eq 0 ]; then
  echo "✅ Post-maintenance check passed"
else
  echo "❌ Post-maintenance check failed: ${failed[*]}"
  exit 1
fi

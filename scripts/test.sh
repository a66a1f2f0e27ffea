#!/usr/bin/env bash
# Set up (own virtualenv, dev dependencies) and run the whole test suite: ruff, mypy,
# lint-imports, pytest.
# Under CI=true the PostgreSQL tests must reach the server (they fail loudly otherwise);
# elsewhere they skip with a message; the same holds for the browser test's Chromium and the
# Prometheus rules test's promtool.
# Extra arguments go to pytest. The suite runs on PYTEST_WORKERS pytest-xdist workers (default
# 2; 0 runs it in this process), each test file whole on one worker (module fixtures once).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[dev]"
# the cross-site browser test drives Debian's Chromium through Playwright (never Playwright's
# own browser downloads); install it when missing and we may
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "== installing chromium (apt-get)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  else
    echo "== /usr/bin/chromium is missing (not root): the browser test will skip (fail under CI=true)"
  fi
fi
# the Prometheus rules test runs Debian's promtool (the `prometheus` package) the same way
if ! command -v promtool >/dev/null; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "== installing prometheus for promtool (apt-get)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends prometheus
  else
    echo "== promtool is missing (not root): the Prometheus rules test will skip (fail under CI=true)"
  fi
fi
echo "== ruff"
.venv/bin/ruff check src tests benchmarks mcp_servers reports scripts start_platform.py \
  system_health_monitor.py memory_profiler.py
echo "== mypy"
.venv/bin/mypy
echo "== lint-imports (the layers: [tool.importlinter] in pyproject.toml)"
.venv/bin/lint-imports --no-logo
echo "== pytest"
WORKERS=${PYTEST_WORKERS:-2}
if [ "$WORKERS" = "0" ]; then
  exec .venv/bin/python -m pytest "$@"
fi
exec .venv/bin/python -m pytest -n "$WORKERS" --dist loadfile "$@"

#!/usr/bin/env bash
# Set up (own virtualenv, dev dependencies) and run the whole test suite: ruff, mypy, pytest.
# Under CI=true the PostgreSQL tests must reach the server (they fail loudly otherwise);
# elsewhere they skip with a message. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[dev]"
echo "== ruff"
.venv/bin/ruff check src tests benchmarks
echo "== mypy"
.venv/bin/mypy
echo "== pytest"
exec .venv/bin/python -m pytest "$@"

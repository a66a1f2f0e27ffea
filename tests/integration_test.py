#!/usr/bin/env python3
"""The runbook's "full system test" (Incident Response: Verify Resolution), run against the
running platform after a deploy or an incident:

    python tests/integration_test.py [--data-dir DIR] [--url SERVICE=URL ...] [--json]

The same program as tests/system_integration_test.py (the recovery procedure's step 5): every
service's health, metrics, reads and dry runs, and the trading engine's self-test on the
internal `_selftest` account — on an active platform it places and cancels orders there only;
no user's orders, positions or cash change, and trading stays in the state it was. Exit 0
when every step passed, 1 otherwise (each failed step named).

Not a pytest module (pyproject's `python_files = ["test_*.py"]`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV_PYTHON = HERE.parent / ".venv" / "bin" / "python"

if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    try:
        from system_integration_test import main  # the one program, under its second name
    except ImportError:  # a plain `python` outside the virtualenv: run in the repo's one
        if VENV_PYTHON.exists() and not os.environ.get("_MCP_TRADING_REEXEC"):
            os.environ["_MCP_TRADING_REEXEC"] = "1"
            os.execv(VENV_PYTHON, [str(VENV_PYTHON), __file__, *sys.argv[1:]])
        sys.exit("httpx is not installed: pip install -e . (see README)")
    sys.exit(main())

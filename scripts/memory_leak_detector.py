#!/usr/bin/env python3
"""Memory leak check (runbook: Memory Alert): watches every platform process for --interval
seconds (default 60) and reports the RSS growth rate and the top growing allocation sites.

    python scripts/memory_leak_detector.py [--interval 60] [--threshold-mb-per-hour 50] [--top
            15] [--key KEY] [--json]

`mcp-trading memory leaks` (src/mcp_trading/cli/memory.py) against the running platform's
admin-only GET /admin/memory; without --key (or MCP_TRADING_API_KEY) a temporary admin key is
made in the local key store and revoked after the run. Exit 0 when every process is steady, 1
when one grows faster than the threshold (or could not be traced), 2 when the platform is not
running.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

VENV_PYTHON = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "python"

if __name__ == "__main__":
    try:
        from mcp_trading.cli import app
    except ImportError:  # a plain `python` outside the virtualenv: run in the repo's one
        if VENV_PYTHON.exists() and not os.environ.get("_MCP_TRADING_REEXEC"):
            os.environ["_MCP_TRADING_REEXEC"] = "1"
            os.execv(VENV_PYTHON, [str(VENV_PYTHON), __file__, *sys.argv[1:]])
        sys.exit("mcp_trading is not installed: pip install -e . (see README)")
    sys.exit(app(["memory", "leaks", *sys.argv[1:]]))

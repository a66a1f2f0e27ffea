#!/usr/bin/env python3
"""Memory usage check (runbook: High Memory Usage): RSS per platform process and the allocation
sites that grew most over --interval seconds (default 10).

    python memory_profiler.py [--interval 10] [--top 15] [--key KEY] [--json] [--data-dir DIR]

`mcp-trading memory profile` (src/mcp_trading/cli/memory.py) against the running platform's
admin-only GET /admin/memory; without --key (or MCP_TRADING_API_KEY) a temporary admin key is
made in the local key store and revoked after the run. Exit 0, 1 when a process could not be
traced, 2 when the platform is not running.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

VENV_PYTHON = Path(__file__).resolve().parents[0] / ".venv" / "bin" / "python"

if __name__ == "__main__":
    try:
        from mcp_trading.cli import app
    except ImportError:  # a plain `python` outside the virtualenv: run in the repo's one
        if VENV_PYTHON.exists() and not os.environ.get("_MCP_TRADING_REEXEC"):
            os.environ["_MCP_TRADING_REEXEC"] = "1"
            os.execv(VENV_PYTHON, [str(VENV_PYTHON), __file__, *sys.argv[1:]])
        sys.exit("mcp_trading is not installed: pip install -e . (see README)")
    sys.exit(app(["memory", "profile", *sys.argv[1:]]))

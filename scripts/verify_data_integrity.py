#!/usr/bin/env python3
"""Data integrity (runbook: Full System Recovery, step 4): `mcp-trading verify`.

    python scripts/verify_data_integrity.py [--json] [--data-dir DIR]

Journal contiguity (hot and archived segments, their checksums), projection tables equal to
a replay, positions equal to the sum of fills, cash reconciled with fills and commissions.
Exit 0 when every check passes, 1 with each failed check named.
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
    sys.exit(app(["verify", *sys.argv[1:]]))

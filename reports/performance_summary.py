#!/usr/bin/env python3
"""The performance summary (runbook: End-of-Day Procedures, step 4): `mcp-trading report
performance`.

    python reports/performance_summary.py [--date=YYYY-MM-DD] [--since DATE|7d] [--account ID]
                                          [--benchmark SYM] [--json] [--html [FILE]]
                                          [--data-dir DIR]

Returns for the day, month to date, year to date and since inception, the metrics, and a
benchmark's buy-and-hold. The date defaults to today (America/New_York). Writes
<data dir>/reports/<date>/performance_summary.{json,html,txt} and stores the report in the
database. With no snapshot yet it still writes a report that says so (exit 0).
Exit 0 on success, 2 for a malformed or future date or --since, 1 when the store fails.
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
    sys.exit(app(["report", "performance", *sys.argv[1:]]))

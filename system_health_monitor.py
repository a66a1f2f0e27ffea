"""Runbook entry point: `python system_health_monitor.py --check-all`.

Exit code 0 all healthy, 1 degraded, 2 down (the same as `mcp-trading health`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def main() -> int:
    venv_python = ROOT / ".venv" / "bin" / "python"
    python = str(venv_python) if venv_python.exists() else sys.executable
    return subprocess.call([python, "-m", "mcp_trading", "health", *sys.argv[1:]], cwd=os.getcwd())


if __name__ == "__main__":
    raise SystemExit(main())

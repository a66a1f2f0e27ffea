"""Runbook entry point: start every platform service and return once all are healthy.

    python start_platform.py               # detached, like the runbook expects
    python start_platform.py --foreground  # stay attached (Ctrl-C stops)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def main() -> int:
    foreground = "--foreground" in sys.argv[1:]
    args = [a for a in sys.argv[1:] if a != "--foreground"]
    venv_python = ROOT / ".venv" / "bin" / "python"
    python = str(venv_python) if venv_python.exists() else sys.executable
    cmd = [python, "-m", "mcp_trading", "start", *([] if foreground else ["--detach"]), *args]
    return subprocess.call(cmd, cwd=os.getcwd())


if __name__ == "__main__":
    raise SystemExit(main())

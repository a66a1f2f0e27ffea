"""`mcp-trading restore ...` that SIGKILLs itself at a chosen point of the swap (fault tests).

    python swap_killer.py KILL_AT restore BACKUP --yes --data-dir DIR

KILL_AT -1: just before the swap plan is written (the commit point); N >= 0: just before the
swap's N-th move (0-based: a file rename, or PostgreSQL's database rename), i.e. after N.
A real kill -9 of the real CLI: nothing runs after it (no finally, no atexit).
"""

from __future__ import annotations

import os
import runpy
import signal
import sys
from pathlib import Path
from typing import Any

from mcp_trading.dataops import pgadmin, swap

kill_at = int(sys.argv.pop(1))
renames = [0]
real_rename, real_write_plan = swap.rename, swap.write_plan
real_swap_databases = pgadmin.swap_databases


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def rename(source: Path, target: Path) -> None:
    if renames[0] == kill_at:
        _die()
    real_rename(source, target)
    renames[0] += 1


def swap_databases(url: str, current: str, replacement: str, rollback: str) -> None:
    if renames[0] == kill_at:
        _die()
    real_swap_databases(url, current, replacement, rollback)
    renames[0] += 1


def write_plan(path: Path, plan: dict[str, Any]) -> None:
    if kill_at == -1:
        _die()
    real_write_plan(path, plan)


swap.rename = rename
swap.write_plan = write_plan
pgadmin.swap_databases = swap_databases
sys.argv[0] = "mcp-trading"
runpy.run_module("mcp_trading", run_name="__main__")

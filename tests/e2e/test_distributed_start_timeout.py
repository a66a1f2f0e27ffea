"""`mcp-trading start --detach --distributed` that times out stops the supervisor it started
(and so every service) before it exits non-zero, and says so: nothing is left running."""

from __future__ import annotations

import time
from typing import Any

import psutil
from tests.e2e.distributed_harness import DistributedPlatform


def _ours(p: DistributedPlatform) -> list[psutil.Process]:
    """Processes started for this platform's data directory (supervisor and services)."""
    out = []
    for proc in psutil.process_iter(["cmdline", "environ"]):
        try:
            cmd = " ".join(proc.info["cmdline"] or [])
            env = proc.info["environ"] or {}
        except psutil.Error:
            continue
        if "mcp_trading" in cmd and (str(p.data_dir) in cmd
                                     or env.get("MCP_TRADING_DATA_DIR") == str(p.data_dir)):
            out.append(proc)
    return out


def test_a_timed_out_detached_start_stops_what_it_started(distributed_factory: Any) -> None:
    p: DistributedPlatform = distributed_factory(start=False)
    p.cli("db", "upgrade", check=True)
    result = p.cli("start", "--distributed", "--detach", "--timeout", "1")
    assert result.returncode == 1
    said = " ".join(result.stderr.split())
    assert "not all services healthy after 1.0 s" in said and "stopped the supervisor" in said
    deadline = time.monotonic() + 10
    while _ours(p) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _ours(p) == [], "the timed-out start left processes running"

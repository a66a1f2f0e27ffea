"""Shared by the benchmarks: start the platform as a user does, on free loopback ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from mcp_trading.platform import SERVICES

__all__ = ["SERVICES", "free_ports", "pct", "platform_env", "start_platform"]


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


def platform_env(data_dir: Path, ports: dict[str, int], **extra: str) -> dict[str, str]:
    env = os.environ.copy()
    env.update({f"MCP_TRADING_PORT_{s.upper().replace('-', '_')}": str(p) for s, p in ports.items()})
    env.update({"MCP_TRADING_DATA_DIR": str(data_dir), "MCP_TRADING_DEFAULT_CASH": "1000000000"})
    env.update(extra)
    return env


def start_platform(data_dir: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`mcp-trading start` in a child; returns once its PID file is written."""
    # the platform's console output goes to a file: an unread pipe fills up and blocks it
    data_dir.mkdir(parents=True, exist_ok=True)
    console = data_dir / "platform.console"
    with console.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "mcp_trading", "start"], env=env,
                                stdout=subprocess.DEVNULL, stderr=out)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"platform exited: {console.read_text()[-2000:]}")
        if (data_dir / "mcp-trading.pid").exists():
            return proc
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("platform did not start in 30 s")

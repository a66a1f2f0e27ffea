"""Shared by the benchmarks: start the platform as a user does, on free loopback ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from mcp_trading.services import registry

__all__ = ["SERVICES", "UNTHROTTLED", "Distributed", "calib", "free_ports", "pct", "platform_env",
           "resting_prices", "start_platform"]

_CALIB = Path(__file__).resolve().parents[2] / "shared" / "tools" / "calib.py"
SERVICES = registry.names()
# the closed-loop throughput benchmarks (api.py, mix.py) drive the one account past the
# default 1,000 orders/s per account on purpose: they measure the order path, not the throttle
UNTHROTTLED = {"MCP_TRADING_DEFAULT_MAX_ORDERS_PER_SECOND": "none"}


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def calib() -> float:
    """The machine's speed now: ../shared/tools/calib.py's best-of-3 seconds (a 10M-add loop).

    Run as that script, in a process of its own: its loop is module-level code (global
    names), which takes about twice as long as the same loop inside a function, and the
    targets are stated at the script's 0.40 s."""
    if _CALIB.exists():
        out = subprocess.run([sys.executable, str(_CALIB)], check=True, capture_output=True,
                             text=True).stdout
        return float(out.strip())
    best = 9e9
    for _ in range(3):  # the same loop, at module level (see above)
        scope: dict[str, float] = {}
        exec("import time\nt0, total = time.perf_counter(), 0\nfor i in range(10_000_000):\n"
             "    total += i\nt = time.perf_counter() - t0", scope)
        best = min(best, scope["t"])
    return round(best, 4)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


def resting_prices(port: int, symbols: list[str], *, below_pct: int = 5,
                   timeout: float = 30.0) -> dict[str, str]:
    """A limit buy price per symbol `below_pct` % under its bid (market-data on `port`): it
    rests rather than fills, within the default 10 % price collar (config_limits.py)."""
    import json
    import urllib.request
    from decimal import ROUND_DOWN, Decimal

    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/quotes", timeout=2) as r:
                quotes = json.load(r)["quotes"]
        except OSError:
            quotes = {}
        if all(s in quotes for s in symbols):
            factor = Decimal(100 - below_pct) / 100
            return {s: str((Decimal(quotes[s]["bid"]) * factor).quantize(
                Decimal("0.01"), rounding=ROUND_DOWN)) for s in symbols}
        if time.monotonic() > deadline:
            raise RuntimeError(f"no quotes for {sorted(set(symbols) - set(quotes))} in {timeout} s")
        time.sleep(0.1)


def platform_env(data_dir: Path, ports: dict[str, int], **extra: str) -> dict[str, str]:
    env = os.environ.copy()
    env.update({f"MCP_TRADING_PORT_{s.upper().replace('-', '_')}": str(p) for s, p in ports.items()})
    env.update({"MCP_TRADING_DATA_DIR": str(data_dir), "MCP_TRADING_DEFAULT_CASH": "1000000000"})
    env.update(extra)
    return env


def start_platform(data_dir: Path, env: dict[str, str], *,
                   new_session: bool = False) -> subprocess.Popen[bytes]:
    """`mcp-trading start` in a child; returns once its PID file is written.

    new_session: the platform leads a session of its own, so under the kernel's autogroup
    scheduling it gets its own share of the CPU instead of splitting one with the load
    generator (on one small machine the client would otherwise be the tail)."""
    # the platform's console output goes to a file: an unread pipe fills up and blocks it
    data_dir.mkdir(parents=True, exist_ok=True)
    console = data_dir / "platform.console"
    with console.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "mcp_trading", "start"], env=env,
                                stdout=subprocess.DEVNULL, stderr=out,
                                start_new_session=new_session)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"platform exited: {console.read_text()[-2000:]}")
        if (data_dir / "mcp-trading.pid").exists():
            return proc
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("platform did not start in 30 s")


class Distributed:
    """A distributed platform for a benchmark run: its own PostgreSQL database (created from
    TEST_DATABASE_URL's server) and Redis key prefix, started with `start --distributed`."""

    def __init__(self, data_dir: Path, env: dict[str, str]) -> None:
        import uuid

        admin = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
        self.admin = admin
        self.database = f"mcpt_bench_{uuid.uuid4().hex[:10]}"
        self.redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")
        self.prefix = f"mcpt-bench:{uuid.uuid4().hex[:8]}:"
        self.env = {**env, "DATABASE_URL": f"{admin.rsplit('/', 1)[0]}/{self.database}",
                    "REDIS_URL": self.redis_url, "MCP_TRADING_REDIS_PREFIX": self.prefix}
        self.data_dir = data_dir

    def _cli(self, *args: str) -> None:
        result = subprocess.run([sys.executable, "-m", "mcp_trading", *args], check=False,
                                env=self.env,
                                capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise RuntimeError(f"mcp-trading {' '.join(args)}: {result.stderr[-2000:]}")

    def start(self) -> None:
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')
        self._cli("db", "upgrade")
        self._cli("start", "--distributed", "--detach", "--timeout", "180")

    def stop(self) -> None:
        import psycopg
        import redis

        try:
            self._cli("stop")
        finally:
            with psycopg.connect(self.admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            client = redis.Redis.from_url(self.redis_url)
            keys = list(client.scan_iter(match=self.prefix + "*", count=1000))
            if keys:
                client.unlink(*keys)
            client.close()

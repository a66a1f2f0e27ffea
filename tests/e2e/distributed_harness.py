"""Distributed mode as an operator runs it: a fresh PostgreSQL database, a Redis key prefix of
its own, free ports, `mcp-trading db upgrade` and `start --distributed --detach`.

Under CI=true PostgreSQL and Redis must be reachable (the tests fail loudly otherwise);
elsewhere they skip with the reason.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import TEST_DATABASE_URL, require_service
from tests.e2e.harness import LIMITS_OFF, ROOT, SERVICES, free_ports

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")


@dataclass
class DistributedPlatform:
    data_dir: Path
    env: dict[str, str]
    ports: dict[str, int]
    clients: dict[str, httpx.Client] = field(default_factory=dict)

    def url(self, service: str, path: str = "") -> str:
        return f"http://127.0.0.1:{self.ports[service]}{path}"

    def client(self, service: str) -> httpx.Client:
        if service not in self.clients:
            self.clients[service] = httpx.Client(base_url=self.url(service), timeout=15.0)
        return self.clients[service]

    def cli(self, *args: str, check: bool = False, timeout: float = 180
            ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([sys.executable, "-m", "mcp_trading", *args], env=self.env,
                                capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        if check and result.returncode != 0:
            raise AssertionError(f"mcp-trading {' '.join(args)} failed ({result.returncode}):\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def status(self) -> dict[str, dict[str, Any]]:
        out = json.loads(self.cli("status", "--json", check=True).stdout)
        return {row["service"]: row for row in out["services"]}

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0,
                 what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if predicate():
                    return
            except (httpx.HTTPError, KeyError, ValueError):
                pass
            time.sleep(0.1)
        raise AssertionError(f"{what} not reached within {timeout} s")

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.data_dir / "logs" / f"{name}.out"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self) -> None:
        for c in self.clients.values():
            c.close()
        self.cli("stop", timeout=120)


def _redis_ping(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    finally:
        client.close()


def _drop_prefix(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.unlink(*keys)
    finally:
        client.close()


@pytest.fixture
def distributed_factory(tmp_path: Path) -> Iterator[Callable[..., DistributedPlatform]]:
    """Build (and on request start) distributed platforms; each gets its own database."""
    import psycopg

    admin = TEST_DATABASE_URL.replace("postgresql+psycopg://", "postgresql://", 1)

    def ping_pg() -> None:
        with psycopg.connect(admin, connect_timeout=3):
            pass

    require_service("PostgreSQL", ping_pg, where=admin, setting="TEST_DATABASE_URL")
    require_service("Redis", lambda: _redis_ping(REDIS_URL), where=REDIS_URL, setting="REDIS_URL")
    made: list[tuple[DistributedPlatform, str, str, str, str]] = []

    def factory(start: bool = True, redis_url: str = REDIS_URL, database_server: str = admin,
                **env: str) -> DistributedPlatform:
        name = f"mcpt_dist_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(database_server, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        base = database_server.rsplit("/", 1)[0]
        prefix = f"mcpt-test:{uuid.uuid4().hex[:8]}:"
        ports = dict(zip(SERVICES, free_ports(len(SERVICES)), strict=True))
        full = {k: v for k, v in os.environ.items() if not k.startswith("MCP_TRADING_")}
        full.update({k: v for k, v in os.environ.items() if k in LIMITS_OFF})  # conftest.py
        full.pop("JWT_SECRET", None)
        full.update({f"MCP_TRADING_PORT_{s.upper().replace('-', '_')}": str(p)
                     for s, p in ports.items()})
        data_dir = tmp_path / f"d{len(made)}"
        full.update({"DATABASE_URL": f"{base}/{name}", "REDIS_URL": redis_url,
                     "MCP_TRADING_REDIS_PREFIX": prefix, "MCP_TRADING_DATA_DIR": str(data_dir),
                     "MCP_TRADING_FEED_INTERVAL_MS": "50", "MCP_TRADING_PROJECTION": "off",
                     "MCP_TRADING_DEFAULT_CASH": "100000000",
                     "PYTHONUNBUFFERED": "1"})
        full.update(env)
        platform = DistributedPlatform(data_dir, full, ports)
        made.append((platform, name, redis_url, prefix, database_server))
        if start:
            platform.cli("db", "upgrade", check=True)
            platform.cli("start", "--distributed", "--detach", "--timeout", "120", check=True)
        return platform

    yield factory
    for platform, name, redis_url, prefix, server in made:
        platform.stop()
        with contextlib.suppress(psycopg.Error), \
                psycopg.connect(server, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        with contextlib.suppress(Exception):  # a test's own Redis may be gone already
            _drop_prefix(redis_url, prefix)

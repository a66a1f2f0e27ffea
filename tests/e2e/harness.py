"""End-to-end: the platform started as a user starts it (subprocess, temp data dir, free ports)."""

from __future__ import annotations

import json
import os
import re
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.secret_scan import check_text, remember

from mcp_trading.services import registry

#: every registered service (a new one gets a free port and is expected in `status` too)
SERVICES = registry.names()
ROOT = Path(__file__).resolve().parents[2]
#: the default risk limits the suite turns off (tests/conftest.py), kept for the platforms here
LIMITS_OFF = frozenset(f"MCP_TRADING_DEFAULT_{name}" for name in (
    "PRICE_COLLAR_PCT", "MAX_ORDER_NOTIONAL", "MAX_ORDER_QTY", "MAX_ORDERS_PER_SECOND"))


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@dataclass
class RunningPlatform:
    data_dir: Path
    ports: dict[str, int]
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    clients: dict[str, httpx.Client] = field(default_factory=dict)

    def url(self, service: str, path: str = "") -> str:
        scheme = "https" if self.env.get("MCP_TRADING_TLS_CERT") else "http"
        return f"{scheme}://127.0.0.1:{self.ports[service]}{path}"

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """What httpx verifies the platform's certificate with (MCP_TRADING_TLS_CA)."""
        ca = self.env.get("MCP_TRADING_TLS_CA")
        return ssl.create_default_context(cafile=ca) if ca else True

    def client(self, service: str, key: str | None = None) -> httpx.Client:
        name = f"{service}:{key}"
        if name not in self.clients:
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            self.clients[name] = httpx.Client(base_url=self.url(service), headers=headers,
                                              timeout=15.0, verify=self.verify)
        return self.clients[name]

    def cli(self, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([sys.executable, "-m", "mcp_trading", *args], env=self.env,
                                capture_output=True, text=True, timeout=120, cwd=ROOT)
        if tuple(args[:2]) == ("keys", "create"):  # shows its key once, by design
            for key in re.findall(r"mcpt_[A-Za-z0-9_-]+", result.stdout):
                remember(key)
        else:
            check_text(result.stdout + result.stderr, f"the output of mcp-trading {args[0]}")
        if check and result.returncode != 0:
            raise AssertionError(f"mcp-trading {' '.join(args)} failed ({result.returncode}):\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def script(self, name: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", str(ROOT / "scripts" / name), *args], env=self.env,
                              capture_output=True, text=True, timeout=120, cwd=ROOT)

    def start(self) -> None:
        # console output to a file: an unread pipe fills up and blocks the platform
        self.data_dir.mkdir(parents=True, exist_ok=True)
        console = self.data_dir / "platform.console"
        with console.open("ab") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "mcp_trading", "start"],
                                            env=self.env, stdout=subprocess.DEVNULL,
                                            stderr=out, cwd=ROOT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = console.read_text(errors="replace")
                raise AssertionError(f"platform exited during start:\n{err[-3000:]}")
            if (self.data_dir / "mcp-trading.pid").exists() and self._all_answer():
                return
            time.sleep(0.05)
        raise AssertionError("platform did not answer on every port within 30 s")

    def _all_answer(self) -> bool:
        try:
            return all(httpx.get(self.url(s, "/health"), timeout=1,
                                 verify=self.verify).status_code == 200
                       for s in SERVICES)
        except httpx.HTTPError:
            return False

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        raise AssertionError("condition not reached in time")

    def health(self, service: str) -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(self.url(service, "/health"), timeout=5,
                                         verify=self.verify).json()
        return body

    def stop(self) -> None:
        for c in self.clients.values():
            c.close()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                raise
        for path in [self.data_dir / "platform.console", *(self.data_dir / "logs").glob("*")]:
            if path.is_file():  # what the platform logged: no key, token or secret
                check_text(path.read_text(errors="replace"), f"the platform's {path.name}")


def make_platform(tmp_path: Path, **env: str) -> RunningPlatform:
    ports = dict(zip(SERVICES, free_ports(len(SERVICES)), strict=True))
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MCP_TRADING_")}
    full_env.update({k: v for k, v in os.environ.items() if k in LIMITS_OFF})  # conftest.py
    full_env.update({f"MCP_TRADING_PORT_{s.upper().replace('-', '_')}": str(p)
                     for s, p in ports.items()})
    full_env.update({"MCP_TRADING_DATA_DIR": str(tmp_path / "var"),
                     "MCP_TRADING_FEED_INTERVAL_MS": "50", "PYTHONUNBUFFERED": "1"})
    full_env.pop("DATABASE_URL", None)
    full_env.pop("JWT_SECRET", None)
    full_env.update(env)
    return RunningPlatform(tmp_path / "var", ports, full_env)


@pytest.fixture
def platform_factory(tmp_path: Path) -> Iterator[Callable[..., RunningPlatform]]:
    started: list[RunningPlatform] = []

    def factory(start: bool = True, **env: str) -> RunningPlatform:
        p = make_platform(tmp_path / f"p{len(started)}", **env)
        started.append(p)
        if start:
            p.start()
        return p

    yield factory
    for p in started:
        p.stop()


@pytest.fixture
def running(platform_factory: Callable[..., RunningPlatform]) -> RunningPlatform:
    """A dev-profile platform, feed streaming (SPY quotes arrive every 50 ms)."""
    p = platform_factory()
    p.wait_for(lambda: p.health("market-data").get("market_data_status") == "streaming")
    return p


def as_json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except json.JSONDecodeError:
        return response.text

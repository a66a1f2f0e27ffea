"""Secret rotation under load, as an operator runs it, on a throwaway PostgreSQL with scram
passwords (and, distributed, a throwaway Redis): orders authenticated with JWTs keep flowing
through JWT, database (and Redis) rotations — none lost, no 5xx — and the old passwords are
refused afterwards. Embedded: one process; distributed: one process per service."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import redis
from tests.e2e.distributed_harness import DistributedPlatform
from tests.e2e.harness import ROOT, SERVICES, RunningPlatform
from tests.pg_server import PgServer, pg_bin
from tests.redis_server import Server

from mcp_trading.config import Settings
from mcp_trading.config_secrets import Login, read_secrets, with_login
from mcp_trading.security.principal import Principal, Role
from mcp_trading.security.rotation import jwt_ring
from mcp_trading.security.tokens import TokenIssuer

pytestmark = pytest.mark.slow

ORDER = {"symbol": "SPY", "qty": "1", "side": "buy", "type": "market"}
ADMIN_PASSWORD = "admin-" + uuid.uuid4().hex
OWNER_PASSWORD = "owner-" + uuid.uuid4().hex


class _Orders:
    """A small load loop: market orders, each with a JWT — alternately the one minted before
    any rotation and one minted now from the secrets file's newest key."""

    def __init__(self, url: str, data_dir: Path, principal: Principal) -> None:
        self.url = url
        self.settings = Settings(data_dir=data_dir)
        self.principal = principal
        self.old_token = self._mint()
        self.acked: list[str] = []
        self.statuses: dict[int, int] = {}
        self.bad: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _mint(self) -> str:
        return TokenIssuer(ring=jwt_ring(self.settings)).issue(self.principal)

    def _run(self) -> None:
        with httpx.Client(timeout=15) as client:
            n = 0
            while not self.stop.is_set():
                n += 1
                coid = f"rot-{n}"
                token = self.old_token if n % 2 else self._mint()
                response = client.post(self.url, json={**ORDER, "client_order_id": coid},
                                       headers={"Authorization": f"Bearer {token}"})
                self.statuses[response.status_code] = self.statuses.get(response.status_code,
                                                                         0) + 1
                if response.status_code == 200:
                    self.acked.append(coid)
                else:
                    self.bad.append(f"{coid}: {response.status_code} {response.text[:200]}")
                self.stop.wait(0.02)

    def __enter__(self) -> _Orders:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(30)


def _pg_logs_in(url: str, login: Login) -> bool:
    try:
        with psycopg.connect(with_login(url, login), connect_timeout=5):
            return True
    except psycopg.OperationalError:
        return False


def _redis_logs_in(port: int, login: Login) -> bool:
    client = redis.Redis(port=port, username=login.user, password=login.password)
    try:
        return bool(client.ping())
    except redis.AuthenticationError:
        return False
    finally:
        client.close()


def _rotate(p: DistributedPlatform | RunningPlatform, *args: str) -> dict[str, Any]:
    done = p.cli("secrets", "rotate", *args, "--json", check=True)
    report: dict[str, Any] = json.loads(done.stdout)
    for secret in _file_secrets(p.data_dir):
        assert secret not in done.stdout + done.stderr
    return report


def _file_secrets(data_dir: Path) -> list[str]:
    doc = read_secrets(data_dir / "secrets.json")
    return [k.secret for k in doc.jwt_keys] + [
        login.password for login in (doc.database, doc.redis) if login is not None]


@pytest.fixture
def pg() -> Iterator[PgServer]:
    """A throwaway server with scram logins and a non-superuser owner role of the tables."""
    if pg_bin() is None:
        pytest.skip("needs PostgreSQL's server binaries (this test starts its own server, with "
                    "passwords)")
    server = PgServer(password=ADMIN_PASSWORD)
    server.start()
    try:
        with psycopg.connect(server.url, autocommit=True) as admin:
            admin.execute(f"CREATE ROLE trading_owner LOGIN CREATEDB PASSWORD '{OWNER_PASSWORD}'")
            admin.execute("CREATE DATABASE trading OWNER trading_owner")
        yield server
    finally:
        server.remove()


def _owner_url(pg: PgServer, database: str) -> str:
    return f"postgresql://trading_owner:{OWNER_PASSWORD}@127.0.0.1:{pg.port}/{database}"


def _start(p: RunningPlatform, timeout: float = 240) -> None:
    """`mcp-trading start` in the foreground process, as the harness does, with a start-up
    time a shared, loaded machine needs."""
    p.data_dir.mkdir(parents=True, exist_ok=True)
    with (p.data_dir / "platform.console").open("ab") as out:
        p.process = subprocess.Popen([sys.executable, "-m", "mcp_trading", "start"], env=p.env,
                                     stdout=subprocess.DEVNULL, stderr=out, cwd=ROOT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert p.process.poll() is None, (p.data_dir / "platform.console").read_text()[-3000:]
        try:
            if all(httpx.get(p.url(s, "/health"), timeout=2).status_code == 200
                   for s in SERVICES):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the platform did not answer on every port within {timeout} s")


def test_embedded_orders_flow_through_jwt_and_database_rotations(
        platform_factory: Callable[..., RunningPlatform], pg: PgServer) -> None:
    p = platform_factory(start=False, DATABASE_URL=_owner_url(pg, "trading"),
                         MCP_TRADING_DATABASE_ADMIN_URL=pg.url,
                         MCP_TRADING_ROTATION_SETTLE_S="2", MCP_TRADING_DEFAULT_CASH="100000000")
    p.cli("db", "upgrade", check=True)
    _start(p)
    p.wait_for(lambda: p.health("market-data").get("market_data_status") == "streaming", 60)
    created = json.loads(p.cli("keys", "create", "--role", "trader", "--account", "paper",
                               "--json", check=True).stdout)
    trader = Principal(Role.TRADER, created["id"], "paper", "rotation-bot")
    database_url = p.env["DATABASE_URL"]
    with _Orders(p.url("trading-engine", "/orders"), p.data_dir, trader) as orders:
        orders.stop.wait(1.0)
        first = _rotate(p, "--jwt", "--database", "--grace", "1h")
        logins1 = read_secrets(p.data_dir / "secrets.json")
        orders.stop.wait(1.0)
        second = _rotate(p, "--database")
        orders.stop.wait(1.5)
    assert all(r["rotated"] for r in first["rotations"] + second["rotations"])
    assert orders.bad == [] and set(orders.statuses) == {200}, orders.bad[:5]
    assert len(orders.acked) > 40
    engine = p.client("trading-engine")
    for coid in orders.acked:  # every acknowledged order is there, once
        assert engine.get("/orders", params={"client_order_id": coid}).status_code == 200, coid
    assert logins1.database is not None and not _pg_logs_in(database_url, logins1.database)
    now = read_secrets(p.data_dir / "secrets.json")
    assert now.database is not None and _pg_logs_in(database_url, now.database)
    p.stop()
    p.clients.clear()
    _start(p)  # a restart recovers every order over the rotated login
    engine = p.client("trading-engine")
    for coid in orders.acked[-5:]:
        assert engine.get("/orders", params={"client_order_id": coid}).status_code == 200, coid


def test_distributed_orders_flow_through_jwt_database_and_redis_rotations(
        distributed_factory: Any, pg: PgServer, tmp_path: Path) -> None:
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server (this test starts its own)")
    bus = Server(tmp_path)
    bus.start()
    try:
        owner_url = _owner_url(pg, "postgres")
        p: DistributedPlatform = distributed_factory(
            start=False, redis_url=bus.url, database_server=owner_url,
            MCP_TRADING_DATABASE_ADMIN_URL=pg.url, MCP_TRADING_ROTATION_SETTLE_S="2")
        try:
            p.cli("db", "upgrade", check=True)
            # a shared machine can take minutes to bring nine processes up
            p.cli("start", "--distributed", "--detach", "--timeout", "400", check=True,
                  timeout=460)
            _run_rotations(p, bus)
        finally:
            p.stop()
    finally:
        bus.stop()


def _run_rotations(p: DistributedPlatform, bus: Server) -> None:
    p.wait_for(lambda: p.client("trading-engine").get("/health").json()["status"] == "healthy",
               timeout=60, what="engine healthy")
    created = json.loads(p.cli("keys", "create", "--role", "trader", "--account", "paper",
                               "--json", check=True).stdout)
    trader = Principal(Role.TRADER, created["id"], "paper", "rotation-bot")
    database_url = p.env["DATABASE_URL"]
    with _Orders(p.url("trading-engine", "/orders"), p.data_dir, trader) as orders:
        orders.stop.wait(1.0)
        first = _rotate(p, "--all", "--grace", "1h")
        logins1 = read_secrets(p.data_dir / "secrets.json")
        orders.stop.wait(1.0)
        second = _rotate(p, "--database", "--redis")
        orders.stop.wait(1.5)
    assert [r["secret"] for r in first["rotations"]] == ["jwt", "database", "redis"]
    assert all(r["rotated"] for r in first["rotations"] + second["rotations"])
    assert orders.bad == [] and set(orders.statuses) == {200}, orders.bad[:5]
    assert len(orders.acked) > 40
    engine = p.client("trading-engine")
    for coid in orders.acked:  # every acknowledged order is there, once
        assert engine.get("/orders", params={"client_order_id": coid}).status_code == 200, coid
    assert logins1.database is not None and logins1.redis is not None
    assert not _pg_logs_in(database_url, logins1.database)  # first login role: disabled
    assert not _redis_logs_in(bus.port, logins1.redis)  # first Redis password: removed
    now = read_secrets(p.data_dir / "secrets.json")
    assert now.database is not None and _pg_logs_in(database_url, now.database)
    # a breach: grace 0 refuses every token signed before, at once on every service
    _rotate(p, "--jwt", "--grace", "0")
    old = {"Authorization": f"Bearer {orders.old_token}"}
    p.wait_for(lambda: engine.get("/orders", headers=old).status_code == 401, timeout=5,
               what="the pre-rotation token refused")
    fresh = {"Authorization": f"Bearer {orders._mint()}"}
    assert engine.get("/orders", headers=fresh).status_code == 200

"""Authorization, proven: every REST route, WebSocket and MCP tool of every service, called in
the production profile with no credential, a revoked key, an expired JWT, a forged JWT, each
role's key and a trader's JWT, agrees with the one policy table (policy.py).

The apps are the platform's own (`build_apps`, served through `serving_app` as the runner
serves them: guard and fast routes in front), over a real opened platform with the real
authenticator (argon2 keys in its database, JWTs signed with its secret). Routes and tools
are read from the apps and the MCP servers, so a new one is walked as it lands, and one the
table does not declare fails the test.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx2
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from starlette.testclient import TestClient

from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.clocks import ManualClock
from mcp_trading.config import Settings
from mcp_trading.domain.market import Quote
from mcp_trading.faces.mcp import mcp_lifespan
from mcp_trading.faces.rest.fastpath import serving_app
from mcp_trading.platform.bootstrap import bootstrap
from mcp_trading.platform.platform import Platform
from mcp_trading.processes.runner import build_apps
from mcp_trading.security.authenticator import Authenticator
from mcp_trading.security.keys import KeyStore
from mcp_trading.security.principal import Role
from mcp_trading.security.tokens import TokenIssuer
from mcp_trading.services.registry import names

from .matrix import Credential, Walk, flat_routes
from .policy import POLICY

SECRET = "matrix-production-secret-" + "Q7v9Lr2Xw4Kp8Zt1Mb6Nc3Hd5Jf0"
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
BASE = "http://127.0.0.1"


@dataclass
class World:
    platform: Platform
    apps: dict[str, FastAPI]
    credentials: list[Credential]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    settings = Settings(data_dir=tmp_path, profile="production", jwt_secret=SECRET)
    keys = KeyStore(create_store_engine(settings.resolved_database_url), hasher=CHEAP)
    plat = bootstrap(settings, authenticator=Authenticator(keys, TokenIssuer(SECRET),
                                                           "production"))
    plat.open()
    plat.accepting = True
    now = time.time_ns()
    plat.kernel_runtime.kernel.on_quote(Quote("AAPL", Decimal("100.00"), Decimal("100.02"),
                                              Decimal(10_000), Decimal(10_000), None, now))
    plat.last_quote_ns = now
    plat.health.feed_status = "streaming"
    plat.kernel_runtime.journal.flush()
    credentials = [Credential("no credential", {}, None)]
    revoked, revoked_key = keys.create(Role.ADMIN, all_accounts=True, name="matrix-revoked")
    keys.revoke(revoked.id)
    credentials.append(Credential("a revoked admin key", _bearer(revoked_key), None))
    admin, _ = keys.create(Role.ADMIN, all_accounts=True, name="matrix-expired")
    an_hour_ago = ManualClock(now - 3600 * 1_000_000_000)
    expired = TokenIssuer(SECRET, ttl_s=60, clock=an_hour_ago).issue(admin.principal())
    credentials.append(Credential("an expired admin JWT", _bearer(expired), None))
    forged = TokenIssuer("another-secret-" + "x9" * 20).issue(admin.principal())
    credentials.append(Credential("an admin JWT signed with another secret", _bearer(forged),
                                  None))
    for role in Role:  # every account: the roles alone decide (account scope: the routes' tests)
        record, plaintext = keys.create(role, name=f"matrix-{role.label}", all_accounts=True)
        credentials.append(Credential(f"a {role.label} key", _bearer(plaintext), role))
        if role is Role.TRADER:  # a live JWT carries its key's role, no more
            token = TokenIssuer(SECRET).issue(record.principal())
            credentials.append(Credential("a trader JWT", _bearer(token), role))
    try:
        yield World(plat, build_apps(plat, lambda: dict.fromkeys(names(), True)), credentials)
    finally:
        plat.accepting = False
        keys.close()
        if plat.runtime is not None:
            plat.runtime.close()
        if plat.projector is not None:
            plat.projector.stop()


async def _walk_mcp(walk: Walk, service: str, app: FastAPI) -> None:
    every_tool = {t.name: t for t in await app.state.mcp_server.list_tools()}
    async with mcp_lifespan(app):
        for credential in (c for c in walk.credentials if c.role is not None):
            async with httpx2.AsyncClient(transport=httpx2.ASGITransport(serving_app(app)),
                                          base_url=BASE, headers=dict(credential.headers)
                                          ) as http, \
                    Client(streamable_http_client(f"{BASE}/mcp", http_client=http)) as mcp:
                await walk.mcp_tools(service, mcp, credential, every_tool)


def test_every_route_and_tool_agrees_with_the_policy_table(world: World) -> None:
    walk = Walk(world.credentials)
    for service, app in world.apps.items():
        with TestClient(serving_app(app), base_url=BASE) as client:
            walk.rest(service, app, client)
            if getattr(app.state, "mcp_server", None) is not None:
                walk.mcp_refused_at_the_door(service, client)
        if getattr(app.state, "mcp_server", None) is not None:
            asyncio.run(_walk_mcp(walk, service, app))
        _fast_routes_are_walked(walk, service, app)
    assert not walk.problems, "\n".join(walk.problems)
    # the walk did walk: every service, a route per policy row, every credential each time
    assert {c.split(" ", 1)[0] for c in walk.covered} == set(world.apps)
    stale = [row for row in POLICY if not row.startswith("*") and row not in walk.covered]
    assert not stale, f"policy rows naming nothing the apps serve: {stale}"
    assert walk.calls >= len(walk.covered) * 4


def _fast_routes_are_walked(walk: Walk, service: str, app: FastAPI) -> None:
    """A fast route answers in front of FastAPI; it is walked through its FastAPI twin."""
    paths = {f"{m} {p}" for p, r in flat_routes(app.router.routes)
             for m in (getattr(r, "methods", None) or ())}
    for route in getattr(app.state, "fast_routes", []):
        if f"{route['method']} {route['path']}" not in paths:
            walk.problems.append(f"UNWALKED: {service} fast route {route['method']} "
                                 f"{route['path']} has no FastAPI route")
    for route in getattr(app.state, "fast_item_routes", []):
        twin = [p for p in paths if p.startswith(f"{route['method']} {route['prefix']}{{")]
        if not twin:
            walk.problems.append(f"UNWALKED: {service} fast route {route['method']} "
                                 f"{route['prefix']}{{id}} has no FastAPI route")

"""Fixtures for the MCP faces: a real Platform with a real Authenticator over its database.

Keys are created with cheap argon2 parameters. Tools are reached through the real HTTP stack
(bearer auth, streamable HTTP) over an in-process ASGI transport: no sockets.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx2
import jsonschema
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, Tool

from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.config import Settings
from mcp_trading.domain.market import Quote
from mcp_trading.faces.mcp import attach_mcp, mcp_lifespan
from mcp_trading.platform.bootstrap import bootstrap
from mcp_trading.platform.platform import Platform
from mcp_trading.security.authenticator import Authenticator
from mcp_trading.security.keys import KeyStore
from mcp_trading.security.principal import Role
from mcp_trading.security.tokens import TokenIssuer

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
BASE = "http://127.0.0.1:8010"
ORDER = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market",
         "client_order_id": "agent-1"}
MakeKey = Callable[..., str]


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    settings = Settings(data_dir=tmp_path)
    keys = KeyStore(create_store_engine(settings.resolved_database_url), hasher=CHEAP)
    plat = bootstrap(settings, authenticator=Authenticator(keys, TokenIssuer(settings.jwt_secret),
                                                           "dev"))
    plat.open()
    plat.accepting = True
    kernel = plat.kernel_runtime.kernel
    if "other" not in kernel.state.accounts:
        kernel.open_account("other", Decimal(100_000))
    now = time.time_ns()
    kernel.on_quote(Quote("AAPL", Decimal("100.00"), Decimal("100.02"), Decimal(10_000),
                          Decimal(10_000), None, now))
    plat.last_quote_ns = now
    plat.health.feed_status = "streaming"
    plat.kernel_runtime.journal.flush()
    try:
        yield plat
    finally:
        plat.accepting = False
        keys.close()
        if plat.runtime is not None:
            plat.runtime.close()
        if plat.projector is not None:
            plat.projector.stop()


@pytest.fixture
def make_key(platform: Platform) -> Callable[..., str]:
    """make_key("trader", "paper") -> a plaintext API key."""
    assert isinstance(platform.authenticator, Authenticator)
    keys: KeyStore = platform.authenticator._keys

    def make(role: str, account: str | None = None, name: str | None = None, *,
             confirm_orders: bool = True) -> str:
        return keys.create(Role.parse(role), account, name, all_accounts=account is None,
                           confirm_orders=confirm_orders)[1]

    return make


def mcp_app(platform: Platform, service: str) -> FastAPI:
    app = FastAPI()
    attach_mcp(app, platform, service, base_url=BASE)
    return app


@asynccontextmanager
async def connect(app: FastAPI, token: str) -> AsyncIterator[Client]:
    """An MCP client over streamable HTTP to `app`, sending `token` as its bearer."""
    async with mcp_lifespan(app), httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app), base_url=BASE,
            headers={"Authorization": f"Bearer {token}"}) as http, \
            Client(streamable_http_client(f"{BASE}/mcp", http_client=http)) as client:
        yield client


def run(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(coro)


async def tool_map(client: Client) -> dict[str, Tool]:
    return {t.name: t for t in (await client.list_tools()).tools}


async def call(client: Client, tools: dict[str, Tool], name: str,
               arguments: dict[str, Any]) -> CallToolResult:
    """Call a tool; every result, success or error, is checked: a success must match the
    tool's output schema, an error must carry a code and a message."""
    result = await client.call_tool(name, arguments)
    data = result.structured_content
    assert data is not None, f"{name} returned no structured content"
    if result.is_error:
        assert isinstance(data.get("code"), str) and isinstance(data.get("message"), str), data
    else:
        schema = tools[name].output_schema
        assert schema is not None, f"{name} has no output schema"
        jsonschema.validate(data, schema)
    return result

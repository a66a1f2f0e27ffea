"""`mcp-trading mcp [--embedded]` as a real subprocess, through the SDK's stdio client."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from mcp import Client, StdioServerParameters

from mcp_trading.adapters.store import upgrade
from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.config import Settings
from mcp_trading.security.keys import KeyStore
from mcp_trading.security.principal import Role

pytestmark = pytest.mark.slow

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
ARGS = ["-m", "mcp_trading", "mcp", "--embedded"]
ORDER = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market",
         "client_order_id": "stdio-1"}


def _trader_key(data_dir: Path) -> str:
    settings = Settings(data_dir=data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    keys = KeyStore(create_store_engine(settings.resolved_database_url), hasher=CHEAP)
    try:
        return keys.create(Role.parse("trader"), "paper", "stdio-agent")[1]
    finally:
        keys.close()


def _env(data_dir: Path, key: str | None) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", str(data_dir)),
           "MCP_TRADING_DATA_DIR": str(data_dir), "MCP_TRADING_PROJECTION": "off"}
    if key is not None:
        env["MCP_TRADING_API_KEY"] = key
    return env


async def _until_accepted(client: Client, arguments: dict[str, Any]) -> dict[str, Any]:
    """preview_order, retried while the embedded feed has not produced a quote yet."""
    data: dict[str, Any] = {}
    for _ in range(50):
        result = await client.call_tool("preview_order", arguments)
        data = result.structured_content or {}
        if not result.is_error and data.get("would_accept"):
            return data
        await asyncio.sleep(0.1)
    raise AssertionError(f"preview never accepted: {data}")


def test_embedded_stdio_serves_every_service_as_the_key_holder(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    key = _trader_key(data_dir)
    params = StdioServerParameters(command=sys.executable,
                                   args=[*ARGS, "--data-dir", str(data_dir)],
                                   env=_env(data_dir, key), cwd=str(tmp_path))

    async def body() -> None:
        async with Client(params) as client:
            names = [t.name for t in (await client.list_tools()).tools]
            assert {"get_quote", "preview_order", "submit_order", "get_account",
                    "risk_status", "list_alerts"} <= set(names)
            assert len(names) == len(set(names))  # shared tools registered once
            prompts = {p.name for p in (await client.list_prompts()).prompts}
            assert {"pre_trade_checklist", "daily_briefing"} <= prompts
            summary = await client.read_resource("trading://accounts/paper/summary")
            assert '"id": "paper"' in summary.contents[0].text  # type: ignore[union-attr]

            account = await client.call_tool("get_account", {})
            assert not account.is_error, account.structured_content
            assert (account.structured_content or {})["id"] == "paper"

            preview = await _until_accepted(client, ORDER)
            submitted = await client.call_tool("submit_order", {
                **ORDER, "confirmation_token": preview["confirmation_token"]})
            assert not submitted.is_error, submitted.structured_content
            order = (submitted.structured_content or {})["order"]
            assert order["client_order_id"] == "stdio-1"
            assert order["attribution"].endswith(":stdio-agent")

    asyncio.run(body())


def test_embedded_stdio_refuses_to_start_without_a_valid_key(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    _trader_key(data_dir)
    command = [sys.executable, *ARGS, "--data-dir", str(data_dir)]
    missing = subprocess.run(command, env=_env(data_dir, None), cwd=tmp_path, stdin=subprocess.DEVNULL,
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode != 0
    assert "MCP_TRADING_API_KEY is not set" in missing.stderr
    bogus = "mcpt_AAAAAAAAAAAA_not-a-real-secret"
    invalid = subprocess.run(command, env=_env(data_dir, bogus), cwd=tmp_path,
                             stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert invalid.returncode != 0
    assert "is not valid" in invalid.stderr
    assert bogus not in invalid.stderr + invalid.stdout
    assert "not-a-real-secret" not in invalid.stderr + invalid.stdout


def test_stdio_without_a_running_platform_names_the_unreachable_service(tmp_path: Path) -> None:
    env = {**_env(tmp_path, "mcpt_AAAAAAAAAAAA_not-a-real-secret"),
           "MCP_TRADING_PORT_MARKET_DATA": "1"}  # nothing listens on port 1
    result = subprocess.run([sys.executable, "-m", "mcp_trading", "mcp"], env=env,
                            cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert "the market-data service at http://127.0.0.1:1/mcp is not usable" in result.stderr
    assert "mcp-trading start" in result.stderr
    assert "not-a-real-secret" not in result.stderr + result.stdout

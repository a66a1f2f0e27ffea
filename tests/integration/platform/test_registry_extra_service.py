"""The registry's acceptance test: a service added to the registry (echo_service.py, with no
edit anywhere else) is started by the embedded runner, listed by `status`, checked by
`health --check-all`, served over REST and MCP, forwarded and planned in distributed mode."""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from argon2 import PasswordHasher
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from typer.testing import CliRunner

from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.cli import app as cli
from mcp_trading.config import Settings
from mcp_trading.processes import launcher
from mcp_trading.processes.distributed.forward import write_routes
from mcp_trading.processes.runner import serve_embedded
from mcp_trading.processes.supervisor import start_order
from mcp_trading.security.keys import KeyStore
from mcp_trading.security.principal import Role
from mcp_trading.services import registry

echo: Any = importlib.import_module("tests.integration.platform.echo_service")
BUILTIN_PORTS = {spec.port_setting: 0 for spec in registry.BUILTIN}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, projection="off", feed_interval_ms=20,
                    **BUILTIN_PORTS)


@pytest.fixture
def running(settings: Settings) -> Iterator[dict[str, int]]:
    """The embedded platform with the echo service registered; yields the bound ports."""
    ready = threading.Event()
    ports: dict[str, int] = {}
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    errors: list[BaseException] = []
    switch = sys.getswitchinterval()

    def on_ready(bound: dict[str, int]) -> None:
        ports.update(bound)
        ready.set()

    def serve() -> None:
        try:
            loop.run_until_complete(serve_embedded(settings, stop=stop, on_ready=on_ready))
        except BaseException as exc:
            errors.append(exc)
            ready.set()

    with registry.registered(echo.SPEC):
        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        assert ready.wait(60), "the platform did not come up"
        assert not errors, errors
        try:
            yield ports
        finally:
            loop.call_soon_threadsafe(stop.set)
            thread.join(30)
            loop.close()
            sys.setswitchinterval(switch)
    assert not errors, errors


def test_the_spec_is_registered_only_for_the_block() -> None:
    assert "echo" not in registry.names()
    with registry.registered(echo.SPEC):
        assert registry.names()[-1] == "echo"
        assert registry.get("echo") is echo.SPEC
        with pytest.raises(ValueError, match="already registered"):
            registry.registered(echo.SPEC).__enter__()
    assert "echo" not in registry.names()
    with pytest.raises(registry.UnknownServiceError, match="known: market-data"):
        registry.get("echo")


def test_an_extra_service_is_started_served_listed_and_checked(
        settings: Settings, running: dict[str, int]) -> None:
    port = running["echo"]
    assert port > 0 and set(running) == set(registry.names()) | {"echo"}
    base = f"http://127.0.0.1:{port}"

    # served over REST (the dev profile trusts loopback), its task started by the platform
    body = httpx.get(f"{base}/echo", params={"text": "hi"}).json()
    assert body["echo"] == "hi" and body["ticks"] > 0
    health = httpx.get(f"{base}/health").json()
    assert (health["service"], health["status"]) == ("echo", "healthy")

    # listed by `status`, checked by `health --check-all`
    runner = CliRunner()
    status = json.loads(runner.invoke(cli, ["status", "--json", "--data-dir",
                                            str(settings.data_dir)]).stdout)
    row = next(r for r in status["services"] if r["service"] == "echo")
    assert (row["port"], row["up"], row["status"]) == (port, True, "healthy")
    result = runner.invoke(cli, ["health", "--check-all", "--json", "--data-dir",
                                 str(settings.data_dir)])
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["service:echo"]["status"] == "healthy"

    # served over MCP, with a real key
    keys = KeyStore(create_store_engine(settings.resolved_database_url),
                    hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    try:
        key = keys.create(Role.VIEWER, None, "echo-test", all_accounts=True)[1]
    finally:
        keys.close()

    async def over_mcp() -> tuple[list[str], str]:
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}) as http, \
                Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client:
            tools = [t.name for t in (await client.list_tools()).tools]
            result = await client.call_tool("echo_ping", {"text": "ping"})
            return tools, result.content[0].text  # type: ignore[union-attr]

    tools, text = asyncio.run(over_mcp())
    assert tools == ["echo_ping"]
    assert text.startswith("ping after ")


def test_an_extra_service_is_planned_and_forwarded_in_distributed_mode(
        settings: Settings) -> None:
    with registry.registered(echo.SPEC):
        plan = {p.name: p for p in launcher.service_specs(settings)}
        assert list(plan)[-1] == "echo"
        assert plan["echo"].depends_on == ("trading-engine",)
        assert plan["echo"].argv[3:5] == ["serve", "echo"]
        order = start_order(plan.values())
        assert next(i for i, wave in enumerate(order) if "echo" in wave) > \
            next(i for i, wave in enumerate(order) if "trading-engine" in wave)
        [(method, pattern)] = write_routes("echo")
        assert method == "POST" and pattern.fullmatch("/echo/reset")
        assert settings.port("echo") == 0  # its spec's default

"""A small extra service for the registry's acceptance test: its own REST face, MCP tool,
health rule and background task, declared in one ServiceSpec and nowhere else."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from mcp.server import MCPServer
from starlette.responses import Response

from mcp_trading.faces.mcp.auth import current_principal
from mcp_trading.faces.rest.app import FastJSON, caller, create_app
from mcp_trading.platform.platform import Platform
from mcp_trading.security.access import require
from mcp_trading.security.principal import Role
from mcp_trading.services.spec import ServiceSpec, TaskSpec

HERE = __name__
SPEC = ServiceSpec(
    name="echo", title="Echo: the registry's acceptance test", port=0,
    rest=f"{HERE}:build", mcp=(f"{HERE}:register",), health=f"{HERE}:rule",
    tasks=(TaskSpec("ticker", f"{HERE}:ticker"),),
    depends_on=("trading-engine",),
    writes=(("POST", r"/echo/reset"),),
)
TICKS: weakref.WeakKeyDictionary[Platform, int] = weakref.WeakKeyDictionary()


class Ticker:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.stopped = False

    async def run(self) -> None:
        while True:
            TICKS[self.platform] = TICKS.get(self.platform, 0) + 1
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self.stopped = True


def ticker(platform: Platform) -> Ticker:
    return Ticker(platform)


def rule(platform: Platform) -> Callable[[], dict[str, Any]]:
    def health() -> dict[str, Any]:
        ticks = TICKS.get(platform, 0)
        return {"status": "healthy" if ticks else "degraded", "ticks": ticks}

    return health


def build(platform: Platform) -> FastAPI:
    router = APIRouter()

    @router.get("/echo")
    async def echo(request: Request, text: str = "") -> Response:
        caller(request, Role.VIEWER)
        return FastJSON({"echo": text, "ticks": TICKS.get(platform, 0)})

    return create_app(platform, "echo", routers=[router], description="Echo.")


def register(server: MCPServer, platform: Platform) -> None:
    @server.tool()
    async def echo_ping(text: str) -> str:
        """Echo `text` back (viewer)."""
        require(current_principal(), Role.VIEWER)
        return f"{text} after {TICKS.get(platform, 0)} ticks"

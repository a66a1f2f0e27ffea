"""`mcp-trading mcp [--embedded]`: every service's MCP face over stdio, one caller per process.

The caller's API key comes from MCP_TRADING_API_KEY. Two modes:

- default: talk to a running platform. `proxy.serve_stdio` opens an MCP session to each
  service at its configured URL (`Settings.service_url`) with that key and forwards every
  request; the services check the key on every call.
- `--embedded`: run a platform in this process (journal, kernel, simulated feed) and serve
  one MCPServer holding every service's tools, resources and prompts (a name two services
  share is registered once). The key is verified once, at start; every call then acts as
  that key's principal.

Without a valid key either mode refuses to start.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path

import typer
from mcp.server import MCPServer

from mcp_trading import __version__
from mcp_trading.config import Settings
from mcp_trading.faces.mcp.auth import set_process_principal
from mcp_trading.faces.mcp.proxy import ProxyConnectError, serve_stdio
from mcp_trading.faces.mcp.server import PlatformMCPServer, instructions, service_faces
from mcp_trading.platform.bootstrap import bootstrap
from mcp_trading.platform.platform import Platform
from mcp_trading.security.authenticator import build_authenticator
from mcp_trading.security.principal import Principal
from mcp_trading.security.tls import client_verify
from mcp_trading.security.tokens import InsecureSecretError
from mcp_trading.services import registry

__all__ = ["build_stdio_server", "run"]

KEY_ENV = "MCP_TRADING_API_KEY"


def _fail(message: str, code: int = 1) -> typer.Exit:
    print(f"mcp-trading mcp: {message}", file=sys.stderr)
    return typer.Exit(code)


def build_stdio_server(platform: Platform) -> MCPServer:
    """One MCPServer with every service's tools, resources and prompts, each kept once."""
    server = PlatformMCPServer("mcp-trading", version=__version__,
                               instructions=instructions("embedded, all services"),
                               # the first registration of a shared name wins
                               warn_on_duplicate_tools=False, warn_on_duplicate_resources=False,
                               warn_on_duplicate_prompts=False)
    registered: set[object] = set()
    for registers in service_faces().values():
        for register_tools in registers:
            if register_tools not in registered:
                registered.add(register_tools)
                register_tools(server, platform)
    return server


async def _serve(settings: Settings, key: str) -> None:
    try:
        authenticator = build_authenticator(settings)
    except InsecureSecretError as exc:
        raise _fail(str(exc)) from None
    platform = bootstrap(settings, authenticator=authenticator)
    try:
        platform.open()  # migrations first: the key is read from the database
        principal: Principal | None = authenticator.authenticate(
            f"Bearer {key}", None, loopback_trust=False)
        if principal is None:
            raise _fail(f"the API key in {KEY_ENV} is not valid (unknown, revoked or "
                        f"malformed); create one with `mcp-trading keys create`")
        print(f"mcp-trading mcp: embedded platform at {settings.data_dir}, acting as "
              f"{principal.name} ({principal.role.label})", file=sys.stderr)
        set_process_principal(principal)
        server = build_stdio_server(platform)
        await platform.start()
        await server.run_stdio_async()
    finally:
        set_process_principal(None)
        await platform.stop()


async def _proxy(settings: Settings, key: str) -> None:
    urls = {s.name: settings.service_url(s.name) for s in registry.specs() if s.mcp}
    print(f"mcp-trading mcp: forwarding to the running platform "
          f"({urls['trading-engine']} and its other services)", file=sys.stderr)
    try:
        await serve_stdio(urls, key, client_verify(settings))  # MCP_TRADING_TLS_CA
    except ProxyConnectError as exc:
        raise _fail(str(exc)) from None


def run(embedded: bool, data_dir: Path | None) -> None:
    """Serve MCP on stdio for one caller, whose key is read from MCP_TRADING_API_KEY."""
    key = os.environ.get(KEY_ENV, "").strip()
    if not key:
        raise _fail(f"{KEY_ENV} is not set; the stdio server needs the caller's API key "
                    "(create one with `mcp-trading keys create --role trader --account paper`)")
    settings = Settings(data_dir=data_dir) if data_dir is not None else Settings()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(settings, key) if embedded else _proxy(settings, key))

"""Commands from other services reach the trading engine through one path: HTTP to the engine.

A replica service (orders, risk, alerts) answers reads from its replica, but a route that
changes the kernel's state (cancel-all-pending, limit changes, maintenance, live strategy
instances), or reads what only the engine's process holds (an instance's runner), is forwarded,
body and credential unchanged, to the same route of the same service mounted inside the
engine at `/internal/<service>`; the engine authenticates the credential again and runs the
same service function on the real kernel. The caller gets the engine's answer, or a clear
error: 503 when the engine cannot be reached (nothing was done), 504 when it did not answer
in time (the command may or may not have been applied: check before retrying).

The engine stamps `X-Journal-Seq` on those answers; a replica that folds the journal waits
(briefly) until it holds that event, so a read right after the command sees it.
"""

from __future__ import annotations

import re

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcp_trading.platform.platform import Platform
from mcp_trading.processes.distributed.engine_link import (
    SEQ_HEADER,
    EngineLink,
    engine_url,
    internal_prefix,
)
from mcp_trading.security.principal import credential_rejected
from mcp_trading.services import registry

__all__ = ["SEQ_HEADER", "EngineLink", "ForwardWrites", "StampSeq", "engine_url", "internal_prefix",
           "write_routes"]

_FORWARDED_HEADERS = ("authorization", "x-api-key", "content-type", "accept")


def write_routes(service: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """(method, path pattern) of the service's routes the engine answers: those that change
    the kernel's state (its spec's `writes`) and the reads of what only the engine holds
    (`engine_reads`)."""
    return tuple((method, re.compile(pattern))
                 for method, pattern in registry.get(service).forwarded)


class ForwardWrites:
    """ASGI middleware of a replica service: write routes go to the engine."""

    def __init__(self, app: ASGIApp, *, platform: Platform, service: str, engine_url: str,
                 timeout_s: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.app = app
        self.platform = platform
        self.routes = write_routes(service)
        self.link = EngineLink(platform, service, engine_url, timeout_s=timeout_s,
                               transport=transport)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._is_write(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        response = await self._forward(Request(scope, receive))
        await response(scope, receive, send)

    def _is_write(self, method: str, path: str) -> bool:
        return any(method == m and pattern.fullmatch(path) for m, pattern in self.routes)

    async def _forward(self, request: Request) -> Response:
        authenticator = self.platform.authenticator
        client = request.client.host if request.client else None
        if authenticator is None or authenticator.authenticate(
                request.headers.get("authorization"), client,
                api_key=request.headers.get("x-api-key")) is None:
            return _error(401, "UNAUTHENTICATED", "the credential sent is invalid, expired or "
                          "revoked" if credential_rejected() else "a valid API key or JWT is "
                          "required (Authorization: Bearer <key>)")
        path = request.url.path
        if request.url.query:
            path += "?" + request.url.query
        headers = {k: v for k, v in request.headers.items() if k in _FORWARDED_HEADERS}
        status, content, media_type = await self.link.send(
            request.method, path, content=await request.body(), headers=headers)
        return Response(content, status_code=status, media_type=media_type)


class StampSeq:
    """ASGI wrapper (engine side): every answer carries the kernel's sequence number."""

    def __init__(self, app: ASGIApp, platform: Platform) -> None:
        self.app = app
        self.platform = platform

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                runtime = self.platform.runtime
                if runtime is not None:
                    headers = list(message.get("headers", []))
                    headers.append((SEQ_HEADER.encode(), str(runtime.kernel.seq).encode()))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, stamped)


def _error(status: int, code: str, message: str) -> Response:
    return JSONResponse({"code": code, "message": message}, status_code=status)


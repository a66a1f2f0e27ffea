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

import json
import re
from collections.abc import Mapping
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcp_trading.platform.platform import Platform
from mcp_trading.processes.distributed.replica import ReplicaRuntime
from mcp_trading.services import registry

__all__ = ["SEQ_HEADER", "EngineLink", "ForwardWrites", "StampSeq", "engine_url", "internal_prefix",
           "write_routes"]

SEQ_HEADER = "x-journal-seq"
_FORWARDED_HEADERS = ("authorization", "x-api-key", "content-type", "accept")
_CATCH_UP_S = 2.0


def write_routes(service: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """(method, path pattern) of the service's routes the engine answers: those that change
    the kernel's state (its spec's `writes`) and the reads of what only the engine holds
    (`engine_reads`)."""
    return tuple((method, re.compile(pattern))
                 for method, pattern in registry.get(service).forwarded)


def internal_prefix(service: str) -> str:
    return f"/internal/{service}"


class EngineLink:
    """One HTTP client to the engine's internal routes of one service (`/internal/<service>`),
    shared by the service's ForwardWrites and its MCP tools. A transport failure becomes the
    engine error answer (503 / 504 / 502, nothing hidden); after a command it waits (briefly)
    until the replica holds the engine's `X-Journal-Seq`."""

    def __init__(self, platform: Platform, service: str, engine_url: str, *,
                 timeout_s: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.platform = platform
        self.target = engine_url.rstrip("/") + internal_prefix(service)
        self.engine_url = engine_url
        self.timeout_s = timeout_s
        self._transport = transport  # tests inject one; None: real HTTP
        self._client: httpx.AsyncClient | None = None

    async def send(self, method: str, path: str, *, content: bytes = b"",
                   headers: Mapping[str, str] | None = None,
                   params: Mapping[str, str] | None = None) -> tuple[int, bytes, str | None]:
        """(status, body, content type) of the engine's answer to `method path`."""
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout_s, connect=2.0),
                                             transport=self._transport)
        try:
            answer = await self._client.request(method, self.target + path, content=content,
                                                headers=dict(headers or {}),
                                                params=dict(params) if params else None)
        except httpx.ConnectError:
            return _failure(503, "ENGINE_UNAVAILABLE", f"the trading engine at "
                            f"{self.engine_url} cannot be reached; nothing was done: retry "
                            "once it is healthy")
        except httpx.TimeoutException:
            return _failure(504, "ENGINE_TIMEOUT", f"the trading engine did not answer within "
                            f"{self.timeout_s:g} s; the command may or may not have been "
                            "applied: check the state before retrying")
        except httpx.HTTPError as exc:
            return _failure(502, "ENGINE_ERROR", f"the trading engine's answer was lost "
                            f"({type(exc).__name__}); the command may or may not have been "
                            "applied: check the state before retrying")
        seq = answer.headers.get(SEQ_HEADER)
        runtime = self.platform.runtime
        if seq is not None and seq.isdigit() and isinstance(runtime, ReplicaRuntime) \
                and self.platform.folds in ("replica", "control"):  # others never catch up
            await runtime.caught_up(int(seq), _CATCH_UP_S)
        return answer.status_code, answer.content, answer.headers.get("content-type")

    async def call(self, method: str, path: str, *, credential: str,
                   body: Mapping[str, Any] | None = None,
                   params: Mapping[str, str] | None = None) -> tuple[int, dict[str, Any]]:
        """(status, JSON object) of a REST call on the engine with the caller's bearer
        credential (the engine authenticates it again; it is never logged or echoed)."""
        headers = {"authorization": f"Bearer {credential}", "accept": "application/json"}
        content = b""
        if body is not None:
            headers["content-type"] = "application/json"
            content = json.dumps(body).encode()
        status, raw, _ = await self.send(method, path, content=content, headers=headers,
                                         params=params)
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return 502, {"code": "ENGINE_ERROR", "message": f"the trading engine answered "
                         f"{status} without a JSON object; check the state before retrying"}
        return status, data


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
            return _error(401, "UNAUTHENTICATED", "a valid API key or JWT is required "
                          "(Authorization: Bearer <key>)")
        path = request.url.path
        if request.url.query:
            path += "?" + request.url.query
        headers = {k: v for k, v in request.headers.items() if k in _FORWARDED_HEADERS}
        status, content, media_type = await self.link.send(
            request.method, path, content=await request.body(), headers=headers)
        return Response(content, status_code=status, media_type=media_type)


def engine_url(platform: Platform) -> str:
    """The URL of the service that runs the kernel in distributed mode (the trading engine)."""
    engine = next(s.name for s in registry.specs() if s.distributed == "engine")
    return platform.settings.service_url(engine)


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


def _failure(status: int, code: str, message: str) -> tuple[int, bytes, str]:
    return status, json.dumps({"code": code, "message": message}).encode(), "application/json"

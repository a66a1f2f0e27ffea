"""The one HTTP path from a replica service to the engine's internal routes of that service
(`/internal/<service>`, forward.py): ForwardWrites sends the REST routes through it, the
strategies' MCP instance tools their calls (with the caller's credential). No ASGI here, so
service modules may use it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from mcp_trading.platform.platform import Platform
from mcp_trading.processes.distributed.replica import ReplicaRuntime
from mcp_trading.services import registry

__all__ = ["SEQ_HEADER", "EngineLink", "engine_url", "internal_prefix"]

SEQ_HEADER = "x-journal-seq"
_CATCH_UP_S = 2.0


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


def engine_url(platform: Platform) -> str:
    """The URL of the service that runs the kernel in distributed mode (the trading engine)."""
    engine = next(s.name for s in registry.specs() if s.distributed == "engine")
    return platform.settings.service_url(engine)


def _failure(status: int, code: str, message: str) -> tuple[int, bytes, str]:
    return status, json.dumps({"code": code, "message": message}).encode(), "application/json"

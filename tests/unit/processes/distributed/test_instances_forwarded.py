"""Distributed mode's MCP instance tools: the same calls on the engine's internal routes, with
the caller's credential; the engine's refusals (or its absence) come back as tool errors."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from mcp_trading.domain.errors import UnauthenticatedError
from mcp_trading.processes.distributed.engine_link import EngineLink
from mcp_trading.services.strategies import instances_mcp
from mcp_trading.services.strategies.instances_mcp import EngineInstances, EngineRefusalError

ENGINE = "http://engine.test:8010"


class _Platform:
    runtime = None
    folds = "off"


def _remote(handler: Any) -> EngineInstances:
    remote = EngineInstances.__new__(EngineInstances)
    remote.link = EngineLink(_Platform(), "strategies", ENGINE,  # type: ignore[arg-type]
                             timeout_s=0.5, transport=httpx.MockTransport(handler))
    return remote


def test_a_start_goes_to_the_engine_with_the_callers_credential(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(instances_mcp, "current_credential", lambda: "mt_secret")
    seen: list[httpx.Request] = []

    def engine(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"id": "i1", "status": "running"})

    remote = _remote(engine)
    started = asyncio.run(remote.start(None, "sma crossover", {"symbols": ["SPY"]}))
    preview = asyncio.run(remote.check(None, "sma_crossover", {"symbols": ["SPY"]}))
    stopped = asyncio.run(remote.stop(None, "i/1", cancel_orders=True))
    assert started == preview == stopped == {"id": "i1", "status": "running"}
    assert [(r.method, r.url.raw_path.decode()) for r in seen] == [
        ("POST", "/internal/strategies/strategies/sma%20crossover/instances"),
        ("POST", "/internal/strategies/strategies/sma_crossover/instances?dry_run=true"),
        ("DELETE", "/internal/strategies/strategies/instances/i%2F1?cancel_orders=true")]
    assert {r.headers["authorization"] for r in seen} == {"Bearer mt_secret"}
    assert seen[0].content == b'{"symbols": ["SPY"]}'


def test_the_engines_refusal_is_the_tools_error_with_its_status_and_field(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(instances_mcp, "current_credential", lambda: "mt_secret")

    def engine(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"code": "UNKNOWN_STRATEGY", "message": "no 'x'",
                                         "field": "name", "allowed": ["sma_crossover"]})

    with pytest.raises(EngineRefusalError) as refused:
        asyncio.run(_remote(engine).list_instances(None, status="running"))
    result = instances_mcp._refused(refused.value)
    assert result.is_error
    assert result.structured_content == {"code": "UNKNOWN_STRATEGY", "message": "no 'x'",
                                         "status": 404, "field": "name",
                                         "allowed": ["sma_crossover"]}


def test_without_a_verified_credential_nothing_is_forwarded() -> None:
    seen: list[httpx.Request] = []

    def engine(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"instances": [], "count": 0})

    with pytest.raises(UnauthenticatedError) as refused:  # no access token in this context
        asyncio.run(_remote(engine).list_instances(None))
    assert (refused.value.code, seen) == ("UNAUTHENTICATED", [])
    result = instances_mcp._refused(refused.value)  # the tool answers 401, as REST would
    assert result.is_error and result.structured_content["code"] == "UNAUTHENTICATED"


def test_an_unreachable_engine_is_a_503_saying_nothing_was_done(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(instances_mcp, "current_credential", lambda: "mt_secret")

    def engine(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(EngineRefusalError) as refused:
        asyncio.run(_remote(engine).start(None, "sma_crossover", {"symbols": ["SPY"]}))
    assert (refused.value.status, refused.value.code) == (503, "ENGINE_UNAVAILABLE")
    assert "nothing was done" in refused.value.message
    assert "mt_secret" not in refused.value.message

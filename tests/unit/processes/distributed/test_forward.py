"""Write routes of a replica service go to the engine: the answer, or a clear error."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from mcp_trading.processes.distributed.forward import SEQ_HEADER, ForwardWrites
from mcp_trading.security.principal import Principal, Role

ENGINE = "http://engine.test:8010"


class _Auth:
    def authenticate(self, authorization_header: str | None, client_host: str | None, *,
                     api_key: str | None = None, loopback_trust: bool = True) -> Principal | None:
        if authorization_header == "Bearer good":
            return Principal(Role.OPERATOR, "k1", None, "ops")
        return None


class _Platform:
    authenticator = _Auth()
    runtime = None


async def _local(request: Any) -> JSONResponse:
    return JSONResponse({"answered_by": "replica"})


def _app(engine: httpx.MockTransport) -> ForwardWrites:
    inner = Starlette(routes=[Route("/orders/cancel-all-pending", _local, methods=["POST"]),
                              Route("/orders", _local)])
    return ForwardWrites(inner, platform=_Platform(), service="orders",  # type: ignore[arg-type]
                         engine_url=ENGINE, timeout_s=0.5, transport=engine)


def _call(app: ForwardWrites, method: str, path: str, **kw: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app),
                                     base_url="http://orders.test") as client:
            return await client.request(method, path, **kw)

    return asyncio.run(go())


def test_a_write_is_forwarded_with_its_body_and_credential() -> None:
    seen: list[httpx.Request] = []

    def engine(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"canceled_count": 2}, headers={SEQ_HEADER: "42"})

    app = _app(httpx.MockTransport(engine))
    answer = _call(app, "POST", "/orders/cancel-all-pending?x=1", json={"reason": "drill"},
                   headers={"Authorization": "Bearer good"})
    assert answer.status_code == 200
    assert answer.json() == {"canceled_count": 2}
    (request,) = seen
    assert str(request.url) == f"{ENGINE}/internal/orders/orders/cancel-all-pending?x=1"
    assert request.headers["authorization"] == "Bearer good"
    assert request.content == b'{"reason":"drill"}'


def test_reads_stay_local_and_writes_need_a_credential() -> None:
    app = _app(httpx.MockTransport(lambda r: httpx.Response(500)))
    assert _call(app, "GET", "/orders").json() == {"answered_by": "replica"}
    refused = _call(app, "POST", "/orders/cancel-all-pending", json={})
    assert refused.status_code == 401


def test_an_unreachable_engine_is_503_and_a_slow_one_504() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    auth = {"Authorization": "Bearer good"}
    unreachable = _call(_app(httpx.MockTransport(down)), "POST", "/orders/cancel-all-pending",
                        json={}, headers=auth)
    assert unreachable.status_code == 503
    assert unreachable.json()["code"] == "ENGINE_UNAVAILABLE"
    assert "nothing was done" in unreachable.json()["message"]
    timed_out = _call(_app(httpx.MockTransport(slow)), "POST", "/orders/cancel-all-pending",
                      json={}, headers=auth)
    assert timed_out.status_code == 504
    assert "may or may not have been applied" in timed_out.json()["message"]


def test_the_strategies_instance_routes_go_to_the_engine_and_backtests_stay() -> None:
    seen: list[str] = []

    def engine(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        return httpx.Response(200, json={"answered_by": "engine"})

    inner = Starlette(routes=[Route("/{path:path}", _local, methods=["GET", "POST", "DELETE"])])
    app = ForwardWrites(inner, platform=_Platform(), service="strategies",  # type: ignore[arg-type]
                        engine_url=ENGINE, transport=httpx.MockTransport(engine))
    auth = {"Authorization": "Bearer good"}
    for method, path in [("POST", "/strategies/sma_crossover/instances"),
                         ("GET", "/strategies/instances"), ("GET", "/strategies/instances/i-1"),
                         ("DELETE", "/strategies/instances/i-1")]:
        assert _call(app, method, path, headers=auth, json={}).json() == {
            "answered_by": "engine"}, (method, path)
    for method, path in [("GET", "/strategies/sma_crossover"), ("POST", "/backtests"),
                         ("GET", "/backtests"), ("GET", "/strategies")]:
        assert _call(app, method, path, headers=auth, json={}).json() == {
            "answered_by": "replica"}, (method, path)
    assert seen == ["POST /internal/strategies/strategies/sma_crossover/instances",
                    "GET /internal/strategies/strategies/instances",
                    "GET /internal/strategies/strategies/instances/i-1",
                    "DELETE /internal/strategies/strategies/instances/i-1"]

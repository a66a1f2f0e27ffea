"""The app factory every service shares: /health (public, cached), /metrics, /docs, errors, auth."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi_offline import FastAPIOffline
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcp_trading import __version__
from mcp_trading.domain.errors import TradingError
from mcp_trading.faces.rest.fastpath import add_fast_route, decode_object
from mcp_trading.faces.rest.site import is_cross_site
from mcp_trading.platform.errors import INTERNAL_BODY, http_error
from mcp_trading.platform.platform import Platform
from mcp_trading.security.access import require
from mcp_trading.security.principal import Authenticates, Principal, Role
from mcp_trading.services import registry
from mcp_trading.services.spec import load

__all__ = ["FastJSON", "caller", "create_app", "json_body", "principal_of"]

log = logging.getLogger("mcp_trading.rest")
_encoder = msgspec.json.Encoder()


class FastJSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return _encoder.encode(content)


def principal_of(request: Request) -> Principal | None:
    """Who sent the request (None: no valid credential). A bad credential is never trusted,
    and the dev profile's loopback trust never applies to a request from another site."""
    platform: Platform = request.app.state.platform
    authenticator: Authenticates | None = platform.authenticator
    if authenticator is None:
        return None
    client = request.client.host if request.client else None
    return authenticator.authenticate(request.headers.get("authorization"), client,
                                      api_key=request.headers.get("x-api-key"),
                                      loopback_trust=not is_cross_site(request.scope))


def caller(request: Request, role: Role) -> Principal:
    return require(principal_of(request), role)


async def json_body(request: Request, *, allow_empty: bool = False) -> dict[str, Any]:
    """The request's JSON object; a clear 4xx for anything else."""
    return decode_object(await request.body(), allow_empty=allow_empty)


class _Timing:
    """Pure ASGI middleware: request counts and latency per service (no per-request objects)."""

    def __init__(self, app: ASGIApp, platform: Platform, service: str) -> None:
        self.app = app
        metrics = platform.metrics
        self._latency = metrics.http_latency.labels(service)
        self._counters = metrics.http_requests
        self._service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            self._latency.observe(time.perf_counter() - started)
            self._counters.labels(self._service, scope["method"], str(status)).inc()


def create_app(platform: Platform, service: str, *, routers: list[APIRouter],
               description: str, health: Callable[[], dict[str, Any]] | None = None,
               lifespan: Callable[[FastAPI], Any] | None = None) -> FastAPI:
    """The service's app; `/health` answers its spec's health rule unless `health` is given
    (a face that holds a configured service object passes that object's own)."""
    if health is None:
        rule = registry.get(service).health
        health = load(rule)(platform) if rule is not None else _no_rule(platform)
    # /docs loads Swagger UI from the package's own files (a host without internet sees it)
    app = FastAPIOffline(title=f"MCP Trading Platform — {service}", version=__version__,
                         description=description, default_response_class=FastJSON,
                         lifespan=lifespan)
    app.state.platform = platform
    app.state.service = service
    health_body = _health_body(platform, service, health)
    _add_operations(app, platform, health_body)
    for router in routers:
        app.include_router(router)
    app.exception_handler(RequestValidationError)(_validation_error)
    # registered by class so Starlette answers refusals as handled errors (never re-raised)
    app.add_exception_handler(TradingError, _known_error)
    app.add_exception_handler(Exception, _unexpected)
    app.add_middleware(_Timing, platform=platform, service=service)

    async def fast_health(_: Principal | None, __: dict[str, Any] | None) -> tuple[int, Any]:
        return 200, health_body()

    add_fast_route(app, method="GET", path="/health", handler=fast_health, public=True)
    return app


def _health_body(platform: Platform, service: str, health: Callable[[], dict[str, Any]]
                 ) -> Callable[[], dict[str, Any]]:
    """`/health`'s answer: the service's rule, then what every service shares (the store,
    the bus in distributed mode, the uptime)."""

    def health_body() -> dict[str, Any]:
        body = health()
        h = platform.health
        if h.store_error is not None:  # the journal's database is away; writes wait for it
            body["store"] = {"ok": False, "error": h.store_error}
            if body.get("status") == "healthy":
                body["status"] = "degraded"
        if h.bus_ok is not None:  # distributed: the bus is a dependency of every service
            body["bus"] = {"ok": h.bus_ok, "error": h.bus_error}
            if not h.bus_ok and body.get("status") == "healthy":
                body["status"] = "degraded"
        body.setdefault("service", service)
        body["uptime_s"] = round((time.time_ns() - platform.started_at) / 1e9, 3)
        return body

    return health_body


def _add_operations(app: FastAPI, platform: Platform,
                    health_body: Callable[[], dict[str, Any]]) -> None:
    """GET /health (public), GET /metrics (viewer) and GET /admin/memory (admin), as OpenAPI
    documents them."""

    @app.get("/health", tags=["operations"], summary="Health (public, answered from cache)")
    async def get_health() -> Response:
        # served by the FastRoute create_app adds (no routing, no middleware); kept for OpenAPI
        return FastJSON(health_body())

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics (viewer)",
             response_class=Response)
    async def get_metrics(request: Request) -> Response:
        caller(request, Role.VIEWER)
        return Response(platform.metrics.render(),
                        media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.get("/admin/memory", tags=["operations"],
             summary="Where this process's memory grows: a tracemalloc trace over "
                     "?interval_s=S (0.5-600) with the ?top=N (1-100, 15) growing sites and "
                     "the RSS (admin)")
    async def get_memory(request: Request) -> Response:
        from mcp_trading.platform.memory_trace import parse_trace_args, trace

        caller(request, Role.ADMIN)  # before the arguments: an anonymous caller learns nothing
        interval_s, top = parse_trace_args(request.query_params.get("interval_s"),
                                           request.query_params.get("top"))
        return FastJSON(await trace(interval_s, top))


async def _validation_error(_: Request, exc: RequestValidationError) -> Response:
    problems = [{"field": ".".join(str(p) for p in e.get("loc", ())[1:]) or "body",
                 "message": e.get("msg", "invalid")} for e in exc.errors()]
    first = problems[0] if problems else {"field": "body", "message": "invalid request"}
    return FastJSON({"code": "INVALID_REQUEST",
                     "message": f"{first['field']}: {first['message']}",
                     "field": first["field"], "errors": problems}, status_code=422)


async def _known_error(_: Request, exc: Exception) -> Response:
    answer = http_error(exc)
    if answer is None:  # a fault: answered by `_unexpected` below (500, logged), as any
        raise exc
    status, body = answer
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return FastJSON(body, status_code=status, headers=headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    answer = http_error(exc)  # a refusal raised outside the routes (e.g. in a middleware)
    if answer is not None:
        return FastJSON(answer[1], status_code=answer[0])
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return FastJSON(dict(INTERNAL_BODY), status_code=500)


def _no_rule(platform: Platform) -> Callable[[], dict[str, Any]]:
    """A service without a health rule of its own: up while the platform takes commands."""
    return lambda: {"status": "healthy" if platform.accepting else "down"}


Handler = Callable[..., Awaitable[Any]]

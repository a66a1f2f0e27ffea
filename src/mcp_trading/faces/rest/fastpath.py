"""A lean ASGI path for the hottest route (POST /orders), in front of the FastAPI app.

FastAPI's routing, dependency solving and middleware cost about as much as the order itself
(profiled: roughly half of each request). The fast path handles exactly one method + path with
the same service function, the same credential check and the same error bodies; everything
else, including the OpenAPI description of that route, stays with FastAPI.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import msgspec
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_trading.domain.errors import InvalidError, MalformedError
from mcp_trading.faces.rest.bodies import MAX_JSON_DEPTH, json_too_deep
from mcp_trading.faces.rest.guard import Guard
from mcp_trading.faces.rest.protocol import RECEIVED_KEY
from mcp_trading.faces.rest.site import SitePolicy, is_cross_site
from mcp_trading.kernel.acktrace import current_request
from mcp_trading.platform.errors import INTERNAL_BODY, http_error
from mcp_trading.platform.platform import Platform
from mcp_trading.security.principal import Principal

__all__ = ["FastItemRoute", "FastRoute", "ItemHandler", "add_fast_item_route", "add_fast_route",
           "decode_object", "serving_app"]

log = logging.getLogger("mcp_trading.rest")
_encoder = msgspec.json.Encoder()
_JSON_HEADERS = [(b"content-type", b"application/json")]

#: handler(principal, decoded JSON object or None for a GET) -> (status, body)
Handler = Callable[[Principal | None, dict[str, Any] | None], Awaitable[tuple[int, Any]]]
#: handler(principal, the path's last segment) -> (status, body): GET/DELETE /things/{id}
ItemHandler = Callable[[Principal | None, str], Awaitable[tuple[int, Any]]]


# JSON reals decode to Decimal, never float: 1e400 reaches the domain's parser (a 422 naming
# the field and its bound) instead of failing as a float overflow, and 0.1 stays 0.1.
_decode = msgspec.json.Decoder(float_hook=Decimal).decode


def decode_object(raw: bytes, *, allow_empty: bool = False) -> dict[str, Any]:
    """A request body as a JSON object; a clear 4xx for anything else."""
    if not raw.strip():
        if allow_empty:
            return {}
        raise InvalidError("the request body must be a JSON object", code="INVALID_BODY")
    if json_too_deep(raw):  # the guard refused these already; an unguarded app stays safe
        raise MalformedError(f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels of "
                             "arrays/objects; send a flatter document", code="JSON_TOO_DEEP")
    try:
        data = _decode(raw)
    except (msgspec.DecodeError, ArithmeticError) as exc:
        # an integer literal wider than 64 bits, or an exponent beyond what Decimal holds
        if isinstance(exc, ArithmeticError) or "out of range" in str(exc):
            raise InvalidError("a number in the body is out of range; numbers have at most 18 "
                               "digits and 9 decimal places — e.g. \"100.25\"",
                               code="NUMBER_OUT_OF_RANGE") from None
        raise MalformedError(f"the request body is not valid JSON: {exc}",
                             code="INVALID_JSON") from None
    if not isinstance(data, dict):
        raise InvalidError(f"the request body must be a JSON object, got {type(data).__name__}",
                           code="INVALID_BODY")
    return data


def add_fast_route(app: Any, *, method: str, path: str, handler: Handler,
                   public: bool = False, acks: bool = False) -> None:
    """Declare a fast path for `app` (a FastAPI app built by create_app); `serving_app`
    puts it in front of everything, outside FastAPI's own middleware. `acks`: its answers
    are order acknowledgements, timed into `mcp_trading_order_ack_server_seconds`."""
    routes: list[dict[str, Any]] | None = getattr(app.state, "fast_routes", None)
    if routes is None:
        routes = app.state.fast_routes = []
    routes.append({"method": method, "path": path, "handler": handler, "public": public,
                   "acks": acks})


def add_fast_item_route(app: Any, *, method: str, prefix: str, handler: ItemHandler,
                        static: frozenset[str] = frozenset()) -> None:
    """A fast path for `method prefix{id}` (one path segment, no body): `static` names the
    app's own literal segments under the prefix (`/orders/batch`), which stay with FastAPI."""
    routes: list[dict[str, Any]] | None = getattr(app.state, "fast_item_routes", None)
    if routes is None:
        routes = app.state.fast_item_routes = []
    routes.append({"method": method, "prefix": prefix, "handler": handler, "static": static})


def serving_app(app: Any) -> ASGIApp:
    """The ASGI app to serve: the FastAPI app behind its declared fast routes, all behind the
    guard (rest/guard.py: Host, Origin, content type, body size and nesting come first)."""
    platform: Platform = app.state.platform
    served: ASGIApp = app
    for route in getattr(app.state, "fast_routes", []):
        served = FastRoute(served, platform, app.state.service, **route)
    for route in getattr(app.state, "fast_item_routes", []):
        served = FastItemRoute(served, platform, app.state.service, **route)
    settings = platform.settings
    return Guard(served, policy=SitePolicy.from_settings(settings),
                 max_body=settings.max_body_bytes,
                 limits=getattr(app.state, "body_limits", None), metrics=platform.metrics,
                 service=app.state.service)


class FastRoute:
    def __init__(self, app: ASGIApp, platform: Platform, service: str, *, method: str,
                 path: str, handler: Handler, public: bool = False, acks: bool = False
                 ) -> None:
        self.app = app
        self.platform = platform
        self.method = method
        self.path = path
        self.handler = handler
        self.public = public  # no credential looked at (only /health)
        self._latency = platform.metrics.http_latency.labels(service)
        self._requests = platform.metrics.http_requests
        self._service = service
        self._by_status: dict[int, Any] = {}
        self._acks = platform.metrics.order_ack_server if acks else None

    def _matches(self, scope: Scope) -> bool:
        return bool(scope["type"] == "http" and scope["path"] == self.path
                    and scope["method"] == self.method)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._matches(scope):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        trace = self.platform.ack_trace
        timed: list[float] | None = None
        if trace is not None and not self.public:
            timed = [started]
            current_request.set(timed)
        try:
            status, body = await self._handle(scope, receive)
        except Exception as exc:
            answer = http_error(exc)
            if answer is None:
                log.exception("unexpected error on %s %s", self.method, self.path)
                status, body = 500, INTERNAL_BODY
            else:
                status, body = answer
        payload = _encoder.encode(body)
        headers = [*_JSON_HEADERS, (b"content-length", str(len(payload)).encode())]
        if status == 401:
            headers.append((b"www-authenticate", b"Bearer"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
        if self._acks is not None:  # from the server's first look at the request's bytes
            self._acks.observe(time.perf_counter() - scope.get(RECEIVED_KEY, started))
        if timed is not None and trace is not None and len(timed) == 4:
            trace.request(timed[0], int(timed[1]), timed[2], timed[3])
        self._latency.observe(time.perf_counter() - started)
        counter = self._by_status.get(status)
        if counter is None:
            counter = self._by_status[status] = self._requests.labels(
                self._service, self.method, str(status))
        counter.inc()

    async def _handle(self, scope: Scope, receive: Receive) -> tuple[int, Any]:
        principal = None if self.public else self._principal(scope)
        if self.method == "GET":
            return await self.handler(principal, None)
        # the guard in front has read the body (within its limit) and hands it over whole
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        return await self.handler(principal, decode_object(b"".join(chunks)))

    def _principal(self, scope: Scope) -> Principal | None:
        authenticator = self.platform.authenticator
        if authenticator is None:
            return None
        authorization = api_key = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"x-api-key":
                api_key = value.decode("latin-1")
        client = scope.get("client")
        return authenticator.authenticate(authorization, client[0] if client else None,
                                          api_key=api_key, loopback_trust=not is_cross_site(scope))


class FastItemRoute(FastRoute):
    """`method prefix{id}`: the item's handler with the last path segment (FastAPI's
    `{id}` there matches the same: one non-empty segment of the decoded path)."""

    def __init__(self, app: ASGIApp, platform: Platform, service: str, *, method: str,
                 prefix: str, handler: ItemHandler, static: frozenset[str]) -> None:
        super().__init__(app, platform, service, method=method, path=prefix,
                         handler=_unused_handler)
        self.item_handler = handler
        self.static = static
        self._cut = len(prefix)

    def _matches(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] != self.method:
            return False
        path: str = scope["path"]
        if not path.startswith(self.path):
            return False
        item = path[self._cut:]
        return bool(item) and "/" not in item and item not in self.static

    async def _handle(self, scope: Scope, receive: Receive) -> tuple[int, Any]:
        return await self.item_handler(self._principal(scope), scope["path"][self._cut:])


async def _unused_handler(principal: Principal | None, body: dict[str, Any] | None
                          ) -> tuple[int, Any]:
    raise AssertionError("an item route calls its item handler")  # pragma: no cover

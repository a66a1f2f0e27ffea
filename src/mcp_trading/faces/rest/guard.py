"""Every request is judged here first, before authentication, routing or any body is buffered.

    Guard(app, ...)                 pure ASGI, the outermost layer of every service app
                                    (REST routes, the fast path and the MCP mount alike)

What is the platform's own (Host names, Origins) is rest/site.py's; what a body may be (JSON
media type, nesting, per-route size limits) is rest/bodies.py's.

The checks, in order; each refusal is a JSON `{"code", "message"}` and costs nothing later:

    1. `Host` is not one of the platform's names          421 HOST_NOT_ALLOWED (DNS rebinding)
    2. a state-changing method (anything but GET/HEAD/OPTIONS) with a cross-site signal:
       an `Origin` that is not the platform's or, without an Origin, `Sec-Fetch-Site:
       cross-site` or `same-site` (a page on another port of this host is same-site)
                                                           403 CROSS_SITE_REFUSED
    3. `Content-Length` over the route's limit             413 BODY_TOO_LARGE (nothing read)
    4. a non-empty body without a JSON content type        415 UNSUPPORTED_MEDIA_TYPE
    5. the body, counted as it arrives (chunked too):
       over the limit                                      413 BODY_TOO_LARGE
    6. JSON nested deeper than MAX_JSON_DEPTH              400 JSON_TOO_DEEP

A request that passes reaches the app with its whole body in one message. A refusal that
leaves a body unread closes the connection, so the rest of that body is never read either.
The guard leaves its verdict on the request's site in the scope (SITE_KEY) for
`is_cross_site`.

Deadlines (headers, body), header size and the connection limit are the HTTP protocol's,
not ASGI's: see rest/protocol.py (a body that stops arriving gets 408 there).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcp_trading.domain.errors import TradingError
from mcp_trading.faces.rest.bodies import MAX_JSON_DEPTH, is_json_media_type, json_too_deep
from mcp_trading.faces.rest.site import OTHER_SITES, SITE_KEY, Site, SitePolicy

__all__ = ["Guard"]

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_encoder = msgspec.json.Encoder()


class _RefusedError(TradingError):
    """A transport-level refusal the guard answers itself, before any route or service runs
    (Host, Content-Type, body size, nesting): REST-only, so it carries its HTTP status. Of no
    kind on purpose: it never leaves the guard."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message, code=code)
        self.status = status


def _shown(value: bytes | str | None) -> str:
    """Untrusted header text as quoted in an error message: short, printable."""
    if value is None:
        return "absent"
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return repr("".join(c if c.isprintable() else "?" for c in value[:80]))


class Guard:
    """Pure ASGI middleware: the checks of this module, in front of `app`.

    Shaped for the hot path (POST /orders): headers are compared as bytes and the verdicts on
    Host and Content-Type values are cached (bounded), so a passing request costs a few µs
    here (measured in process; an asyncio.timeout() per body alone cost more than the rest,
    which is why the body deadline lives in the HTTP protocol, rest/protocol.py).
    """

    def __init__(self, app: ASGIApp, *, policy: SitePolicy, max_body: int,
                 limits: Mapping[tuple[str, str], int] | None = None,
                 metrics: Any = None, service: str = "") -> None:
        self.app = app
        self.policy = policy
        self.max_body = max_body
        # a route's own limit never makes it stricter than the configured default
        self.limits = {key: max(limit, max_body) for key, limit in (limits or {}).items()}
        self._requests = None if metrics is None else metrics.http_requests
        self._service = service
        self._hosts: dict[bytes, bool] = {}
        self._types: dict[bytes, bool] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def _host_allowed(self, host: bytes | None) -> bool:
        if host is None:
            return False
        allowed = self._hosts.get(host)
        if allowed is None:
            allowed = self.policy.host_allowed(host.decode("latin-1"))
            if len(self._hosts) < _CACHE_SIZE:  # bounded: random Host values cannot grow it
                self._hosts[host] = allowed
        return allowed

    def _json_type(self, content_type: bytes | None) -> bool:
        if content_type is None:
            return False
        known = self._types.get(content_type)
        if known is None:
            known = is_json_media_type(content_type.decode("latin-1"))
            if len(self._types) < _CACHE_SIZE:
                self._types[content_type] = known
        return known

    def _site(self, scope: Scope, found: _Found) -> Site:
        if found.origin is not None and found.host is not None:
            return self.policy.site_of(found.origin.decode("latin-1"),
                                       found.host.decode("latin-1"), scope.get("scheme", "http"))
        # no Origin: a browser's navigation or no-cors read; from another site it gets no trust
        return "foreign" if found.fetch_site in OTHER_SITES else "same"

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        method: str = scope["method"]
        has_body = False
        try:
            found = _scan(scope["headers"])
            length = found.length
            has_body = found.chunked or bool(length)
            if not self._host_allowed(found.host):
                raise _RefusedError(421, "HOST_NOT_ALLOWED",
                                    f"Host {_shown(found.host)} is not one of this platform's "
                                    "names; use its address (e.g. 127.0.0.1) or add the name to "
                                    "MCP_TRADING_ALLOWED_HOSTS")
            site = self._site(scope, found)
            scope[SITE_KEY] = site
            if site == "foreign" and method not in _SAFE_METHODS:
                raise _RefusedError(
                    403, "CROSS_SITE_REFUSED",
                    f"{method} from another site is refused (Origin {_shown(found.origin)}, "
                    f"Sec-Fetch-Site {_shown(found.fetch_site)}); call the platform from its "
                    "own origin or a non-browser client, or list the origin in "
                    "MCP_TRADING_ALLOWED_ORIGINS")
            if not has_body:
                await self.app(scope, receive, send)
                return
            limit = self.limits.get((method, scope["path"]), self.max_body)
            if length is not None and length > limit:
                raise _RefusedError(413, "BODY_TOO_LARGE",
                                    _too_large(length, limit, declared=True))
            json_type = self._json_type(found.content_type)
            if length and not json_type:
                raise _RefusedError(415, "UNSUPPORTED_MEDIA_TYPE", _not_json(found.content_type))
            body = await _read(receive, limit)
            if body is None:
                return  # the client went away; nothing was done
            has_body = False  # read in full: the connection may stay open
            if body and not json_type:
                raise _RefusedError(415, "UNSUPPORTED_MEDIA_TYPE", _not_json(found.content_type))
            if json_too_deep(body):
                raise _RefusedError(400, "JSON_TOO_DEEP",
                                    f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels of "
                                    "arrays/objects; send a flatter document")
        except _RefusedError as refusal:
            await self._refuse(send, method, refusal, close=has_body)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _refuse(self, send: Send, method: str, refusal: _RefusedError, *,
                      close: bool) -> None:
        payload = _encoder.encode({"code": refusal.code, "message": refusal.message})
        headers = [(b"content-type", b"application/json"),
                   (b"content-length", str(len(payload)).encode())]
        if close:
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
        if self._requests is not None:
            self._requests.labels(self._service, method, str(refusal.status)).inc()

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        site: Site = "foreign"
        try:
            found = _scan(scope["headers"])
        except _RefusedError:
            pass
        else:
            if self._host_allowed(found.host):
                site = self._site(scope, found)
        if site == "foreign":  # refused before the handshake completes: the server answers 403
            await send({"type": "websocket.close", "code": 1008})
            return
        scope[SITE_KEY] = site
        await self.app(scope, receive, send)


_CACHE_SIZE = 256
_SINGLE = frozenset({b"host", b"origin", b"sec-fetch-site", b"content-type",
                     b"content-length", b"transfer-encoding"})


@dataclass(slots=True)
class _Found:
    """The request headers the guard reads, as sent (bytes)."""

    host: bytes | None = None
    origin: bytes | None = None
    fetch_site: bytes | None = None
    content_type: bytes | None = None
    length: int | None = None
    chunked: bool = False


def _scan(raw: Iterable[tuple[bytes, bytes]]) -> _Found:
    """One pass over the headers; a second copy of any the guard reads is refused (400)."""
    found = _Found()
    seen: set[bytes] = set()
    for name, value in raw:
        if name not in _SINGLE:
            continue
        if name in seen:
            raise _RefusedError(400, "DUPLICATE_HEADER",
                                f"the {name.decode()} header was sent twice; send it once")
        seen.add(name)
        if name == b"host":
            found.host = value
        elif name == b"content-type":
            found.content_type = value
        elif name == b"content-length":
            if not value.strip().isdigit():
                raise _RefusedError(400, "INVALID_CONTENT_LENGTH",
                                    f"Content-Length was {_shown(value)}; must be a number of "
                                    "bytes")
            found.length = int(value)
        elif name == b"origin":
            found.origin = value
        elif name == b"sec-fetch-site":
            found.fetch_site = value
        else:
            found.chunked = True  # transfer-encoding
    return found


async def _read(receive: Receive, limit: int) -> bytes | None:
    """The whole body, counted as it arrives (None: the client disconnected). Its deadline
    is the protocol's (MCP_TRADING_BODY_TIMEOUT_S), which answers 408 and closes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _RefusedError(413, "BODY_TOO_LARGE", _too_large(size, limit, declared=False))
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _too_large(size: int, limit: int, *, declared: bool) -> str:
    said = f"declares {size} bytes" if declared else f"exceeded {limit} bytes"
    return (f"the request body {said}; this route takes at most {limit} bytes "
            "(MCP_TRADING_MAX_BODY_BYTES sets the default)")


def _not_json(content_type: bytes | None) -> str:
    return (f"a request body must be JSON sent as Content-Type: application/json (was "
            f"{_shown(content_type)}); send no body at all where none is needed")


def _replay(body: bytes, receive: Receive) -> Receive:
    """`receive` for the app: the whole body once, then the server's own messages."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay

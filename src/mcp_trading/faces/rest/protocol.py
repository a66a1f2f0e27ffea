"""The HTTP server of every service: uvicorn (httptools) with the limits a public port needs.

uvicorn bounds an idle keep-alive connection (`timeout_keep_alive`) but not a request's
headers: a client that connects and sends nothing, or one header byte every few seconds
(slowloris), was held forever, and httptools buffers a header of any size. Measured before
this: 2,000 half-open requests to one port were all still open after 20 s. So each
connection's protocol here adds:

    header deadline   a request's headers must be complete within header_timeout_s of the
                      connection (or of its first byte, for the next request on a kept-alive
                      connection); the deadline is fixed, sending more does not extend it.
                      Nothing received: closed silently; part of a request: 408, then closed.
    header size       more than MAX_HEADER_BYTES before the headers end: 431, then closed.
    body deadline     a body still incomplete body_timeout_s after its headers: 408 (the
                      guard reads every body before the app runs, so no answer has begun),
                      then closed. Armed only when a body is still missing after a read: a
                      request that arrives in one piece never starts a timer.
    connections       a connection beyond max_connections open on this port: 503, closed.

The body's size limit is the ASGI guard's (rest/guard.py), which reads every body before
the app does.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["MAX_HEADER_BYTES", "RECEIVED_KEY", "GuardedHttpToolsProtocol", "guarded_protocol",
           "server_config"]

#: a request line plus headers larger than this is refused; a JWT in Authorization is ~1 KB
MAX_HEADER_BYTES = 32 * 1024

#: the scope key of when the server began parsing the request (time.perf_counter()): the
#: start of the server-side acknowledgement time (fastpath.py), before the loop runs the app
RECEIVED_KEY = "mcp_trading.received"

_encoder = msgspec.json.Encoder()
_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large",
            503: b"Service Unavailable"}


class _CoalescingTransport:
    """The connection's transport, but a response's head waits for its body: uvicorn writes
    them separately, two send() system calls per response where one does (profiled: those
    writes were a tenth of the engine's event loop). A held head goes out with the next
    write, before a close, or at the loop's next turn at the latest (a streamed response's
    first chunk may come later). Everything else is the transport's own."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.write(held + data)
        elif data[:9] == b"HTTP/1.1 " and data[-4:] == b"\r\n\r\n":
            self._held = data
            self._loop.call_soon(self._flush)
        else:
            self._transport.write(data)

    def _flush(self) -> None:
        held = self._held
        if held is not None:
            self._held = None
            if not self._transport.is_closing():
                self._transport.write(held)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """httptools' protocol with a header deadline, a header size cap and a connection cap."""

    header_timeout_s: float = 5.0
    body_timeout_s: float = 10.0
    max_header_bytes: int = MAX_HEADER_BYTES
    max_connections: int = 1000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_headers = False  # a request has begun (or the connection is new), no headers yet
        self._header_bytes = 0
        self._header_timer: asyncio.TimerHandle | None = None
        self._in_body = False  # headers done, body not yet complete
        self._body_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.transport = _CoalescingTransport(transport, self.loop)  # type: ignore[assignment]
        if len(self.connections) > self.max_connections:
            self._refuse(503, "TOO_MANY_CONNECTIONS",
                         f"this service already holds {self.max_connections} connections "
                         "(MCP_TRADING_MAX_CONNECTIONS); retry shortly")
            return
        self._in_headers = True
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_too_slow)

    def connection_lost(self, exc: Exception | None) -> None:
        self._end_headers()
        self._end_body()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_headers:
            self._header_bytes += len(data)
        super().data_received(data)
        # Timers start only for what is still missing after this read: a request that
        # arrives whole (nearly all) starts none. Kept-alive requests used to cost a
        # call_later + cancel each, measurable at thousands of requests/s.
        if self.transport.is_closing():
            return
        if self._in_headers:
            if self._header_bytes > self.max_header_bytes:
                self._refuse(431, "HEADERS_TOO_LARGE",
                             f"the request line and headers exceed {self.max_header_bytes} bytes")
            elif self._header_timer is None:
                self._header_timer = self.loop.call_later(self.header_timeout_s,
                                                          self._headers_too_slow)
        elif self._in_body and self._body_timer is None:
            self._body_timer = self.loop.call_later(self.body_timeout_s, self._body_too_slow)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope[RECEIVED_KEY] = time.perf_counter()  # type: ignore[literal-required]
        if not self._in_headers:  # the next request on a kept-alive connection
            self._in_headers = True
            self._header_bytes = 0

    def on_headers_complete(self) -> None:
        self._end_headers()
        super().on_headers_complete()
        self._in_body = True  # until on_message_complete (often within the same read)

    def on_message_complete(self) -> None:
        self._end_body()
        super().on_message_complete()

    def handle_websocket_upgrade(self) -> None:
        self._end_headers()  # the WebSocket protocol takes the transport over
        self._end_body()
        super().handle_websocket_upgrade()

    def _end_headers(self) -> None:
        self._in_headers = False
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _end_body(self) -> None:
        self._in_body = False
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _body_too_slow(self) -> None:
        self._body_timer = None
        self._in_body = False
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is not None and not cycle.response_started:
            cycle.disconnected = True  # the guard's receive() ends; uvicorn answers nothing more
            cycle.message_event.set()
            self._refuse(408, "BODY_TIMEOUT",
                         f"the request body did not arrive within {self.body_timeout_s:g} s; "
                         "send it at once")
        else:
            self.transport.close()

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self._header_bytes == 0:  # an idle (pre)connection: nothing to answer
            self.transport.close()
            return
        self._refuse(408, "HEADER_TIMEOUT",
                     f"the request headers did not arrive within {self.header_timeout_s:g} s")

    def _refuse(self, status: int, code: str, message: str) -> None:
        """Answer `status` outside any request cycle, then close the connection."""
        self._end_headers()
        self._end_body()
        body = _encoder.encode({"code": code, "message": message})
        head = (b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
                b"connection: close\r\n\r\n" % (status, _REASONS[status], len(body)))
        self.transport.write(head + body)
        self.transport.close()


def guarded_protocol(*, header_timeout_s: float, body_timeout_s: float, max_connections: int,
                     max_header_bytes: int = MAX_HEADER_BYTES) -> type[GuardedHttpToolsProtocol]:
    """A protocol class with these limits (uvicorn builds one instance per connection)."""
    return type("GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,), {
        "header_timeout_s": header_timeout_s, "body_timeout_s": body_timeout_s,
        "max_connections": max_connections, "max_header_bytes": max_header_bytes})


def server_config(app: Any, settings: Any, ssl_context_factory: Any = None) -> uvicorn.Config:
    """The uvicorn config of one service app (lifespan and signals are the runner's); HTTPS
    with the context `ssl_context_factory` returns (security/tls.py), else plain HTTP."""
    protocol = guarded_protocol(header_timeout_s=settings.header_timeout_s,
                                body_timeout_s=settings.body_timeout_s,
                                max_connections=settings.max_connections)
    return uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                          loop="asyncio", http=protocol,
                          proxy_headers=False,  # never trust X-Forwarded-For for loopback
                          timeout_keep_alive=settings.keep_alive_timeout_s,
                          timeout_graceful_shutdown=10, ssl_context_factory=ssl_context_factory)

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
    connections       a connection beyond max_connections open on this port: 503, closed.

The body's own limit and deadline are the ASGI guard's (rest/guard.py), which reads every
body before the app does.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["MAX_HEADER_BYTES", "GuardedHttpToolsProtocol", "guarded_protocol", "server_config"]

#: a request line plus headers larger than this is refused; a JWT in Authorization is ~1 KB
MAX_HEADER_BYTES = 32 * 1024

_encoder = msgspec.json.Encoder()
_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large",
            503: b"Service Unavailable"}


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """httptools' protocol with a header deadline, a header size cap and a connection cap."""

    header_timeout_s: float = 5.0
    max_header_bytes: int = MAX_HEADER_BYTES
    max_connections: int = 1000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            self._refuse(503, f"this service already holds {self.max_connections} connections "
                              "(MCP_TRADING_MAX_CONNECTIONS); retry shortly")
            return
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        awaiting = self._header_timer is not None
        if awaiting:
            self._header_bytes += len(data)
        super().data_received(data)
        # still inside the headers after this chunk (a chunk that ends them may carry a body)
        if (awaiting and self._header_timer is not None
                and self._header_bytes > self.max_header_bytes
                and not self.transport.is_closing()):
            self._refuse(431, f"the request line and headers exceed {self.max_header_bytes} "
                              "bytes")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()  # the next request on a kept-alive connection gets its own deadline

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def handle_websocket_upgrade(self) -> None:
        self._disarm()  # the WebSocket protocol takes the transport over
        super().handle_websocket_upgrade()

    def _arm(self) -> None:
        if self._header_timer is None:
            self._header_bytes = 0
            self._header_timer = self.loop.call_later(self.header_timeout_s, self._too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self._header_bytes == 0:  # an idle (pre)connection: nothing to answer
            self.transport.close()
            return
        self._refuse(408, f"the request headers did not arrive within "
                          f"{self.header_timeout_s:g} s")

    def _refuse(self, status: int, message: str) -> None:
        """Answer `status` outside any request cycle, then close the connection."""
        self._disarm()
        body = _encoder.encode({"code": "CONNECTION_REFUSED", "message": message})
        head = (b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
                b"connection: close\r\n\r\n" % (status, _REASONS[status], len(body)))
        self.transport.write(head + body)
        self.transport.close()


def guarded_protocol(*, header_timeout_s: float, max_connections: int,
                     max_header_bytes: int = MAX_HEADER_BYTES) -> type[GuardedHttpToolsProtocol]:
    """A protocol class with these limits (uvicorn builds one instance per connection)."""
    return type("GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,), {
        "header_timeout_s": header_timeout_s, "max_connections": max_connections,
        "max_header_bytes": max_header_bytes})


def server_config(app: Any, settings: Any) -> uvicorn.Config:
    """The uvicorn config of one service app (lifespan and signals are the runner's)."""
    protocol = guarded_protocol(header_timeout_s=settings.header_timeout_s,
                                max_connections=settings.max_connections)
    return uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                          loop="asyncio", http=protocol,
                          proxy_headers=False,  # never trust X-Forwarded-For for loopback
                          timeout_keep_alive=settings.keep_alive_timeout_s,
                          timeout_graceful_shutdown=10)

"""market-data :8001 — latest quotes, instruments, the market clock, bars and a quote stream.

Every route but /health needs the viewer role. The WebSocket `/ws/quotes` authenticates like
the REST routes (`Authorization: Bearer …` or `X-API-Key`); clients that cannot set headers
(browsers) may pass `?token=<api key or JWT>` instead. Prefer the header: a URL may be logged.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from fastapi import APIRouter, FastAPI, Request, WebSocket
from starlette.responses import Response
from starlette.websockets import WebSocketDisconnect, WebSocketState

from mcp_trading.domain.errors import TradingError
from mcp_trading.faces.rest.app import FastJSON, create_app, principal_of
from mcp_trading.platform.platform import Platform
from mcp_trading.security.access import require
from mcp_trading.security.principal import Principal, Role
from mcp_trading.services.market_data.bars import TIMEFRAMES
from mcp_trading.services.market_data.service import MarketDataService
from mcp_trading.services.market_data.stream import CONTROL_LIMIT, Subscriber

__all__ = ["build"]

_encoder = msgspec.json.Encoder()
_POLICY_VIOLATION = 1008
_TRY_AGAIN_LATER = 1013  # RFC 6455 registry: the server closes a client that does not read
_ROOM_WAIT_S = 5.0  # a reply queue full this long: the client sends but does not read
_FLUSH_WAIT_S = 10.0  # then how long the queued replies and the error may take to go out

DESCRIPTION = """Latest quotes, instruments, the market clock, bars (stored history and the live
feed's), and a WebSocket quote stream.

`GET /health` is public: `market_data_status` is `streaming` (quotes are fresh), `stale`
(the newest quote is older than the stale threshold) or `down` (no quote yet); `status` is
`healthy`, `degraded` or `down` accordingly.

**Bars** `GET /bars/{symbol}?timeframe=1Day&start=2010-01-01&end=2010-12-31&adjustment=raw`:
`t` (bar start, UTC), `o`, `h`, `l`, `c` (decimal strings), `v` (volume or `null`), `n` (quotes
folded in, `null` for stored history). Stored history (imports, providers) answers when a
stored source serves the timeframe (the finest series that divides it, rolled up; a `1Day` bar
is one trading session, its `t` midnight of that day in the exchange's time zone); otherwise
the live feed's bars answer, `source` naming the feed (`source=simulator` asks for them). The
live feed's bars are built from quotes: o/h/l/c are marks (last trade, else mid); `v` is
`null`: the simulator quotes top-of-book sizes but reports no trades, and quoted size is not
traded volume. `adjustment=all` applies the stored adjustment factor (splits, dividends);
where none is known the reply says `adjusted: false` with a `note`. `start`/`end`: RFC 3339
or `YYYY-MM-DD` (UTC; an `end` date takes in that whole day). A read from `start` that leaves
bars behind answers `next_page_token`: send it back with the same parameters for the next page.
Timeframes: """ + ", ".join(TIMEFRAMES) + """. `GET /history` lists the stored series;
`GET /symbols?history=true` adds them per symbol and lists the symbols known from history only.

**Stream** `/ws/quotes`: send `{"action": "subscribe", "symbols": ["AAPL"]}` (or `["*"]`),
`{"action": "unsubscribe", "symbols": [...]}` or `{"action": "ping"}`. The server answers
`{"type": "subscription", ...}`, `{"type": "pong"}`, pushes `{"type": "quote", ...}` and, for a bad
message, `{"type": "error", "code", "message"}` without closing. A slow client gets the latest
quote per symbol, never a backlog. Every message gets its reply, in order: the server queues
at most """ + str(CONTROL_LIMIT) + """ replies per connection and reads no further message
while the queue is full. A client that sends but stops reading for """ + str(int(_ROOM_WAIT_S)) + """ s gets,
once it reads again, the replies queued so far, then `{"type": "error", "code":
"TOO_MANY_MESSAGES"}` saying which messages were not answered, and a close with code 1013;
no reply is ever dropped silently. Credentials: the `Authorization` header, `X-API-Key`, or
`?token=` (for browsers, which cannot set headers; the dev profile's loopback trust does not
apply to browser connections, those that send `Origin`). Without a valid viewer credential the
server sends an error message and closes with code 1008.
"""


def build(platform: Platform) -> FastAPI:
    svc = MarketDataService.for_platform(platform)  # its background work: the spec's task
    router = APIRouter()

    @router.get("/quotes/{symbol}", tags=["quotes"], summary="Latest quote of one symbol")
    async def quote(request: Request, symbol: str) -> Response:
        return FastJSON(svc.quote(principal_of(request), symbol))

    @router.get("/quotes", tags=["quotes"],
                summary="Latest quotes of comma-separated symbols (all when omitted)")
    async def quotes(request: Request, symbols: str | None = None) -> Response:
        return FastJSON(svc.quotes(principal_of(request), symbols))

    @router.get("/symbols", tags=["reference"],
                summary="Instruments and their trading increments; `history=true` adds each "
                        "one's stored series and the symbols known from history only")
    async def symbols(request: Request, history: bool = False) -> Response:
        principal = principal_of(request)
        if history:
            return FastJSON(await svc.symbols_with_history(principal))
        return FastJSON(svc.symbols(principal))

    @router.get("/clock", tags=["reference"], summary="Market clock: open now, session, next open "
                "and close")
    async def market_clock(request: Request) -> Response:
        return FastJSON(svc.market_clock(principal_of(request)))

    @router.get("/bars/{symbol}", tags=["bars"],
                summary="Bars (ascending): stored history, else the live feed's; from `start` "
                        "(paged by `next_page_token`), else the latest up to `end`")
    async def bars(request: Request, symbol: str, *, timeframe: str | None = None,
                   start: str | None = None, end: str | None = None,
                   limit: str | None = None, adjustment: str | None = None,
                   source: str | None = None, page_token: str | None = None) -> Response:
        return FastJSON(await svc.history(principal_of(request), symbol, timeframe=timeframe,
                                          start=start, end=end, limit=limit,
                                          adjustment=adjustment, source=source,
                                          page_token=page_token))

    @router.get("/history", tags=["bars"],
                summary="The stored history series (of `symbol`): source, timeframe, first and "
                        "last bar, bar count")
    async def history(request: Request, symbol: str | None = None) -> Response:
        return FastJSON({"series": await svc.list_history(principal_of(request), symbol)})

    router.add_api_websocket_route("/ws/quotes", _stream(platform, svc))

    return create_app(platform, "market-data", routers=[router], health=svc.health,
                      description=DESCRIPTION)


def _stream(platform: Platform, svc: MarketDataService
            ) -> Callable[[WebSocket], Awaitable[None]]:
    """The `/ws/quotes` handler: authenticate, then read client messages while a pump writes."""

    async def stream(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            require(_ws_principal(platform, websocket), Role.VIEWER)
        except TradingError as exc:  # require(): unauthenticated or forbidden
            await _send(websocket, {"type": "error", **exc.body()})
            await websocket.close(code=_POLICY_VIOLATION, reason=exc.code)
            return
        sub = svc.hub.connect()
        final: dict[str, Any] = {}  # the overflow error, once there is one: the pump's last
        sender = asyncio.create_task(_pump(websocket, sub, final))
        handled = 0
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                if not await sub.room_for_control(_ROOM_WAIT_S):
                    await _overflow(websocket, sub, final, sender, handled)
                    break
                svc.hub.handle(sub, message.get("text") or message.get("bytes"))
                handled += 1
        except WebSocketDisconnect:
            pass
        finally:
            svc.hub.disconnect(sub)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender

    return stream


def _ws_principal(platform: Platform, websocket: WebSocket) -> Principal | None:
    authenticator = platform.authenticator
    if authenticator is None:
        return None
    header = websocket.headers.get("authorization")
    token = websocket.query_params.get("token")
    if header is None and token:
        header = f"Bearer {token}"
    client = websocket.client.host if websocket.client else None
    # Browsers send Origin and let any web page open a WebSocket to localhost (no CORS), so
    # the dev profile's loopback trust applies only to non-browser clients.
    return authenticator.authenticate(header, client, api_key=websocket.headers.get("x-api-key"),
                                      loopback_trust="origin" not in websocket.headers)


async def _send(websocket: WebSocket, message: dict[str, Any]) -> None:
    await websocket.send_text(_encoder.encode(message).decode())


async def _pump(websocket: WebSocket, sub: Subscriber, final: dict[str, Any]) -> None:
    """The connection's one writer: replies and quotes, in the order they were queued.

    Sending `final` (the overflow error, queued last) ends the connection with code 1013.
    """
    while websocket.application_state is WebSocketState.CONNECTED:
        for message in await sub.next_batch():
            await _send(websocket, message)
            if final and message is final:
                await websocket.close(code=_TRY_AGAIN_LATER, reason="TOO_MANY_MESSAGES")
                return


async def _overflow(websocket: WebSocket, sub: Subscriber, final: dict[str, Any],
                    sender: asyncio.Task[None], handled: int) -> None:
    """The client filled its reply queue and stopped reading: answer what was read, then an
    error naming the first unanswered message, then close. Never a silent drop."""
    final.update({"type": "error", "code": "TOO_MANY_MESSAGES",
                  "message": f"{CONTROL_LIMIT} replies waited more than {_ROOM_WAIT_S:g} s for "
                             f"you to read them; messages 1-{handled} were answered, message "
                             f"{handled + 1} and later were not. Read replies while sending; "
                             "reconnect to go on", "answered": handled})
    if await sub.room_for_control(_FLUSH_WAIT_S):
        sub.push_control(final)
        with contextlib.suppress(TimeoutError, asyncio.CancelledError, Exception):
            async with asyncio.timeout(_FLUSH_WAIT_S):
                await asyncio.shield(sender)
    if websocket.application_state is WebSocketState.CONNECTED:  # it never read: just close
        sender.cancel()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(1.0):
                await websocket.close(code=_TRY_AGAIN_LATER, reason="TOO_MANY_MESSAGES")

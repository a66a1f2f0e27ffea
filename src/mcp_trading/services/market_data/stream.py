"""The quote stream's routing, framework-free: who is subscribed to what, and what each is sent.

    QuoteHub(known, latest)     routes each quote to the clients subscribed to its symbol and
                                applies their messages (subscribe, unsubscribe, ping)
    Subscriber                  one client: its symbols, its conflated quotes, its replies

The WebSocket that carries it is the REST face's (market_data/rest.py); the quotes come from
the service's background task (market_data/service.py).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from mcp_trading.domain.errors import MalformedError
from mcp_trading.domain.market import Quote
from mcp_trading.services.views import quote_view

__all__ = ["CONTROL_LIMIT", "QuoteHub", "Subscriber"]

CONTROL_LIMIT = 256  # replies queued for one stream client (then its reader waits)
_MAX_MESSAGE = 64 * 1024
_ACTIONS = ("subscribe", "unsubscribe", "ping")
_decoder = msgspec.json.Decoder()


class Subscriber:
    """One stream client: its symbols, and what it has yet to be sent.

    Quotes are conflated per symbol (a slow client gets the latest quote, never a backlog),
    so memory per client is bounded by the number of symbols. Replies to the client's own
    messages are never conflated or dropped: at most CONTROL_LIMIT wait to be sent, and the
    reader waits for room (`room_for_control`) before it handles the next message; pushing
    into a full queue raises OverflowError rather than losing a reply.
    """

    def __init__(self) -> None:
        self.symbols: set[str] = set()
        self.everything = False
        self.conflated = 0
        self._quotes: dict[str, dict[str, Any]] = {}
        self._control: deque[dict[str, Any]] = deque()
        self._ready = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()

    @property
    def control_full(self) -> bool:
        return len(self._control) >= CONTROL_LIMIT

    async def room_for_control(self, timeout: float) -> bool:
        """Wait until a reply can be queued; False if the client took none within `timeout`."""
        if not self.control_full:
            return True
        try:
            async with asyncio.timeout(timeout):
                await self._room.wait()
        except TimeoutError:
            return False
        return True

    def push_quote(self, symbol: str, message: dict[str, Any]) -> None:
        if symbol in self._quotes:
            self.conflated += 1
        self._quotes[symbol] = message
        self._ready.set()

    def push_control(self, message: dict[str, Any]) -> None:
        if self.control_full:
            raise OverflowError(f"{CONTROL_LIMIT} replies are waiting for this client")
        self._control.append(message)
        if self.control_full:
            self._room.clear()
        self._ready.set()

    async def next_batch(self) -> list[dict[str, Any]]:
        """Wait for something to send; replies first, then the latest quote per symbol."""
        await self._ready.wait()
        self._ready.clear()
        batch = [*self._control, *self._quotes.values()]
        self._control.clear()
        self._quotes.clear()
        self._room.set()
        return batch


class QuoteHub:
    """Routes each quote to the clients subscribed to its symbol; parses client messages."""

    def __init__(self, known: Iterable[str], latest: Callable[[str], Quote | None]) -> None:
        self._known = frozenset(known)
        self._latest = latest
        self._by_symbol: dict[str, set[Subscriber]] = {}
        self._everything: set[Subscriber] = set()
        self.clients: set[Subscriber] = set()

    def connect(self) -> Subscriber:
        sub = Subscriber()
        self.clients.add(sub)
        return sub

    def disconnect(self, sub: Subscriber) -> None:
        self.clients.discard(sub)
        self._everything.discard(sub)
        for symbol in sub.symbols:
            self._by_symbol.get(symbol, set()).discard(sub)

    def publish(self, quote: Quote) -> None:
        subs = self._by_symbol.get(quote.symbol)
        if not subs and not self._everything:
            return
        message = {"type": "quote", **quote_view(quote)}
        for sub in subs or ():
            if not sub.everything:
                sub.push_quote(quote.symbol, message)
        for sub in self._everything:
            sub.push_quote(quote.symbol, message)

    def handle(self, sub: Subscriber, raw: str | bytes | None) -> None:
        """Apply one client message; the reply (or an error message) is queued for the client."""
        try:
            reply = self._apply(sub, raw)
        except MalformedError as exc:  # what _apply raises: the client's message is at fault
            reply = {"type": "error", **exc.body()}
        sub.push_control(reply)

    def _apply(self, sub: Subscriber, raw: str | bytes | None) -> dict[str, Any]:
        if raw is None or len(raw) > _MAX_MESSAGE:
            raise MalformedError("send a JSON text message of at most 64 KiB, e.g. "
                                 '{"action": "subscribe", "symbols": ["AAPL"]}', code="INVALID_MESSAGE")
        try:
            data = _decoder.decode(raw)
        except msgspec.DecodeError as exc:
            raise MalformedError(f"the message is not valid JSON: {exc}", code="INVALID_JSON") from None
        if not isinstance(data, dict):
            raise MalformedError("the message must be a JSON object with an "
                                 "'action'", code="INVALID_MESSAGE", field="action")
        action = data.get("action")
        if action not in _ACTIONS:
            raise MalformedError(f"action: {action!r} is not allowed; use one of: "
                                 + ", ".join(_ACTIONS), code="INVALID_ACTION", field="action")
        if action == "ping":
            return {"type": "pong"}
        symbols = data.get("symbols")
        if (not isinstance(symbols, list) or not symbols
                or not all(isinstance(s, str) for s in symbols)):
            raise MalformedError('symbols: must be a non-empty list of symbol '
                                 'strings, e.g. ["AAPL", "MSFT"], or ["*"] for every symbol',
                                 code="INVALID_SYMBOLS", field="symbols")
        wanted = {s.strip().upper() for s in symbols}
        everything = "*" in wanted
        wanted.discard("*")
        unknown = sorted(wanted - self._known)
        if unknown:
            raise MalformedError(f"symbols: unknown symbol(s) {', '.join(unknown)}; "
                                 "GET /symbols lists the known ones", code="UNKNOWN_SYMBOL", field="symbols",
                                 extra={"unknown": unknown})
        if action == "subscribe":
            self._subscribe(sub, wanted, everything)
        else:
            self._unsubscribe(sub, wanted, everything)
        return {"type": "subscription", "all": sub.everything, "symbols": sorted(sub.symbols)}

    def _subscribe(self, sub: Subscriber, wanted: set[str], everything: bool) -> None:
        new = wanted - sub.symbols
        for symbol in new:
            self._by_symbol.setdefault(symbol, set()).add(sub)
        sub.symbols |= new
        if everything and not sub.everything:
            sub.everything = True
            self._everything.add(sub)
            new = set(self._known)
        for symbol in sorted(new):  # a snapshot, so a new subscriber need not wait for a tick
            quote = self._latest(symbol)
            if quote is not None:
                sub.push_quote(symbol, {"type": "quote", **quote_view(quote)})

    def _unsubscribe(self, sub: Subscriber, wanted: set[str], everything: bool) -> None:
        if everything:
            wanted = set(sub.symbols)
            sub.everything = False
            self._everything.discard(sub)
        for symbol in wanted & sub.symbols:
            self._by_symbol[symbol].discard(sub)
        sub.symbols -= wanted


"""Quotes between processes: market-data publishes the feed, everyone else follows it.

Latest value wins: a follower starts from the current quote of every symbol and then reads
the updates after it, so a restarted service needs no history and a slow one skips nothing
that matters (the next quote of a symbol supersedes the last).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from mcp_trading.adapters.bus import BusError, EventBus
from mcp_trading.domain.market import Quote
from mcp_trading.processes.distributed.wire import QUOTES, decode_quote, encode_quote

__all__ = ["follow_quotes", "publish_quotes"]

log = logging.getLogger("mcp_trading.quotes")

_RETRY_S = 1.0


def publish_quotes(bus: EventBus, quotes: Sequence[Quote]) -> None:
    """Publish each quote as its symbol's latest value, the whole tick as one update, so every
    follower wakes once per tick (blocking: run it in a thread)."""
    bus.publish_latest_many(QUOTES, [(quote.symbol, encode_quote(quote)) for quote in quotes])


async def follow_quotes(bus: EventBus, on_quotes: Callable[[list[Quote]], None],
                        on_bus: Callable[[BaseException | None], None]) -> None:
    """Call `on_quotes` (on the event loop) with every new quote, forever; `on_bus` hears
    when the bus is lost (the exception) and back (None)."""
    while True:
        try:
            snap = await asyncio.to_thread(bus.latest_snapshot, QUOTES)
            on_bus(None)
            quotes = sorted((decode_quote(v) for v in snap.values.values()), key=_ts)
            if quotes:
                on_quotes(quotes)
            after = snap.last_id
            while True:
                entries = await asyncio.to_thread(bus.read_latest_stream, QUOTES, after,
                                                  count=1000, block_ms=1000)
                on_bus(None)
                if entries:
                    after = entries[-1].id
                    on_quotes([decode_quote(e.payload) for e in entries])
        except BusError as exc:
            on_bus(exc)
            await asyncio.sleep(_RETRY_S)


def _ts(quote: Quote) -> int:
    return quote.ts

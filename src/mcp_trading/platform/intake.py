"""Quotes in, mixed into `Platform` (platform/platform.py): from the simulator straight into
the kernel (embedded), from the bus into the engine's kernel or a replica's state, or from
the feed out to the bus (the distributed market-data process); every quote then reaches the
listeners (the market-data streams), latest value winning for a slow one.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcp_trading.adapters.bus import EventBus
    from mcp_trading.config import Settings
    from mcp_trading.domain.market import Quote
    from mcp_trading.platform.metrics import Metrics
    from mcp_trading.platform.platform import Feed, Runtime
    from mcp_trading.services.spec import Distributed

__all__ = ["QuoteIntake"]


class QuoteIntake:
    """How quotes reach the kernel and the listeners; a mixin of `Platform`, never alone."""

    if TYPE_CHECKING:  # what the intake uses of the Platform it is mixed into
        settings: Settings
        feed: Feed
        accepting: bool
        quote_bus: EventBus | None
        quote_listeners: list[asyncio.Queue[Quote]]
        last_quote_ns: int
        metrics: Metrics
        _quotes_bus_error: BaseException | None

        @property
        def kernel_runtime(self) -> Runtime: ...
        @property
        def folds(self) -> Distributed: ...

    async def _pump_quotes(self) -> None:
        """Embedded: the simulator feeds the kernel directly."""
        kernel = self.kernel_runtime.kernel
        interval = self.settings.feed_interval_ms / 1000
        while True:
            quotes = self.feed.next_quotes(time.time_ns())
            if quotes and self.accepting:
                for quote in quotes:
                    kernel.on_quote(quote)
                    self._heard(quote)
                    await asyncio.sleep(0)  # let waiting requests in between quotes
                self.last_quote_ns = quotes[-1].ts
                self.metrics.quotes.inc(len(quotes))
            await asyncio.sleep(interval)

    def _heard(self, quote: Quote) -> None:
        for queue in self.quote_listeners:
            if queue.full():
                queue.get_nowait()  # latest value wins for slow consumers
            queue.put_nowait(quote)

    async def _publish_feed(self) -> None:
        """market-data (distributed): run the feed, publish it, keep the local view current."""
        from mcp_trading.processes.distributed.quotes import publish_quotes

        assert self.quote_bus is not None
        interval = self.settings.feed_interval_ms / 1000
        while True:
            quotes = self.feed.next_quotes(time.time_ns())
            if quotes and self.accepting:
                try:
                    await asyncio.to_thread(publish_quotes, self.quote_bus, quotes)
                    self._quotes_bus(None)
                except Exception as exc:  # the bus: health says so, the feed goes on locally
                    self._quotes_bus(exc)
                self._replica_quotes(quotes)
            await asyncio.sleep(interval)

    def _engine_quotes(self, quotes: list[Quote]) -> None:
        if not self.accepting:
            return
        kernel = self.kernel_runtime.kernel
        for quote in quotes:
            kernel.on_quote(quote)
            self._heard(quote)
        self.last_quote_ns = max(self.last_quote_ns, quotes[-1].ts)
        self.metrics.quotes.inc(len(quotes))

    def _replica_quotes(self, quotes: list[Quote]) -> None:
        from mcp_trading.processes.distributed.replica import apply_quote

        state = self.kernel_runtime.kernel.state
        marks = self.folds != "control"  # those hold no positions to re-mark
        for quote in quotes:
            if marks:
                apply_quote(state, quote)
            self._heard(quote)
        self.last_quote_ns = max(self.last_quote_ns, quotes[-1].ts)
        self.metrics.quotes.inc(len(quotes))

    def _quotes_bus(self, exc: BaseException | None) -> None:
        self._quotes_bus_error = exc

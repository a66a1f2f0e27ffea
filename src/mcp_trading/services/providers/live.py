"""The live-feed providers: the quote pump's own source (the simulator, or a replay of stored
history), reported on from the platform's side.

Neither is called per quote: the pump pushes their quotes into the venue. So `poll` reports
whether the pump delivered new quotes since the last poll, and `fetch_quote` answers the
venue's latest quote of a symbol. A replay that reached the end of its range emits nothing
more; its poll says so instead of merely "no new quotes".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp_trading.adapters.providers.base import Outcome, Provider
from mcp_trading.domain.errors import NotFoundError
from mcp_trading.domain.market import Quote
from mcp_trading.platform.platform import Platform
from mcp_trading.services.core import ServiceCore

__all__ = ["ReplayProvider", "SimulatorProvider", "live_feed_provider"]


class SimulatorProvider(Provider):
    """The built-in simulator (simulated prices, named so everywhere): a success when the
    pump delivered quotes since the last poll; its quote is the venue's latest."""

    kind = "simulator"

    def __init__(self, core: ServiceCore, *, name: str, stale_s: float) -> None:
        self.name = name
        self._core = core
        self.stale_after_s = stale_s
        self.down_after_s = stale_s * 12
        self._seen = core.last_quote_ns

    @classmethod
    def for_platform(cls, platform: Platform) -> SimulatorProvider:
        return cls(platform.core, name=platform.feed.name, stale_s=platform.settings.feed_stale_s)

    def poll(self, now_ns: int) -> Outcome | None:
        core = self._core
        latest = core.last_quote_ns
        if latest > self._seen:
            self._seen = latest
            return Outcome(True)
        if not core.accepting or self._seen == 0:
            return None  # not started, stopping, or no first quote yet: nothing to judge
        return Outcome(False, "no new quotes since the last poll")

    async def fetch_quote(self, symbol: str) -> Quote:
        runtime = self._core.runtime
        book = None if runtime is None else runtime.kernel.state.venue.books.get(symbol)
        if book is None or book.quote is None:
            raise NotFoundError(f"the simulator has not quoted {symbol!r} yet",
                                code="NO_QUOTE", field="symbol")
        return book.quote


class ReplayProvider(SimulatorProvider):
    """Stored history replayed as the live feed (adapters/feeds/replay.py): real prices,
    quotes derived from bars as that module documents."""

    kind = "replay"

    def __init__(self, core: ServiceCore, *, name: str, stale_s: float,
                 status: Callable[[], Any] | None = None) -> None:
        super().__init__(core, name=name, stale_s=stale_s)
        self._status = status  # the feed's status(): its `state` is "finished" at the end

    def poll(self, now_ns: int) -> Outcome | None:
        outcome = super().poll(now_ns)
        if outcome is not None and not outcome.ok and self._status is not None:
            state = str(getattr(self._status(), "state", ""))
            if state == "finished":
                return Outcome(False, "the replay reached the end of its range; seek to "
                                      "replay again")
            if state == "paused":
                return None  # paused on purpose: not a failure
        return outcome


def live_feed_provider(platform: Platform) -> SimulatorProvider:
    """The provider of the platform's quote pump: a replay when its feed is one."""
    feed, stale_s = platform.feed, platform.settings.feed_stale_s
    if feed.name == "replay":
        return ReplayProvider(platform.core, name=feed.name, stale_s=stale_s,
                              status=getattr(feed, "status", None))
    return SimulatorProvider.for_platform(platform)

"""The one shape of a market-data provider adapter.

An adapter says what it is and what it serves, and implements only the fetches it serves:

    name, kind          its name in settings and on GET /providers; the kind of source
                        (simulator, replay, files, alphavantage, ...)
    serves              a subset of {quotes, daily, intraday}; only a provider that serves
                        quotes can be the live feed
    rate_limit_per_min  its plan's calls per minute (None: none); `limiter` counts the calls
    stale_after_s,      how long without a success makes it degraded, then down
    down_after_s
    poll(now_ns)        an optional self-check (the simulator reports whether quotes flowed)
    fetch_quote(symbol)                           -> domain Quote
    fetch_daily(symbol, start, end)               -> BarColumns of 1Day bars
    fetch_intraday(symbol, timeframe, start, end) -> BarColumns of that timeframe

`start` and `end` are ns since the epoch (inclusive; None: open), as in the history store.
To write a provider, read `alphavantage.py`: it is the first full adapter of this shape.

The errors an adapter raises are drawn in `errors.py` (ThrottledError, PermanentError,
ProviderUnavailableError); messages never carry a credential: adapters mask keys first.
"""

from __future__ import annotations

from abc import ABC
from typing import Literal, NamedTuple

from mcp_trading.adapters.history.contract import BarColumns
from mcp_trading.adapters.providers.errors import (
    PermanentError,
    ProviderError,
    ProviderUnavailableError,
    ThrottledError,
)
from mcp_trading.adapters.providers.ratelimit import RateLimiter
from mcp_trading.domain.market import Quote

__all__ = [
    "DAILY",
    "DATA_KINDS",
    "INTRADAY",
    "INTRADAY_TIMEFRAMES",
    "QUOTES",
    "DataKind",
    "Outcome",
    "PermanentError",
    "Provider",
    "ProviderError",
    "ProviderUnavailableError",
    "ThrottledError",
]  # the errors are re-exported: an adapter imports its whole shape from here

DataKind = Literal["quotes", "daily", "intraday"]
QUOTES: DataKind = "quotes"
DAILY: DataKind = "daily"
INTRADAY: DataKind = "intraday"
DATA_KINDS: tuple[DataKind, ...] = (QUOTES, DAILY, INTRADAY)
#: the intraday timeframes a provider may be asked for (the history store's names)
INTRADAY_TIMEFRAMES = ("1Min", "5Min", "15Min", "30Min", "1Hour")


class Outcome(NamedTuple):
    """What a provider's self-check found."""

    ok: bool
    error: str | None = None


class Provider(ABC):
    """One market-data source. Subclasses set the attributes and override what they serve.

    The defaults describe the original live-feed provider: it serves quotes only.
    """

    name: str
    kind: str  # simulator | replay | files | alphavantage | ...
    serves: frozenset[DataKind] = frozenset({QUOTES})
    rate_limit_per_min: int | None = None  # the provider's quota; None: unlimited
    stale_after_s: float = 60.0
    down_after_s: float = 300.0
    limiter: RateLimiter | None = None  # counts calls against the plan; None: no limit

    def poll(self, now_ns: int) -> Outcome | None:
        """Called every poll interval; None when there is nothing to report."""
        return None

    def calls_left(self) -> dict[str, int | None] | None:
        """Calls left in the current minute and day windows; None without a limit."""
        return None if self.limiter is None else self.limiter.left()

    async def fetch_quote(self, symbol: str) -> Quote:
        """The latest quote of `symbol`."""
        raise self._not_served(QUOTES)

    async def fetch_daily(self, symbol: str, start: int | None, end: int | None) -> BarColumns:
        """Daily bars of `symbol` in [start, end], ascending."""
        raise self._not_served(DAILY)

    async def fetch_intraday(self, symbol: str, timeframe: str, start: int | None,
                             end: int | None) -> BarColumns:
        """Intraday bars of `symbol` of one of INTRADAY_TIMEFRAMES in [start, end], ascending."""
        raise self._not_served(INTRADAY)

    def _not_served(self, kind: DataKind) -> PermanentError:
        served = ", ".join(sorted(self.serves)) or "nothing"
        return PermanentError(self.name, f"does not serve {kind} (it serves {served}); put "
                              f"another provider first in MCP_TRADING_PROVIDER_CHAIN_"
                              f"{kind.upper()}", scope="provider")

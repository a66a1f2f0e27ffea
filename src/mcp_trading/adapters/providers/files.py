"""The files provider: a directory of CSV/Parquet bar files (MCP_TRADING_FILES_DIR), watched.

The second adapter of the one shape (read `base.py`, then `alphavantage.py`): it serves the
history its files hold, daily and intraday, and no quotes.

    scan()        blocking (the service runs it in a worker thread every
                  MCP_TRADING_FILES_POLL_S): `DirectoryWatcher` imports each new or changed
                  file once it is unchanged for one interval, all or nothing, into the history
                  store under the source `files` (the provider's name: the whole directory is
                  one source, so a later file's bar at the same time replaces an earlier
                  file's). Returns what it did: an ImportSummary per imported file, a Refusal
                  (file, row, reason) per refused one; a refused file is reported once, until
                  it changes. A missing directory raises ProviderUnavailableError.
    fetch_daily / fetch_intraday
                  the stored bars of source `files` of exactly that timeframe in [start, end]
                  (GET /bars rolls them up). A symbol, timeframe or range no file holds is a
                  PermanentError of the call, so the chain asks the next provider: there is
                  nothing to fetch beyond what was imported.

The store is given as a function (the platform opens its store on first use, in a worker
thread); the watcher is built on the first scan.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path

from mcp_trading.adapters.history.contract import BarColumns, HistoryStore
from mcp_trading.adapters.history.summary import ImportSummary, bar_time_text
from mcp_trading.adapters.history.watch import DirectoryWatcher, Refusal
from mcp_trading.adapters.providers.base import (
    DAILY,
    INTRADAY,
    INTRADAY_TIMEFRAMES,
    PermanentError,
    Provider,
    ProviderUnavailableError,
)
from mcp_trading.domain.errors import NotFoundError

__all__ = ["FilesProvider", "Refusal"]


class FilesProvider(Provider):
    """History from a watched directory of files (see the module docstring)."""

    kind = "files"
    serves = frozenset({DAILY, INTRADAY})

    def __init__(self, directory: str | Path, store: Callable[[], HistoryStore], *,
                 name: str = "files", poll_s: float = 5.0) -> None:
        self.name = name
        self.directory = Path(directory)
        self.poll_s = poll_s
        # a clean scan is a success: quiet for a few intervals is stale, for many down
        self.stale_after_s = max(60.0, 3 * poll_s)
        self.down_after_s = 12 * self.stale_after_s
        self._store = store
        self._watcher: DirectoryWatcher | None = None
        self._lock = threading.Lock()  # one scan at a time (the poller's, a CLI's)

    def scan(self, *, settle: bool = True) -> list[ImportSummary | Refusal]:
        """Import what is new in the directory (blocking); what each file came to."""
        with self._lock:
            if self._watcher is None:
                self._watcher = DirectoryWatcher(self.directory, self._store(),
                                                 source=self.name)
            try:
                return self._watcher.poll(settle=settle)
            except NotFoundError:
                raise ProviderUnavailableError(
                    self.name, f"{self.directory} is not a directory; create it or fix "
                    "MCP_TRADING_FILES_DIR") from None

    async def fetch_daily(self, symbol: str, start: int | None, end: int | None) -> BarColumns:
        return await asyncio.to_thread(self._read, symbol, "1Day", start, end)

    async def fetch_intraday(self, symbol: str, timeframe: str, start: int | None,
                             end: int | None) -> BarColumns:
        if timeframe not in INTRADAY_TIMEFRAMES:
            raise PermanentError(self.name, f"{timeframe!r} is not an intraday timeframe")
        return await asyncio.to_thread(self._read, symbol, timeframe, start, end)

    def _read(self, symbol: str, timeframe: str, start: int | None, end: int | None
              ) -> BarColumns:
        store = self._store()
        held = {r.timeframe for r in store.series(symbol) if r.source == self.name}
        if timeframe not in held:
            have = f" (its files hold {', '.join(sorted(held))})" if held else ""
            raise PermanentError(self.name, f"no file in {self.directory} holds {timeframe} "
                                 f"bars of {symbol}{have}")
        bars = store.read(symbol, self.name, timeframe, start=start, end=end)
        if bars.size == 0:  # the files end there: let the chain ask the next provider
            raise PermanentError(self.name, f"its files hold no {timeframe} bars of {symbol} "
                                 f"from {bar_time_text(start or 0, timeframe)} to "
                                 f"{'now' if end is None else bar_time_text(end, timeframe)}")
        return bars

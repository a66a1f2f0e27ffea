"""The platform's history bar store: one per platform, opened on first use, off the event loop.

The states:

    unopened --first use (open_history_store in a worker thread)--> open --close()--> closed
    open (a store given by the caller: tests, the in-memory platform)  --close()--> closed

Opening a SQL store migrates its database, which may take a while on a big file, so it never
happens on the event loop, nor at import or construction time. Every read runs in a worker
thread (`run`): a ten-year read must not stall quotes or acknowledgements. A closed store
refuses reads with UnavailableError (the platform is stopping).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar

from mcp_trading.domain.errors import UnavailableError

if TYPE_CHECKING:
    from mcp_trading.adapters.history.contract import HistoryStore

__all__ = ["PlatformHistory"]

log = logging.getLogger("mcp_trading.history")

P = ParamSpec("P")
T = TypeVar("T")


class PlatformHistory:
    """The history store of one platform, from `settings.resolved_history_url` or given."""

    def __init__(self, url: str, *, store: HistoryStore | None = None) -> None:
        self.url = url
        self._store = store
        self._lock = threading.Lock()
        self._closed = False
        #: symbols with stored bars or a history-only registration, as last read
        self._symbols: frozenset[str] | None = None

    def store(self) -> HistoryStore:
        """The open store, opened now if need be. Blocking: call from a worker thread."""
        with self._lock:
            if self._closed:
                raise UnavailableError("the history store is closed: the platform is stopping",
                                       code="HISTORY_CLOSED")
            if self._store is None:
                self._store = self._open()
            return self._store

    def _open(self) -> HistoryStore:
        from mcp_trading.adapters.history import open_history_store

        try:
            return open_history_store(self.url)
        except Exception as exc:  # a store that cannot open: reads are unavailable, not a 500
            log.exception("history: the store at %s cannot be opened", _masked(self.url))
            raise UnavailableError(f"the history store cannot be opened ({type(exc).__name__}); "
                                   "check MCP_TRADING_HISTORY_URL and the logs",
                                   code="HISTORY_UNAVAILABLE") from None

    async def run(self, fn: Callable[Concatenate[HistoryStore, P], T], *args: P.args,
                  **kwargs: P.kwargs) -> T:
        """`fn(store, *args, **kwargs)` in a worker thread."""
        def work() -> T:
            return fn(self.store(), *args, **kwargs)

        return await asyncio.to_thread(work)

    async def symbols(self, *, refresh: bool = False) -> frozenset[str]:
        """Symbols with stored history or a history-only registration (read once, then cached;
        `refresh` reads again, e.g. after a miss, since imports may run in another process)."""
        if self._symbols is None or refresh:
            self._symbols = await self.run(_history_symbols)
        return self._symbols

    def cached_symbols(self) -> frozenset[str]:
        """The symbols `symbols()` last read (empty before the first read); never blocks."""
        return self._symbols or frozenset()

    def close(self) -> None:
        """Release the store's connections; later reads are refused."""
        with self._lock:
            self._closed = True
            store, self._store = self._store, None
        if store is not None:
            store.close()


def _history_symbols(store: HistoryStore) -> frozenset[str]:
    return frozenset([i.symbol for i in store.instruments()] + [s.symbol for s in store.series()])


def _masked(url: str) -> str:
    """The URL without its password (a database URL may carry one)."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    return f"{scheme}{sep}{credentials.split(':', 1)[0]}:***@{host}"

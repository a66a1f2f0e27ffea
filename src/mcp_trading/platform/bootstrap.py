"""The composition root: the one function that wires a platform.

    bootstrap(settings)                          real adapters: the store DATABASE_URL names,
                                                 the simulator feed, the wall clock, API keys
                                                 and JWTs from that database
    bootstrap(settings, store=MemoryJournalStore(), clock=ManualClock(), feed=..., bus=...,
              authenticator=...)                 any of them replaced (tests, backtests)
    in_memory(clock=ManualClock())               a kernel over an in-memory journal and an
                                                 in-memory history store, opened

Every runner (embedded, `serve`, MCP stdio) and every test that needs a platform goes
through here; nothing monkey-patches a platform's internals to swap an adapter.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from mcp_trading.adapters.bus import EventBus
from mcp_trading.adapters.history.contract import HistoryStore
from mcp_trading.adapters.history.memory import MemoryHistoryStore
from mcp_trading.adapters.store import MemoryJournalStore
from mcp_trading.config import Settings
from mcp_trading.kernel.ports import Clock, JournalStore
from mcp_trading.platform.platform import Feed, Platform, Role
from mcp_trading.security.principal import Authenticates

__all__ = ["bootstrap", "in_memory"]


def bootstrap(settings: Settings, *, role: Role = "embedded", service: str | None = None,
              store: JournalStore | None = None, bus: EventBus | None = None,
              quote_bus: EventBus | None = None, feed: Feed | None = None,
              clock: Clock | None = None, authenticator: Authenticates | None = None,
              history: HistoryStore | None = None) -> Platform:
    """The platform of one process (not yet opened: `open()` recovers the kernel, `start()`
    runs it and its services' tasks).

    `role`/`service`: embedded (every service), or in distributed mode the engine or a replica
    serving `service` (which need `bus`). A given `store` replaces the one DATABASE_URL names
    (and is not migrated), a given `history` the bar store MCP_TRADING_HISTORY_URL names;
    without `authenticator` the real one is built, which refuses an insecure production
    secret (InsecureSecretError) before anything else is wired.
    """
    if authenticator is None:
        from mcp_trading.security.authenticator import build_authenticator

        authenticator = build_authenticator(settings)
    platform = Platform(settings, role=role, service=service, bus=bus, quote_bus=quote_bus,
                        store=store, feed=feed, clock=clock, history=history)
    platform.authenticator = authenticator
    return platform


def in_memory(settings: Settings | None = None, *, clock: Clock | None = None,
              feed: Feed | None = None, authenticator: Authenticates | None = None,
              store: JournalStore | None = None, history: HistoryStore | None = None
              ) -> Platform:
    """An opened embedded platform over an in-memory journal (projections off) and an
    in-memory history store unless `history` is given: the kernel with the given clock, e.g.
    a ManualClock for a backtest. Without `settings`, a fresh temporary data directory holds
    what little goes to disk (logs)."""
    if settings is None:
        settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="mcp-trading-")))
    settings = settings.model_copy(update={"projection": "off"})
    platform = bootstrap(settings, store=store or MemoryJournalStore(), clock=clock, feed=feed,
                         authenticator=authenticator,
                         history=MemoryHistoryStore() if history is None else history)
    platform.open()
    return platform

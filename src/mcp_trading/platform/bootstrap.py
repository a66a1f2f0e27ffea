"""The composition root: the one function that wires a platform.

    bootstrap(settings)                          real adapters: the store DATABASE_URL names,
                                                 the simulator feed (or, MCP_TRADING_FEED=replay,
                                                 stored history replayed), the wall clock, API
                                                 keys and JWTs from that database
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
from mcp_trading.adapters.feeds.universe import default_instruments
from mcp_trading.adapters.history.contract import HistoryStore
from mcp_trading.adapters.history.memory import MemoryHistoryStore
from mcp_trading.adapters.store import MemoryJournalStore
from mcp_trading.config import Settings
from mcp_trading.domain.instruments import Instrument
from mcp_trading.domain.market import Quote
from mcp_trading.kernel.ports import Clock, JournalStore
from mcp_trading.platform.platform import Feed, Platform, Role
from mcp_trading.platform.replay import ReplaySetupError, replay_plan
from mcp_trading.security.principal import Authenticates
from mcp_trading.services import registry

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

    MCP_TRADING_FEED=replay without a given `feed`: the replay of `history` (default the bar
    store of the settings), whose symbols become instruments of every process's venue; only a
    process that runs the feed (embedded, market-data) reads the bars. Bad replay settings
    raise ReplaySetupError, naming the setting. A bad alerting file (processes that collect
    alerts) raises AlertingFileError, naming the rule and field.
    """
    from mcp_trading.security.logins import install_database_login

    install_database_login(settings)  # PostgreSQL logins from the secrets file, rotation-safe
    if authenticator is None:
        from mcp_trading.security.authenticator import build_authenticator

        authenticator = build_authenticator(settings)
    if store is None and role != "replica":  # before any store opens: a restore killed
        from mcp_trading.dataops.swap import finish_swap  # mid-swap is finished first

        finish_swap(settings)
    if service is None or registry.get(service).collects_alerts:
        from mcp_trading.services.alerts.alerting_file import load_alerting

        # a bad alerting file stops here, before a port is bound (AlertingFileError)
        load_alerting(settings.alerting_file, lists=settings.recipient_lists())
    replayed: dict[str, Instrument] = {}
    if feed is None and settings.feed == "replay":
        runs_feed = service is None or registry.get(service).distributed == "feed"
        feed, replayed = _replay(settings, history, clock, runs_feed=runs_feed,
                                 migrate=role == "embedded")
    platform = Platform(settings, role=role, service=service, bus=bus, quote_bus=quote_bus,
                        store=store, feed=feed, clock=clock, history=history)
    platform.instruments.update(replayed)  # before open(): the kernel recovers with them
    platform.authenticator = authenticator
    return platform


def _replay(settings: Settings, history: HistoryStore | None, clock: Clock | None, *,
            runs_feed: bool, migrate: bool) -> tuple[Feed, dict[str, Instrument]]:
    """The replay feed (its name only where another process runs it) and its instruments."""
    store = history if history is not None else _open_history(settings, migrate=migrate)
    try:
        plan = replay_plan(settings, store, default_instruments())
        feed = plan.feed(store, clock=clock) if runs_feed else _FeedElsewhere("replay")
        return feed, plan.instruments
    finally:
        if history is None:  # ours: the feed holds its bars in memory
            store.close()


class _FeedElsewhere:
    """Distributed: the feed another process runs (market-data); its quotes come by the bus,
    so here it only names the provider."""

    def __init__(self, name: str) -> None:
        self.name = name

    def next_quotes(self, ts: int) -> list[Quote]:
        return []


def _open_history(settings: Settings, *, migrate: bool) -> HistoryStore:
    """The bar store of the settings; distributed processes need its schema at head."""
    from mcp_trading.adapters.history.factory import open_history_store
    from mcp_trading.adapters.store import SchemaOutOfDateError

    try:
        return open_history_store(settings.resolved_history_url, migrate=migrate)
    except SchemaOutOfDateError as exc:
        raise ReplaySetupError(f"MCP_TRADING_FEED=replay: the history store is not at this "
                               f"version's schema ({exc}); run `mcp-trading db upgrade` first",
                               field="history_url") from None


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

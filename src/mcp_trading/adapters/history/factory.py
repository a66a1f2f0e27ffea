"""Open the history store a URL names: `memory://`, `sqlite:///path` or `postgresql://…`."""

from __future__ import annotations

from pathlib import Path

from mcp_trading.adapters.history.contract import HistoryStore
from mcp_trading.adapters.history.memory import MemoryHistoryStore
from mcp_trading.adapters.history.sql import SqlHistoryStore
from mcp_trading.adapters.store.engine import normalize_url

__all__ = ["MEMORY_URLS", "open_history_store"]

MEMORY_URLS = ("memory://", "memory:")


def open_history_store(url: str, *, migrate: bool = True) -> HistoryStore:
    """The store at `url`; a SQL database is upgraded to the migration head first (unless
    migrate=False, when an out-of-date schema raises SchemaOutOfDateError).

    The history database runs the same migration chain as the journal's, so a history file
    also holds the journal tables, empty. A SQLite file's directory is created if missing.
    """
    if url in MEMORY_URLS:
        return MemoryHistoryStore()
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return SqlHistoryStore(url, migrate=migrate)

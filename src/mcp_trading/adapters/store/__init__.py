"""Journal stores behind `kernel.ports.JournalStore`: in memory, SQLite and PostgreSQL.

Errors::

    ValueError              a batch or snapshot breaks the journal's sequence rules
    RuntimeError
    ├── SchemaOutOfDateError  the database is not at this version's migration head
    └── ProjectionError       the journal cannot be folded (unknown order or account)
"""

from __future__ import annotations

from mcp_trading.adapters.store.memory import MemoryJournalStore
from mcp_trading.adapters.store.migrate import (
    SchemaOutOfDateError,
    check_schema,
    current_revision,
    head_revision,
    upgrade,
)
from mcp_trading.adapters.store.projection import ProjectionError
from mcp_trading.adapters.store.projector import BackgroundProjector, Projector
from mcp_trading.adapters.store.sql import SqlJournalStore
from mcp_trading.kernel.ports import JournalStore

__all__ = [
    "BackgroundProjector",
    "MemoryJournalStore",
    "ProjectionError",
    "Projector",
    "SchemaOutOfDateError",
    "SqlJournalStore",
    "check_schema",
    "current_revision",
    "head_revision",
    "open_store",
    "upgrade",
]

MEMORY_URLS = ("memory://", "memory:")


def open_store(database_url: str, *, migrate: bool = False) -> JournalStore:
    """Open the journal store a URL names: `memory://`, `sqlite:///path` or `postgresql://…`.

    With migrate=True a SQL schema is upgraded to head first; otherwise an out-of-date schema
    raises SchemaOutOfDateError.
    """
    if database_url in MEMORY_URLS:
        return MemoryJournalStore()
    return SqlJournalStore(database_url, migrate=migrate)

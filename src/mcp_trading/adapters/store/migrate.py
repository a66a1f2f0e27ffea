"""Schema migrations, driven in code: upgrade to head, and tell whether a database is current."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.domain.errors import TradingError

__all__ = [
    "SchemaOutOfDateError",
    "check_schema",
    "current_revision",
    "head_revision",
    "upgrade",
]

_SCRIPT_LOCATION = Path(__file__).with_name("migrations")


class SchemaOutOfDateError(TradingError, RuntimeError):
    """The database schema is not the revision this version of the platform needs."""

    def __init__(self, current: str | None, head: str) -> None:
        super().__init__(
            f"database schema is at revision {current or 'none (empty database)'}, this "
            f"version needs {head}; back it up, then upgrade it "
            "(mcp_trading.adapters.store.upgrade, or open the store with migrate=True)"
        )
        self.current = current
        self.head = head


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPT_LOCATION))
    return config


@contextmanager
def _engine(database: str | Engine) -> Iterator[Engine]:
    if isinstance(database, Engine):
        yield database
        return
    engine = create_store_engine(database)
    try:
        yield engine
    finally:
        engine.dispose()


@cache
def head_revision() -> str:
    """The newest migration shipped with this version."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found under {_SCRIPT_LOCATION}")
    return head


def current_revision(database: str | Engine) -> str | None:
    """The revision the database is at; None for a database never migrated."""
    with _engine(database) as engine, engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(database: str | Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision` in one transaction; a no-op when already there."""
    with _engine(database) as engine, engine.begin() as conn:
        config = _config()
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def check_schema(database: str | Engine) -> None:
    """Raise SchemaOutOfDateError unless the database is exactly at the head revision."""
    current, head = current_revision(database), head_revision()
    if current != head:
        raise SchemaOutOfDateError(current, head)

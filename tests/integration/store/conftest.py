"""Store fixtures: the same contract runs on the in-memory store, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mcp_trading.adapters.store import open_store
from mcp_trading.kernel.ports import JournalStore

POSTGRES = pytest.param("postgres", marks=pytest.mark.postgres)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'journal.db'}"


def _url(backend: str, request: pytest.FixtureRequest) -> str:
    if backend == "memory":
        return "memory://"
    if backend == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_schema_url"))


@pytest.fixture(params=["memory", "sqlite", POSTGRES])
def store_url(request: pytest.FixtureRequest) -> str:
    """A URL for each backend: `memory://`, a fresh SQLite file, a fresh PostgreSQL schema."""
    return _url(request.param, request)


@pytest.fixture(params=["sqlite", POSTGRES])
def sql_url(request: pytest.FixtureRequest) -> str:
    """A URL for each durable backend, with an empty database (no schema yet)."""
    return _url(request.param, request)


@pytest.fixture
def store(store_url: str) -> Iterator[JournalStore]:
    """An open store on each backend (SQL schemas migrated to head)."""
    opened = open_store(store_url, migrate=True)
    yield opened
    opened.close()

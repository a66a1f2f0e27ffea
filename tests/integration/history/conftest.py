"""History store fixtures: the same contract runs on the in-memory store, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mcp_trading.adapters.history import HistoryStore, open_history_store

POSTGRES = pytest.param("postgres", marks=pytest.mark.postgres)


def _url(backend: str, request: pytest.FixtureRequest) -> str:
    if backend == "memory":
        return "memory://"
    if backend == "sqlite":
        tmp_path: Path = request.getfixturevalue("tmp_path")
        return f"sqlite:///{tmp_path / 'history.db'}"
    return str(request.getfixturevalue("postgres_schema_url"))


@pytest.fixture(params=["memory", "sqlite", POSTGRES])
def history_url(request: pytest.FixtureRequest) -> str:
    """A URL for each backend: `memory://`, a fresh SQLite file, a fresh PostgreSQL schema."""
    return _url(request.param, request)


@pytest.fixture(params=["sqlite", POSTGRES])
def durable_history_url(request: pytest.FixtureRequest) -> str:
    """A URL for each durable backend, with an empty database."""
    return _url(request.param, request)


@pytest.fixture
def history(history_url: str) -> Iterator[HistoryStore]:
    """An open history store on each backend (SQL schemas migrated to head)."""
    store = open_history_store(history_url)
    yield store
    store.close()

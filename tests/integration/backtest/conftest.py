"""Backtest fixtures: the shipped sample in an in-memory bar store (imported once)."""

from __future__ import annotations

import pytest

from mcp_trading.adapters.history.memory import MemoryHistoryStore
from mcp_trading.adapters.history.sample import import_sample


@pytest.fixture(scope="session")
def sample_history() -> MemoryHistoryStore:
    store = MemoryHistoryStore()
    import_sample(store)
    return store

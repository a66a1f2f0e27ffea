"""The backtest store contract, on the in-memory store, SQLite and PostgreSQL: a result
comes back exactly as saved, lists newest first, and unknown ids say so."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from mcp_trading.adapters.history.memory import MemoryHistoryStore
from mcp_trading.adapters.store import SchemaOutOfDateError
from mcp_trading.backtest import BacktestResult, BacktestSpec, run_backtest
from mcp_trading.backtest.store import BacktestStore, SqlBacktestStore, open_backtest_store
from mcp_trading.config import Settings
from mcp_trading.domain.errors import InvalidError, NotFoundError
from mcp_trading.strategy.loader import load_registry

POSTGRES = pytest.param("postgres", marks=pytest.mark.postgres)


@pytest.fixture(params=["memory", "sqlite", POSTGRES])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BacktestStore]:
    if request.param == "memory":
        url = "memory://"
    elif request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'trading.db'}"
    else:
        url = str(request.getfixturevalue("postgres_schema_url"))
    opened = open_backtest_store(url, migrate=True)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def result(sample_history: MemoryHistoryStore, tmp_path_factory: pytest.TempPathFactory
           ) -> BacktestResult:
    return run_backtest(
        BacktestSpec(strategy="sma_crossover", symbols=("AAPL", "IBM"), start=date(2004, 1, 1),
                     end=date(2008, 12, 31), params={"fast": 5, "slow": 20}),
        history=sample_history, registry=load_registry(),
        settings=Settings(data_dir=tmp_path_factory.mktemp("bt")))


def test_a_result_round_trips_exactly(store: BacktestStore, result: BacktestResult) -> None:
    assert result.trades and result.orders
    store.save(result)
    again = store.get(result.id)
    assert again.to_json() == result.to_json()
    assert again.trades == result.trades and again.fills == result.fills
    assert again.orders == result.orders and again.spec == result.spec
    assert again.equity.equity.tolist() == result.equity.equity.tolist()
    assert again.summary() == result.summary()


def test_list_is_newest_first_and_filters_by_strategy(store: BacktestStore,
                                                      result: BacktestResult) -> None:
    older = dataclasses.replace(result, id="a" * 32, created_ns=result.created_ns - 10)
    other = dataclasses.replace(result, id="b" * 32, created_ns=result.created_ns + 10,
                                spec=dataclasses.replace(result.spec, strategy="buy_and_hold"))
    for r in (older, result, other):
        store.save(r)
    assert [s["id"] for s in store.list()] == [other.id, result.id, older.id]
    assert [s["id"] for s in store.list(limit=1, offset=1)] == [result.id]
    assert [s["id"] for s in store.list(strategy="sma_crossover")] == [result.id, older.id]
    store.save(dataclasses.replace(older, warnings=("again",)))  # same id: replaced
    assert store.get(older.id).warnings == ("again",) and len(store.list()) == 3


def test_unknown_ids_and_bad_pages_say_so(store: BacktestStore, result: BacktestResult) -> None:
    store.save(result)
    store.delete(result.id)
    with pytest.raises(NotFoundError, match=f"no backtest '{result.id}'"):
        store.get(result.id)
    with pytest.raises(NotFoundError):
        store.delete(result.id)
    with pytest.raises(InvalidError, match="limit is 0"):
        store.list(limit=0)


def test_an_sql_store_needs_the_schema_at_head(tmp_path: Path) -> None:
    with pytest.raises(SchemaOutOfDateError):
        SqlBacktestStore(f"sqlite:///{tmp_path / 'empty.db'}")

"""The optimizer's weights rounding rule and its runs/previews store (in memory, SQLite and
PostgreSQL, one contract): decimal strings that sum to the budget exactly; runs read back as
stored, newest first; a preview moves open -> claimed -> confirmed once only."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from mcp_trading.domain.errors import NotFoundError
from mcp_trading.services.optimizer.compute import round_weights
from mcp_trading.services.optimizer.runs import OptimizerStore, open_optimizer_store

SYMBOLS = ("A", "B", "C")


@pytest.mark.parametrize("budget", [Decimal(1), Decimal("0.95")])
def test_rounded_weights_sum_to_the_budget_exactly_with_the_remainder_on_the_largest(
        budget: Decimal) -> None:
    raw = np.array([1 / 3, 1 / 3, 1 / 3]) * float(budget)
    out = round_weights(raw, SYMBOLS, budget)
    assert sum(Decimal(w) for w in out.values()) == budget
    assert all(len(w.split(".")[1]) == 10 for w in out.values())
    assert max(abs(Decimal(w) - Decimal(repr(float(r)))) for w, r in zip(out.values(), raw,
                                                                   strict=True)) < 1e-9


def test_tiny_weights_are_fixed_point_not_exponents() -> None:
    out = round_weights(np.array([1e-12, 1.0 - 1e-12]), ("A", "B"), Decimal(1))
    assert out == {"A": "0.0000000000", "B": "1.0000000000"}


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres",
                                                        marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OptimizerStore]:
    if request.param == "memory":
        url = "memory://"
    elif request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'o.db'}"
    else:
        url = str(request.getfixturevalue("postgres_schema_url"))
    made = open_optimizer_store(url, migrate=True)
    yield made
    made.close()


def _run(run_id: str, created: int) -> dict[str, object]:
    return {"id": run_id, "created_ns": created, "kind": "optimize", "method": "hrp",
            "symbols": list(SYMBOLS), "summary": {"run_id": run_id}}


def test_runs_read_back_as_stored_newest_first(store: OptimizerStore) -> None:
    store.save_run(_run("a1", 1), {"request": {"method": "hrp"}, "result": {"w": [0.5]}})
    store.save_run(_run("b2", 2), {"request": {}, "result": {}})
    assert [r["run_id"] for r in store.list_runs()] == ["b2", "a1"]
    got = store.get_run("a1")
    assert got["request"] == {"method": "hrp"} and got["result"] == {"w": [0.5]}
    with pytest.raises(NotFoundError):
        store.get_run("zz")


def test_a_preview_is_claimed_once(store: OptimizerStore) -> None:
    store.save_preview({"id": "p1", "created_ns": 1, "expires_ns": 2, "owner": "k",
                        "token_sha256": "h", "account_id": "paper", "run_id": None,
                        "state": "open", "payload": {"orders": []}})
    assert store.move_preview("p1", "open", "claimed") is True
    assert store.move_preview("p1", "open", "claimed") is False
    assert store.move_preview("p1", "claimed", "confirmed", {"status": "placed"}) is True
    row = store.get_preview("p1")
    assert row["state"] == "confirmed" and row["answer"] == {"status": "placed"}
    assert row["payload"] == {"orders": []}
    with pytest.raises(NotFoundError):
        store.get_preview("p2")

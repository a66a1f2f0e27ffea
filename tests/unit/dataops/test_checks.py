"""The shared semantic checks on a real SQLite journal: each passes on a sound store and
names what is wrong on a damaged one."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

from mcp_trading.adapters.store import Projector, open_store, upgrade
from mcp_trading.clocks import ManualClock
from mcp_trading.dataops import checks
from mcp_trading.domain.instruments import Instrument
from mcp_trading.domain.market import Quote
from mcp_trading.domain.orders import OrderRequest, OrderSide, OrderType, TimeInForce
from mcp_trading.domain.sessions import AlwaysOpen
from mcp_trading.kernel.runtime import recover

INSTRUMENTS = {"AAA": Instrument(symbol="AAA")}


def _store(tmp_path: Path, orders: int = 30) -> tuple[str, str]:
    url = f"sqlite:///{tmp_path / 'trading.db'}"
    reports = f"sqlite:///{tmp_path / 'trading-reports.db'}"
    upgrade(url)
    clock = ManualClock(1)
    runtime = recover(open_store(url), instruments=INSTRUMENTS, clock=clock,
                      calendar=AlwaysOpen(), snapshot_every=10)
    kernel = runtime.kernel
    for i in range(orders):
        clock.set(1 + i * 1_000_000)
        kernel.on_quote(Quote("AAA", Decimal("10.00"), Decimal("10.02"), Decimal(1000),
                              Decimal(1000), None, clock.now_ns()))
        kind = OrderType.MARKET if i % 2 else OrderType.LIMIT
        kernel.submit("paper", OrderRequest(
            "AAA", Decimal(1 + i % 3), OrderSide.BUY, kind, TimeInForce.GTC,
            limit_price=Decimal("9.00") if kind is OrderType.LIMIT else None))
        runtime.journal.flush()
        runtime.maybe_snapshot()
    runtime.close()
    upgrade(reports)
    source = open_store(url)
    projector = Projector(reports, source=source)
    projector.catch_up()
    projector.close()
    source.close()
    return url, reports


def test_a_sound_store_passes_every_check(tmp_path: Path) -> None:
    url, reports = _store(tmp_path)
    seq = checks.journal_last_seq(url)
    live = checks.live_digest(url, seq, INSTRUMENTS)  # snapshot + tail
    results = checks.copy_checks(url, reports, live, INSTRUMENTS)  # full replay
    assert [(r.name, r.ok) for r in results] == [
        ("journal-contiguity", True), ("projection-equals-replay", True),
        ("state-equals-snapshot", True)]
    assert live["working_orders"] and live["accounts"]["paper"]["positions"]["AAA"]


def test_a_gap_in_the_journal_is_named(tmp_path: Path) -> None:
    url, _ = _store(tmp_path)
    path = tmp_path / "trading.db"
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM journal WHERE seq = (SELECT seq FROM journal "
                     "ORDER BY seq LIMIT 1 OFFSET 5)")
    result = checks.journal_contiguity(url)
    assert not result.ok and "gap in the journal" in result.detail


def test_a_state_that_differs_is_named(tmp_path: Path) -> None:
    url, _ = _store(tmp_path)
    live = checks.live_digest(url, checks.journal_last_seq(url), INSTRUMENTS)
    live["accounts"]["paper"]["cash"] = "1"
    result = checks.state_matches(url, live, INSTRUMENTS)
    assert not result.ok and "accounts.paper.cash: expected '1'" in result.detail


def test_a_projection_that_drifted_is_named(tmp_path: Path) -> None:
    url, reports = _store(tmp_path)
    with sqlite3.connect(tmp_path / "trading-reports.db") as conn:
        conn.execute("UPDATE positions SET qty = '999' WHERE symbol = 'AAA'")
    result = checks.projection_matches_replay(reports, url, INSTRUMENTS)
    assert not result.ok and "position paper/AAA" in result.detail

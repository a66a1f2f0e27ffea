"""Archival on real stores (SQLite files; PostgreSQL where the SQL differs): what moves, what
stays, that nothing is lost or doubled, that recovery after it is the same state, and that
reads of an archived order still find it."""

from __future__ import annotations

import shutil
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select
from tests.integration.dataops.trading_days import day_ns, trade_days

from mcp_trading.adapters.feeds.universe import default_instruments
from mcp_trading.adapters.history import BarColumns, open_history_store
from mcp_trading.adapters.store import open_store
from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.adapters.store.order_reads import OrderReader
from mcp_trading.adapters.store.schema import (
    fills,
    fills_archive,
    journal,
    orders,
    orders_archive,
    snapshots,
)
from mcp_trading.clocks import ManualClock
from mcp_trading.config import Settings
from mcp_trading.dataops import segments
from mcp_trading.dataops.archive import archive, archive_dir
from mcp_trading.dataops.checks import state_digest
from mcp_trading.dataops.integrity import Locations, verify
from mcp_trading.domain.orders import OrderRequest, OrderSide, OrderType, TimeInForce
from mcp_trading.domain.sessions import AlwaysOpen
from mcp_trading.kernel.runtime import load_state, recover

BEFORE = day_ns("2024-01-07")  # the first five of ten trading days are older


def counts(settings: Settings) -> dict[str, int]:
    out = {}
    for url, tables in ((settings.resolved_reports_url, (orders, orders_archive, fills,
                                                         fills_archive)),
                        (settings.resolved_database_url, (journal,))):
        engine = create_store_engine(url)
        with engine.connect() as conn:
            for t in tables:
                out[t.name] = conn.execute(select(func.count()).select_from(t)).scalar_one()
        engine.dispose()
    return out


def digest(settings: Settings) -> dict[str, Any]:
    store = open_store(settings.resolved_database_url)
    try:
        state, _ = load_state(store, default_instruments(), settings.kernel_config())
    finally:
        store.close()
    return state_digest(state)


def where(settings: Settings) -> Locations:
    return Locations(settings.resolved_database_url, settings.resolved_reports_url,
                     archive_dir(settings))


@pytest.fixture
def traded(tmp_path: Path) -> Settings:
    trade_days(tmp_path / "var", days=10)
    return Settings(data_dir=tmp_path / "var")


def test_dry_run_counts_and_changes_nothing(traded: Settings) -> None:
    before = counts(traded)
    report = archive(traded, BEFORE, dry_run=True)
    assert report.rows["orders"] == 100  # five days of 20 orders, all closed
    assert 0 < report.rows["fills"] < before["fills"]
    assert report.journal["records"] > 0 and report.journal["target"] > 0
    assert counts(traded) == before
    assert not archive_dir(traded).exists() or not list(archive_dir(traded).glob("*.seg.zst"))


def test_archive_moves_old_rows_and_journal_and_loses_nothing(traded: Settings) -> None:
    before, state_before = counts(traded), digest(traded)
    report = archive(traded, BEFORE, batch=7, segment_records=30)
    after = counts(traded)
    assert after["orders"] + after["orders_archive"] == before["orders"]
    assert after["fills"] + after["fills_archive"] == before["fills"]
    assert after["orders_archive"] == report.rows["orders"] == 100
    assert len(report.journal["segments"]) > 1  # 30 records a segment
    assert after["journal"] < before["journal"]
    engine = create_store_engine(traded.resolved_reports_url)
    with engine.connect() as conn:  # nothing younger than the date moved
        young = conn.execute(select(func.count()).select_from(orders_archive).where(
            orders_archive.c.updated_at >= BEFORE)).scalar_one()
        old_hot = conn.execute(select(func.count()).select_from(fills).where(
            fills.c.ts < BEFORE)).scalar_one()
    engine.dispose()
    assert young == 0 and old_hot == 0
    assert digest(traded) == state_before  # recovery: snapshot + later journal
    assert all(r.ok for r in verify(where(traded))), verify(where(traded))
    again = archive(traded, BEFORE)  # idempotent
    assert again.rows == {"orders": 0, "fills": 0, "bars": 0, "alerts": 0} and not again.journal["segments"]
    assert counts(traded) == after


def test_segments_plus_hot_journal_are_the_whole_journal(traded: Settings, tmp_path: Path) -> None:
    original = tmp_path / "original"
    shutil.copytree(traded.data_dir, original)
    archive(traded, BEFORE, segment_records=25)
    whole = open_store(Settings(data_dir=original).resolved_database_url)
    hot = open_store(traded.resolved_database_url)
    try:
        assert list(segments.full_journal(archive_dir(traded), hot)) == list(whole.read())
    finally:
        whole.close()
        hot.close()


def test_restart_after_archive_keeps_the_state_and_trades_on(traded: Settings) -> None:
    # a date after the newest snapshot: the base snapshot the archive writes is the latest,
    # so recovery starts from it, with the journal before it gone
    report = archive(traded, day_ns("2024-01-12"))
    upto = report.journal["archived_upto"]
    engine = create_store_engine(traded.resolved_database_url)
    with engine.connect() as conn:
        low = conn.execute(select(func.min(journal.c.seq))).scalar_one()
        newest = conn.execute(select(func.max(snapshots.c.seq))).scalar_one()
    engine.dispose()
    assert newest == upto and low > upto > 402  # past the kernel's own last snapshot (402)
    expected = digest(traded)
    store = open_store(traded.resolved_database_url)
    runtime = recover(store, instruments=default_instruments(), clock=ManualClock(BEFORE * 2),
                      calendar=AlwaysOpen(), config=traded.kernel_config(), snapshot_every=0)
    try:
        assert state_digest(runtime.kernel.state) == expected
        seq = runtime.kernel.seq
        order = runtime.kernel.submit("paper", OrderRequest(
            "AAPL", Decimal(1), OrderSide.BUY, OrderType.LIMIT, TimeInForce.GTC,
            limit_price=Decimal(1)))
        runtime.journal.flush()
        assert runtime.kernel.seq > seq and order.status == "new"
    finally:
        runtime.close()
    assert digest(traded)["working_orders"].keys() == {order.id}


def test_an_archived_order_is_found_by_id_and_client_id(traded: Settings) -> None:
    engine = create_store_engine(traded.resolved_reports_url)
    with engine.connect() as conn:
        old = conn.execute(select(orders).where(orders.c.updated_at < BEFORE,
                                                orders.c.client_order_id.is_not(None)).limit(1)).one()
    engine.dispose()
    archive(traded, BEFORE)
    reader = OrderReader(traded.resolved_reports_url)
    try:
        row = reader.get(old.id)
        assert row is not None and row["archived"] is True and row["status"] == old.status
        by_client = reader.by_client_id(old.account_id, old.client_order_id)
        assert by_client is not None and by_client["id"] == old.id and by_client["archived"]
        assert reader.archive_horizon() == BEFORE
    finally:
        reader.close()


@pytest.mark.postgres
def test_archive_on_postgres_loses_nothing(tmp_path: Path, postgres_schema_url: str) -> None:
    trade_days(tmp_path / "var", days=6, database_url=postgres_schema_url)
    settings = Settings(data_dir=tmp_path / "var", database_url=postgres_schema_url)
    before, state_before = counts(settings), digest(settings)
    report = archive(settings, day_ns("2024-01-05"), batch=9, segment_records=40)
    after = counts(settings)
    assert report.rows["orders"] == 60
    assert after["orders"] + after["orders_archive"] == before["orders"]
    assert after["fills"] + after["fills_archive"] == before["fills"]
    assert digest(settings) == state_before
    assert all(r.ok for r in verify(where(settings))), verify(where(settings))


def test_feed_bars_move_and_imported_history_stays_unless_named(traded: Settings) -> None:
    from mcp_trading.adapters.store import upgrade
    from mcp_trading.adapters.store.schema import bars, bars_archive, history_bars

    upgrade(traded.resolved_history_url)
    day = 86_400 * 10**9
    bar = {"open": "1", "high": "1", "low": "1", "close": "1", "n": 1, "volume": None}
    _insert(traded.resolved_database_url, bars,
            [{"symbol": "AAPL", "ts": BEFORE + k * day, **bar} for k in (-3, -2, -1, 0, 1)])
    history = open_history_store(traded.resolved_history_url)
    with history.writer() as writer:  # as an import writes them (rows and their blocks)
        for symbol in ("AAPL", "MSFT"):
            ts = np.array([BEFORE + k * day for k in (-2, -1, 0)], dtype=np.int64)
            ones = np.ones(3)
            writer.add(symbol, "sample", "1Day", BarColumns(ts, ones, ones, ones, ones,
                                                            ones * np.nan, ones * np.nan))
    history.close()
    report = archive(traded, BEFORE)
    assert report.rows["bars"] == 3 and "history:AAPL" not in report.rows
    assert _count(traded.resolved_database_url, bars) == 2
    assert _count(traded.resolved_database_url, bars_archive) == 3
    assert _count(traded.resolved_history_url, history_bars) == 6  # reference data stays
    named = archive(traded, BEFORE, history_symbols=["aapl"])
    assert named.rows["history:AAPL"] == 2
    assert _count(traded.resolved_history_url, history_bars) == 4  # MSFT's and AAPL's newest
    history = open_history_store(traded.resolved_history_url)
    try:  # reads see it at once: the archive batch rebuilt AAPL's blocks in its transaction
        assert history.read("AAPL", "sample", "1Day").ts.tolist() == [BEFORE]
        assert history.read("MSFT", "sample", "1Day").size == 3
        assert [(s.symbol, s.bars) for s in history.series()] == [("AAPL", 1), ("MSFT", 3)]
    finally:
        history.close()


def _insert(url: str, table: Any, rows: list[dict[str, Any]]) -> None:
    engine = create_store_engine(url)
    with engine.begin() as conn:
        conn.execute(table.insert(), rows)
    engine.dispose()


def _count(url: str, table: Any) -> int:
    engine = create_store_engine(url)
    with engine.connect() as conn:
        n = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    engine.dispose()
    return n


def test_trading_on_after_archive_keeps_the_base_snapshot_and_a_second_run_continues(
        traded: Settings) -> None:
    first = archive(traded, BEFORE)
    base = first.journal["archived_upto"]
    trade_days(traded.data_dir, start="2024-01-20", days=15)  # ~600 events: 3 new snapshots
    engine = create_store_engine(traded.resolved_database_url)
    with engine.connect() as conn:
        kept = list(conn.execute(select(snapshots.c.seq).order_by(snapshots.c.seq)).scalars())
    engine.dispose()
    assert base in kept and len(kept) == 4  # the newest three, and the base the hot one needs
    assert all(r.ok for r in verify(where(traded)))
    second = archive(traded, day_ns("2024-01-25"))
    infos = segments.load_index(archive_dir(traded))
    assert infos[0].last_seq == base and infos[-1].last_seq == second.journal["archived_upto"]
    assert all(a.last_seq + 1 == b.first_seq for a, b in pairwise(infos))
    assert all(r.ok for r in verify(where(traded))), verify(where(traded))


def test_a_backup_restored_from_before_the_archive_overlaps_and_the_next_run_heals_it(
        traded: Settings, tmp_path: Path) -> None:
    older = tmp_path / "older"
    shutil.copytree(traded.data_dir, older)  # what a backup taken before the archive holds
    archive(traded, BEFORE, segment_records=30)
    whole = _journal_of(older)
    for name in ("trading.db", "trading-reports.db"):  # the restore puts the databases back
        for suffix in ("", "-wal", "-shm"):
            (traded.data_dir / f"{name}{suffix}").unlink(missing_ok=True)
        shutil.copy2(older / name, traded.data_dir / name)
    checks = verify(where(traded))
    assert all(r.ok for r in checks), checks
    assert "archived too" in checks[0].detail
    healed = archive(traded, BEFORE)
    assert healed.journal["records"] > 0 and not healed.journal["segments"]
    hot = open_store(traded.resolved_database_url)
    try:
        assert list(segments.full_journal(archive_dir(traded), hot)) == whole
    finally:
        hot.close()
    checks = verify(where(traded))
    assert all(r.ok for r in checks) and "archived too" not in checks[0].detail


def _journal_of(data_dir: Path) -> list[Any]:
    store = open_store(Settings(data_dir=data_dir).resolved_database_url)
    try:
        return list(store.read())
    finally:
        store.close()

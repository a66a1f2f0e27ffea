"""The close snapshot on a real platform (SQLite journal, recovery on open): the session's
close takes one "close" EquitySnapshotted per customer account through the platform's own
timer path (`Kernel.tick`, what the housekeeping calls every half second), and a restart —
after the roll, or with the roll cut short by a crash — never takes a second one for the
day; the NYSE calendar values the day at 16:00 New York."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from sqlalchemy import delete

from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.adapters.store.schema import journal, snapshots
from mcp_trading.adapters.store.sql import SqlJournalStore
from mcp_trading.clocks import ManualClock
from mcp_trading.config import Settings
from mcp_trading.domain.events import EquitySnapshotted
from mcp_trading.kernel import codec
from mcp_trading.platform.bootstrap import bootstrap
from mcp_trading.platform.platform import Platform
from mcp_trading.reports.equity_source import read_equity_snapshots

from .conftest import FakeAuthenticator

NS = 1_000_000_000
DAY_NS = 86_400 * NS
START = 1_796_083_200 * NS  # 2026-12-01 00:00 UTC (a Tuesday), an always-open session's start


def _open(settings: Settings, clock: ManualClock) -> Platform:
    plat = bootstrap(settings, clock=clock, authenticator=FakeAuthenticator())
    plat.open()
    plat.accepting = True
    return plat


def _close(plat: Platform) -> None:
    plat.accepting = False
    if plat.runtime is not None:
        plat.runtime.close()
    if plat.projector is not None:
        plat.projector.stop()


def _tick(plat: Platform) -> None:
    plat.kernel_runtime.kernel.tick()
    plat.kernel_runtime.journal.flush()


def test_one_close_snapshot_per_day_across_restarts(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    clock = ManualClock(START + 3600 * NS)
    plat = _open(settings, clock)
    kernel = plat.kernel_runtime.kernel
    kernel.open_account("swing", Decimal("2500.50"))
    kernel.open_account("_selftest", Decimal("1000000"), internal=True)
    _tick(plat)  # starts the session of 2026-12-01
    clock.set(START + DAY_NS + NS)  # one second after the always-open close (00:00 UTC)
    _tick(plat)
    _tick(plat)
    _close(plat)
    snaps = read_equity_snapshots(settings)
    assert [(s.account_id, s.day, s.reason, s.equity) for s in snaps] == [
        ("paper", "2026-12-01", "close", Decimal(100_000)),
        ("swing", "2026-12-01", "close", Decimal("2500.50"))]

    plat = _open(settings, clock)  # a restart on the same day: nothing more to value
    _tick(plat)
    _close(plat)
    assert len(read_equity_snapshots(settings)) == 2
    clock.set(START + 2 * DAY_NS + 5 * NS)  # the next close, after another restart
    plat = _open(settings, clock)
    _tick(plat)
    _close(plat)
    assert [s.day for s in read_equity_snapshots(settings)][2:] == ["2026-12-02", "2026-12-02"]


def test_a_restart_after_a_crash_in_the_roll_values_the_day_once(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    clock = ManualClock(START + 3600 * NS)
    plat = _open(settings, clock)
    _tick(plat)
    clock.set(START + DAY_NS + NS)
    _tick(plat)
    events = list(codec.events(plat.kernel_runtime.journal.store.read()))
    _close(plat)
    # keep the journal up to the close snapshot: the rest of the roll never became durable
    cut = max(seq for seq, e in events if isinstance(e, EquitySnapshotted))
    assert any(seq > cut for seq, _ in events)  # the roll's TradingDayStarted came after
    engine = create_store_engine(settings.resolved_database_url)
    with engine.begin() as conn:  # the events as single records, so any cut is possible
        conn.execute(delete(journal))
        conn.execute(delete(snapshots))
    engine.dispose()
    with SqlJournalStore(settings.resolved_database_url) as rewritten:
        rewritten.append([codec.record(seq, e) for seq, e in events if seq <= cut])
    assert len(read_equity_snapshots(settings)) == 1
    plat = _open(settings, clock)
    _tick(plat)
    state = plat.kernel_runtime.kernel.state
    assert state.session is not None and state.session.day == "2026-12-02"
    _close(plat)
    assert [(s.day, s.reason) for s in read_equity_snapshots(settings)] == [
        ("2026-12-01", "close")]


def test_the_nyse_close_values_the_new_york_day(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, calendar="nyse")
    clock = ManualClock(START + 15 * 3600 * NS)  # 10:00 New York, 2026-12-01
    plat = _open(settings, clock)
    _tick(plat)
    clock.set(START + 21 * 3600 * NS + NS)  # 16:00:01 New York
    _tick(plat)
    _close(plat)
    (snap,) = read_equity_snapshots(settings)
    assert (snap.day, snap.reason, snap.ts) == ("2026-12-01", "close", clock.now_ns())


def test_the_housekeeping_timer_takes_the_close_snapshot(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    clock = ManualClock(START + 3600 * NS)
    plat = _open(settings, clock)

    async def run() -> None:
        task = asyncio.create_task(plat._housekeeping())
        await asyncio.sleep(0.7)
        clock.set(START + DAY_NS + NS)
        await asyncio.sleep(1.2)
        task.cancel()

    asyncio.run(run())
    plat.kernel_runtime.journal.flush()
    _close(plat)
    assert [(s.day, s.reason) for s in read_equity_snapshots(settings)] == [
        ("2026-12-01", "close")]


def test_the_close_snapshot_can_be_turned_off(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, equity_close_snapshot=False)
    clock = ManualClock(START + 3600 * NS)
    plat = _open(settings, clock)
    _tick(plat)
    clock.set(START + DAY_NS + NS)
    _tick(plat)
    assert plat.kernel_runtime.kernel.state.session.day == "2026-12-02"  # type: ignore[union-attr]
    _close(plat)
    assert read_equity_snapshots(settings) == []

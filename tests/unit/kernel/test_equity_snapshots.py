"""Equity snapshots: the kernel values each customer account exactly (cash + sum of qty x
mark), journals one EquitySnapshotted per account, and takes the close one once per session
at the roll, never twice for a day, also across a restart in the middle of the roll."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mcp_trading.clocks import ManualClock
from mcp_trading.domain.accounts import Account
from mcp_trading.domain.errors import InvalidError, UnknownAccountError
from mcp_trading.domain.events import EquitySnapshotted, Event, OrderExpired, TradingDayStarted
from mcp_trading.domain.models import SlippageModel
from mcp_trading.domain.positions import Position
from mcp_trading.domain.sessions import AlwaysOpen
from mcp_trading.kernel.equity_commands import new_york_day, valuation
from mcp_trading.kernel.kernel import Kernel, KernelConfig
from mcp_trading.kernel.state import KernelState

from ..conftest import DAY_NS, NS, Harness, MakeKernel, instruments

D = Decimal
CLOSING = KernelConfig(id_base=1, equity_at_close=True)


def _snaps(h: Harness, after: int = 0) -> list[EquitySnapshotted]:
    return [e for s, e in h.events if s > after and isinstance(e, EquitySnapshotted)]


def _book(h: Harness) -> None:
    """paper: 10 AAPL and 3 MSFT long; swing: flat after a round trip; _selftest: 1 AAPL."""
    h.kernel.open_account("swing", D("50000"))
    h.kernel.open_account("_selftest", D("1000000"), internal=True)
    h.quote("100.00", "100.02")
    h.quote("250.10", "250.30", symbol="MSFT")
    h.buy(10)
    h.buy(3, symbol="MSFT")
    h.buy(5, account="swing")
    h.sell(5, account="swing")
    h.buy(1, account="_selftest")
    h.quote("101.37", "101.41")  # a new mark after the fills


def test_the_snapshot_values_each_customer_account_exactly(h: Harness) -> None:
    _book(h)
    seq = h.kernel.seq
    snaps = h.kernel.snapshot_equity(reason="manual", actor="ops")
    assert [s.account_id for s in snaps] == ["paper", "swing"]  # _selftest left out
    assert _snaps(h, seq) == snaps  # journaled, one event per account
    paper, swing = snaps
    marks = {s: h.kernel.state.accounts["paper"].positions[s].mark for s in ("AAPL", "MSFT")}
    assert paper.positions == (("AAPL", D(10), marks["AAPL"]), ("MSFT", D(3), marks["MSFT"]))
    assert marks["AAPL"] == D("101.39")  # the kernel's mark: the mid of the last quote
    cash = h.kernel.state.accounts["paper"].cash
    assert paper.cash == cash
    assert paper.equity == cash + 10 * marks["AAPL"] + 3 * marks["MSFT"]
    assert paper.equity == h.kernel.state.accounts["paper"].equity
    assert swing.positions == () and swing.equity == swing.cash  # flat: no position rows
    assert (paper.reason, paper.actor, paper.ts) == ("manual", "ops", h.clock.now_ns())


def test_a_position_without_a_mark_is_valued_at_its_average_price() -> None:
    account = Account("a", D("1000"))
    p = Position("AAPL")
    p.apply_fill(D(4), D("10.125"))
    account.positions["AAPL"] = p
    snap = valuation(account, day="2026-01-02", reason="manual", actor="x", ts=1)
    assert snap.positions == (("AAPL", D(4), D("10.125")),)
    assert snap.equity == D("1040.500")


def test_one_account_on_demand_and_refusals_that_journal_nothing(h: Harness) -> None:
    _book(h)
    assert [s.account_id for s in h.kernel.snapshot_equity(
        reason="manual", actor="ops", account_id="swing")] == ["swing"]
    seq = h.kernel.seq
    with pytest.raises(UnknownAccountError):
        h.kernel.snapshot_equity(reason="manual", actor="ops", account_id="nobody")
    with pytest.raises(InvalidError, match="platform's own"):
        h.kernel.snapshot_equity(reason="manual", actor="ops", account_id="_selftest")
    with pytest.raises(InvalidError, match="reason"):
        h.kernel.snapshot_equity(reason="whenever", actor="ops")
    assert h.kernel.seq == seq


def test_the_day_is_the_new_york_date() -> None:
    # 2026-01-02 03:00 UTC is 22:00 on the 1st in New York; 2026-07-01 03:59 UTC is EDT
    assert new_york_day(1_767_322_800 * NS) == "2026-01-01"
    assert new_york_day(1_782_878_340 * NS) == "2026-06-30"
    assert new_york_day(1_782_878_460 * NS) == "2026-07-01"


def test_the_session_close_takes_one_close_snapshot_before_orders_expire(
        make_kernel: MakeKernel) -> None:
    h = make_kernel(config=CLOSING)
    _book(h)
    h.buy(1, type="limit", limit_price="50")  # a working day order
    seq = h.kernel.seq
    h.advance(86_400)  # AlwaysOpen: the session of 2026-01-01 closed at 00:00 UTC
    h.kernel.tick()
    names = h.event_names(seq)
    assert names[:3] == ["EquitySnapshotted", "EquitySnapshotted", "OrderExpired"]
    assert "TradingDayStarted" in names
    close = _snaps(h, seq)
    assert {(s.account_id, s.day, s.reason, s.actor) for s in close} == {
        ("paper", "2026-01-01", "close", "platform"), ("swing", "2026-01-01", "close", "platform")}
    seq = h.kernel.seq
    h.advance(3600)
    h.kernel.tick()
    h.quote("101.00", "101.02")
    assert _snaps(h, seq) == []  # once per session


def test_backtest_kernels_take_no_close_snapshot(h: Harness) -> None:
    h.quote()
    h.advance(2 * 86_400)
    h.kernel.tick()
    assert _snaps(h) == []


def _replayed(events: list[tuple[int, Event]], clock: ManualClock,
              journal: list[tuple[int, Event]]) -> Kernel:
    state = KernelState(instruments(), SlippageModel())
    for seq, event in events:
        state.apply(seq, event)
    return Kernel(instruments=state.instruments, clock=clock, calendar=AlwaysOpen(),
                  journal=lambda seq, ev: journal.append((seq, ev)), config=CLOSING, state=state)


def test_a_restart_in_the_middle_of_the_roll_values_the_day_once(
        make_kernel: MakeKernel) -> None:
    h = make_kernel(config=CLOSING)
    _book(h)
    h.advance(86_400)
    h.kernel.tick()
    # the journal kept the close snapshots but lost the rest of the roll (a crash)
    cut = max(s for s, e in h.events if isinstance(e, EquitySnapshotted))
    kept = [(s, e) for s, e in h.events if s <= cut]
    after: list[tuple[int, Event]] = []
    kernel = _replayed(kept, h.clock, after)
    kernel.tick()
    assert not any(isinstance(e, EquitySnapshotted) for _, e in after)
    assert any(isinstance(e, TradingDayStarted) for _, e in after)
    # a full restart after the roll: the next session's close is valued again, once
    more: list[tuple[int, Event]] = []
    kernel = _replayed(kept + after, h.clock, more)
    h.advance(86_400)
    kernel.tick()
    days = [e.day for _, e in more if isinstance(e, EquitySnapshotted)]
    assert days == ["2026-01-02", "2026-01-02"]
    assert not any(isinstance(e, OrderExpired) for _, e in more)


def test_the_snapshot_ts_and_day_can_be_given(h: Harness) -> None:
    ts = h.clock.now_ns() + 5 * DAY_NS
    (snap, *_) = h.kernel.snapshot_equity(reason="manual", actor="ops", ts=ts)
    assert (snap.ts, snap.day) == (ts, "2026-01-05")

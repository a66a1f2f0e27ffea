"""The replay feed: quotes derived from real bars exactly as documented, in time order; N×
speed on a manual clock; stepping; pause, resume and seek; the end of the replay."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from tests.sample_bars import AAPL_2010_ROWS, bars_of, day_ns

from mcp_trading.adapters.feeds.replay import ReplayFeed, ReplayState
from mcp_trading.adapters.feeds.replay_quotes import (
    DEFAULT_SIZE,
    BarQuoter,
    ReplaySeries,
    mark_path,
)
from mcp_trading.clocks import ManualClock
from mcp_trading.domain.errors import ConflictError, InvalidError
from mcp_trading.domain.instruments import Instrument

S = 1_000_000_000
HOUR = 3600 * S
AAPL = Instrument(symbol="AAPL")
MSFT = Instrument(symbol="MSFT")


def feed(rows: str = AAPL_2010_ROWS, *, speed: float = 0, clock: ManualClock | None = None,
         **kw: object) -> ReplayFeed:
    series = [ReplaySeries("AAPL", "sample", bars_of(rows))]
    return ReplayFeed(series, {"AAPL": AAPL}, speed=speed, clock=clock, **kw)  # type: ignore[arg-type]


def prices(quotes: list) -> list[tuple[str, str, str]]:  # type: ignore[type-arg]
    return [(str(q.bid), str(q.ask), str(q.last)) for q in quotes]


def test_an_up_bar_quotes_open_low_high_close_around_each_mark() -> None:
    f = feed()
    f.step(4)
    quotes = f.next_quotes(123)
    # 2010-01-04: open 213.43, high 214.5, low 212.38, close 214.01 (> open: low first);
    # bid = mark × 0.9999 down to the cent, ask = mark × 1.0001 up to the cent
    assert prices(quotes) == [("213.40", "213.46", "213.43"), ("212.35", "212.41", "212.38"),
                              ("214.47", "214.53", "214.50"), ("213.98", "214.04", "214.01")]
    assert all(q.bid_size == q.ask_size == Decimal(4408300) for q in quotes)  # 17633200 / 4
    assert {q.ts for q in quotes} == {123}  # stamped at emission (wall time), not bar time
    assert f.last_marks()["AAPL"].mark_ts == day_ns("2010-01-04") + 18 * HOUR  # k × 24 h / 4


def test_a_down_bar_visits_its_high_before_its_low() -> None:
    f = feed()
    f.seek(date(2010, 1, 6))
    f.step(4)
    # 2010-01-06: open 214.38, high 215.23, low 210.75, close 210.97 (< open: high first)
    assert [q.last for q in f.next_quotes(1)] == [Decimal("214.38"), Decimal("215.23"),
                                                  Decimal("210.75"), Decimal("210.97")]
    assert mark_path(10.0, 12.0, 9.0, 9.5) == (10.0, 12.0, 9.0, 9.5)
    assert mark_path(10.0, 12.0, 9.0, 10.0) == (10.0, 9.0, 12.0, 10.0)  # flat: low first


def test_prices_are_rounded_onto_the_instruments_tick_at_the_stated_spread() -> None:
    nickel = BarQuoter(Instrument(symbol="X", tick_size=Decimal("0.05")), spread_bps=Decimal(100))
    q = nickel.quote(Decimal("100.02"), Decimal(1))
    # ±0.5 %: 99.5199 down to 99.50, 100.5201 up to 100.55; the mark to the nearest 0.05
    assert (q.bid, q.ask, q.mark) == (Decimal("99.50"), Decimal("100.55"), Decimal("100.00"))
    penny = BarQuoter(AAPL).quote(Decimal("0.01"), Decimal(1))
    assert (penny.bid, penny.ask) == (Decimal("0.01"), Decimal("0.02"))  # never below a tick
    assert penny.bid < penny.ask


def test_sizes_are_a_quarter_of_volume_in_lots_or_the_default_without_volume() -> None:
    lots = BarQuoter(Instrument(symbol="X", lot_size=Decimal(100)))
    assert lots.size(1000.0) == Decimal(200)  # 250 shares: two lots
    assert lots.size(40.0) == Decimal(100)  # at least one lot
    assert lots.size(float("nan")) == DEFAULT_SIZE
    with pytest.raises(ValueError, match="spread_bps"):
        BarQuoter(AAPL, spread_bps=Decimal(0))


def test_stepping_emits_only_what_was_asked_and_the_end_is_final() -> None:
    f = feed(speed=0)
    assert f.next_quotes(1) == [] and f.status().state is ReplayState.RUNNING
    assert f.step(3) == 3
    assert len(f.next_quotes(2)) == 3 and f.next_quotes(3) == []
    assert f.step(100) == 17  # 5 bars × 4 marks, 3 done
    assert len(f.next_quotes(4)) == 17
    status = f.status()
    assert status.state is ReplayState.FINISHED and status.steps_done == status.steps_total == 20
    assert status.replay_ns == day_ns("2010-01-08") + 18 * HOUR
    assert f.next_quotes(5) == []  # nothing more: the feed goes stale
    with pytest.raises(ConflictError, match="finished"):
        f.step()
    assert f.seek(date(2010, 1, 8)).state is ReplayState.PAUSED  # replay again from a day
    f.step(1)
    assert [q.last for q in f.next_quotes(6)] == [Decimal("210.30")]


def test_at_n_times_speed_the_wall_time_between_marks_is_divided_by_n() -> None:
    clock = ManualClock()
    f = feed(speed=3600, clock=clock)  # one replay hour per wall second; marks 6 h apart
    t0 = clock.now_ns()
    assert [q.last for q in f.next_quotes(t0)] == [Decimal("213.43")]  # the first at start
    assert f.next_quotes(t0 + 5 * S) == []
    assert [q.last for q in f.next_quotes(t0 + 6 * S)] == [Decimal("212.38")]
    clock.set(t0 + 8 * S)  # 8 replay hours: 4 h short of the next mark
    assert f.pause().state is ReplayState.PAUSED
    assert f.next_quotes(t0 + 100 * S) == []
    clock.set(t0 + 200 * S)
    f.resume()  # the remaining 4 h of the gap are played, not skipped
    assert f.next_quotes(t0 + 203 * S) == []
    assert [q.last for q in f.next_quotes(t0 + 204 * S)] == [Decimal("214.50")]
    with pytest.raises(ConflictError, match="pause it"):
        f.step()


def test_a_replay_far_behind_schedule_plays_on_without_skipping() -> None:
    f = feed(speed=1e6, max_catchup_steps=3)
    assert len(f.next_quotes(0)) == 1  # the first step at start
    assert [q.last for q in f.next_quotes(10 * S)] == [Decimal("212.38"), Decimal("214.50"),
                                                      Decimal("214.01")]  # all due; three
    assert f.next_quotes(10 * S + 1000) == []  # re-anchored: on schedule from here
    assert [q.last for q in f.next_quotes(11 * S)] == [Decimal("214.60"), Decimal("215.59"),
                                                      Decimal("213.25")]  # none skipped


def test_symbols_quote_together_at_shared_times_and_alone_at_their_own() -> None:
    aapl = bars_of(AAPL_2010_ROWS.splitlines()[0])  # 2010-01-04 only
    msft = bars_of("MSFT,2010-01-05,30.62,31.1,30.64,30.96,49749600")  # a day later
    both = bars_of("MSFT,2010-01-04,30.62,31.1,30.59,30.95,38409100")
    f = ReplayFeed([ReplaySeries("MSFT", "sample", msft), ReplaySeries("AAPL", "sample", aapl)],
                   {"AAPL": AAPL, "MSFT": MSFT}, speed=0)
    assert f.symbols() == ["AAPL", "MSFT"]
    f.step(5)
    assert [q.symbol for q in f.next_quotes(1)] == ["AAPL"] * 4 + ["MSFT"]
    g = ReplayFeed([ReplaySeries("MSFT", "sample", both), ReplaySeries("AAPL", "sample", aapl)],
                   {"AAPL": AAPL, "MSFT": MSFT}, speed=0)
    g.step(1)
    assert [q.symbol for q in g.next_quotes(1)] == ["AAPL", "MSFT"]  # one step, both


def test_bad_arguments_and_seeks_are_refused_with_the_field() -> None:
    f = feed()
    with pytest.raises(InvalidError, match="outside the replay's range") as err:
        f.seek(date(2011, 1, 1))
    assert err.value.field == "date"
    with pytest.raises(InvalidError) as bad:
        f.step(0)
    assert bad.value.field == "n"
    with pytest.raises(ValueError, match="not an instrument"):
        ReplayFeed([ReplaySeries("FB", "sample", bars_of(AAPL_2010_ROWS))], {}, speed=0)
    with pytest.raises(ValueError, match="speed"):
        feed(speed=-1)
    minute_apart = bars_of(AAPL_2010_ROWS)._replace(
        ts=np.arange(5, dtype=np.int64) * 60 * S)
    with pytest.raises(ValueError, match="closer together"):
        ReplayFeed([ReplaySeries("AAPL", "s", minute_apart)], {"AAPL": AAPL}, timeframe="1Day")


def test_a_seek_while_running_plays_on_from_the_day_sought() -> None:
    clock = ManualClock()
    f = feed(speed=3600, clock=clock)
    t0 = clock.now_ns()
    f.next_quotes(t0)
    clock.set(t0 + S)
    status = f.seek(date(2010, 1, 7))
    assert status.state is ReplayState.RUNNING and status.steps_done == 12  # three days in
    assert [q.last for q in f.next_quotes(t0 + S)] == [Decimal("211.75")]  # 01-07's open, now
    assert f.next_quotes(t0 + 6 * S) == []
    assert [q.last for q in f.next_quotes(t0 + 7 * S)] == [Decimal("212.00")]  # its high, 6 h on

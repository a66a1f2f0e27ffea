"""The simulator feed: deterministic, realistic-shaped quotes on the tick grid."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

import pytest

from mcp_trading.adapters.feeds import DEFAULT_SYMBOLS, SimulatedFeed, default_instruments
from mcp_trading.adapters.feeds.simulator import PROFILES
from mcp_trading.domain.market import Quote

MS = 1_000_000
TICK = Decimal("0.01")


def flat(feed: SimulatedFeed, steps: int) -> list[Quote]:
    return [q for step in feed.quotes(steps) for q in step]


def test_default_universe_is_twenty_liquid_us_symbols_with_profiles() -> None:
    feed = SimulatedFeed()
    assert feed.name == "simulator"
    assert feed.symbols() == list(DEFAULT_SYMBOLS)
    assert len(DEFAULT_SYMBOLS) == 20
    assert {"AAPL", "SPY", "NVDA", "NFLX"} <= set(DEFAULT_SYMBOLS)
    assert set(PROFILES) == set(DEFAULT_SYMBOLS) == set(default_instruments())


def test_same_seed_gives_identical_quotes() -> None:
    assert flat(SimulatedFeed(seed=42), 300) == flat(SimulatedFeed(seed=42), 300)


def test_different_seeds_differ() -> None:
    a, b = flat(SimulatedFeed(seed=1), 50), flat(SimulatedFeed(seed=2), 50)
    assert [q.bid for q in a] != [q.bid for q in b]


def test_global_random_state_is_untouched_and_irrelevant() -> None:
    import random

    random.seed(123)
    before = random.random()
    random.seed(123)
    first = flat(SimulatedFeed(seed=5), 20)
    assert random.random() == before  # the feed drew nothing from the global RNG
    random.seed(999)
    assert flat(SimulatedFeed(seed=5), 20) == first


def test_quotes_are_on_tick_positive_and_well_formed() -> None:
    quotes = flat(SimulatedFeed(seed=3, interval_ms=60_000), 2_000)  # ~33 h of 1-min steps
    for q in quotes:
        for price in (q.bid, q.ask, q.last):
            assert price is not None
            assert price > 0
            assert price.as_tuple().exponent == -2
            assert price % TICK == 0
        assert q.bid < q.ask
        assert q.last is not None and q.bid <= q.last <= q.ask
        for size in (q.bid_size, q.ask_size):
            assert size > 0 and size % 100 == 0


def test_spreads_are_a_few_ticks_and_wider_for_volatile_names() -> None:
    quotes = flat(SimulatedFeed(["SPY", "TSLA", "NFLX"], seed=11), 2_000)
    mean_ticks = {
        s: sum((q.ask - q.bid) / TICK for q in quotes if q.symbol == s) / 2_000
        for s in ("SPY", "TSLA", "NFLX")
    }
    assert 1 <= mean_ticks["SPY"] < 2
    assert mean_ticks["SPY"] < mean_ticks["TSLA"] < mean_ticks["NFLX"] < 12
    # within one symbol the spread widens on large moves, so it is not constant
    assert len({q.ask - q.bid for q in quotes if q.symbol == "SPY"}) >= 2


def test_sizes_vary_in_round_lots() -> None:
    sizes = {q.bid_size for q in flat(SimulatedFeed(["AAPL"], seed=1), 500)}
    assert len(sizes) >= 5


def test_price_moves_scale_with_volatility_and_interval() -> None:
    def mean_abs_move(symbol: str, interval_ms: int) -> Decimal:
        mids = [q.mid for q in flat(SimulatedFeed([symbol], seed=4, interval_ms=interval_ms), 400)]
        return sum((abs(b / a - 1) for a, b in pairwise(mids)), Decimal(0)) / len(mids)

    assert mean_abs_move("TSLA", 60_000) > 2 * mean_abs_move("KO", 60_000)
    assert mean_abs_move("SPY", 60_000) > 5 * mean_abs_move("SPY", 250)


def test_timestamps_step_by_the_interval_in_time_order() -> None:
    feed = SimulatedFeed(["AAPL", "MSFT"], seed=1, interval_ms=250, start_ns=1_000 * MS)
    quotes = feed.next_quotes(2_000 * MS)
    assert [q.ts for q in quotes] == [
        t * MS for t in (1000, 1000, 1250, 1250, 1500, 1500, 1750, 1750, 2000, 2000)
    ]
    assert [q.symbol for q in quotes[:2]] == ["AAPL", "MSFT"]
    assert feed.next_quotes(2_100 * MS) == []  # nothing new is due yet
    assert feed.next_quotes(1_500 * MS) == []  # time going backwards emits nothing
    assert [q.ts for q in feed.next_quotes(2_250 * MS)] == [2_250 * MS, 2_250 * MS]


def test_first_call_anchors_the_walk_when_no_start_is_given() -> None:
    feed = SimulatedFeed(["AAPL"], seed=1)
    assert [q.ts for q in feed.next_quotes(5_000 * MS)] == [5_000 * MS]
    assert [q.ts for q in feed.next_quotes(5_600 * MS)] == [5_250 * MS, 5_500 * MS]


def test_how_calls_split_time_does_not_change_the_quotes() -> None:
    one = SimulatedFeed(seed=9, start_ns=0).next_quotes(5_000 * MS)
    many = SimulatedFeed(seed=9, start_ns=0)
    pieces = [q for t in range(0, 5_001, 333) for q in many.next_quotes(t * MS)]
    pieces += many.next_quotes(5_000 * MS)
    assert pieces == one
    assert one == flat(SimulatedFeed(seed=9), 21)


def test_catch_up_after_a_long_pause_is_capped_to_the_latest_steps() -> None:
    feed = SimulatedFeed(["AAPL", "SPY"], seed=1, start_ns=0, max_catchup_steps=40)
    feed.next_quotes(0)
    quotes = feed.next_quotes(3_600_000 * MS)  # one hour later: 14,400 steps were due
    assert len(quotes) == 40 * 2
    times = sorted({q.ts for q in quotes})
    assert times[-1] == 3_600_000 * MS
    assert times == [3_600_000 * MS - k * 250 * MS for k in range(39, -1, -1)]
    assert [q.ts for q in feed.next_quotes(3_600_250 * MS)] == [3_600_250 * MS] * 2


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="interval_ms"):
        SimulatedFeed(interval_ms=0)
    with pytest.raises(ValueError, match="distinct"):
        SimulatedFeed(["AAPL", "AAPL"])


def test_unknown_symbols_get_a_reproducible_generic_profile() -> None:
    a = flat(SimulatedFeed(["ZZZT"], seed=1), 5)
    assert a == flat(SimulatedFeed(["ZZZT"], seed=1), 5)
    assert Decimal(20) <= a[0].mid <= Decimal(300)

"""sma_crossover decides ties exactly: on cent prices two means are often equal as rationals,
and the running sums' rounding must not turn a tie into a cross. The vectorised and the
bar-by-bar forms are held to a reference computed in exact fractions."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
from tests.unit.strategy.support import columns, drive

from mcp_trading.strategy.builtin.sma_crossover import SmaCrossover, SmaCrossoverParams
from mcp_trading.strategy.vector import decisions


def _exact_orders(close: list[float], fast: int, slow: int) -> list[tuple[int, str]]:
    cents = [Fraction(Decimal(repr(c))) for c in close]
    out, last, long = [], 0, False
    for i in range(slow - 1, len(cents)):
        f = sum(cents[i - fast + 1:i + 1]) / fast
        s = sum(cents[i - slow + 1:i + 1]) / slow
        if f == s:
            continue
        sign = 1 if f > s else -1
        if sign == 1 and last == -1 and not long:
            out.append((i, "buy"))
            long = True
        elif sign == -1 and last == 1 and long:
            out.append((i, "sell"))
            long = False
        last = sign
    return out


def test_ties_of_cent_prices_are_skipped_on_both_paths_as_in_exact_arithmetic() -> None:
    ties = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        # one-cent steps around 103.55: equal means are frequent, and 0.01 is inexact in binary
        close = np.round(103.55 + np.cumsum(rng.choice([-0.01, 0.0, 0.01], 600)), 2).tolist()
        for fast, slow in ((2, 3), (3, 7), (5, 20)):
            cents = [Fraction(Decimal(repr(c))) for c in close]
            ties += sum(sum(cents[i - fast + 1:i + 1]) / fast == sum(cents[i - slow + 1:i + 1]) / slow
                        for i in range(slow - 1, len(cents)))
            expected = _exact_orders(close, fast, slow)
            bars = {"X": columns(close)}
            params = SmaCrossoverParams(fast=fast, slow=slow)
            got = [(d.bar, d.side) for d in decisions("sma_crossover", params, bars)]
            assert got == expected, (seed, fast, slow)
            live, _ = drive(SmaCrossover(params), bars, cash=Decimal(10**9))
            assert [(d.bar, d.side) for d in live] == expected, (seed, fast, slow)
    assert ties > 500  # the case is exercised, not assumed

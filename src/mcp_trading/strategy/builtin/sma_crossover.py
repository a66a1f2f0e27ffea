"""sma_crossover: the reference strategy other engines are compared with (issue 14)."""

from __future__ import annotations

from decimal import Decimal

from mcp_trading.strategy.api import Strategy, StrategyBar, StrategyContext
from mcp_trading.strategy.builtin._rules import is_flat, long_qty
from mcp_trading.strategy.indicators import SMA
from mcp_trading.strategy.params import StrategyParams, param, parameter_error

__all__ = ["TIE", "SmaCrossover", "SmaCrossoverParams", "tied"]

#: fast and slow within this fraction of each other are equal. Prices in cents make exact
#: ties happen (two means of cent prices equal as rationals: benchmarks/backtest.py's sweep
#: met one, fast 19 = slow 198 = 103.55 exactly), and a running-sum mean is off by rounding
#: (there 5e-14, vectorbt's 6e-13), which would decide the tie by noise and shift a trade.
#: A real difference of two means of cent prices over windows <= 10,000 bars is at least
#: 1e-10 — 1e-12 of a price of 100 — so a relative 1e-13 separates ties from differences.
TIE = 1e-13


def tied(fast: float, slow: float) -> bool:
    """fast and slow are equal but for float rounding (see TIE)."""
    return abs(fast - slow) <= TIE * max(abs(fast), abs(slow))


class SmaCrossoverParams(StrategyParams):
    fast: int = param(10, min=1, max=10_000, description="Bars in the fast simple moving average.")
    slow: int = param(30, min=2, max=10_000, description="Bars in the slow simple moving average.")
    qty: Decimal = param(Decimal(100), min=Decimal("0.000000001"), max=Decimal(1_000_000_000),
                         description="Shares bought on a cross above.")

    def check(self) -> None:
        if self.fast >= self.slow:
            raise parameter_error("fast", f"is {self.fast}; it must be less than slow "
                                          f"({self.slow})", maximum=self.slow - 1)


class SmaCrossover(Strategy):
    """Long-only crossover of two simple moving averages of closes, per symbol.

    fast = SMA(fast) and slow = SMA(slow) of the closes, from the bar on which slow has `slow`
    closes. The averages *cross above* on a bar when fast > slow on that bar and fast < slow
    on the last earlier bar where they differed (bars with fast == slow, equal within `TIE`
    of float rounding, are skipped when looking back; the first bar with both averages is
    never a cross); *below* symmetrically.
    On a bar that crosses above while flat, buy `qty` with a market order; on a bar that
    crosses below while long, sell the whole position with a market order. Orders are day
    market orders decided on the bar's close (they fill at the next bar's open in a
    backtest). Flat / long also require no working order of the strategy in the symbol.
    """

    name = "sma_crossover"
    Params = SmaCrossoverParams
    params: SmaCrossoverParams

    def on_start(self, ctx: StrategyContext) -> None:
        self._fast: dict[str, SMA] = {}
        self._slow: dict[str, SMA] = {}
        self._last_sign: dict[str, int] = {}  # +1 fast > slow, -1 fast < slow; 0: none yet

    def on_bar(self, ctx: StrategyContext, bar: StrategyBar) -> None:
        symbol = bar.symbol
        if symbol not in self._fast:
            self._fast[symbol] = SMA(self.params.fast)
            self._slow[symbol] = SMA(self.params.slow)
            self._last_sign[symbol] = 0
        fast = self._fast[symbol].update(bar.close)
        slow = self._slow[symbol].update(bar.close)
        if not self._slow[symbol].ready or tied(fast, slow):
            return
        sign = 1 if fast > slow else -1
        last, self._last_sign[symbol] = self._last_sign[symbol], sign
        if sign == 1 and last == -1 and is_flat(ctx, symbol):
            ctx.submit(symbol, "buy", self.params.qty)
        elif sign == -1 and last == 1:
            held = long_qty(ctx, symbol)
            if held:
                ctx.submit(symbol, "sell", held)

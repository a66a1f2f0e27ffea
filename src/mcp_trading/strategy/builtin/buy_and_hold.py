"""buy_and_hold: the benchmark."""

from __future__ import annotations

import math
from decimal import Decimal

from mcp_trading.strategy.api import Strategy, StrategyBar, StrategyContext
from mcp_trading.strategy.params import StrategyParams, param

__all__ = ["BuyAndHold", "BuyAndHoldParams", "hold_qty"]


class BuyAndHoldParams(StrategyParams):
    qty: Decimal = param(Decimal(0), min=Decimal(0), max=Decimal(1_000_000_000),
                         description="Shares bought of each symbol; 0: size by cash (fraction).")
    fraction: float = param(0.95, min=0.01, max=1.0,
                            description="With qty 0: the share of the starting cash invested, "
                                        "split equally between the symbols.")


def hold_qty(params: BuyAndHoldParams, start_cash: Decimal, symbols: int, close: float) -> Decimal:
    """The quantity bought of one symbol: `qty`, or whole shares of its equal share of cash."""
    if params.qty > 0:
        return params.qty
    if close <= 0 or not math.isfinite(close) or symbols <= 0:
        return Decimal(0)
    budget = float(start_cash) * params.fraction / symbols
    return Decimal(math.floor(budget / close))


class BuyAndHold(Strategy):
    """Buy once on each symbol's first bar and hold to the end (the benchmark).

    On the first bar of each symbol, buy with a market order `qty` shares, or, with qty 0,
    floor(starting cash × fraction / number of symbols / that bar's close) whole shares
    (starting cash: `ctx.cash()` at on_start; nothing is bought when that is 0). Never sells.
    The default fraction 0.95 leaves room for the next open's gap and slippage, so the order
    is not refused for buying power.
    """

    name = "buy_and_hold"
    Params = BuyAndHoldParams
    params: BuyAndHoldParams

    def on_start(self, ctx: StrategyContext) -> None:
        self._start_cash = ctx.cash()
        self._bought: set[str] = set()

    def on_bar(self, ctx: StrategyContext, bar: StrategyBar) -> None:
        if bar.symbol in self._bought:
            return
        self._bought.add(bar.symbol)
        qty = hold_qty(self.params, self._start_cash, len(ctx.symbols), bar.close)
        if qty > 0:
            ctx.submit(bar.symbol, "buy", qty)

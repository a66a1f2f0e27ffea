"""rsi_reversion: buy oversold, sell overbought (Wilder's RSI)."""

from __future__ import annotations

from decimal import Decimal

from mcp_trading.strategy.api import Strategy, StrategyBar, StrategyContext
from mcp_trading.strategy.builtin._rules import is_flat, long_qty
from mcp_trading.strategy.indicators import RSI
from mcp_trading.strategy.params import StrategyParams, param, parameter_error

__all__ = ["RsiReversion", "RsiReversionParams"]


class RsiReversionParams(StrategyParams):
    period: int = param(14, min=2, max=1_000, description="Bars in Wilder's RSI.")
    lower: float = param(30.0, min=0.0, max=100.0, description="Buy when the RSI is below this.")
    upper: float = param(70.0, min=0.0, max=100.0, description="Sell when the RSI is above this.")
    qty: Decimal = param(Decimal(100), min=Decimal("0.000000001"), max=Decimal(1_000_000_000),
                         description="Shares bought on an entry.")

    def check(self) -> None:
        if self.lower >= self.upper:
            raise parameter_error("lower", f"is {self.lower}; it must be less than upper "
                                           f"({self.upper})", maximum=self.upper)


class RsiReversion(Strategy):
    """Long-only mean reversion on Wilder's RSI of closes, per symbol.

    RSI(period) as `indicators.RSI` defines it (ready after period + 1 closes). On a bar whose
    RSI is below `lower` while flat, buy `qty` with a market order; on a bar whose RSI is above
    `upper` while long, sell the whole position with a market order. Levels, not crossings:
    a flat strategy buys on the first bar below `lower`, whatever came before. Defaults:
    period 14, lower 30, upper 70, qty 100. Flat / long also require no working order of the
    strategy in the symbol.
    """

    name = "rsi_reversion"
    Params = RsiReversionParams
    params: RsiReversionParams

    def on_start(self, ctx: StrategyContext) -> None:
        self._rsi: dict[str, RSI] = {}

    def on_bar(self, ctx: StrategyContext, bar: StrategyBar) -> None:
        indicator = self._rsi.get(bar.symbol)
        if indicator is None:
            indicator = self._rsi[bar.symbol] = RSI(self.params.period)
        value = indicator.update(bar.close)
        if not indicator.ready:
            return
        if value < self.params.lower and is_flat(ctx, bar.symbol):
            ctx.submit(bar.symbol, "buy", self.params.qty)
        elif value > self.params.upper:
            held = long_qty(ctx, bar.symbol)
            if held:
                ctx.submit(bar.symbol, "sell", held)

"""bollinger_breakout: buy a close above the upper band, exit below the middle."""

from __future__ import annotations

from decimal import Decimal

from mcp_trading.strategy.api import Strategy, StrategyBar, StrategyContext
from mcp_trading.strategy.builtin._rules import is_flat, long_qty
from mcp_trading.strategy.indicators import Bollinger
from mcp_trading.strategy.params import StrategyParams, param

__all__ = ["BollingerBreakout", "BollingerBreakoutParams"]


class BollingerBreakoutParams(StrategyParams):
    period: int = param(20, min=2, max=10_000, description="Bars in the bands' window.")
    k: float = param(2.0, min=0.1, max=10.0,
                     description="Band width in population standard deviations.")
    qty: Decimal = param(Decimal(100), min=Decimal("0.000000001"), max=Decimal(1_000_000_000),
                         description="Shares bought on a breakout.")


class BollingerBreakout(Strategy):
    """Long-only breakout of Bollinger bands of closes, per symbol.

    Bands as `indicators.Bollinger(period, k)`: middle = mean of the last `period` closes,
    upper/lower = middle ± k × their population standard deviation (ddof 0). On a bar that
    closes above the upper band while flat, buy `qty` with a market order; on a bar that
    closes below the middle band while long, sell the whole position with a market order.
    Defaults: period 20, k 2, qty 100. Flat / long also require no working order of the
    strategy in the symbol.
    """

    name = "bollinger_breakout"
    Params = BollingerBreakoutParams
    params: BollingerBreakoutParams

    def on_start(self, ctx: StrategyContext) -> None:
        self._bands: dict[str, Bollinger] = {}

    def on_bar(self, ctx: StrategyContext, bar: StrategyBar) -> None:
        bands = self._bands.get(bar.symbol)
        if bands is None:
            bands = self._bands[bar.symbol] = Bollinger(self.params.period, self.params.k)
        middle, upper, _ = bands.update(bar.close)
        if not bands.ready:
            return
        if bar.close > upper and is_flat(ctx, bar.symbol):
            ctx.submit(bar.symbol, "buy", self.params.qty)
        elif bar.close < middle:
            held = long_qty(ctx, bar.symbol)
            if held:
                ctx.submit(bar.symbol, "sell", held)

"""momentum_rotation: hold the top-N symbols by trailing return, rebalanced periodically."""

from __future__ import annotations

import math
from collections import deque
from decimal import ROUND_FLOOR, Decimal

from mcp_trading.domain.errors import RefusedError
from mcp_trading.strategy.api import Strategy, StrategyBar, StrategyContext
from mcp_trading.strategy.params import StrategyParams, param

__all__ = ["MomentumRotation", "MomentumRotationParams"]

_ZERO = Decimal(0)


class MomentumRotationParams(StrategyParams):
    lookback: int = param(126, min=1, max=10_000, description="Bars of the trailing return.")
    top_n: int = param(2, min=1, max=1_000, description="How many symbols are held.")
    rebalance_every: int = param(21, min=1, max=10_000, description="Bars between rebalances.")
    fraction: float = param(0.95, min=0.01, max=1.0,
                            description="Share of equity invested, split equally.")
    positive_only: bool = param(False, description="Hold only symbols whose return is > 0.")


class MomentumRotation(Strategy):
    """Multi-symbol rotation into the top-N by trailing return, equal weight, long-only.

    Timing: bars of one timestamp arrive in `ctx.symbols` order, so a timestamp is complete
    at the bar of the LAST symbol; everything below happens there. Once every symbol has
    lookback + 1 closes, that timestamp and every `rebalance_every`-th complete one after it
    is a rebalance: trailing return = close / close `lookback` bars earlier - 1; rank by it
    (ties: `ctx.symbols` order), keep the first `top_n` (only those > 0 with positive_only).
    Target of each kept symbol = floor(equity × fraction / top_n / its close) whole shares,
    0 for the others (equity: `ctx.equity()` then). Sells come first, on the rebalance bar:
    each symbol held above its target is sold down to it (market orders). Buys come on the
    NEXT complete timestamp, after the sells filled and freed the cash: each symbol below its
    target (from the rebalance bar) is bought up to it. A symbol with a working order of the
    strategy is left alone; a buy the account cannot afford is logged and skipped.
    """

    name = "momentum_rotation"
    Params = MomentumRotationParams
    params: MomentumRotationParams

    def on_start(self, ctx: StrategyContext) -> None:
        self._closes: dict[str, deque[float]] = {
            s: deque(maxlen=self.params.lookback + 1) for s in ctx.symbols}
        self._ready_stamps = 0
        self._buys: dict[str, Decimal] | None = None  # targets whose buys wait a timestamp

    def on_bar(self, ctx: StrategyContext, bar: StrategyBar) -> None:
        closes = self._closes.get(bar.symbol)
        if closes is None:
            return
        closes.append(bar.close)
        if bar.symbol != ctx.symbols[-1]:
            return
        if self._buys is not None:
            self._buy(ctx, self._buys)
            self._buys = None
        if any(len(c) <= self.params.lookback for c in self._closes.values()):
            return
        due = self._ready_stamps % self.params.rebalance_every == 0
        self._ready_stamps += 1
        if due:
            targets = self._targets(ctx)
            self._sell(ctx, targets)
            self._buys = targets

    def _targets(self, ctx: StrategyContext) -> dict[str, Decimal]:
        returns = []
        for order, symbol in enumerate(ctx.symbols):
            series = self._closes[symbol]
            ret = series[-1] / series[0] - 1.0 if series[0] > 0 else math.nan
            if math.isfinite(ret) and (ret > 0 or not self.params.positive_only):
                returns.append((-ret, order, symbol))
        kept = [symbol for _, _, symbol in sorted(returns)[:self.params.top_n]]
        budget = ctx.equity() * Decimal(repr(self.params.fraction)) / self.params.top_n
        targets = dict.fromkeys(ctx.symbols, _ZERO)
        for symbol in kept:
            close = Decimal(repr(self._closes[symbol][-1]))
            targets[symbol] = (budget / close).to_integral_value(rounding=ROUND_FLOOR)
        return targets

    @staticmethod
    def _sell(ctx: StrategyContext, targets: dict[str, Decimal]) -> None:
        for symbol, target in targets.items():
            held = ctx.position(symbol)
            if held > target and held > _ZERO and not ctx.open_orders(symbol):
                ctx.submit(symbol, "sell", held - max(target, _ZERO))

    @staticmethod
    def _buy(ctx: StrategyContext, targets: dict[str, Decimal]) -> None:
        for symbol, target in targets.items():
            held = ctx.position(symbol)
            if target > held and not ctx.open_orders(symbol):
                try:
                    ctx.submit(symbol, "buy", target - held)
                except RefusedError as exc:
                    ctx.log(f"momentum_rotation: buy of {target - held} {symbol} refused: "
                            f"{exc.message}")

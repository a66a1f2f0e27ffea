"""What the built-in signal strategies share: when a symbol counts as flat or long."""

from __future__ import annotations

from decimal import Decimal

from mcp_trading.strategy.api import StrategyContext

__all__ = ["is_flat", "long_qty"]

_ZERO = Decimal(0)


def is_flat(ctx: StrategyContext, symbol: str) -> bool:
    """No position and no working order of the strategy in `symbol`.

    The working-order test matters live (an order may still be on its way when the next bar
    closes); in a backtest a market order has filled before the next bar, so it never bites.
    """
    return ctx.position(symbol) == _ZERO and not ctx.open_orders(symbol)


def long_qty(ctx: StrategyContext, symbol: str) -> Decimal:
    """The long quantity held in `symbol` with no working order of the strategy, else 0."""
    qty = ctx.position(symbol)
    return qty if qty > _ZERO and not ctx.open_orders(symbol) else _ZERO

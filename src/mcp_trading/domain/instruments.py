"""Instruments: what can be traded and in which increments."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from mcp_trading.domain.numbers import is_multiple  # the increment rule lives with the bounds

__all__ = ["Instrument", "is_multiple"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Instrument:
    symbol: str
    tick_size: Decimal = Decimal("0.01")
    lot_size: Decimal = Decimal(1)
    min_qty: Decimal = Decimal(1)
    max_qty: Decimal = Decimal(1_000_000)
    currency: str = "USD"
    tradable: bool = True
    name: str = ""

    def round_to_tick(self, price: Decimal, *, up: bool) -> Decimal:
        """Round a computed price onto the tick grid (up for buys' costs, down otherwise)."""
        steps = price / self.tick_size
        whole = steps.to_integral_value(rounding="ROUND_CEILING" if up else "ROUND_FLOOR")
        return (whole * self.tick_size).quantize(self.tick_size)

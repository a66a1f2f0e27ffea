"""Configurable venue models: commission, slippage and latency (all default to none)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = ["CommissionModel", "LatencyModel", "SlippageModel"]

_ZERO = Decimal(0)
_BPS = Decimal(10_000)


@dataclass(frozen=True, slots=True, kw_only=True)
class CommissionModel:
    """per_share x qty + bps of notional, at least `minimum` per fill (when any is set)."""

    per_share: Decimal = _ZERO
    bps: Decimal = _ZERO
    minimum: Decimal = _ZERO

    @property
    def is_zero(self) -> bool:
        return self.per_share == _ZERO and self.bps == _ZERO and self.minimum == _ZERO

    def commission(self, qty: Decimal, price: Decimal) -> Decimal:
        if self.is_zero:
            return _ZERO
        fee = qty * self.per_share + qty * price * self.bps / _BPS
        return max(fee, self.minimum).quantize(Decimal("0.01"))


@dataclass(frozen=True, slots=True, kw_only=True)
class SlippageModel:
    """A fixed adverse move of `bps` on every fill (never past a limit price)."""

    bps: Decimal = _ZERO

    @property
    def is_zero(self) -> bool:
        return self.bps == _ZERO


@dataclass(frozen=True, slots=True, kw_only=True)
class LatencyModel:
    """Time from acceptance until the venue sees an order."""

    order_ns: int = 0

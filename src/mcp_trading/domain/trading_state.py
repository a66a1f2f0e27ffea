"""Trading state at two levels, platform and account; the stricter one wins."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["TradingState", "stricter"]


class TradingState(StrEnum):
    ACTIVE = "active"  # everything allowed (subject to risk)
    REDUCING = "reducing"  # only orders that reduce exposure
    HALTED_NEW_ORDERS = "halted_new_orders"  # no new orders or replaces; cancels allowed
    HALTED = "halted"  # as halted_new_orders, and every working order was cancelled

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def accepts_new_orders(self) -> bool:
        return self in (TradingState.ACTIVE, TradingState.REDUCING)


_RANK = {
    TradingState.ACTIVE: 0,
    TradingState.REDUCING: 1,
    TradingState.HALTED_NEW_ORDERS: 2,
    TradingState.HALTED: 3,
}


def stricter(a: TradingState, b: TradingState) -> TradingState:
    return a if _RANK[a] >= _RANK[b] else b

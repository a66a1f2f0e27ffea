"""Netting positions: quantity, average entry price, realised and unrealised P&L."""

from __future__ import annotations

from decimal import Decimal

__all__ = ["Position"]

_ZERO = Decimal(0)


class Position:
    """One symbol's net position in one account. Quantity is signed (negative is short)."""

    __slots__ = ("avg_entry_price", "mark", "qty", "realized_pnl", "symbol")

    def __init__(self, symbol: str, mark: Decimal | None = None) -> None:
        self.symbol = symbol
        self.qty = _ZERO
        self.avg_entry_price = _ZERO
        self.realized_pnl = _ZERO
        self.mark = mark

    def apply_fill(self, signed_qty: Decimal, price: Decimal) -> Decimal:
        """Net a fill into the position; return the P&L it realised."""
        qty = self.qty
        if qty == _ZERO or (qty > _ZERO) == (signed_qty > _ZERO):
            new_qty = qty + signed_qty
            self.avg_entry_price = (qty * self.avg_entry_price + signed_qty * price) / new_qty
            self.qty = new_qty
            return _ZERO
        closing = min(abs(signed_qty), abs(qty))
        realized = closing * (price - self.avg_entry_price) if qty > _ZERO else closing * (
            self.avg_entry_price - price)
        self.realized_pnl += realized
        new_qty = qty + signed_qty
        if new_qty == _ZERO:
            self.avg_entry_price = _ZERO
        elif (new_qty > _ZERO) != (qty > _ZERO):
            self.avg_entry_price = price  # flipped: the remainder opened at this price
        self.qty = new_qty
        return realized

    @property
    def cost_basis(self) -> Decimal:
        return self.qty * self.avg_entry_price

    @property
    def market_value(self) -> Decimal:
        return self.qty * self.mark if self.mark is not None else self.cost_basis

    @property
    def unrealized_pnl(self) -> Decimal:
        if self.mark is None or self.qty == _ZERO:
            return _ZERO
        return self.qty * (self.mark - self.avg_entry_price)

    @property
    def side(self) -> str:
        return "long" if self.qty > _ZERO else "short" if self.qty < _ZERO else "flat"
